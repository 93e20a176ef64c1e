/**
 * The Solaris processor_affinity(2) model's public API (issue 7): boot a host, create processes,
 * call processor_affinity / processor_bind / p_online / pset_*, run the dispatcher, print views.
 */
export { bootSolaris, type BootOptions, type Partition, type SolarisSystem } from './system.js';
export {
  createProcess, exec, exit, findLwp, fork, forkall, hasprocperm, lwpExit, makeCred, reap, thrCreate, vfork, zoneCreate,
  DEFAULT_PRI, FSS_CID, FX_CID, GLOBAL_ZONEID, MAX_PRI, IA_CID, NO_AFFINITY, PS_NONE, RT_CID, SYS_CID, TS_CID,
  type Affinity, type Cred, type Lwp, type Privilege, type Process, type ProcessAttrs, type ProcTable, type Zone,
} from './process.js';
export {
  checkprocset, decodeProcset, eligibleLwps, encodeProcset, getmyid, procsetTargets, setprocset, PROCSET_SIZE,
  P_ALL, P_CID, P_CPUID, P_CTID, P_GID, P_LWPID, P_MYID, P_PGID, P_PID, P_POOLID, P_PPID, P_PROJID, P_PSETID, P_SID,
  P_TASKID, P_UID, P_ZONEID, POP_AND, POP_DIFF, POP_OR, POP_XOR, type ProcSet,
} from './procset.js';
export {
  decodeFlags, PA_AFF_STRONG, PA_AFF_WEAK, PA_CLEAR, PA_INH_EXEC, PA_INH_FORK, PA_INH_THR, PA_NEGATIVE, PA_NO_INH_EXEC,
  PA_NO_INH_FORK, PA_NO_INH_THR, PA_QUERY, PA_TYPE_CPU, PA_TYPE_LGRP, PA_TYPE_PG, type PaMode, type PaRequest,
} from './flags.js';
export {
  affinityIds, legacyBinding, processorAffinity, processorBind, resolveIds,
  PBIND_HARD, PBIND_NONE, PBIND_QUERY, PBIND_QUERY_TYPE, PBIND_SOFT, type Ptr, type Ref,
} from './affinity.js';
export {
  isActiveState, pOnline, psetAssign, psetBind, psetCreate, psetDestroy, psetInfo, STATE_NAMES,
  P_FAULTED, P_FORCED, P_NOINTR, P_OFFLINE, P_ONLINE, P_POWEROFF, P_SPARE, P_STATUS, PS_MYID, PS_PRIVATE, PS_QUERY,
  type PsetInfo,
} from './psets.js';
export { buildGroups, isRootOrLeaf, isUsablePg, type GroupOptions, type Groups, type Lgroup, type Pg, type PgRelationship } from './groups.js';
export {
  createDispatcher, dispatchTick, setPriority, setRunnable, whereIs, type Dispatcher, type Placement, type TickStats,
} from './dispatcher.js';
export {
  formatCpuRanges, lgrpinfo, pbindBind, pbindQuery, pbindQueryAffinity, pginfo, psrinfo, psrinfoPhysical,
  psrinfoPhysicalVerbose, psrsetInfo,
} from './views.js';
