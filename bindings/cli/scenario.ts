/**
 * The scenario file: a host, the systems booted on it, and a list of steps. The whole file is
 * checked before anything runs; every error names the file and the JSON path of the bad field
 * (`scenario.json: $.steps[3].vcpus: expected an integer ≥ 1`).
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AffinityError, fail } from '../errors.js';
import { parseXlCpulist } from '../mask/formats/index.js';
import type { Topology } from '../topology/topology.js';
import { hostEngine, loadHost } from './host.js';
import { SOLARIS_STEP_KINDS } from './steps-solaris.js';
import { XEN_STEP_KINDS, type XenOptions } from './steps-xen.js';
import {
  any, arrayOf, check, cpus, int, mapOf, member, obj, oneOf, oneOfValues, str, type CheckContext, type Schema,
} from './schema.js';

export type SystemKind = 'xen' | 'solaris';

/** One kind of step: its fields and the system it needs ('host' = none). */
export interface StepKind {
  system: SystemKind | 'host';
  fields: Record<string, Schema>;
  required: readonly string[];
  doc: string;
  /** Names this step gives (field → namespace) and names it refers to, checked in order before running. */
  defines?: Record<string, Namespace>;
  uses?: Record<string, Namespace>;
}

/** What a name can denote: a group of VMs, a group of processes, a cpupool, a processor set. */
export type Namespace = 'vms' | 'procs' | 'pool' | 'pset';

/** Names that exist without being defined. */
const BUILTIN_NAMES: Record<Namespace, readonly string[]> = { vms: [], procs: [], pool: ['Pool-0'], pset: ['PS_NONE'] };

const label = str(/^[A-Za-z_][\w.-]*$/, 'a label (letters, digits, _ . -)');
const maskFormat = oneOfValues('cpulist', 'hex', 'hwloc', 'taskset', 'xl', 'bits');

/** Steps that need only the host and the mask engine. */
const HOST_STEP_KINDS: Record<string, StepKind> = {
  mask: {
    system: 'host',
    doc: 'CPU-set arithmetic: expr, then and/or/xor/andnot applied in order; prints formats and the nodes touched',
    fields: {
      expr: cpus,
      and: cpus, or: cpus, xor: cpus, andnot: cpus,
      formats: arrayOf(maskFormat),
    },
    required: ['expr'],
  },
  nodeAffinity: {
    system: 'host',
    doc: 'domain_update_node_aff over explicit vCPU masks (spec xen-hypervisor.md §3.6)',
    fields: { hard: arrayOf(cpus, 1), soft: arrayOf(cpus), valid: cpus },
    required: ['hard'],
  },
};

/** Every step kind; `op` selects one. Fields common to all: `label`, `expect`. */
export const STEP_KINDS: Record<string, StepKind> = { ...HOST_STEP_KINDS, ...XEN_STEP_KINDS, ...SOLARIS_STEP_KINDS };

/** The common fields of every step. */
const COMMON: Record<string, Schema> = {
  op: str(),
  label,
  /**
   * Expected result fields (a subset match against the step's result: `{"nodes": "0-1"}`,
   * `{"errno": "EINVAL"}`); a mismatch fails the step (ok=false) but the run continues.
   */
  expect: any,
};

const SYSTEM: Schema = obj({
  xen: obj({
    /** xenopsd as in the flowchart ('reference') or the newest ('latest'). */
    mode: oneOfValues('reference', 'latest'),
    /** Host.numa_affinity_policy. */
    policy: oneOfValues('any', 'best_effort', 'default_policy'),
    scheduler: oneOfValues('credit', 'credit2'),
    dom0Vcpus: int(1, 4096),
    /** The Xenstore daemon the store behaves like. */
    xenstored: oneOfValues('oxenstored', 'cxenstored'),
  }),
  solaris: obj({}),
});

const TOP: Schema = obj(
  {
    name: str(),
    description: str(),
    seed: int(0, 0xffffffff),
    host: oneOf('a synthetic topology string, a topology file path or a JSON topology object', str(), mapOf(any)),
    system: SYSTEM,
    steps: arrayOf(any, 1),
  },
  ['name', 'host', 'steps'],
);

