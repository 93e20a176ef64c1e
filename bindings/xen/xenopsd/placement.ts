/**
 * xenopsd's `numa_placement` (domain.ml), the step of build_pre that runs the planner and sets
 * the vCPU affinity of the plan by direct hypercall (spec xenopsd-xenguest.md §2.2, §2.3).
 *
 * - reference (S, §2.2): free memory per node is a running minimum of every observation (the
 *   CA-411684 bug); any plan sets SOFT affinity of every vCPU to the plan's CPUs; a failed call
 *   fails the build. Nothing is written to Xenstore.
 * - latest (H, §2.3): free memory is free − claimed; only single-node plans do anything: the
 *   node's memory is claimed, then SOFT (or HARD for Best_effort_hard) affinity is set; soft
 *   errors are ignored, hard errors fail the build.
 */
import { AffinityError, fail } from '../../errors.js';
import { XEN_VCPUAFFINITY_HARD, XEN_VCPUAFFINITY_SOFT } from '../xenctrl.js';
import type { XenguestXenctrl } from '../xenguest.js';
import { planPlacement, type NumaHost, type NumaPlan, type NumaRequest } from './planner.js';
import type { AffinityKind, PlacementRule, ToolstackMode } from './policy.js';

/** Per-node memory as Xen reports it (bytes): `xc_numainfo` memfree, and per-node claims (0 where unsupported). */
export interface NodeMemory {
  free: number;
  claimed: number;
}

/** What numa_placement needs from libxenctrl beyond what xenguest uses. */
export interface PlacementXenctrl extends XenguestXenctrl {
  /** `xc_get_max_cpus`: nr_cpu_ids (= physinfo max_cpu_id + 1). */
  maxCpus(): number;
  /** `xc_numainfo` memory (reference) / `numa_get_meminfo` (latest), indexed by node. */
  nodeMemory(): NodeMemory[];
  /**
   * `xc_domain_claim_pages` with a node (latest xenopsd's xenctrlext) or host-wide (`null`);
   * throws ENOMEM when memory is short, another errno when claims are unsupported.
   */
  domainClaimPages(domid: number, node: number | null, pages: number): void;
}

/** xenopsd process state behind `numa_mutex`: the planner (lazy, made once) and the S running minimum. */
export interface PlacementState {
  host: NumaHost | null;
  /** reference mode: the per-node minimum of every free-memory observation since start (never rises). */
  runningMinimum: number[] | null;
}

/** What numa_placement did for one VM — the observable trace of the policy. */
export interface PlacementOutcome {
  request: NumaRequest;
  /** Free memory per node as the planner saw it. */
  memfree: number[];
  plan: NumaPlan | null;
  /** Which affinity was set to the plan's CPUs (null: none). */
  affinitySet: AffinityKind | null;
  /** latest: the per-node claim and its result ('ok', or the errno name). */
  nodeClaim?: { node: number; pages: number; result: string };
  /** latest: the node passed to xenguest as -mem_pnode. */
  memPnode: number | null;
}

const PAGE = 4096;

/**
 * The running minimum of reference mode (spec §2.2 step 6): each node's planning value is the
 * minimum of what Xen reports now and every earlier value; stored back, so it never rises.
 */
export function runningMinimum(previous: readonly number[] | null, observed: readonly number[]): number[] {
  return observed.map((m, k) => (previous === null || previous[k] === undefined ? m : Math.min(m, previous[k]!)));
}

/**
 * The byte cpumap (`xc_cpumap_t`, `bytes` long) of a CPU list, keeping the ids in
 * [0, nrCpus): how xenopsd's C stubs turn an OCaml CPU array into a libxenctrl map.
 */
export function cpumapOfCpus(cpus: readonly number[], nrCpus: number, bytes: number): Uint8Array {
  const map = new Uint8Array(bytes);
  for (const cpu of cpus) if (cpu >= 0 && cpu < nrCpus) map[cpu >> 3]! |= 1 << (cpu & 7);
  return map;
}

function setPlanAffinity(xc: PlacementXenctrl, domid: number, vcpus: number, plan: NumaPlan, kind: AffinityKind): void {
  // The stub copies min(len(mask), xc_get_max_cpus) bits (spec §2.2 step 10).
  const map = cpumapOfCpus(plan.cpus, xc.maxCpus(), xc.cpumapSize());
  for (let vcpu = 0; vcpu < vcpus; vcpu++) {
    if (kind === 'soft') xc.vcpuSetAffinity(domid, vcpu, null, map.slice(), XEN_VCPUAFFINITY_SOFT);
    else xc.vcpuSetAffinity(domid, vcpu, map.slice(), null, XEN_VCPUAFFINITY_HARD);
  }
}

