/**
 * xenopsd VM.create / VM.build: the top of the flowchart (spec xenopsd-xenguest.md §1).
 *
 * VM.create creates the domain and writes its platform data to Xenstore
 * (`/local/domain/<domid>/platform/…`, spec §5). VM.build runs build_pre — the host-wide free
 * memory check, max_vcpus, (latest) the user's hard affinity, the NUMA policy switch with
 * numa_placement — and then xenguest, which reads the platform data back and applies the
 * vCPU affinity strings as hard affinity before any memory is populated.
 *
 * The mode (reference = the flowchart's xen-api, latest = newest, see policy.ts) is fixed when
 * the toolstack is created. What each step did is returned as plain data ({@link BuildReport})
 * and can be read back from Xen and Xenstore with {@link Toolstack.inspect}.
 *
 * Failures propagate as the real components report them: `Not_enough_memory`,
 * `Domain_build_pre_failed` (numa_placement raised), the raw libxenctrl error (latest mode's
 * hard-mask step), `Xenguest_failure` (xenguest exited with status 1). As in xenopsd, a build
 * that fails part-way leaves the domain as far as it got (VM.start then destroys it); the
 * planner's counters keep any increment (spec §2.3 step 4).
 */
import { AffinityError, fail } from '../../errors.js';
import { XEN_VCPUAFFINITY_HARD } from '../xenctrl.js';
import { runXenguest, type XenguestArgs, type XenguestResult, type XenguestStore } from '../xenguest.js';
import { PRIV_DOMID, type XenstoreStore } from '../xenstore/store.js';
import { makeNuma, type NumaHost, type NumaTopology } from './planner.js';
import { cpumapOfCpus, numaPlacement, type PlacementOutcome, type PlacementState, type PlacementXenctrl } from './placement.js';
import {
  parseHostNumaAffinityPolicy,
  parseToolstackMode,
  placementRuleOf,
  xenopsdPolicyOf,
  type HostNumaAffinityPolicy,
  type ToolstackMode,
  type XenopsdConf,
  type XenopsdNumaPolicy,
} from './policy.js';
import { affinityBitString, masksPerVcpu, xapiSchedulerParams, type SchedulerParams } from './vcpu-params.js';

const MiB = 2 ** 20;

/** What xenopsd needs from libxenctrl (the idiomatic layer: failures throw AffinityError). */
export interface ToolstackXenctrl extends PlacementXenctrl {
  /** `xc_domain_create`: a new domain without vCPUs yet; returns its domid. */
  domainCreate(config: { hvm: boolean; maxVcpus: number }): number;
  /** `xc_domain_destroy`: the domain goes, its memory returns to the heap. */
  domainDestroy(domid: number): void;
  /** `xc_physinfo` free_pages, in bytes: the host-wide free memory. */
  freeMemory(): number;
  /** `xc_domain_max_vcpus`: creates the vCPUs (and recomputes node affinity). */
  domainMaxVcpus(domid: number, max: number): void;
  /** `xc_numainfo` distances (uint32, 0xFFFFFFFF unreachable). */
  numaDistances(): number[][];
  /** `xc_cputopoinfo`: per CPU its core, socket and node ids. */
  cputopoinfo(): { core: number; socket: number; node: number }[];
  /** `xc_vcpu_getaffinity(HARD|SOFT)`: the raw masks as byte cpumaps. */
  vcpuGetAffinity(domid: number, vcpu: number): { hard: Uint8Array; soft: Uint8Array };
  /** `xc_domain_node_getaffinity`: the domain's node affinity as a byte nodemap. */
  domainNodeGetAffinity(domid: number): Uint8Array;
}

/** The Xenstore operations xenopsd and xenguest use, as dom0. */
export interface ToolstackStore extends XenguestStore {
  /** The children of a node (ENOENT when it does not exist). */
  directory(path: string): string[];
  /** Removes a node and everything below it. */
  rm(path: string): void;
}