export interface Step {
  op: string;
  label?: string;
  expect?: unknown;
  [field: string]: unknown;
}

export interface Scenario {
  name: string;
  description?: string;
  seed: number;
  host: string | object;
  system: { xen?: XenOptions; solaris?: object };
  steps: Step[];
  /** The file it came from (for messages) and its directory (for relative host paths). */
  file: string;
  baseDir: string;
}

const NS_WORDS: Record<Namespace, string> = { vms: 'VM group', procs: 'process group', pool: 'cpupool', pset: 'processor set' };

/** A scenario error: `FILE: $.json.path: what`. */
export function scenarioError(file: string, path: string, message: string): never {
  fail('EINVAL', `${file}: ${path}: ${message}`);
}

/** Reads and validates a scenario file (see {@link validateScenario}). */
export function loadScenario(file: string): { scenario: Scenario; topology: Topology } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail('ENOENT', `${file}: cannot read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    scenarioError(file, '$', `not JSON: ${(e as Error).message}`);
  }
  return validateScenario(doc, file, dirname(file));
}

/**
 * Checks a parsed scenario completely — shape, step kinds, the host (it must load), every CPU
 * set against that host, labels unique — and returns it typed, with its host. Nothing runs.
 */
export function validateScenario(doc: unknown, file: string, baseDir: string): { scenario: Scenario; topology: Topology } {
  const top = check(doc, TOP, '$');
  if (top) scenarioError(file, top.path, top.message);
  const d = doc as Record<string, unknown>;
  let topology: Topology;
  try {
    topology = loadHost(d.host, baseDir);
  } catch (e) {
    if (e instanceof AffinityError) scenarioError(file, '$.host', e.message);
    throw e;
  }
  const engine = hostEngine(topology, 'ts');
  const ctx: CheckContext = {
    cpus(expr) {
      try {
        parseXlCpulist(engine, expr).free();
        return undefined;
      } catch (e) {
        if (e instanceof AffinityError) return e.message;
        throw e;
      }
    },
  };
  const system = (d.system ?? {}) as Scenario['system'];
  const labels = new Set<string>();
  const names: Record<Namespace, Set<string>> = { vms: new Set(), procs: new Set(), pool: new Set(), pset: new Set() };
  const steps = d.steps as unknown[];
  steps.forEach((raw, i) => {
    const path = member('$.steps', i);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) scenarioError(file, path, 'expected a step object');
    const op = (raw as Step).op;
    if (typeof op !== 'string') scenarioError(file, member(path, 'op'), 'missing; expected a step name');
    const kind = STEP_KINDS[op];
    if (!kind) scenarioError(file, member(path, 'op'), `unknown step ${JSON.stringify(op)} (known: ${Object.keys(STEP_KINDS).join(', ')})`);
    const issue = check(raw, obj({ ...COMMON, ...kind.fields }, kind.required), path, ctx);
    if (issue) scenarioError(file, issue.path, issue.message);
    if (kind.system !== 'host' && !system[kind.system]) {
      scenarioError(file, member(path, 'op'), `step ${op} needs a ${kind.system} system: add "system": {"${kind.system}": {}}`);
    }
    const step = raw as Step;
    for (const [field, ns] of Object.entries(kind.uses ?? {})) {
      const v = step[field];
      if (typeof v === 'string' && !names[ns].has(v) && !BUILTIN_NAMES[ns].includes(v)) {
        scenarioError(file, member(path, field), `no ${NS_WORDS[ns]} named ${JSON.stringify(v)} is defined by an earlier step`);
      }
    }
    for (const [field, ns] of Object.entries(kind.defines ?? {})) if (typeof step[field] === 'string') names[ns].add(step[field] as string);
    const l = (raw as Step).label;
    if (l !== undefined) {
      if (labels.has(l)) scenarioError(file, member(path, 'label'), `label ${JSON.stringify(l)} is used by an earlier step`);
      labels.add(l);
    }
  });
  const scenario: Scenario = {
    name: d.name as string,
    description: d.description as string | undefined,
    seed: (d.seed as number | undefined) ?? 1,
    host: d.host as string | object,
    system,
    steps: steps as Step[],
    file,
    baseDir,
  };
  return { scenario, topology };
}
