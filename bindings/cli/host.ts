/**
 * The host of a run: any topology form the topology module reads (issue 3) — an hwloc
 * synthetic string, or a path to an hwloc XML file, a JSON topology, … — and the engine
 * sized for it, with the CPU→node table installed (Xen cpu_to_node[]).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createEngine, type Engine, type KernelKind } from '../engine.js';
import { fail } from '../errors.js';
import { installTopology } from '../topology/install.js';
import { Topology } from '../topology/topology.js';

/**
 * Reads a host description. A string naming an existing directory is a sysfs root (a snapshot
 * holding `devices/system/cpu`, or `/sys` itself); one naming a file is read by its content
 * (`<` → hwloc XML, `{` → JSON topology, otherwise `xl info -n` output); any other string is
 * hwloc synthetic syntax. An object is a JSON topology. Relative paths are resolved against
 * `baseDir` (the scenario's directory).
 */
export function loadHost(desc: unknown, baseDir = process.cwd()): Topology {
  if (desc !== null && typeof desc === 'object') return Topology.fromJSON(desc);
  if (typeof desc !== 'string' || desc.trim() === '') fail('EINVAL', 'host must be a synthetic topology string, a path or a JSON topology object');
  const path = resolve(baseDir, desc);
  if (!/\s/.test(desc) && existsSync(path)) {
    if (statSync(path).isDirectory()) return Topology.fromSysfs(path);
    const text = readFileSync(path, 'utf8');
    const head = text.trimStart()[0];
    if (head === '<') return Topology.fromHwlocXml(text, desc);
    if (head === '{') return Topology.fromJSON(text);
    return Topology.fromXlInfo(text);
  }
  return Topology.fromSynthetic(desc);
}

/** An engine exactly as wide as the host, with its CPU→node table. */
export function hostEngine(topology: Topology, kernels: KernelKind = 'wasm', seed = 1): Engine {
  const engine = createEngine({ nrCpus: topology.nrCpuIds, kernels, seed });
  installTopology(engine, topology);
  return engine;
}