/**
 * The Xenstore as xenopsd and xenguest use it: dom0's connection to the store (xenstore/store.ts).
 * Values are UTF-8 strings; reading a missing node gives null, as xs_read's NULL.
 */
export function dom0Store(xs: XenstoreStore): ToolstackStore {
  return {
    read(path) {
      return xs.readOrNull(PRIV_DOMID, path)?.toString('utf8') ?? null;
    },
    write: (path, value) => xs.write(PRIV_DOMID, path, value),
    directory: (path) => xs.directory(PRIV_DOMID, path),
    rm: (path) => xs.rm(PRIV_DOMID, path),
  };
}

/** The subset of a xapi VM record that VM.create / VM.build use. */
export interface VmConfig {
  /** VM.domain_type; xenguest mode hvm_build, linux_build or pvh_build. Default 'hvm'. */
  domainType?: 'hvm' | 'pv' | 'pvh';
  /** VM.VCPUs_max (1 …). */
  vcpusMax: number;
  /** VM.VCPUs_at_startup (1 … vcpusMax); default vcpusMax. */
  vcpusAtStartup?: number;
  /** VM.memory_static_max in MiB. */
  memoryStaticMaxMib: number;
  /** The memory target in MiB (≤ static max); default the static max. */
  memoryTargetMib?: number;
  /** Video RAM in MiB taken off the build sizes (HVM); default 0. */
  videoMib?: number;
  /** VM.VCPUs_params: `mask` ("1,2,3" or "1,2;5"), `weight`, `cap` — as strings, parsed as xapi does. */
  vcpusParams?: Readonly<Record<string, string>>;
  /** VM.platform keys, written to Xenstore as they are. */
  platform?: Readonly<Record<string, string>>;
}

export interface ToolstackOptions {
  /** Default 'reference'. */
  mode?: ToolstackMode;
  xc: ToolstackXenctrl;
  store: ToolstackStore;
  /** Host.numa_affinity_policy; default 'default_policy'. */
  numaAffinityPolicy?: HostNumaAffinityPolicy;
  /** Pool restrictions (latest: `restrict_hard_numa` = "false" ⇒ Best_effort_hard). */
  restrictions?: Readonly<Record<string, string>>;
  /** xenopsd.conf (latest: the default policy). */
  conf?: XenopsdConf;
  /** Host.guest_VCPUs_params (host-cpu-tune `mask`). */
  guestVcpusParams?: Readonly<Record<string, string>>;
}

/** What VM.build did, step by step. */
export interface BuildReport {
  domid: number;
  mode: ToolstackMode;
  policy: XenopsdNumaPolicy;
  /** The user hard masks per vCPU (null = none). */
  userAffinity: SchedulerParams['affinity'];
  /** Why numa_placement did not run: policy Any, a user hard mask, no NUMA information. */
  placementSkipped?: 'policy-any' | 'user-hard-affinity' | 'numa-unavailable';
  placement?: PlacementOutcome;
  /** latest: the host-wide claim after a placement gave no node ('ok' or the ignored errno). */
  globalClaim?: { pages: number; result: string };
  xenguestArgs: XenguestArgs;
  xenguest: XenguestResult;
  /** The planner's per-node placement counters after this build (empty when it never ran). */
  nodeUsage: number[];
  /** xenopsd's debug log lines for this build. */
  log: string[];
}

/** A domain read back from Xen and Xenstore. */
export interface DomainView {
  domid: number;
  /** Per vCPU, the raw hard and soft affinity (xc_vcpu_getaffinity), as CPU ids. */
  vcpus: { hard: number[]; soft: number[] }[];
  /** The domain's node affinity (xc_domain_node_getaffinity), as node ids. */
  nodeAffinity: number[];
  /** Every key under /local/domain/<domid>/platform, relative to it. */
  platform: Record<string, string>;
}

