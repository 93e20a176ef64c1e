// The public API of affinity-engine.

// Errors
export { AffinityError, ERRNO, fail, errnoName, isAffinityError, type ErrnoName } from './errors.js';

// The engine and masks (foundation)
export {
  createEngine, createRng, Engine, MAX_CPUS, DEFAULT_NODES, NO_NODE,
  type EngineOptions, type KernelKind, type Rng, type NodeAffJob, type LinearMemory,
} from './engine.js';
export { type Kernels, BATCH_OP } from './kernels.js';
export { Bitmap } from './mask/bitmap.js';
export { CpuMask } from './mask/cpumask.js';
export { NodeMask } from './mask/nodemask.js';
export { InternTable } from './mask/intern.js';
export * from './mask/formats/index.js';

// Host topology
export {
  Topology, CPU_STATES, LOCAL_DISTANCE, REMOTE_DISTANCE, UNREACHABLE, MAX_NODES, NO_ID,
  type Cpu, type CpuSpec, type CpuState, type CpuStateChange, type CpuStateListener, type NodeSpec,
  type NumaNode, type SyntheticOptions, type TopologyJSON, type TopologySpec,
} from './topology/topology.js';
export { installTopology } from './topology/install.js';
export { sockets, type SocketView, type CoreView } from './topology/views.js';
/** Xen's sysctl views (physinfo, cputopoinfo, numainfo) of a bare Topology, without a hypervisor. */
export * as hostViews from './topology/views.js';

// Xen: hypervisor and libxenctrl
export { createHypervisor, Hypervisor, type VcpuAffinity } from './xen/hypervisor/hypervisor.js';
export type { HypervisorOptions, Dom0Options, XenVersion, SchedGran, Domain, Cpupool } from './xen/hypervisor/types.js';
export { SCHED_CREDIT, SCHED_CREDIT2 } from './xen/hypervisor/types.js';
export { CPUPOOL_PAR_ANY, type CpupoolInfo } from './xen/hypervisor/cpupool.js';
export * from './xen/xenctrl.js';

// Solaris processor_affinity(2), processor_bind(2), psets, PGs/lgroups, dispatcher
export * as solaris from './solaris/index.js';

// Xen toolstack: xenopsd (policy, NUMA planner, VM.create/VM.build) and xenguest
export {
  createToolstack, dom0Store,
  type Toolstack, type ToolstackOptions, type ToolstackXenctrl, type ToolstackStore, type VmConfig, type BuildReport, type DomainView,
} from './xen/xenopsd/build.js';
export { toolstackXenctrl } from './xen/xenopsd/xc.js';
export {
  makeNuma, planPlacement, numaCandidates, isUnreachableDistance, UNREACHABLE_DISTANCE, SELF_DISTANCE, MAX_NODES_FOR_SUBSETS,
  type NumaHost, type NumaTopology, type NumaRequest, type NumaPlan, type NumaCandidate, type CandidateTable,
} from './xen/xenopsd/planner.js';
export {
  xenopsdPolicyOf, xenopsdDefaultPolicy, placementRuleOf, parseHostNumaAffinityPolicy, parseToolstackMode, parseXenopsdNumaPolicy, xenopsdPolicyLogName,
  type ToolstackMode, type HostNumaAffinityPolicy, type XenopsdNumaPolicy, type XenopsdConf, type PlacementRule, type AffinityKind,
} from './xen/xenopsd/policy.js';
export { numaPlacement, runningMinimum, cpumapOfCpus, type PlacementOutcome, type PlacementState, type PlacementXenctrl, type NodeMemory } from './xen/xenopsd/placement.js';
export { xapiSchedulerParams, masksPerVcpu, affinityBitString, ocamlIntOfString, DEFAULT_WEIGHT, DEFAULT_CAP, type SchedulerParams } from './xen/xenopsd/vcpu-params.js';
export { runXenguest, getFlags, configureVcpus, strtoull, type XenguestArgs, type XenguestFlags, type XenguestResult, type XenguestXenctrl, type XenguestStore } from './xen/xenguest.js';

// Scenario runner, reports, stress (bindings/cli)
export { loadScenario, validateScenario, STEP_KINDS, type Scenario, type Step, type StepKind } from './cli/scenario.js';
export { runScenario, replayTrace, type Results, type StepResult, type Trace, type RunOptions, type RunOutput, type Systems } from './cli/runner.js';
export { renderReport, renderStress } from './cli/report.js';
export { renderHtml } from './cli/html.js';
export { runStress, invariants, PROFILES as STRESS_PROFILES, type StressOptions, type StressRun } from './cli/stress.js';
export { loadHost, hostEngine } from './cli/host.js';

// Xenstore: the store, its two flavours, the wire protocol, the socket server
export { createStore, XenstoreStore, PRIV_DOMID, type Session, type Who, type StoreOptions } from './xen/xenstore/store.js';
export { startXenstored, type XenstoreServer, type XenstoredOptions } from './xen/xenstore/server.js';
export { flavourOf, CXENSTORED, OXENSTORED, type Flavour, type FlavourName } from './xen/xenstore/flavour.js';
export type { Perm, PermLetter } from './xen/xenstore/perms.js';
export { XsType, PAYLOAD_MAX, encodeMessage, FrameReader, type XsMessage } from './xen/xenstore/wire.js';
