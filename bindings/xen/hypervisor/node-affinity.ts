/**
 * A domain's NUMA node affinity (spec xen-hypervisor.md §3.6, §4.1): derived from its vCPUs'
 * affinities while auto_node_affinity is on, or set explicitly by XEN_DOMCTL_setnodeaffinity.
 * The arithmetic runs in the engine (one kernel call per domain, or per pool as a batch).
 */
import { fail } from '../../errors.js';
import type { NodeMask } from '../../mask/nodemask.js';
import type { Cpupool, Domain, HypervisorState } from './types.js';

/** The kernel job of one domain: its distinct hard and soft masks, its pool, its node mask. */
function job(d: Domain) {
  return { hard: [...d.hardRefs.keys()], soft: [...d.softRefs.keys()], online: d.pool.resValid.handle, out: d.nodeAffinity.handle };
}

/**
 * Xen `domain_update_node_affinity` / `domain_update_node_aff` (§3.6): nothing while the
 * domain has no vCPUs or auto_node_affinity is off; else node_affinity := nodes of
 * (∪soft ∩ ∪hard ∩ res_valid), falling back to (∪hard ∩ res_valid).
 */
export function updateNodeAffinity(hv: HypervisorState, d: Domain): void {
  if (d.created === 0 || !d.autoNodeAffinity) return;
  const j = job(d);
  if (hv.engine.updateNodeAff(j.hard, j.soft, j.online, j.out)) {
    hv.log.push(`d${d.domid}: no hard-affinity CPU in its pool (Xen ASSERT); node affinity is empty`);
  }
}

/** Xen `cpupool_update_node_affinity`: every domain of a pool, in one batched kernel call. */
export function updatePoolNodeAffinity(hv: HypervisorState, pool: Cpupool): void {
  const jobs = [];
  for (const d of pool.domains) if (d.created > 0 && d.autoNodeAffinity) jobs.push(job(d));
  if (jobs.length) hv.engine.updateNodeAffBatch(jobs);
}

/**
 * Xen `domain_set_node_affinity` (§4.1): EINVAL only when the mask has no online node; all
 * MAX_NUMNODES bits turn auto back on without overwriting node_affinity; anything else turns
 * auto off and is stored verbatim (offline node bits included). Then recomputes (§4.1 step 3).
 */
export function setNodeAffinity(hv: HypervisorState, d: Domain, nodes: NodeMask): void {
  if (!nodes.intersects(hv.nodeOnline)) fail('EINVAL', `d${d.domid}: node mask ${nodes} has no online node`);
  if (nodes.isFull()) {
    d.autoNodeAffinity = true;
  } else {
    d.autoNodeAffinity = false;
    d.nodeAffinity.copy(nodes);
  }
  updateNodeAffinity(hv, d);
}