/**
 * `numa_placement domid ~vcpus ~memory` of reference mode (spec §2.2). A failed plan is only
 * logged; a failed xc_vcpu_setaffinity propagates (build_pre turns it into Domain_build_pre_failed).
 */
function numaPlacementReference(xc: PlacementXenctrl, state: PlacementState, domid: number, request: NumaRequest, log: (m: string) => void): PlacementOutcome {
  const observed = xc.nodeMemory().map((m) => m.free);
  const memfree = runningMinimum(state.runningMinimum, observed);
  state.runningMinimum = memfree;
  const plan = planPlacement(state.host!, memfree, request);
  const outcome: PlacementOutcome = { request, memfree, plan, affinitySet: null, memPnode: null };
  if (plan === null) {
    log(`NUMA-aware placement failed for domid ${domid}`);
    return outcome;
  }
  setPlanAffinity(xc, domid, request.vcpus, plan, 'soft');
  outcome.affinitySet = 'soft';
  return outcome;
}

/** Sets the plan affinity in latest mode: soft-affinity errors are logged and ignored, hard ones raise (spec §2.3 step 7). */
function setPlanAffinityLatest(xc: PlacementXenctrl, domid: number, vcpus: number, plan: NumaPlan, kind: AffinityKind, log: (m: string) => void): AffinityKind | null {
  try {
    setPlanAffinity(xc, domid, vcpus, plan, kind);
    return kind;
  } catch (e) {
    if (kind === 'hard' || !(e instanceof AffinityError)) throw e;
    log(`Ignoring error while setting soft affinity: ${e.message}`);
    return null;
  }
}

/** `numa_placement domid vcpus cores memory kind` of latest mode (spec §2.3). */
function numaPlacementLatest(xc: PlacementXenctrl, state: PlacementState, domid: number, request: NumaRequest, kind: AffinityKind, log: (m: string) => void): PlacementOutcome {
  const memfree = xc.nodeMemory().map(({ free, claimed }, k) => {
    if (claimed > free) fail('EINVAL', `NUMAResource: memory cannot be negative on node ${k}: free ${free} < claimed ${claimed}`);
    return free - claimed;
  });
  const plan = planPlacement(state.host!, memfree, request);
  const outcome: PlacementOutcome = { request, memfree, plan, affinitySet: null, memPnode: null };
  if (plan === null) {
    log(`NUMA-aware placement failed for domid ${domid}`);
    return outcome;
  }
  if (plan.nodes.length !== 1) {
    log("can't fit a single NUMA node, falling back to default behaviour");
    return outcome;
  }
  const node = plan.nodes[0]!;
  const pages = Math.ceil(request.memory / PAGE);
  try {
    xc.domainClaimPages(domid, node, pages);
  } catch (e) {
    if (!(e instanceof AffinityError)) throw e;
    outcome.nodeClaim = { node, pages, result: e.errno };
    if (e.errno === 'ENOMEM') {
      log(`unable to claim enough memory on node ${node}, not setting affinity`);
      return outcome;
    }
    // Per-node claims unsupported (e.g. a Xen without them): the affinity is still set.
    outcome.affinitySet = setPlanAffinityLatest(xc, domid, request.vcpus, plan, kind, log);
    return outcome;
  }
  outcome.nodeClaim = { node, pages, result: 'ok' };
  outcome.affinitySet = setPlanAffinityLatest(xc, domid, request.vcpus, plan, kind, log);
  outcome.memPnode = node;
  return outcome;
}

/**
 * numa_placement under a placement rule, in the toolstack's mode. `state.host` must be the
 * planner made from this host (null: NUMA unavailable ⇒ no plan).
 */
export function numaPlacement(
  mode: ToolstackMode,
  xc: PlacementXenctrl,
  state: PlacementState,
  domid: number,
  vcpus: number,
  memory: number,
  rule: PlacementRule,
  log: (m: string) => void,
): PlacementOutcome {
  const request: NumaRequest = { memory, vcpus, cores: rule.coresPerVcpu ? vcpus : 0 };
  if (state.host === null) return { request, memfree: [], plan: null, affinitySet: null, memPnode: null };
  return mode === 'reference' ? numaPlacementReference(xc, state, domid, request, log) : numaPlacementLatest(xc, state, domid, request, rule.affinity, log);
}
