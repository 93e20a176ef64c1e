/**
 * xenguest: the domain builder xenopsd runs for every VM build (spec xenopsd-xenguest.md §5, §6).
 *
 * `stub_xc_hvm_build` (HVM and PVH) and `stub_xc_linux_build` (PV) start with `get_flags`, which
 * reads the VM's platform data from Xenstore (`/local/domain/<domid>/platform/…`) with C's lenient
 * conversions, then `configure_vcpus`, which applies each vCPU's `vcpu/<n>/affinity` bit-string
 * as HARD affinity through `xc_vcpu_setaffinity` and the credit1 weight/cap, before any guest
 * memory is populated. A libxenctrl failure is fatal: xenguest logs
 * `xenguest: <call>: [<errno>] <message>` and exits with status 1, which is how xenopsd sees it.
 *
 * The behaviour follows XCP-ng's refactored xenguest (spec §0 "XCP"): no `exp-nested-hvm`
 * fallback for `nested-virt`. Not modelled (no affinity effect): hvm_safety_check, configure_tsc,
 * kernel/firmware loading, cpuid policy.
 */
import { AffinityError, fail, type ErrnoName } from '../errors.js';
import { bitStringToCpumap } from '../mask/formats/bitstring.js';
import { XEN_VCPUAFFINITY_HARD } from './xenctrl.js';

/**
 * The libxenctrl calls xenguest makes, as the idiomatic TS layer over libxenctrl offers them:
 * each throws an {@link AffinityError} carrying the errno where the C call returns -1.
 */
export interface XenguestXenctrl {
  /** `xc_get_cpumap_size`: bytes of a cpumap, (nr_cpu_ids + 7) / 8. */
  cpumapSize(): number;
  /** `xc_domain_getinfo_single`: whether the domain is an HVM (or PVH) guest. */
  domainIsHvm(domid: number): boolean;
  /** `xc_vcpu_setaffinity(xch, domid, vcpu, hard, soft, flags)` with byte cpumaps. */
  vcpuSetAffinity(domid: number, vcpu: number, hard: Uint8Array | null, soft: Uint8Array | null, flags: number): void;
  /** `xc_sched_credit_domain_get`; throws when the domain's scheduler is not credit1. */
  schedCreditDomainGet(domid: number): { weight: number; cap: number };
  /** `xc_sched_credit_domain_set`. */
  schedCreditDomainSet(domid: number, params: { weight: number; cap: number }): void;
  /** The memory build (`xc_dom_boot_mem_init` → populate_physmap): Xen's heap picks the nodes (by node affinity). */
  populateGuestMemory(domid: number, bytes: number): void;
}

/** The Xenstore operations xenguest uses, as dom0: read (null when the node does not exist) and write. */
export interface XenguestStore {
  read(path: string): string | null;
  write(path: string, value: string): void;
}

/** `struct flags` of xenguest: what get_flags determined (field widths as in C, spec §5 table). */
export interface XenguestFlags {
  hvm: boolean;
  /** `int vcpus` = platform/vcpu/number. */
  vcpus: number;
  /** `vcpu/<n>/affinity` for n < vcpus, raw; null = unset (vCPU skipped by configure_vcpus). */
  vcpuAffinity: (string | null)[];
  vcpusCurrent: number;
  /** `uint16_t`: 0 = keep Xen's value. */
  vcpuWeight: number;
  /** `uint16_t`: 0 = keep Xen's value. */
  vcpuCap: number;
  nx: number;
  pae: number;
  apic: number;
  viridian: number;
  viridianTimeRefCount: number;
  viridianReferenceTsc: number;
  viridianHcallRemoteTlbFlush: number;
  viridianApicAssist: number;
  viridianCrashCtl: number;
  viridianStimer: number;
  tscMode: number;
  x87FipWidth: number;
  nestedVirt: number;
  nomigrate: number;
  /** HVM only (0 for PV). */
  coresPerSocket: number;
  /** hvmloader flags: 0/1, or -1 when the key was missing (and "0" was written). */
  acpi: number;
  acpiS4: number;
  acpiS3: number;
  hpet: number;
  timeoffset: bigint;
}

/** xenguest's command line, as xenopsd passes it (spec §1.1 item 5, §1.2 item 4). */
export interface XenguestArgs {
  mode: 'hvm_build' | 'pvh_build' | 'linux_build';
  domid: number;
  storePort: number;
  storeDomid: number;
  consolePort: number;
  consoleDomid: number;
  memMaxMib: number;
  memStartMib: number;
  /**
   * `-mem_pnode` (latest xenopsd, after a successful single-node claim). UNVERIFIED what xenguest
   * does with it (spec §1.2 item 4): we accept and log it; memory then follows the domain's node
   * affinity, which the placement has just set to that node, and the claim made on it.
   */
  memPnode?: number;
  /** `-vgpu`: a vGPU is attached (affects the viridian_stimer default). */
  vgpu?: boolean;
}

