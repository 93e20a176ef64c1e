#!/usr/bin/env node
/**
 * affinity-engine — the command line: run scenarios, replay traces, stress profiles, mask
 * arithmetic and the Xenstore daemon. `affinity-engine help` lists the commands.
 */
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AffinityError, fail } from '../errors.js';
import type { KernelKind } from '../engine.js';
import { intOption, lastValue, parseArgs, type ParsedArgs } from './args.js';
import { renderHtml } from './html.js';
import { createProgress } from './progress.js';
import { maskCommand } from './mask-command.js';
import { renderReport, renderStress } from './report.js';
import { runStress, type StressRun } from './stress.js';
import { readTrace } from './replay.js';
import { replayTrace, runScenario, type RunOutput } from './runner.js';
import { loadScenario, validateScenario } from './scenario.js';
import { xenstoredCommand } from './xenstored-command.js';

const USAGE = `usage: affinity-engine <command> [options]

  run SCENARIO.json | --default   run a scenario and print its report
      --out RESULTS.json          write the results (byte-identical for a given seed)
      --html REPORT.html          write the report as a self-contained page with SVG charts
      --seed N                    override the scenario's seed
      --trace TRACE.json          record every domctl / Xenstore / system call (for replay)
      --kernels wasm|wasm-scalar|ts   mask kernels (default wasm)
      --quiet                     no report, no progress bar (the bar shows on a terminal after 1 s)
                                  exit 0; 1 if an "expect" was not met; 2 for a bad command or scenario
  replay TRACE.json [--out R.json] [--html H.html] [--kernels K] [--quiet]
                                  re-run the recorded operations on fresh systems; same results
                                  (exit 3 and a message per operation whose outcome differs)
  mask EXPR [--host H] [--from xl|cpulist|hex|hwloc|bits] [--and|--or|--xor|--andnot EXPR]…
      [--to cpulist|hex|hwloc|taskset|xl|bits] [--nodes] [--weight]
                                  CPU-set conversion and arithmetic on a host
                                  (default host: 'pack:4 node:16 core:32 pu:2', 4096 CPUs / 64 nodes)
  stress [xen|solaris] [--size N] [--cpus N] [--seed N] [--kernels wasm|ts|wasm,ts] [--quiet]
                                  large-topology profiles (xen: 16384 CPUs / 10,000 VMs with churn;
                                  solaris: 16384 CPUs / 100,000 LWPs), invariants checked after every
                                  step (exit 1 on a violation); throughput per phase
  xenstored --socket PATH [--flavour cxenstored|oxenstored]
                                  the Xenstore daemon on a unix socket (XENSTORED_PATH=PATH)
  help                            this text
`;

/** The scenario shipped in the package (scenarios/default.json at the package root). */
export const DEFAULT_SCENARIO = fileURLToPath(new URL('../../scenarios/default.json', import.meta.url));

function kernelsOption(v: string | undefined): KernelKind {
  if (v === undefined) return 'wasm';
  if (v !== 'wasm' && v !== 'wasm-scalar' && v !== 'ts') fail('EINVAL', `--kernels ${v}: expected wasm, wasm-scalar or ts`);
  return v;
}

/** What `run` and `replay` print and write. */
function report(args: ParsedArgs, out: RunOutput, kernels: KernelKind): void {
  const file = lastValue(args, 'out');
  if (file) writeFileSync(file, JSON.stringify(out.results, null, 2) + '\n');
  const html = lastValue(args, 'html');
  if (html) writeFileSync(html, renderHtml(out.results, out.timings, kernels));
  if (!args.flags.has('quiet')) process.stdout.write(renderReport(out.results, out.timings, kernels));
}

const REPORT_OPTIONS = { values: ['out', 'html', 'kernels'], flags: ['quiet'] };

