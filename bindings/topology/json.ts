/**
 * The plain JSON form of a topology: `topology.toJSON()` (topology.ts) writes it,
 * {@link topologySpecFromJSON} checks its envelope; the {@link Topology} constructor checks the rest.
 */
import { fail } from '../errors.js';
import { TOPOLOGY_JSON_FORMAT, type TopologySpec } from './spec.js';

/** The spec inside a JSON topology (an object or its text); EINVAL if it is not one. */
export function topologySpecFromJSON(json: unknown): TopologySpec {
  let obj = json;
  if (typeof json === 'string') {
    try {
      obj = JSON.parse(json);
    } catch (e) {
      fail('EINVAL', `topology JSON: ${(e as Error).message}`);
    }
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) fail('EINVAL', 'topology JSON: not an object');
  const o = obj as Record<string, unknown>;
  if (o.format !== TOPOLOGY_JSON_FORMAT) fail('EINVAL', `topology JSON: format is ${JSON.stringify(o.format)}, expected "${TOPOLOGY_JSON_FORMAT}"`);
  if (o.version !== 1) fail('EINVAL', `topology JSON: unsupported version ${JSON.stringify(o.version)}`);
  if (!Array.isArray(o.cpus) || !Array.isArray(o.nodes)) fail('EINVAL', 'topology JSON: cpus and nodes must be arrays');
  if (o.nrCpuIds !== undefined && !Number.isInteger(o.nrCpuIds)) fail('EINVAL', 'topology JSON: nrCpuIds must be an integer');
  if (o.distances != null && !Array.isArray(o.distances)) fail('EINVAL', 'topology JSON: distances must be a matrix or null');
  return {
    nrCpuIds: o.nrCpuIds as number | undefined,
    cpus: o.cpus as TopologySpec['cpus'],
    nodes: o.nodes as TopologySpec['nodes'],
    distances: o.distances as TopologySpec['distances'],
    source: 'topology JSON',
  };
}
