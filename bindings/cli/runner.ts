/**
 * Runs a validated scenario: boots the systems it names on its host, executes the steps in
 * order and collects one result per step. A step that the modelled system refuses (an
 * AffinityError) is a result carrying the errno, not a crash: the systems are all-or-nothing,
 * so the run continues from an unchanged state. Same scenario and seed → same results.
 */
import { AffinityError } from '../errors.js';
import type { Engine, KernelKind } from '../engine.js';
import type { Topology } from '../topology/topology.js';
import { hostEngine } from './host.js';
import { count, emptyMetrics, type Metrics, type Timings } from './metrics.js';
import type { Scenario, Step } from './scenario.js';
import { HOST_STEPS } from './steps-host.js';

export const RESULTS_FORMAT = 'affinity-engine/results';

export interface StepResult {
  index: number;
  op: string;
  label?: string;
  /** false when the system refused the operation (errno set) or an expectation was not met. */
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
  kernels: KernelKind;
  host: { cpus: number; nodes: number; online: number };
  steps: StepResult[];
  metrics: Metrics;
}

/** What a step handler works with. */
export interface RunContext {
  readonly scenario: Scenario;
  readonly topology: Topology;
  readonly engine: Engine;
  readonly metrics: Metrics;
}

export type StepHandler = (ctx: RunContext, step: Step) => Record<string, unknown>;

const HANDLERS: Record<string, StepHandler> = { ...HOST_STEPS };

export interface RunOptions {
  kernels?: KernelKind;
  /** Called after each step (for the progress bar). */
  onStep?: (done: number, total: number) => void;
}

export interface RunOutput {
  results: Results;
  timings: Timings;
}

/** The fields of `expect` that `got` does not match (deep equality per field). */
function unmetExpectations(expect: unknown, got: Record<string, unknown>): StepResult['unmet'] {
  if (expect === undefined) return undefined;
  const unmet: NonNullable<StepResult['unmet']> = {};
  for (const [k, v] of Object.entries(expect as Record<string, unknown>)) {
    if (JSON.stringify(got[k]) !== JSON.stringify(v)) unmet[k] = { expected: v, got: got[k] ?? null };
  }
  return Object.keys(unmet).length ? unmet : undefined;
}

export function runScenario(scenario: Scenario, topology: Topology, opts: RunOptions = {}): RunOutput {
  const kernels = opts.kernels ?? 'wasm';
  const engine = hostEngine(topology, kernels, scenario.seed);
  const ctx: RunContext = { scenario, topology, engine, metrics: emptyMetrics(topology.nodes.length) };
  const timings: Timings = new Map();
  const steps: StepResult[] = [];
  scenario.steps.forEach((step, index) => {
    const t0 = performance.now();
    const r: StepResult = { index, op: step.op, ...(step.label ? { label: step.label } : {}), ok: true };
    let got: Record<string, unknown>;
    try {
      r.result = HANDLERS[step.op](ctx, step);
      got = { errno: null, ...r.result };
    } catch (e) {
      if (!(e instanceof AffinityError)) throw e;
      r.ok = false;
      r.errno = e.errno;
      r.message = e.message;
      count(ctx.metrics.failures, e.errno);
      got = { errno: e.errno };
    }
    const unmet = unmetExpectations(step.expect, got);
    if (unmet) r.unmet = unmet;
    // A refusal the scenario expected is a success of the scenario.
    r.ok = unmet === undefined && (r.ok || (step.expect as { errno?: string } | undefined)?.errno === r.errno);
    steps.push(r);
    const t = timings.get(step.op) ?? { ms: 0, steps: 0 };
    t.ms += performance.now() - t0;
    t.steps++;
    timings.set(step.op, t);
    opts.onStep?.(index + 1, scenario.steps.length);
  });
  const results: Results = {
    format: RESULTS_FORMAT,
    version: 1,
    scenario: scenario.name,
    seed: scenario.seed,
    kernels,
    host: { cpus: topology.nrCpuIds, nodes: topology.nodes.filter((n) => n.online).length, online: topology.onlineCpus().length },
    steps,
    metrics: ctx.metrics,
  };
  return { results, timings };
}
