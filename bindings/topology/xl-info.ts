/**
 * Topologies from `xl info -n` output, so Xen users can paste their host.
 *
 * Facts of the format (read from xen tools/xl/xl_info.c and libxl, not copied):
 * - physinfo lines `name   : value`; used: `max_cpu_id` (nr_cpu_ids - 1), `nr_cpus` (online
 *   CPUs), `nr_nodes` (online nodes);
 * - `cpu_topology :` then a `cpu: core socket node` header and one row per CPU whose core id is
 *   valid: `%3d:    %4d     %4d     %4d`. Xen invalidates the core id of non-present and offline
 *   CPUs, so only online CPUs have rows. A node of XEN_INVALID_NODE_ID prints as -1 (%d of ~0U);
 * - `numa_info :` then a `node: memsize memfree distances` header and one row per node whose
 *   memsize is valid (online nodes): id, memsize and memfree in MiB, then the distance row over
 *   all returned node ids, comma-separated, XEN_INVALID_NODE_DIST printing as -1.
 * We also read `-` wherever -1 may appear (hand-edited pastes).
 *
 * Choice (xl cannot tell them apart): ids up to max_cpu_id without a row are imported as
 * 'not-present'.
 */
import { fail } from '../errors.js';
import { NO_ID, type CpuSpec, type NodeSpec, type TopologySpec } from './spec.js';

const MIB = 2 ** 20;

/** An xl integer field: -1 / `-` (an invalid entry) become null. */
function entry(text: string, what: string): number | null {
  if (text === '-' || text === '-1') return null;
  if (!/^\d+$/.test(text)) fail('EINVAL', `xl info: ${what} "${text}" is not a number`);
  return Number(text);
}

/** The spec of `xl info -n` output. */
export function xlInfoTopology(text: string): TopologySpec {
  if (typeof text !== 'string') fail('EINVAL', 'xl info: not a string');
  const fields = new Map<string, string>();
  const cpus: CpuSpec[] = [];
  const nodes: NodeSpec[] = [];
  const rows: { id: number; dists: (number | null)[] }[] = [];
  let section: 'cpu' | 'numa' | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    const at = `line ${i + 1}`;
    const field = /^(\w+)\s+:\s?(.*)$/.exec(line);
    if (field) {
      section = field[1] === 'cpu_topology' ? 'cpu' : field[1] === 'numa_info' ? 'numa' : undefined;
      fields.set(field[1], field[2].trim());
      return;
    }
    if (/^cpu:\s+core\s+socket\s+node$/.test(line) || /^node:\s+memsize\s+memfree\s+distances$/.test(line)) return;
    const row = /^\s*(\d+):\s+(.*)$/.exec(line);
    if (section === 'cpu' && row) {
      const cols = row[2].trim().split(/\s+/);
      if (cols.length !== 3) fail('EINVAL', `xl info ${at}: cpu_topology row "${line.trim()}" needs core, socket and node`);
      const [core, socket, node] = cols.map((c, k) => entry(c, `${at} ${['core', 'socket', 'node'][k]}`));
      if (core === null || socket === null) fail('EINVAL', `xl info ${at}: CPU ${row[1]} has no core or socket (xl prints no such row)`);
      cpus.push({ id: Number(row[1]), core, socket, node: node ?? NO_ID, state: 'online' });
    } else if (section === 'numa' && row) {
      const m = /^(\d+)\s+(\d+)\s+(\S+)$/.exec(row[2].trim());
      if (!m) fail('EINVAL', `xl info ${at}: numa_info row "${line.trim()}" needs memsize, memfree and distances`);
      const id = Number(row[1]);
      nodes.push({ id, memsize: Number(m[1]) * MIB, memfree: Number(m[2]) * MIB });
      rows.push({ id, dists: m[3].split(',').map((d, j) => entry(d, `${at} distance ${j}`)) });
    } else {
      section = undefined;
    }
  });
  if (cpus.length === 0) fail('EINVAL', 'xl info: no cpu_topology rows (is this `xl info -n` output?)');
  if (nodes.length === 0) fail('EINVAL', 'xl info: no numa_info rows (is this `xl info -n` output?)');

  const count = (name: string): number | undefined => {
    const v = fields.get(name);
    if (v !== undefined && !/^\d+$/.test(v)) fail('EINVAL', `xl info: ${name} "${v}" is not a number`);
    return v === undefined ? undefined : Number(v);
  };
  const nrCpus = count('nr_cpus');
  if (nrCpus !== undefined && nrCpus !== cpus.length)
    fail('EINVAL', `xl info: nr_cpus is ${nrCpus} but cpu_topology has ${cpus.length} rows`);
  const nrNodes = count('nr_nodes');
  if (nrNodes !== undefined && nrNodes !== nodes.length)
    fail('EINVAL', `xl info: nr_nodes is ${nrNodes} but numa_info has ${nodes.length} rows`);
  const maxCpuId = count('max_cpu_id');

  // Every row has one distance per returned node id, the stride Xen used (spec xen-hypervisor.md §7).
  const stride = rows[0].dists.length;
  for (const r of rows)
    if (r.dists.length !== stride) fail('EINVAL', `xl info: numa_info row of node ${r.id} has ${r.dists.length} distances, node ${rows[0].id} has ${stride}`);
  const size = Math.max(stride, ...rows.map((r) => r.id + 1));
  if (size !== stride) fail('EINVAL', `xl info: node ${size - 1} has a row but rows have only ${stride} distances`);
  // An offline node has no row: its distances are the online rows' column (the SLIT is symmetric).
  const rowOf = (id: number) => rows.find((r) => r.id === id)?.dists;
  const matrix = Array.from({ length: size }, (_, a) =>
    rowOf(a) ?? Array.from({ length: size }, (_, b) => (a === b ? null : rowOf(b)?.[a] ?? null)));
  return { nrCpuIds: maxCpuId === undefined ? undefined : maxCpuId + 1, cpus, nodes, distances: matrix, source: 'xl info' };
}