/** What a xenguest run left behind: its exit status and its log (stderr/syslog lines). */
export interface XenguestResult {
  exitStatus: 0 | 1;
  log: string[];
  /** The errno of the failed call when exitStatus is 1. */
  errno?: ErrnoName;
  /** get_flags' view, when it got that far. */
  flags?: XenguestFlags;
  /** The hvm_info_table xenguest wrote (HVM/PVH): nr_vcpus and the online bitmap from vcpu/current. */
  hvmInfo?: { nrVcpus: number; vcpuOnline: Uint8Array };
}

const UINT64 = (1n << 64n) - 1n;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The number syntax of C `strtoull`/`strtol` with base 0: leading white space, an optional sign,
 * the base from the prefix (0x hex, 0 octal, else decimal), digits up to the first invalid
 * character. No digits ⇒ 0.
 */
function scanCInteger(s: string): { negative: boolean; magnitude: bigint } {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))?/.exec(s)!;
  const [, sign, hex, octal, decimal] = m;
  const magnitude = hex !== undefined ? BigInt(`0x${hex}`) : octal !== undefined ? BigInt(`0o${octal}`) : decimal !== undefined ? BigInt(decimal) : 0n;
  return { negative: sign === '-', magnitude };
}

/** C `strtoull(s, NULL, 0)`: '-' negates modulo 2^64; null where C sets errno (ERANGE). */
export function strtoull(s: string): bigint | null {
  const { negative, magnitude } = scanCInteger(s);
  if (magnitude > UINT64) return null;
  return negative ? (UINT64 + 1n - magnitude) & UINT64 : magnitude;
}

/** C `strtol(s, NULL, 0)` on LP64: null where C sets errno (ERANGE). */
function strtol(s: string): bigint | null {
  const { negative, magnitude } = scanCInteger(s);
  const value = negative ? -magnitude : magnitude;
  return value > INT64_MAX || value < -INT64_MAX - 1n ? null : value;
}

/**
 * xenguest `xenstore_get_value`: a missing key ⇒ 0 (and "not set"); "true"/"false" in any case
 * ⇒ 1/0; otherwise strtoull with errno ⇒ 0. The caller truncates to its C field type.
 */
function xenstoreGetValue(store: XenguestStore, path: string): { value: bigint; set: boolean } {
  const s = store.read(path);
  if (s === null) return { value: 0n, set: false };
  if (s.toLowerCase() === 'true') return { value: 1n, set: true };
  if (s.toLowerCase() === 'false') return { value: 0n, set: true };
  const v = strtoull(s);
  return v === null ? { value: 0n, set: false } : { value: v, set: true };
}

/** C conversion of the uint64 to an `int` field (two's complement truncation). */
const asInt = (v: bigint) => Number(BigInt.asIntN(32, v));
/** … to an `unsigned int` field. */
const asUint = (v: bigint) => Number(BigInt.asUintN(32, v));
/** … to a `uint16_t` field: weights and caps of 65536 and above wrap (spec §8 item 9). */
const asUint16 = (v: bigint) => Number(BigInt.asUintN(16, v));

/**
 * `hvmloader_flag`: "1"/"0" as is; otherwise "true" (any case) ⇒ 1, else strtol (errno ⇒ 0), and
 * the normalised "0"/"1" is written back; a missing key gets "0" written and yields -1.
 */
function hvmloaderFlag(store: XenguestStore, path: string, log: string[]): number {
  const s = store.read(path);
  if (s === null) {
    store.write(path, '0');
    return -1;
  }
  if (s === '1') return 1;
  if (s === '0') return 0;
  const ret = s.toLowerCase() === 'true' ? 1 : asInt(strtol(s) ?? 0n);
  log.push(`HVMLoader error: Fixing up key '${path}' from '${s}' to '${ret}'`);
  store.write(path, ret !== 0 ? '1' : '0');
  return ret;
}

/** `sscanf(s, "%" PRId64)`: leading space, sign, decimal digits; saturates; no digits ⇒ unchanged (0). */
function scanInt64(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  if (!m) return 0n;
  const v = BigInt(m[1]!);
  const max = (1n << 63n) - 1n;
  return v > max ? max : v < -max - 1n ? -max - 1n : v;
}

