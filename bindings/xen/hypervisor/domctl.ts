/**
 * The hypercall surface (spec xen-hypervisor.md §5, §3.5): domctls and SCHEDOP_pin_override
 * taking xenctl_bitmap guest buffers and returning 0 or -errno, as Xen does. Guest buffers
 * are written back in place. Validation runs in Xen's order.
 */
import { fail, isAffinityError } from '../../errors.js';
import type { Bitmap } from '../../mask/bitmap.js';
import type { CpuMask } from '../../mask/cpumask.js';
import { fromXenctlBitmap, toXenctlBitmap } from '../../mask/formats/xenctl.js';
import { maxVcpus } from './domain.js';
import { setNodeAffinity } from './node-affinity.js';
import { undoOverridePin, unitOf, vcpuSetAffinity, vcpuSetHardAffinity, vcpuTemporaryAffinity } from './sched.js';
import { VCPU_AFFINITY_OVERRIDE, type Domain, type HypervisorState } from './types.js';

export const XEN_VCPUAFFINITY_HARD = 1 << 0;
export const XEN_VCPUAFFINITY_SOFT = 1 << 1;
export const XEN_VCPUAFFINITY_FORCE = 1 << 2;
/** NR_CPUS for SCHEDOP_pin_override's "pcpu >= NR_CPUS" check (the engine's ceiling). */
export const NR_CPUS = 16384;

/** struct xenctl_bitmap: a guest buffer (null = a null guest handle) and its nr_bits. */
export interface XenctlBitmap {
  bytes: Uint8Array | null;
  nrBits: number;
}

/** Runs a hypercall body: 0 (or its result) on success, -errno for an AffinityError. */
export function hypercall(body: () => number | void): number {
  try {
    return body() ?? 0;
  } catch (e) {
    if (isAffinityError(e)) return -e.code;
    throw e;
  }
}

/** The domain, or ESRCH (the caller is the control domain, §5.1 row 3). */
export function domainOf(hv: HypervisorState, domid: number): Domain {
  const d = hv.domains.get(domid);
  if (!d) fail('ESRCH', `domain ${domid} does not exist`);
  return d;
}

/** Guest → Xen (xenctl_bitmap_to_bitmap, §5.4) into `m`; EFAULT for a null or short buffer. */
function readBitmap<M extends Bitmap>(m: M, map: XenctlBitmap): M {
  if (!map.bytes) fail('EFAULT', 'null guest handle');
  return fromXenctlBitmap(m, map.bytes, map.nrBits);
}

/**
 * Xen → guest (bitmap_to_xenctl_bitmap, §5.4): REF copies Xen's bytes with the last one
 * clamped; HEAD's quirk puts Xen's *last* byte at guest byte copy-1 when the guest buffer is
 * the shorter one (UNVERIFIED upstream bug, reproduced only in HEAD mode).
 */
export function writeBitmap(hv: HypervisorState, m: Bitmap, map: XenctlBitmap): void {
  if (!map.bytes) fail('EFAULT', 'null guest handle');
  const guestBytes = Math.ceil(map.nrBits / 8);
  if (map.bytes.length < guestBytes) fail('EFAULT', `guest buffer of ${map.bytes.length} bytes for ${map.nrBits} bits`);
  const xenBytes = Math.ceil(m.nbits / 8);
  const copy = Math.min(guestBytes, xenBytes);
  map.bytes.set(new Uint8Array(m.engine.memory.buffer, m.handle, copy));
  map.bytes.fill(0, copy, guestBytes);
  // The last Xen byte never exports bits at or above the width.
  if (copy === xenBytes && m.nbits % 8) map.bytes[copy - 1] &= (1 << m.nbits % 8) - 1;
  if (hv.version === 'HEAD' && guestBytes > 0 && guestBytes < xenBytes) map.bytes[guestBytes - 1] = toXenctlBitmap(m)[xenBytes - 1];
}

/** §5.3 validation rows 1-3 (EINVAL, ESRCH, EINVAL). */
function checkVcpuAffinityArgs(d: Domain, vcpu: number, flags: number, hard: XenctlBitmap | null, soft: XenctlBitmap | null): void {
  const v = vcpu >>> 0; // a C int stored in a uint32: -1 becomes 0xFFFFFFFF
  if (!Number.isInteger(vcpu) || v >= d.maxVcpus) fail('EINVAL', `vCPU ${vcpu} is not below max_vcpus ${d.maxVcpus}`);
  if (v >= d.created) fail('ESRCH', `d${d.domid}v${v} is not created yet`);
  if (
    !flags ||
    (flags & XEN_VCPUAFFINITY_HARD && !hard?.bytes) ||
    (flags & XEN_VCPUAFFINITY_SOFT && !soft?.bytes)
  ) fail('EINVAL', `flags ${flags} with a missing map`);
}

