/**
 * vCPU scheduler parameters on their way from xapi to Xen (spec xenopsd-xenguest.md §1.1, §5).
 *
 * xapi parses `VM.VCPUs_params` (`mask`, `weight`, `cap`) and the host's
 * `guest_VCPUs_params["mask"]` into xenopsd's `scheduler_params` (xapi_xenops.ml); xenopsd turns
 * the per-vCPU masks into the `vcpu/<n>/affinity` bit-strings it writes to Xenstore (reference
 * mode) or into the boolean arrays it hands to `xc_vcpu_setaffinity` itself (latest mode).
 */

/** xenopsd's `scheduler_params`: per-vCPU CPU lists and the credit (weight, cap). */
export interface SchedulerParams {
  /** Per-vCPU masks; `[]` = no user hard affinity. Unlisted vCPUs take the first mask. */
  affinity: number[][];
  /** As xapi parsed it (OCaml int); written to Xenstore in decimal, truncated to 16 bits by xenguest. */
  weight: bigint;
  cap: bigint;
}

/** xapi's defaults when VCPUs_params has no (or an unparsable) weight / cap (spec §1.1 item 1). */
export const DEFAULT_WEIGHT = 256n;
export const DEFAULT_CAP = 0n;

/** OCaml's integer prefixes: the BigInt literal prefix and the digits each allows (0u = unsigned decimal). */
const OCAML_RADIX = {
  x: { radix: '0x', valid: /^[0-9a-fA-F]+$/ },
  o: { radix: '0o', valid: /^[0-7]+$/ },
  b: { radix: '0b', valid: /^[01]+$/ },
  u: { radix: '', valid: /^[0-9]+$/ },
} as const;

/**
 * OCaml `int_of_string` on 64-bit: optional sign, decimal or 0x/0o/0b/0u-prefixed digits, `_`
 * separators after the first digit, no white space. Decimal must fit the 63-bit int; prefixed
 * literals may use 63 unsigned bits (wrapping to negative). null where OCaml raises `Failure`.
 */
export function ocamlIntOfString(s: string): bigint | null {
  const m = /^([+-]?)(?:0([xXoObBuU])([0-9a-fA-F][0-9a-fA-F_]*)|([0-9][0-9_]*))$/.exec(s);
  if (!m) return null;
  const [, sign, base, prefixed, decimal] = m;
  let magnitude: bigint;
  if (base !== undefined) {
    const { radix, valid } = OCAML_RADIX[base.toLowerCase() as keyof typeof OCAML_RADIX];
    const digits = prefixed!.replace(/_/g, '');
    if (!valid.test(digits)) return null;
    magnitude = BigInt(radix + digits);
    if (magnitude > (1n << 63n) - 1n) return null;
    magnitude = BigInt.asIntN(63, magnitude);
  } else {
    magnitude = BigInt(decimal!.replace(/_/g, ''));
    if (magnitude > (1n << 62n)) return null;
  }
  const value = sign === '-' ? -magnitude : magnitude;
  return value > (1n << 62n) - 1n && base === undefined ? null : value;
}

/** A comma-separated list of OCaml ints (xapi `String.split ','`, empty fields kept); null on any failure. */
function parseIntList(s: string): number[] | null {
  const out: number[] = [];
  for (const field of s.split(',')) {
    const v = ocamlIntOfString(field);
    if (v === null) return null;
    out.push(Number(v));
  }
  return out;
}

/**
 * xapi's scheduler_params (spec §1.1 item 1): `mask` split on ';' then ',' — any parse error
 * (a space, an empty field) means no mask at all; the host mask likewise; combined as
 * none/none → [], none/host → [host], vm/none → vm, vm/host → each VM mask ∩ host mask (may be
 * empty). weight defaults to 256 and cap to 0, also when unparsable.
 */
export function xapiSchedulerParams(vcpusParams: Readonly<Record<string, string>> = {}, hostGuestVcpusParams: Readonly<Record<string, string>> = {}): SchedulerParams {
  const vmMasks = vcpusParams['mask'] === undefined ? [] : parseMasks(vcpusParams['mask']);
  const hostMask = hostGuestVcpusParams['mask'] === undefined ? [] : (parseIntList(hostGuestVcpusParams['mask']) ?? []);
  let affinity: number[][];
  if (vmMasks.length === 0) affinity = hostMask.length === 0 ? [] : [hostMask];
  else if (hostMask.length === 0) affinity = vmMasks;
  else affinity = vmMasks.map((mask) => mask.filter((cpu) => hostMask.includes(cpu)));
  const weight = vcpusParams['weight'] === undefined ? DEFAULT_WEIGHT : (ocamlIntOfString(vcpusParams['weight']) ?? DEFAULT_WEIGHT);
  const cap = vcpusParams['cap'] === undefined ? DEFAULT_CAP : (ocamlIntOfString(vcpusParams['cap']) ?? DEFAULT_CAP);
  return { affinity, weight, cap };
}

function parseMasks(s: string): number[][] {
  const masks: number[][] = [];
  for (const part of s.split(';')) {
    const list = parseIntList(part);
    if (list === null) return [];
    masks.push(list);
  }
  return masks;
}

/**
 * The mask of each vCPU 0..vcpus-1: the listed ones, then the first mask for the rest; `null`
 * for every vCPU when there is no user mask.
 */
export function masksPerVcpu(affinity: readonly (readonly number[])[], vcpus: number): (readonly number[] | null)[] {
  return Array.from({ length: vcpus }, (_, i) => (affinity.length === 0 ? null : (affinity[i] ?? affinity[0]!)));
}

/**
 * xenopsd's `vcpu/<n>/affinity` value (reference mode, spec §5): `max_cpu_id+1` characters, '1'
 * at each CPU of the mask (ids outside [0, max_cpu_id] dropped), all '1' when there is no mask.
 */
export function affinityBitString(mask: readonly number[] | null, nrCpus: number): string {
  if (mask === null) return '1'.repeat(nrCpus);
  const chars = new Uint8Array(nrCpus).fill(0x30);
  for (const cpu of mask) if (cpu >= 0 && cpu < nrCpus) chars[cpu] = 0x31;
  return Buffer.from(chars).toString('latin1');
}
