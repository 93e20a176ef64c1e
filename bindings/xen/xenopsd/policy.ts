/**
 * The NUMA policy layer between xapi and xenopsd (spec xenopsd-xenguest.md §3).
 *
 * xapi stores `Host.numa_affinity_policy` (`any` | `best_effort` | `default_policy`) and pushes a
 * xenopsd policy (`Any` | `Best_effort` | `Best_effort_hard` | `Prio_mem_only`) to xenopsd, which
 * decides in build_pre what NUMA placement does. The mapping differs between the two xen-api
 * versions the spec describes, selected by {@link ToolstackMode}:
 * - `reference`: xen-api 90ef043c, the commit the flowchart links to (spec "S").
 * - `latest`: xen-api e2ee48d6, the newest snapshot (spec "H").
 */
import { fail } from '../../errors.js';

/** Which xen-api version the toolstack behaves like; chosen when the toolstack is created. */
export type ToolstackMode = 'reference' | 'latest';

/** xapi's `host_numa_affinity_policy` enum (datamodel_host.ml, spec §3). */
export type HostNumaAffinityPolicy = 'any' | 'best_effort' | 'default_policy';

/** xenopsd's `numa_placement` policy (xenops_interface.ml, spec §3). */
export type XenopsdNumaPolicy = 'Any' | 'Best_effort' | 'Best_effort_hard' | 'Prio_mem_only';

/** Which vCPU affinity numa_placement sets: xc_vcpu_setaffinity with SOFT or HARD (spec §2.3 step 2). */
export type AffinityKind = 'soft' | 'hard';

/** What numa_placement does under a policy; `null` (policy Any) means it does not run at all. */
export interface PlacementRule {
  /** The xenopsd policy this rule comes from. */
  readonly policy: XenopsdNumaPolicy;
  readonly affinity: AffinityKind;
  /** Physical cores requested = vCPUs (latest Best_effort*); otherwise 0 cores are requested. */
  readonly coresPerVcpu: boolean;
}

/** xenopsd.conf keys that choose the latest-mode default policy (spec §3, `H:xenopsd.ml:71-73`). */
export interface XenopsdConf {
  /** `numa-placement`; default true in latest mode. */
  readonly numaPlacement?: boolean;
  /** `numa-best-effort-prio-mem-only`; default false. */
  readonly numaBestEffortPrioMemOnly?: boolean;
}

const MODES: readonly ToolstackMode[] = ['reference', 'latest'];
const HOST_POLICIES: readonly HostNumaAffinityPolicy[] = ['any', 'best_effort', 'default_policy'];
const XENOPSD_POLICIES: readonly XenopsdNumaPolicy[] = ['Any', 'Best_effort', 'Best_effort_hard', 'Prio_mem_only'];

/** The policies each xenopsd version knows: S has only Any and Best_effort (`S:xenops_interface.ml:498-502`). */
const POLICIES_OF_MODE: Record<ToolstackMode, readonly XenopsdNumaPolicy[]> = {
  reference: ['Any', 'Best_effort'],
  latest: XENOPSD_POLICIES,
};

/** Validates a toolstack mode name (EINVAL for anything else). */
export function parseToolstackMode(value: unknown): ToolstackMode {
  if (typeof value === 'string' && (MODES as readonly string[]).includes(value)) return value as ToolstackMode;
  return fail('EINVAL', `unknown toolstack mode ${JSON.stringify(value)} (expected 'reference' or 'latest')`);
}

/**
 * Parses a `Host.numa_affinity_policy` value. The CLI (`xe host-param-set numa-affinity-policy=`)
 * accepts the names case-insensitively (spec §3); anything else is EINVAL, as xapi rejects an
 * unknown enum value.
 */
export function parseHostNumaAffinityPolicy(value: unknown): HostNumaAffinityPolicy {
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if ((HOST_POLICIES as readonly string[]).includes(lower)) return lower as HostNumaAffinityPolicy;
  }
  return fail('EINVAL', `unknown host NUMA affinity policy ${JSON.stringify(value)} (expected any, best_effort or default_policy)`);
}

/** Validates a xenopsd policy name for a mode (EINVAL if that xenopsd version has no such policy). */
export function parseXenopsdNumaPolicy(mode: ToolstackMode, value: unknown): XenopsdNumaPolicy {
  const known = POLICIES_OF_MODE[parseToolstackMode(mode)];
  if (typeof value === 'string' && (known as readonly string[]).includes(value)) return value as XenopsdNumaPolicy;
  return fail('EINVAL', `xenopsd (${mode} mode) has no NUMA policy ${JSON.stringify(value)} (expected ${known.join(', ')})`);
}

/**
 * xenopsd's default policy, used when xapi sends "no policy" (latest mode, `default_policy`):
 * `numa-placement=false` ⇒ Any; else `numa-best-effort-prio-mem-only=true` ⇒ Prio_mem_only; else
 * Best_effort (`H:xenops_server_xen.ml:5621-5631`, spec §3). Only the latest xapi sends "no policy".
 */
export function xenopsdDefaultPolicy(conf: XenopsdConf = {}): XenopsdNumaPolicy {
  if (conf.numaPlacement === false) return 'Any';
  if (conf.numaBestEffortPrioMemOnly === true) return 'Prio_mem_only';
  return 'Best_effort';
}

/**
 * The xenopsd policy xapi pushes for a host policy (`xapi_xenops.ml`, spec §3 mapping table).
 * - reference: any → Any, best_effort → Best_effort, default_policy → Any.
 * - latest: any → Any; best_effort → Best_effort_hard iff the pool restriction
 *   `restrict_hard_numa` is exactly `"false"`, else Best_effort; default_policy → xenopsd's default.
 */
export function xenopsdPolicyOf(
  mode: ToolstackMode,
  hostPolicy: HostNumaAffinityPolicy,
  options: { restrictions?: Readonly<Record<string, string>>; conf?: XenopsdConf } = {},
): XenopsdNumaPolicy {
  parseToolstackMode(mode);
  switch (parseHostNumaAffinityPolicy(hostPolicy)) {
    case 'any':
      return 'Any';
    case 'best_effort':
      if (mode === 'latest' && options.restrictions?.['restrict_hard_numa'] === 'false') return 'Best_effort_hard';
      return 'Best_effort';
    case 'default_policy':
      return mode === 'latest' ? xenopsdDefaultPolicy(options.conf) : 'Any';
  }
}

/**
 * What numa_placement does under a xenopsd policy (`H:xenops_server.ml:3271-3281`, spec §3 table):
 * Any ⇒ nothing; Best_effort ⇒ soft, cores = vCPUs in latest mode (cores not modelled in
 * reference mode, spec §3); Best_effort_hard ⇒ hard, cores = vCPUs; Prio_mem_only ⇒ soft, no cores.
 */
export function placementRuleOf(mode: ToolstackMode, policy: XenopsdNumaPolicy): PlacementRule | null {
  switch (parseXenopsdNumaPolicy(mode, policy)) {
    case 'Any':
      return null;
    case 'Best_effort':
      return { policy, affinity: 'soft', coresPerVcpu: mode === 'latest' };
    case 'Best_effort_hard':
      return { policy, affinity: 'hard', coresPerVcpu: true };
    case 'Prio_mem_only':
      return { policy, affinity: 'soft', coresPerVcpu: false };
  }
}

/** The name xenopsd logs for a policy (`any`, `best-effort`, `best-effort-hard`, `prio-mem-only`). */
export function xenopsdPolicyLogName(policy: XenopsdNumaPolicy): string {
  return policy.toLowerCase().replace(/_/g, '-');
}