/**
 * XEN_DOMCTL_setvcpuaffinity (§5.3): hard first (must meet the pool's res_valid), written back
 * as hard ∩ res_valid; then soft (never validated), written back as soft ∩ res_valid ∩ hard;
 * a soft failure rolls hard back. Unknown flag bits are ignored.
 */
export function setVcpuAffinity(hv: HypervisorState, domid: number, vcpu: number, flags: number, hard: XenctlBitmap | null, soft: XenctlBitmap | null): number {
  return hypercall(() => {
    const d = domainOf(hv, domid);
    checkVcpuAffinityArgs(d, vcpu, flags, hard, soft);
    const e = hv.engine;
    const u = unitOf(d, vcpu);
    const old = e.masks.retain(d.unitHard[u]);
    try {
      if (flags & XEN_VCPUAFFINITY_FORCE) hypercall(() => undoOverridePin(hv, d, vcpu));
      if (flags & XEN_VCPUAFFINITY_HARD) {
        vcpuSetHardAffinity(hv, d, vcpu, readBitmap(hv.scratch[3], hard!));
        writeBitmap(hv, effective(hv, d, u, false), hard!);
      }
      if (flags & XEN_VCPUAFFINITY_SOFT) {
        try {
          vcpuSetAffinity(hv, d, vcpu, readBitmap(hv.scratch[3], soft!), 'soft');
        } catch (err) {
          if (flags & XEN_VCPUAFFINITY_HARD) hypercall(() => vcpuSetAffinity(hv, d, vcpu, old, 'hard'));
          throw err;
        }
        writeBitmap(hv, effective(hv, d, u, true), soft!);
      }
    } finally {
      e.masks.release(old);
    }
  });
}

/** hard ∩ res_valid, or soft ∩ res_valid ∩ hard, in scratch 0. */
function effective(hv: HypervisorState, d: Domain, u: number, soft: boolean): CpuMask {
  const k = hv.engine.k;
  const s = hv.scratch[0];
  k.and(s.handle, d.unitHard[u], d.pool.resValid.handle, s.nwords);
  if (soft) k.and(s.handle, s.handle, d.unitSoft[u], s.nwords);
  return s;
}

/** XEN_DOMCTL_getvcpuaffinity (§5.3): the raw stored masks. */
export function getVcpuAffinity(hv: HypervisorState, domid: number, vcpu: number, flags: number, hard: XenctlBitmap | null, soft: XenctlBitmap | null): number {
  return hypercall(() => {
    const d = domainOf(hv, domid);
    checkVcpuAffinityArgs(d, vcpu, flags, hard, soft);
    const u = unitOf(d, vcpu);
    if (flags & XEN_VCPUAFFINITY_HARD) writeBitmap(hv, hv.engine.masks.view(d.unitHard[u]), hard!);
    if (flags & XEN_VCPUAFFINITY_SOFT) writeBitmap(hv, hv.engine.masks.view(d.unitSoft[u]), soft!);
  });
}

/** XEN_DOMCTL_setnodeaffinity (§5.5, §4.1). */
export function setNodeAffinityDomctl(hv: HypervisorState, domid: number, nodemap: XenctlBitmap): number {
  return hypercall(() => {
    const d = domainOf(hv, domid);
    const m = readBitmap(hv.engine.nodemask(), nodemap);
    try {
      setNodeAffinity(hv, d, m);
    } finally {
      m.free();
    }
  });
}

/** XEN_DOMCTL_getnodeaffinity (§5.5): node_affinity raw, all MAX_NUMNODES bits. */
export function getNodeAffinityDomctl(hv: HypervisorState, domid: number, nodemap: XenctlBitmap): number {
  return hypercall(() => writeBitmap(hv, domainOf(hv, domid).nodeAffinity, nodemap));
}

/** XEN_DOMCTL_max_vcpus. */
export function maxVcpusDomctl(hv: HypervisorState, domid: number, max: number): number {
  return hypercall(() => maxVcpus(hv, domainOf(hv, domid), max));
}

/**
 * SCHEDOP_pin_override (§3.5): the hardware domain pins its own vCPU to `pcpu`, or undoes
 * the pin with pcpu < 0. EPERM for other callers; EINVAL for pcpu ≥ NR_CPUS.
 */
export function pinOverride(hv: HypervisorState, callerDomid: number, vcpu: number, pcpu: number): number {
  return hypercall(() => {
    const d = domainOf(hv, callerDomid);
    if (!d.isDom0) fail('EPERM', `d${callerDomid} is not the hardware domain`);
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= d.created) fail('EINVAL', `vCPU ${vcpu} does not exist`);
    if (!Number.isInteger(pcpu) || pcpu >= NR_CPUS) fail('EINVAL', `pcpu ${pcpu} is not below NR_CPUS`);
    vcpuTemporaryAffinity(hv, d, vcpu, pcpu < 0 ? undefined : pcpu, VCPU_AFFINITY_OVERRIDE);
  });
}