/**
 * `get_flags` (spec §6): reads the platform keys with their defaults and C conversions. Fatal
 * (exit 1) when `cores-per-socket` does not divide the vCPU count of an HVM guest.
 */
export function getFlags(xc: XenguestXenctrl, store: XenguestStore, args: XenguestArgs, log: string[]): XenguestFlags {
  let hvm = false;
  fatalOnError('xc_domain_getinfo', () => void (hvm = xc.domainIsHvm(args.domid)));
  const base = `/local/domain/${args.domid}/platform`;
  const get = (key: string) => xenstoreGetValue(store, `${base}/${key}`).value;
  const vcpus = asInt(get('vcpu/number'));
  const vcpuAffinity: (string | null)[] = [];
  for (let n = 0; n < vcpus; n++) vcpuAffinity.push(store.read(`${base}/vcpu/${n}/affinity`));
  const viridianReferenceTsc = asInt(get('viridian_reference_tsc'));
  const viridianTimeRefCount = asInt(get('viridian_time_ref_count'));
  const stimer = xenstoreGetValue(store, `${base}/viridian_stimer`);
  let viridianStimer = asInt(stimer.value);
  if (args.vgpu && !stimer.set && (viridianReferenceTsc || viridianTimeRefCount)) {
    log.push('vgpu attached and stimer not set - defaulting to enabled.');
    viridianStimer = 1;
  }
  let coresPerSocket = 0;
  if (hvm) {
    coresPerSocket = asUint(get('cores-per-socket'));
    // C compares `vcpus % cps` with vcpus converted to unsigned.
    if (coresPerSocket !== 0 && (vcpus >>> 0) % coresPerSocket !== 0) fail('EINVAL', `Bad cores/socket setting: ${coresPerSocket} (nr vcpus ${vcpus})`);
  }
  const nestedVirt = asInt(get('nested-virt'));
  const hpetRaw = store.read(`${base}/hpet`);
  const timeoffsetRaw = store.read(`${base}/timeoffset`);
  const flags: XenguestFlags = {
    hvm,
    vcpus,
    vcpuAffinity,
    vcpusCurrent: asInt(get('vcpu/current')),
    vcpuWeight: asUint16(get('vcpu/weight')),
    vcpuCap: asUint16(get('vcpu/cap')),
    viridian: asInt(get('viridian')),
    viridianTimeRefCount,
    viridianReferenceTsc,
    viridianHcallRemoteTlbFlush: asInt(get('viridian_hcall_remote_tlb_flush')),
    viridianApicAssist: asInt(get('viridian_apic_assist')),
    viridianCrashCtl: asInt(get('viridian_crash_ctl')),
    viridianStimer,
    apic: asInt(get('apic')),
    pae: asInt(get('pae')),
    nx: asInt(get('nx')),
    tscMode: asInt(get('tsc_mode')),
    x87FipWidth: asUint(get('x87-fip-width')),
    nestedVirt,
    // Nested virt does not work with migration.
    nomigrate: nestedVirt ? 1 : asInt(get('nomigrate')),
    coresPerSocket,
    acpi: hvmloaderFlag(store, `${base}/acpi`, log),
    acpiS4: hvmloaderFlag(store, `${base}/acpi_s4`, log),
    acpiS3: hvmloaderFlag(store, `${base}/acpi_s3`, log),
    // A missing or empty hpet key means enabled (migrated VMs lack it).
    hpet: hpetRaw !== null && hpetRaw.length > 0 ? asInt(get('hpet')) : 1,
    timeoffset: timeoffsetRaw === null ? 0n : scanInt64(timeoffsetRaw),
  };
  log.push(`vcpu/number:${flags.vcpus} vcpu/weight:${flags.vcpuWeight} vcpu/cap:${flags.vcpuCap}`);
  vcpuAffinity.forEach((s, n) => log.push(`vcpu/${n}/affinity:${s ?? 'unset'}`));
  return flags;
}

/**
 * `configure_vcpus` (spec §6): for each vCPU with an affinity string, HARD affinity from it (a
 * failed call is fatal); then credit1 weight/cap — nonzero values replace Xen's, and a domain
 * whose scheduler is not credit1 keeps its values (logged, not an error).
 */
