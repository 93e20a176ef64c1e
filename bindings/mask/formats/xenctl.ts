/**
 * xenctl_bitmap bytes (spec xen-hypervisor.md §5.4): bit i is byte i/8, bit i%8 (LSB first),
 * independent of host endianness. Size mismatches never fail: on the way in, guest bits
 * beyond Xen's width are dropped and missing bits are zero; on the way out, bits at or above
 * the width are masked and surplus guest bytes zero-filled.
 */

import { fail } from '../../errors.js';
import type { Bitmap } from '../bitmap.js';

/**
 * xenctl_bitmap_to_bitmap: loads `nrBits` guest bits from `bytes` into `m` (replacing it).
 * EFAULT when `bytes` is shorter than ceil(nrBits/8) (the hypervisor's copy would fault).
 */
export function fromXenctlBitmap<M extends Bitmap>(m: M, bytes: Uint8Array, nrBits: number): M {
  if (!(bytes instanceof Uint8Array)) fail('EFAULT', 'xenctl_bitmap buffer is not a Uint8Array');
  if (!Number.isInteger(nrBits) || nrBits < 0 || nrBits > 0xffffffff) fail('EINVAL', `nr_bits ${nrBits} is not a uint32`);
  const guestBytes = Math.ceil(nrBits / 8);
  if (bytes.length < guestBytes) fail('EFAULT', `xenctl_bitmap of ${nrBits} bits needs ${guestBytes} bytes, buffer has ${bytes.length}`);
  const xenBytes = Math.ceil(m.nbits / 8);
  const copy = Math.min(guestBytes, xenBytes);
  // Straight into engine memory: the mask's words are its bytes, little-endian (one copy, no buffer).
  const dst = new Uint8Array(m.engine.memory.buffer, m.handle, m.nwords * 8);
  dst.set(bytes.subarray(0, copy));
  dst.fill(0, copy);
  if (nrBits % 8 !== 0 && guestBytes <= xenBytes) dst[guestBytes - 1] &= (1 << nrBits % 8) - 1;
  return m;
}

/**
 * bitmap_to_xenctl_bitmap (REF behaviour): a guest buffer of ceil(nrBits/8) bytes holding the
 * mask's bits below its width; Xen's bytes beyond the buffer are dropped, missing ones zeroed.
 */
export function toXenctlBitmap(m: Bitmap, nrBits: number = m.nbits): Uint8Array {
  if (!Number.isInteger(nrBits) || nrBits < 0 || nrBits > 0xffffffff) fail('EINVAL', `nr_bits ${nrBits} is not a uint32`);
  const guestBytes = Math.ceil(nrBits / 8);
  const xenBytes = Math.ceil(m.nbits / 8);
  const copy = Math.min(guestBytes, xenBytes);
  const out = new Uint8Array(guestBytes);
  out.set(new Uint8Array(m.engine.memory.buffer, m.handle, copy));
  // Bits at or above the width are never exported (the last Xen byte is clamped).
  if (copy === xenBytes && m.nbits % 8 !== 0) out[xenBytes - 1] &= (1 << m.nbits % 8) - 1;
  return out;
}
