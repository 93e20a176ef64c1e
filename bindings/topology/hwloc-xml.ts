/**
 * Topologies from hwloc 2.x XML, what `lstopo machine.xml` writes.
 *
 * Read from the file:
 * - every `PU` object: CPU id = os_index, socket = os_index of the enclosing `Package`
 *   (0 when the file has no Package at all, as synthetic.ts does), core = os_index of the
 *   enclosing `Core` (the PU's own id when there is none);
 * - NUMA membership: hwloc 2 attaches `NUMANode` objects as memory children of the object whose
 *   CPUs are local to them. A PU's node is the first NUMA node attached to its nearest ancestor
 *   that has one. Further nodes attached to the same object (HBM, NVDIMM, CXL tiers) own no
 *   CPU, which is how Linux reports them: memory-only nodes;
 * - memory: `local_memory` bytes. hwloc records no free memory; memfree is taken = memsize;
 * - offline CPUs: ids in the root's `complete_cpuset` with no PU object (hwloc drops offline PUs);
 *   their node is the first NUMA node whose `complete_cpuset` holds them, socket and core unknown;
 * - distances: the `distances2` matrix over NUMA nodes named `NUMALatency` (the SLIT as Linux
 *   reports it), else the first latency matrix over NUMA nodes; none = no SLIT. Nodes missing
 *   from the matrix are unreachable from the others.
 */
import { fail } from '../errors.js';
import { NO_ID, UNREACHABLE, LOCAL_DISTANCE, type CpuSpec, type NodeSpec, type TopologySpec } from './spec.js';
import { parseXml, type XmlElement } from './xml.js';

/** hwloc_distances kind bit HWLOC_DISTANCES_KIND_MEANS_LATENCY. */
const KIND_MEANS_LATENCY = 4;

/**
 * Ids in an hwloc bitmap string: 32-bit hex words, most significant first, comma-separated, an
 * empty word meaning zero ("0x00000003,,0x0" = bits 64-65); "0xf...f," (infinite) is refused.
 */
function bitmapIds(s: string, where: string): number[] {
  if (s.includes('...')) fail('EINVAL', `${where}: infinite bitmap "${s}"`);
  if (!/^0x[0-9a-f]{1,8}(,(0x[0-9a-f]{1,8})?)*$/i.test(s)) fail('EINVAL', `${where}: "${s}" is not an hwloc bitmap`);
  const words = s.split(',').reverse().map((w) => w || '0');
  const ids: number[] = [];
  words.forEach((w, i) => {
    const v = parseInt(w, 16);
    for (let b = 0; b < 32; b++) if (v & (2 ** b)) ids.push(i * 32 + b);
  });
  return ids;
}

function osIndex(o: XmlElement, where: string): number {
  const v = o.attrs.os_index;
  if (v === undefined || !/^\d+$/.test(v)) fail('EINVAL', `${where}: ${o.attrs.type} object without a valid os_index`);
  return Number(v);
}

/** NUMA nodes attached to an object: memory children, directly or below memory-side caches. */
function memoryChildren(o: XmlElement): XmlElement[] {
  return o.children.flatMap((c) =>
    c.name !== 'object' ? [] : c.attrs.type === 'NUMANode' ? [c] : c.attrs.type === 'MemCache' ? memoryChildren(c) : []);
}

function numbers(el: XmlElement, tag: string, where: string): number[] {
  const text = el.children.filter((c) => c.name === tag).map((c) => c.text).join(' ').trim();
  if (text === '' || !/^\d+(\s+\d+)*$/.test(text)) fail('EINVAL', `${where}: <${tag}> does not hold integers`);
  return text.split(/\s+/).map(Number);
}