export interface Toolstack {
  readonly mode: ToolstackMode;
  /** The xenopsd policy in force (from Host.numa_affinity_policy, spec §3). */
  readonly numaPolicy: XenopsdNumaPolicy;
  /** `Host.set_numa_affinity_policy`: affects VMs built afterwards. EINVAL for an unknown name. */
  setNumaAffinityPolicy(value: string): void;
  /** VM.create: the domain and its platform data; returns the domid. */
  vmCreate(vm: VmConfig): number;
  /** VM.build: build_pre (with NUMA placement) then xenguest. */
  vmBuild(domid: number): BuildReport;
  /** The planner (`numa_hierarchy`), made on first use; null when the host gives no usable NUMA data. */
  numaHost(): NumaHost | null;
  /** Reads a domain's affinities, node affinity and platform keys back. */
  inspect(domid: number): DomainView;
  /** VM.destroy: the domain and its Xenstore directory go; the planner's counters stay (spec §4.4 step 5). */
  vmDestroy(domid: number): void;
}

interface DomainRecord {
  vm: Required<Omit<VmConfig, 'vcpusParams' | 'platform'>> & Pick<VmConfig, 'platform'>;
  params: SchedulerParams;
  /** VM.build has been attempted (a domain is built once; a failed build is destroyed, not retried). */
  built: boolean;
}

function checkCount(value: unknown, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) fail('EINVAL', `${what} must be an integer ≥ ${min}, got ${String(value)}`);
  return value as number;
}

function checkStringMap(value: unknown, what: string): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Object.values(value).some((v) => typeof v !== 'string')) fail('EINVAL', `${what} must map names to strings`);
  return value as Record<string, string>;
}

/** Validates a VM record (all-or-nothing: VM.create changes nothing when this throws). */
function checkVm(vm: VmConfig): DomainRecord['vm'] {
  if (typeof vm !== 'object' || vm === null) fail('EINVAL', 'VM record must be an object');
  const domainType = vm.domainType ?? 'hvm';
  if (!['hvm', 'pv', 'pvh'].includes(domainType)) fail('EINVAL', `unknown domain type ${String(domainType)}`);
  const vcpusMax = checkCount(vm.vcpusMax, 'VCPUs_max', 1);
  const vcpusAtStartup = checkCount(vm.vcpusAtStartup ?? vcpusMax, 'VCPUs_at_startup', 1);
  if (vcpusAtStartup > vcpusMax) fail('EINVAL', `VCPUs_at_startup (${vcpusAtStartup}) exceeds VCPUs_max (${vcpusMax})`);
  const memoryStaticMaxMib = checkCount(vm.memoryStaticMaxMib, 'memory_static_max (MiB)', 1);
  const memoryTargetMib = checkCount(vm.memoryTargetMib ?? memoryStaticMaxMib, 'memory target (MiB)', 1);
  if (memoryTargetMib > memoryStaticMaxMib) fail('EINVAL', `memory target (${memoryTargetMib} MiB) exceeds memory_static_max (${memoryStaticMaxMib} MiB)`);
  const videoMib = checkCount(vm.videoMib ?? 0, 'video (MiB)', 0);
  if (videoMib >= memoryTargetMib) fail('EINVAL', `video RAM (${videoMib} MiB) must be below the memory target (${memoryTargetMib} MiB)`);
  return { domainType, vcpusMax, vcpusAtStartup, memoryStaticMaxMib, memoryTargetMib, videoMib, platform: checkStringMap(vm.platform, 'VM.platform') };
}

/** `numa_hierarchy` (spec §2.1): distances, CPU → node, (latest) distinct core ids per node. */
function numaTopologyOf(mode: ToolstackMode, xc: ToolstackXenctrl): NumaTopology {
  const topo = xc.cputopoinfo();
  const distances = xc.numaDistances();
  const cpuToNode = topo.map((t) => t.node);
  if (mode === 'reference') return { distances, cpuToNode };
  // Core ids are per socket; counting distinct ids per node assumes a node lies within one socket (spec §2.1).
  const cores = distances.map(() => new Set<number>());
  topo.forEach((t) => cores[t.node]?.add(t.core));
  return { distances, cpuToNode, nodeCores: cores.map((s) => s.size) };
}

