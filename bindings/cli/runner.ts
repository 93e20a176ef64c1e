/**
 * Runs a validated scenario: boots the systems it names on its host, executes the steps in
 * order and collects one result per step.
 *
 * A step kind has two parts: `perform` issues operations through the gate (trace.ts) — the
 * only place where randomness, planners and toolstacks act — and `summarize` computes the
 * step's result from the step's operations and the systems' state. `replay` runs the recorded
 * operations instead of `perform`, then the same `summarize`: identical operations give
 * identical results. A step the modelled system refuses (an AffinityError) is a result
 * carrying the errno, not a crash: the systems are all-or-nothing, so the run continues.
 */
import { AffinityError } from '../errors.js';
import type { Engine, KernelKind } from '../engine.js';
import { parseIdList } from '../mask/formats/index.js';
import { Topology } from '../topology/topology.js';
import { hostEngine } from './host.js';
import { count, emptyMetrics, recordNodeAffinity, type Metrics, type Timings } from './metrics.js';
import type { Scenario, Step } from './scenario.js';
import { HOST_STEPS } from './steps-host.js';
import { bootSolarisHost, SOLARIS_CALLS, SOLARIS_STEPS, solarisNodeLoad, type SolarisHost } from './steps-solaris.js';
import { bootXenHost, XEN_CALLS, XEN_STEPS, xenNodeLoad, xenPlacements, type XenHost } from './steps-xen.js';
import { Gate, type Executor, type Op } from './trace.js';

export const RESULTS_FORMAT = 'affinity-engine/results';
export const TRACE_FORMAT = 'affinity-engine/trace';

export interface StepResult {
  index: number;
  op: string;
  label?: string;
  /** false when the system refused the step (errno set, not expected) or an expectation was not met. */
  ok: boolean;
  errno?: string;
  message?: string;
  result?: Record<string, unknown>;
  /** Fields of `expect` that did not match: field → { expected, got }. */
  unmet?: Record<string, { expected: unknown; got: unknown }>;
}

export interface Results {
  format: typeof RESULTS_FORMAT;
  version: 1;
  scenario: string;
  seed: number;
  host: { cpus: number; nodes: number; online: number };
  steps: StepResult[];
  metrics: Metrics;
}

/** The booted systems of a run, all over one engine. */
export interface Systems {
  engine: Engine;
  /** The host as the scenario gave it (host-level steps). */
  host: Topology;
  solaris?: SolarisHost;
  xen?: XenHost;
}

/** What step code works with. */
export interface RunContext {
  readonly scenario: Scenario;
  readonly systems: Systems;
  readonly gate: Gate<Systems>;
  /** Named groups of processes / domains (spawn/fork `name`), and processor sets by name. */
  readonly groups: Map<string, number[]>;
  readonly psets: Map<string, number>;
  /** Xen cpupools by name. */
  readonly pools: Map<string, number>;
}

export interface StepRuntime {
  /** The calls `summarize` reads (default: all the step's operations). */
  reads?: ReadonlySet<string>;
  perform?(ctx: RunContext, step: Step): void;
  summarize(ctx: RunContext, step: Step, ops: readonly Op[]): Record<string, unknown>;
}

const STEPS: Record<string, StepRuntime> = { ...HOST_STEPS, ...SOLARIS_STEPS, ...XEN_STEPS };
const CALLS: Record<string, Executor<Systems>> = { ...SOLARIS_CALLS, ...XEN_CALLS };

/** A recorded run: the scenario with its host inlined, and per step its operations and outcome. */
export interface Trace {
  format: typeof TRACE_FORMAT;
  version: 1;
  scenario: Omit<Scenario, 'file' | 'baseDir'>;
  steps: { ops: Op[]; errno?: string; message?: string }[];
}

export interface RunOptions {
  kernels?: KernelKind;
  /** Record a trace. */
  trace?: boolean;
  /** Called after each step (for the progress bar). */
  onStep?: (done: number, total: number) => void;
  /**
   * Called after each step with the systems and the number of operations it performed
   * (stress invariants); returning false stops the run after that step.
   */
  afterStep?: (systems: Systems, operations: number, index: number) => boolean;
}

export interface RunOutput {
  results: Results;
  timings: Timings;
  trace?: Trace;
  /** Replay only: operations whose outcome differed from the trace. */
  divergences?: string[];
}

function boot(scenario: Scenario, topology: Topology, kernels: KernelKind): Systems {
  const engine = hostEngine(topology, kernels, scenario.seed);
  // Each system gets its own copy of the host: CPU state changes in one do not reach the other.
  const own = () => Topology.fromJSON(topology.toJSON());
  return {
    engine,
    host: topology,
    solaris: scenario.system.solaris ? bootSolarisHost(own(), engine) : undefined,
    xen: scenario.system.xen ? bootXenHost(own(), engine, scenario.system.xen) : undefined,
  };
}

/** The fields of `expect` that `got` does not match (deep equality per field). */
function unmetExpectations(expect: unknown, got: Record<string, unknown>): StepResult['unmet'] {
  if (expect === undefined) return undefined;
  const unmet: NonNullable<StepResult['unmet']> = {};
  for (const [k, v] of Object.entries(expect as Record<string, unknown>)) {
    if (JSON.stringify(got[k] ?? null) !== JSON.stringify(v)) unmet[k] = { expected: v, got: got[k] ?? null };
  }
  return Object.keys(unmet).length ? unmet : undefined;
}