function slit(root: XmlElement, nodes: NodeSpec[], where: string): number[][] | null {
  const over = root.children.filter((c) => c.name === 'distances2' && c.attrs.type === 'NUMANode');
  const d = over.find((c) => c.attrs.name === 'NUMALatency') ?? over.find((c) => Number(c.attrs.kind) & KIND_MEANS_LATENCY);
  if (!d) return null;
  const at = `${where}: distances2 "${d.attrs.name ?? ''}"`;
  const n = Number(d.attrs.nbobjs);
  if (d.attrs.indexing !== undefined && d.attrs.indexing !== 'os') fail('EINVAL', `${at}: indexing "${d.attrs.indexing}" (expected os)`);
  const indexes = numbers(d, 'indexes', at);
  const values = numbers(d, 'u64values', at);
  if (!(n > 0) || indexes.length !== n || values.length !== n * n)
    fail('EINVAL', `${at}: nbobjs=${d.attrs.nbobjs} but ${indexes.length} indexes and ${values.length} values (need n and n²)`);
  const size = Math.max(...nodes.map((x) => x.id)) + 1;
  const m: number[][] = Array.from({ length: size }, (_, i) => Array.from({ length: size }, (_, j) => (i === j ? LOCAL_DISTANCE : UNREACHABLE)));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const [a, b] = [indexes[i], indexes[j]];
      if (!nodes.some((x) => x.id === a)) fail('EINVAL', `${at}: index ${a} is not a NUMA node of the file`);
      m[a][b] = values[i * n + j];
    }
  return m;
}

/** The spec of an hwloc 2.x XML topology. hwloc: `hwloc_topology_set_xmlbuffer`. */
export function hwlocXmlTopology(xmlText: string, name = 'hwloc XML'): TopologySpec {
  if (typeof xmlText !== 'string') fail('EINVAL', `${name}: not a string`);
  const root = parseXml(xmlText, name);
  if (root.name !== 'topology') fail('EINVAL', `${name}: root element is <${root.name}>, not hwloc's <topology>`);
  if (!/^2\./.test(root.attrs.version ?? '')) fail('EINVAL', `${name}: hwloc XML version "${root.attrs.version ?? '1.x'}" (only 2.x is read)`);
  const top = root.children.find((c) => c.name === 'object');
  if (!top || !['Machine', 'System'].includes(top.attrs.type)) fail('EINVAL', `${name}: no Machine object under <topology>`);

  const cpus: CpuSpec[] = [];
  const nodes: NodeSpec[] = [];
  const nodeCompleteCpus: { id: number; cpus: number[] }[] = [];
  let packages = 0;
  const walk = (o: XmlElement, socket: number, core: number, node: number): void => {
    const type = o.attrs.type;
    if (type === undefined) fail('EINVAL', `${name}: <object> without a type`);
    if (type === 'Package') {
      socket = osIndex(o, name);
      packages++;
    }
    if (type === 'Core') core = osIndex(o, name);
    const memory = memoryChildren(o);
    memory.forEach((m) => {
      const mem = m.attrs.local_memory ?? '0';
      if (!/^\d+$/.test(mem)) fail('EINVAL', `${name}: NUMANode ${m.attrs.os_index} local_memory "${mem}" is not a byte count`);
      nodes.push({ id: osIndex(m, name), memsize: Number(mem), memfree: Number(mem) });
      if (m.attrs.complete_cpuset !== undefined)
        nodeCompleteCpus.push({ id: osIndex(m, name), cpus: bitmapIds(m.attrs.complete_cpuset, `${name}: NUMANode ${m.attrs.os_index} complete_cpuset`) });
    });
    if (memory.length > 0) node = osIndex(memory[0], name);
    if (type === 'PU') {
      const id = osIndex(o, name);
      cpus.push({ id, socket, core: core === NO_ID ? id : core, node, state: 'online' });
    }
    for (const c of o.children) if (c.name === 'object' && c.attrs.type !== 'NUMANode') walk(c, socket, core, node);
  };
  walk(top, NO_ID, NO_ID, NO_ID);
  if (cpus.length === 0) fail('EINVAL', `${name}: no PU objects`);
  if (packages === 0) for (const c of cpus) c.socket = 0;

  const listed = new Set(cpus.map((c) => c.id));
  if (listed.size !== cpus.length) {
    const dup = cpus.find((c, i) => cpus.findIndex((o) => o.id === c.id) !== i);
    fail('EINVAL', `${name}: duplicate CPU id ${dup?.id} (PU os_index)`);
  }
  const complete = top.attrs.complete_cpuset === undefined ? [] : bitmapIds(top.attrs.complete_cpuset, `${name}: Machine complete_cpuset`);
  for (const id of complete) {
    if (listed.has(id)) continue;
    const node = nodeCompleteCpus.find((n) => n.cpus.includes(id))?.id ?? NO_ID;
    cpus.push({ id, socket: NO_ID, core: NO_ID, node, state: 'offline' });
  }
  cpus.sort((a, b) => a.id - b.id);
  if (nodes.length === 0) fail('EINVAL', `${name}: no NUMANode objects`);
  return { cpus, nodes, distances: slit(root, nodes, name), source: name };
}
