/**
 * Puts a topology's CPU→node table into the mask engine, so that node-affinity arithmetic
 * (Xen `domain_update_node_aff`, spec xen-hypervisor.md §3.6) and per-node masks
 * (`node_to_cpumask`) never leave WebAssembly memory.
 */
import type { Engine } from '../engine.js';
import { fail } from '../errors.js';
import type { Topology } from './topology.js';

/**
 * Installs `cpu_to_node[]` for every CPU id (a CPU without a node, or not present, maps to none);
 * the engine builds its per-node CPU masks from it (`engine.nodeCpumask(node)` = the
 * topology's `nodeCpus(node)`). Like Xen's `cpu_to_node[]`, the table does not change when a CPU
 * goes offline: callers intersect with their online mask. EINVAL, leaving the engine as it was,
 * when the engine is not exactly as wide as the topology's CPU ids or too narrow for its nodes.
 */
export function installTopology(engine: Engine, topology: Topology): void {
  if (engine.nrCpuIds !== topology.nrCpuIds)
    fail('EINVAL', `engine has ${engine.nrCpuIds} CPUs, the topology ${topology.nrCpuIds}`);
  if (topology.nodes.length > engine.nrNodes)
    fail('EINVAL', `topology has node ids up to ${topology.nodes.length - 1}, engine node masks only ${engine.nrNodes} bits`);
  engine.setCpuToNode(topology.cpus.map((c) => c.node));
}
