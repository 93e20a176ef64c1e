/**
 * Steps that need only the host and the mask engine: CPU-set arithmetic and formats, and
 * domain_update_node_aff over explicit masks (spec xen-hypervisor.md §3.6).
 */
import type { CpuMask } from '../mask/cpumask.js';
import {
  formatBitString, formatCpulist, formatHwlocBitmap, formatHwlocTaskset, formatLinuxHex, formatRuns, formatXl, parseXlCpulist,
} from '../mask/formats/index.js';
import { nodesOf } from './mask-command.js';
import type { RunContext, StepRuntime } from './runner.js';
import type { Step } from './scenario.js';

const FORMATS: Record<string, (m: CpuMask) => string> = {
  cpulist: formatCpulist, hex: formatLinuxHex, hwloc: formatHwlocBitmap, taskset: formatHwlocTaskset, xl: formatXl, bits: formatBitString,
};

/** Parses each CPU-set expression, runs `fn`, frees them (also on failure). */
function withMasks<T>(ctx: RunContext, exprs: readonly string[], fn: (masks: CpuMask[]) => T): T {
  const masks: CpuMask[] = [];
  try {
    for (const e of exprs) masks.push(parseXlCpulist(ctx.systems.engine, e));
    return fn(masks);
  } finally {
    for (const m of masks) m.free();
  }
}

function maskStep(ctx: RunContext, step: Step): Record<string, unknown> {
  const engine = ctx.systems.engine;
  const ops = (['and', 'or', 'xor', 'andnot'] as const).filter((o) => step[o] !== undefined);
  return withMasks(ctx, [step.expr as string, ...ops.map((o) => step[o] as string)], ([m, ...operands]) => {
    ops.forEach((o, i) => {
      if (o === 'and') m.and(operands[i]);
      else if (o === 'or') m.or(operands[i]);
      else if (o === 'xor') m.xor(operands[i]);
      else m.andNot(operands[i]);
    });
    const nodes = nodesOf(engine, m);
    const out: Record<string, unknown> = { cpus: m.toString(), weight: m.weight(), nodes: nodes.toString() };
    nodes.free();
    for (const f of (step.formats as string[] | undefined) ?? []) out[f] = FORMATS[f](m);
    return out;
  });
}

function nodeAffinityStep(ctx: RunContext, step: Step): Record<string, unknown> {
  const hard = step.hard as string[];
  const soft = (step.soft as string[] | undefined) ?? [];
  const valid = (step.valid as string | undefined) ?? 'all';
  const engine = ctx.systems.engine;
  return withMasks(ctx, [valid, ...hard, ...soft], ([v, ...rest]) => {
    const out = engine.nodemask();
    const hardEmpty = engine.updateNodeAff(
      rest.slice(0, hard.length).map((m) => m.handle), rest.slice(hard.length).map((m) => m.handle), v.handle, out.handle,
    );
    const nodes = out.toArray();
    out.free();
    return { nodes: formatRuns(nodes), hardEmpty };
  });
}

/** Pure computations over the host: everything happens in `summarize`. */
export const HOST_STEPS: Record<string, StepRuntime> = {
  mask: { summarize: (ctx, step) => maskStep(ctx, step) },
  nodeAffinity: { summarize: (ctx, step) => nodeAffinityStep(ctx, step) },
};