/** The ids set in a byte map (LSB-first, libxenctrl layout). */
function idsOfBytes(map: Uint8Array): number[] {
  const ids: number[] = [];
  map.forEach((byte, i) => {
    for (let b = 0; b < 8; b++) if (byte & (1 << b)) ids.push(i * 8 + b);
  });
  return ids;
}

export function createToolstack(options: ToolstackOptions): Toolstack {
  const mode = parseToolstackMode(options.mode ?? 'reference');
  const { xc, store } = options;
  const restrictions = checkStringMap(options.restrictions, 'restrictions');
  const guestVcpusParams = checkStringMap(options.guestVcpusParams, 'Host.guest_VCPUs_params');
  const conf = options.conf ?? {};
  let numaPolicy = xenopsdPolicyOf(mode, parseHostNumaAffinityPolicy(options.numaAffinityPolicy ?? 'default_policy'), { restrictions, conf });
  const domains = new Map<number, DomainRecord>();
  // numa_hierarchy is lazy: made on first use; an exception while making it recurs on every use (OCaml Lazy).
  let numaHierarchy: { host: NumaHost | null } | { error: AffinityError } | null = null;
  const placementState: PlacementState = { host: null, runningMinimum: null };

  /** `numa_hierarchy`; its log lines go to the build that first forces it. */
  function numaHost(log: (m: string) => void = () => {}): NumaHost | null {
    if (numaHierarchy === null) {
      try {
        numaHierarchy = { host: makeNuma(mode, numaTopologyOf(mode, xc), log) };
      } catch (e) {
        if (!(e instanceof AffinityError)) throw e;
        numaHierarchy = { error: e };
      }
    }
    if ('error' in numaHierarchy) throw numaHierarchy.error;
    return numaHierarchy.host;
  }

  function platformPath(domid: number, key = ''): string {
    return `/local/domain/${domid}/platform${key === '' ? '' : `/${key}`}`;
  }

  /** generate_create_info + Domain.make's platform writes (spec §1.1 item 2, §1.2 item 2, §5). */
  function platformData(vm: DomainRecord['vm'], params: SchedulerParams): [string, string][] {
    const data = new Map<string, string>(Object.entries(vm.platform ?? {}));
    for (const key of ['acpi_s3', 'acpi_s4']) if (!data.has(key)) data.set(key, '0');
    data.set('vcpu/number', String(vm.vcpusMax));
    data.set('vcpu/current', String(vm.vcpusAtStartup));
    if (mode === 'reference') {
      const nrCpus = xc.maxCpus();
      masksPerVcpu(params.affinity, vm.vcpusMax).forEach((mask, i) => data.set(`vcpu/${i}/affinity`, bitStringOf(mask, nrCpus)));
    }
    data.set('vcpu/weight', String(params.weight));
    data.set('vcpu/cap', String(params.cap));
    return [...data];
  }

  // The all-ones string is the same for every vCPU of every VM without a mask: make it once.
  let allOnes = { nrCpus: -1, s: '' };
  function bitStringOf(mask: readonly number[] | null, nrCpus: number): string {
    if (mask !== null) return affinityBitString(mask, nrCpus);
    if (allOnes.nrCpus !== nrCpus) allOnes = { nrCpus, s: affinityBitString(null, nrCpus) };
    return allOnes.s;
  }

  function vmCreate(config: VmConfig): number {
    const vm = checkVm(config);
    const params = xapiSchedulerParams(checkStringMap(config.vcpusParams, 'VCPUs_params'), guestVcpusParams);
    const domid = xc.domainCreate({ hvm: vm.domainType !== 'pv', maxVcpus: vm.vcpusMax });
    try {
      for (const [key, value] of platformData(vm, params)) store.write(platformPath(domid, key), value);
    } catch (e) {
      // VM.create is atomic in xenopsd: a failed step destroys what was made. A real case:
      // oxenstored refuses values over 2048 bytes, even from dom0, so the reference-mode
      // affinity string of a host with more than 2048 CPUs fails with E2BIG.
      store.rm(`/local/domain/${domid}`);
      xc.domainDestroy(domid);
      throw e;
    }
    domains.set(domid, { vm, params, built: false });
    return domid;
  }

  /** build_pre's NUMA step inside `log_reraise`: an exception becomes Domain_build_pre_failed. */
  function placeOrFail(run: () => PlacementOutcome): PlacementOutcome {
    try {
      return run();
    } catch (e) {
      if (!(e instanceof AffinityError)) throw e;
      throw new AffinityError(e.errno, `Domain_build_pre_failed: Calling 'NUMA placement' failed: ${e.message}`);
    }
  }

  function vmBuild(domid: number): BuildReport {
    const record = domains.get(domid) ?? fail('ESRCH', `VM.build: no VM created with domid ${domid}`);
    if (record.built) fail('EINVAL', `VM.build: domain ${domid} has already been built`);
    record.built = true;
    const { vm, params } = record;
    const log: string[] = [];
    const note = (message: string) => void log.push(message);
    const hvmLike = vm.domainType !== 'pv';
    // xen_max_mib (reference planning size) and build_start_mib (latest planning and claim size),
    // spec §2.2-2.3; no shim. The extra 1 MiB of HVM is taken for PVH too (UNVERIFIED: the spec
    // names HVM and PV-in-PVH only).
    const xenMaxMib = vm.memoryStaticMaxMib + (hvmLike ? 1 : 0);
    const buildStartMib = vm.memoryTargetMib - vm.videoMib;
    const report: BuildReport = {
      domid,
      mode,
      policy: numaPolicy,
      userAffinity: params.affinity,
      // Event channels are not modelled: the store/console ports are fixed numbers.
      xenguestArgs: {
        mode: vm.domainType === 'pv' ? 'linux_build' : vm.domainType === 'pvh' ? 'pvh_build' : 'hvm_build',
        domid,
        storePort: 1,
        storeDomid: 0,
        consolePort: 2,
        consoleDomid: 0,
        memMaxMib: vm.memoryStaticMaxMib - vm.videoMib,
        memStartMib: buildStartMib,
      },
      xenguest: { exitStatus: 0, log: [] },
      nodeUsage: [],
      log,
    };
    // 1. Host-wide free memory (wait_xen_free_mem; not per node). The requirement is taken as
    //    xen_max_mib: the shadow/overhead part of required_host_free_mib is not modelled.
    const hostFree = xc.freeMemory();
    if (hostFree < xenMaxMib * MiB) fail('ENOMEM', `Not_enough_memory: VM needs ${xenMaxMib * MiB} bytes, host has ${hostFree} free`);
    // 2. timer_mode is read back from Xenstore by xenopsd itself.
    const timerMode = store.read(platformPath(domid, 'timer_mode'));
    if (timerMode !== null) note(`timer_mode = ${timerMode}`);
    // 3. The vCPUs.
    xc.domainMaxVcpus(domid, vm.vcpusMax);
    // 4. latest: the user's hard affinity, applied directly; errors raise unwrapped.
    if (mode === 'latest' && params.affinity.length > 0) {
      const nrCpus = xc.maxCpus();
      const bytes = xc.cpumapSize();
      // Ids beyond max_cpu_id are dropped (spec §1.2 item 3).
      masksPerVcpu(params.affinity, vm.vcpusMax).forEach((mask, vcpu) => xc.vcpuSetAffinity(domid, vcpu, cpumapOfCpus(mask!, nrCpus, bytes), null, XEN_VCPUAFFINITY_HARD));
    }
    // 5. The NUMA policy switch.
    const rule = placementRuleOf(mode, numaPolicy);
    if (rule === null) report.placementSkipped = 'policy-any';
    else if (params.affinity.length > 0) {
      report.placementSkipped = 'user-hard-affinity';
      note('VM has hard affinity set, skipping NUMA optimization');
    } else {
      const memory = (mode === 'reference' ? xenMaxMib : buildStartMib) * MiB;
      const placement = placeOrFail(() => {
        placementState.host = numaHost(note);
        return numaPlacement(mode, xc, placementState, domid, vm.vcpusMax, memory, rule, note);
      });
      if (placementState.host === null) report.placementSkipped = 'numa-unavailable';
      report.placement = placement;
      if (mode === 'latest') {
        if (placement.memPnode !== null) report.xenguestArgs.memPnode = placement.memPnode;
        else report.globalClaim = globalClaim(domid, memory, note);
      }
    }
    if (placementState.host !== null) report.nodeUsage = Array.from(placementState.host.nodeUsage);
    // 6. xenguest.
    report.xenguest = runXenguest(xc, store, report.xenguestArgs);
    if (report.xenguest.exitStatus !== 0) {
      throw new AffinityError(report.xenguest.errno!, `Xenguest_failure: exit status 1: ${report.xenguest.log.at(-1)!.replace(/^error: /, '')}`);
    }
    return report;
  }

  /** latest build_pre step 5: the host-wide claim; ENOMEM fails the build, other errors are ignored. */
  function globalClaim(domid: number, memory: number, log: (m: string) => void): { pages: number; result: string } {
    const pages = Math.ceil(memory / 4096);
    try {
      xc.domainClaimPages(domid, null, pages);
      return { pages, result: 'ok' };
    } catch (e) {
      if (!(e instanceof AffinityError)) throw e;
      if (e.errno === 'ENOMEM') throw new AffinityError('ENOMEM', `Domain_build_pre_failed: claiming ${pages} pages failed: ${e.message}`);
      log(`Ignoring error of the global memory claim: ${e.message}`);
      return { pages, result: e.errno };
    }
  }

  function inspect(domid: number): DomainView {
    const record = domains.get(domid) ?? fail('ESRCH', `inspect: no VM created with domid ${domid}`);
    // vCPUs exist once VM.build has run max_vcpus; before that Xen answers ESRCH for each.
    const vcpus: DomainView['vcpus'] = [];
    for (let v = 0; v < record.vm.vcpusMax; v++) {
      try {
        const { hard, soft } = xc.vcpuGetAffinity(domid, v);
        vcpus.push({ hard: idsOfBytes(hard), soft: idsOfBytes(soft) });
      } catch (e) {
        if (e instanceof AffinityError && e.errno === 'ESRCH') break;
        throw e;
      }
    }
    const platform: Record<string, string> = {};
    const walk = (rel: string) => {
      const path = platformPath(domid, rel);
      const value = store.read(path);
      if (value !== null && value !== '') platform[rel] = value;
      for (const child of store.directory(path)) walk(rel === '' ? child : `${rel}/${child}`);
    };
    walk('');
    return { domid, vcpus, nodeAffinity: idsOfBytes(xc.domainNodeGetAffinity(domid)), platform };
  }

  function vmDestroy(domid: number): void {
    if (!domains.has(domid)) fail('ESRCH', `VM.destroy: no VM created with domid ${domid}`);
    xc.domainDestroy(domid);
    store.rm(`/local/domain/${domid}`);
    domains.delete(domid);
  }

  return {
    mode,
    get numaPolicy() {
      return numaPolicy;
    },
    setNumaAffinityPolicy(value: string) {
      numaPolicy = xenopsdPolicyOf(mode, parseHostNumaAffinityPolicy(value), { restrictions, conf });
    },
    vmCreate,
    vmBuild,
    numaHost: () => numaHost(),
    inspect,
    vmDestroy,
  };
}