export function configureVcpus(xc: XenguestXenctrl, domid: number, flags: XenguestFlags, log: string[]): void {
  const bytes = xc.cpumapSize();
  flags.vcpuAffinity.forEach((s, vcpu) => {
    if (s === null) return;
    fatalOnError('xc_vcpu_setaffinity', () => xc.vcpuSetAffinity(domid, vcpu, cpumapOfAffinity(s, bytes), null, XEN_VCPUAFFINITY_HARD));
  });
  let sdom: { weight: number; cap: number };
  try {
    sdom = xc.schedCreditDomainGet(domid);
  } catch (e) {
    if (!(e instanceof AffinityError)) throw e;
    log.push('Failed to get credit scheduler parameters: scheduler not enabled?');
    return;
  }
  const next = { weight: flags.vcpuWeight || sdom.weight, cap: flags.vcpuCap || sdom.cap };
  fatalOnError('xc_sched_credit_domain_set', () => xc.schedCreditDomainSet(domid, next));
}

/**
 * The cpumap of a `vcpu/<n>/affinity` string (spec §6 step 2: only '1' counts, at most bytes×8
 * characters). xenopsd writes the same string for every vCPU, so the last one is remembered —
 * a model shortcut: on a 16384-CPU host each string is 16 KiB. Callers get a private copy.
 */
let lastAffinity: { s: string; bytes: number; map: Uint8Array } = { s: '', bytes: -1, map: new Uint8Array(0) };
function cpumapOfAffinity(s: string, bytes: number): Uint8Array {
  if (s !== lastAffinity.s || bytes !== lastAffinity.bytes) lastAffinity = { s, bytes, map: bitStringToCpumap(s, bytes) };
  return lastAffinity.map.slice();
}

/** `failwith_oss_xc`: a failed libxenctrl call ends xenguest, with the call named in the error. */
function fatalOnError(call: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    // The errno name stands in for strerror's text.
    if (e instanceof AffinityError) throw new AffinityError(e.errno, `xenguest: ${call}: [${e.code}] ${e.errno}`);
    throw e;
  }
}

/** The hvm_info_table's vCPU fields (`hvm_init_info_table`): nr_vcpus and the first `vcpus_current` bits online. */
function hvmInfoOf(flags: XenguestFlags): { nrVcpus: number; vcpuOnline: Uint8Array } {
  // HVM_MAX_VCPUS = 128: the table's online bitmap is 16 bytes.
  const vcpuOnline = new Uint8Array(16);
  for (let i = 0; i < Math.min(flags.vcpusCurrent, 128); i++) vcpuOnline[i >> 3]! |= 1 << (i & 7);
  return { nrVcpus: flags.vcpus, vcpuOnline };
}

function checkArgs(args: XenguestArgs): void {
  if (!['hvm_build', 'pvh_build', 'linux_build'].includes(args.mode)) fail('EINVAL', `invalid command line: unknown mode ${String(args.mode)}`);
  for (const key of ['domid', 'storePort', 'storeDomid', 'consolePort', 'consoleDomid', 'memMaxMib', 'memStartMib'] as const) {
    if (!Number.isSafeInteger(args[key]) || args[key] < 0) fail('EINVAL', `invalid command line: -${key} ${String(args[key])}`);
  }
  if (args.memPnode !== undefined && (!Number.isInteger(args.memPnode) || args.memPnode < 0)) fail('EINVAL', `invalid command line: -mem_pnode ${String(args.memPnode)}`);
}

/**
 * Runs xenguest: `stub_xc_hvm_build` for hvm_build/pvh_build, `stub_xc_linux_build` for
 * linux_build — get_flags → configure_vcpus → memory build (HVM: then hvm_info). Every failure is
 * exit status 1 with the error logged, as the real process; xenopsd reads the status.
 */
export function runXenguest(xc: XenguestXenctrl, store: XenguestStore, args: XenguestArgs): XenguestResult {
  const log: string[] = [];
  const result: XenguestResult = { exitStatus: 0, log };
  try {
    checkArgs(args);
    const flags = getFlags(xc, store, args, log);
    result.flags = flags;
    configureVcpus(xc, args.domid, flags, log);
    // Memory is populated only now, after the vCPU affinities (hence the auto node affinity) are set.
    if (args.memPnode !== undefined) log.push(`mem_pnode: ${args.memPnode}`);
    fatalOnError('xc_dom_boot_mem_init', () => xc.populateGuestMemory(args.domid, args.memStartMib * 2 ** 20));
    if (args.mode !== 'linux_build') result.hvmInfo = hvmInfoOf(flags);
  } catch (e) {
    if (!(e instanceof AffinityError)) throw e;
    log.push(`error: ${e.message.slice(e.errno.length + 2)}`);
    result.exitStatus = 1;
    result.errno = e.errno;
  }
  return result;
}
