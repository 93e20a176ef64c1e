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
  const buf = new Uint8Array(m.nwords * 8);
  const copy = Math.min(guestBytes, xenBytes);
  buf.set(bytes.subarray(0, copy));
  if (nrBits % 8 !== 0 && guestBytes <= xenBytes) buf[guestBytes - 1] &= (1 << nrBits % 8) - 1;
  const e = m.engine;
  new Uint8Array(e.memory.buffer, m.handle, buf.length).set(buf);
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
  const words = m.toWords(); // bits ≥ width already masked
  const src = new Uint8Array(words.buffer, 0, xenBytes);
  const out = new Uint8Array(guestBytes);
  out.set(src.subarray(0, Math.min(guestBytes, xenBytes)));
  return out;
}