function runCommand(argv: readonly string[]): number {
  const args = parseArgs(argv, { values: [...REPORT_OPTIONS.values, 'seed', 'trace'], flags: [...REPORT_OPTIONS.flags, 'default'] });
  const useDefault = args.flags.has('default');
  if (args.positionals.length !== (useDefault ? 0 : 1)) fail('EINVAL', 'run: give one scenario file, or --default');
  const { scenario, topology } = loadScenario(useDefault ? DEFAULT_SCENARIO : args.positionals[0]);
  if (lastValue(args, 'seed') !== undefined) scenario.seed = intOption(args, 'seed', scenario.seed);
  const progress = createProgress({ quiet: args.flags.has('quiet') });
  const kernels = kernelsOption(lastValue(args, 'kernels'));
  const traceFile = lastValue(args, 'trace');
  const out = runScenario(scenario, topology, {
    kernels,
    trace: traceFile !== undefined,
    onStep: (done, total) => progress.update(done, total, 'steps'),
  });
  progress.done();
  if (traceFile) writeFileSync(traceFile, JSON.stringify(out.trace) + '\n');
  report(args, out, kernels);
  return out.results.steps.some((s) => s.unmet) ? 1 : 0;
}

function replayCommand(argv: readonly string[]): number {
  const args = parseArgs(argv, REPORT_OPTIONS);
  if (args.positionals.length !== 1) fail('EINVAL', 'replay: give one trace file');
  const file = args.positionals[0];
  const trace = readTrace(file);
  const { scenario, topology } = validateScenario(trace.scenario, file, dirname(file));
  const progress = createProgress({ quiet: args.flags.has('quiet') });
  const kernels = kernelsOption(lastValue(args, 'kernels'));
  const out = replayTrace(trace, scenario, topology, { kernels, onStep: (done, total) => progress.update(done, total, 'steps') });
  progress.done();
  report(args, out, kernels);
  for (const d of out.divergences ?? []) process.stderr.write(`affinity-engine replay: ${file}: diverged at ${d}\n`);
  return out.divergences?.length ? 3 : out.results.steps.some((s) => s.unmet) ? 1 : 0;
}

function stressCommand(argv: readonly string[]): number {
  const args = parseArgs(argv, { values: ['size', 'cpus', 'seed', 'kernels', 'out'], flags: ['quiet'] });
  if (args.positionals.length > 1) fail('EINVAL', 'stress: give at most one profile (xen or solaris)');
  const profile = args.positionals[0] ?? 'xen';
  const kernelsList = (lastValue(args, 'kernels') ?? 'wasm').split(',').map((k) => kernelsOption(k));
  const opts = {
    size: lastValue(args, 'size') === undefined ? undefined : intOption(args, 'size', 0),
    cpus: intOption(args, 'cpus', 16384),
    seed: intOption(args, 'seed', 1),
  };
  const quiet = args.flags.has('quiet');
  const runs: StressRun[] = [];
  for (const kernels of kernelsList) {
    const progress = createProgress({ quiet });
    const run = runStress(profile, opts, kernels, (done, total) => progress.update(done, total, `${profile} ${kernels}`));
    progress.done();
    runs.push(run);
    if (!quiet) process.stdout.write(renderStress(profile, kernels, run) + '\n');
    for (const v of run.violations) process.stderr.write(`affinity-engine stress: invariant violated ${v}\n`);
  }
  if (!quiet && runs.length > 1) {
    const base = runs[runs.length - 1];
    process.stdout.write(kernelsList.map((k, i) => `${k}: ${(runs[i].ms / 1000).toFixed(2)} s`).join(', ') +
      ` — ${kernelsList[0]} is ${(base.ms / runs[0].ms).toFixed(2)}× faster than ${kernelsList[kernelsList.length - 1]}\n`);
  }
  const out = lastValue(args, 'out');
  if (out) writeFileSync(out, JSON.stringify(runs[0].results, null, 2) + '\n');
  return runs.some((r) => r.violations.length) ? 1 : 0;
}

const COMMANDS: Record<string, (argv: readonly string[]) => number | Promise<number>> = {
  run: runCommand,
  replay: replayCommand,
  stress: stressCommand,
  xenstored: xenstoredCommand,
  mask: (argv) => {
    process.stdout.write(maskCommand(argv) + '\n');
    return 0;
  },
  help: () => {
    process.stdout.write(USAGE);
    return 0;
  },
};

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const run = cmd === undefined ? undefined : COMMANDS[cmd];
  if (!run) {
    process.stderr.write(cmd === undefined ? USAGE : `affinity-engine: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (!(e instanceof AffinityError)) throw e;
    process.stderr.write(`affinity-engine ${cmd}: ${e.message}\n`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