/** Drops undefined fields (JSON would drop them; explicit so results compare as written). */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** The metrics of the final state and the step results. */
function collectMetrics(systems: Systems, steps: readonly StepResult[]): Metrics {
  const m = emptyMetrics(systems.host.nodes.length);
  for (const s of steps) {
    // The refused operations of the step; a step refused before any operation counts once.
    const failures = (s.result?.failures as Record<string, number> | undefined) ?? (s.errno ? { [s.errno]: 1 } : {});
    for (const [errno, n] of Object.entries(failures)) count(m.failures, errno, n);
    if (s.op === 'nodeAffinity' && s.result) {
      const key = s.result.nodes as string;
      recordNodeAffinity(m, parseIdList(key, m.nodeLoad.length, 'nodelist'), key);
    }
  }
  if (systems.solaris) solarisNodeLoad(systems.solaris, m.nodeLoad);
  if (systems.xen) {
    xenNodeLoad(systems.xen, m.nodeLoad);
    const { memory, affinity } = xenPlacements(systems.xen);
    for (const [key, n] of memory) count(m.placements, key, n);
    for (const [key, nodes] of affinity) recordNodeAffinity(m, nodes, key);
  }
  return m;
}

/** The loop shared by run and replay: `act` performs (or replays) the step's operations. */
function execute(
  scenario: Scenario, topology: Topology, opts: RunOptions,
  act: (ctx: RunContext, step: Step, index: number) => { errno?: string; message?: string },
): RunOutput {
  const systems = boot(scenario, topology, opts.kernels ?? 'wasm');
  const gate = new Gate<Systems>(systems, CALLS, opts.trace ?? false);
  const ctx: RunContext = { scenario, systems, gate, groups: new Map(), psets: new Map(), pools: new Map() };
  const timings: Timings = new Map();
  const steps: StepResult[] = [];
  const outcomes: Trace['steps'] = [];
  for (const [index, step] of scenario.steps.entries()) {
    const t0 = performance.now();
    const before = gate.count;
    gate.beginStep(STEPS[step.op].reads);
    const outcome = act(ctx, step, index);
    const r: StepResult = { index, op: step.op, ...(step.label ? { label: step.label } : {}), ok: outcome.errno === undefined };
    if (outcome.errno) {
      r.errno = outcome.errno;
      r.message = outcome.message;
    }
    try {
      r.result = defined(STEPS[step.op].summarize(ctx, step, gate.ops));
    } catch (e) {
      // A result that cannot be computed (e.g. nothing was created) is the step's refusal.
      if (!(e instanceof AffinityError)) throw e;
      r.ok = false;
      r.errno ??= e.errno;
      r.message ??= e.message;
    }
    const unmet = unmetExpectations(step.expect, { errno: r.errno ?? null, ...r.result });
    if (unmet) r.unmet = unmet;
    // A refusal the scenario expected is a success of the scenario.
    r.ok = unmet === undefined && (r.errno === undefined || (step.expect as { errno?: string } | undefined)?.errno === r.errno);
    steps.push(r);
    outcomes.push({ ops: gate.recorded?.[index] ?? [], ...(r.errno ? { errno: outcome.errno, message: outcome.message } : {}) });
    const t = timings.get(step.op) ?? { ms: 0, steps: 0 };
    t.ms += performance.now() - t0;
    t.steps++;
    timings.set(step.op, t);
    opts.onStep?.(index + 1, scenario.steps.length);
    if (opts.afterStep && !opts.afterStep(systems, gate.count - before, index)) break;
  }
  const results: Results = {
    format: RESULTS_FORMAT,
    version: 1,
    scenario: scenario.name,
    seed: scenario.seed,
    host: { cpus: topology.nrCpuIds, nodes: topology.nodes.filter((n) => n.online).length, online: topology.onlineCpus().length },
    steps,
    metrics: collectMetrics(systems, steps),
  };
  const { file: _file, baseDir: _baseDir, ...portable } = scenario;
  const trace: Trace | undefined = opts.trace
    ? { format: TRACE_FORMAT, version: 1, scenario: { ...portable, host: topology.toJSON() }, steps: outcomes }
    : undefined;
  return { results, timings, trace };
}

export function runScenario(scenario: Scenario, topology: Topology, opts: RunOptions = {}): RunOutput {
  return execute(scenario, topology, opts, (ctx, step) => {
    try {
      STEPS[step.op].perform?.(ctx, step);
      return {};
    } catch (e) {
      if (!(e instanceof AffinityError)) throw e;
      return { errno: e.errno, message: e.message };
    }
  });
}

/**
 * Replays a trace: the recorded operations of each step on freshly booted systems, then each
 * step's result from them. Outcomes that differ from the recording are listed in `divergences`.
 */
export function replayTrace(trace: Trace, scenario: Scenario, topology: Topology, opts: RunOptions = {}): RunOutput {
  const divergences: string[] = [];
  const out = execute(scenario, topology, opts, (ctx, _step, index) => {
    const rec = trace.steps[index];
    rec.ops.forEach((op, i) => {
      const diff = ctx.gate.replay(op);
      if (diff) divergences.push(`step ${index} op ${i}: ${diff}`);
    });
    return rec.errno ? { errno: rec.errno, message: rec.message } : {};
  });
  return { ...out, divergences };
}
