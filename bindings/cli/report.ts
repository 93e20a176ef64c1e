/**
 * The terminal report of a run: the steps, the summary tables (VMs placed per node set,
 * node-affinity distribution, failures by errno, load), a per-node bar chart, a node × node
 * heatmap and the time per phase. Pure functions from results to text.
 */
import type { Timings } from './metrics.js';
import type { Results, StepResult } from './runner.js';

const SHADES = ' ░▒▓█';
/** Heatmap side, in cells. */
const HEAT_CELLS = 16;

/** Left/right-aligned columns. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (right.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
}

/** A horizontal bar of `value` out of `max` in `width` cells (eighths for the last cell). */
export function bar(value: number, max: number, width: number): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + (eighths % 8 ? '▏▎▍▌▋▊▉'[(eighths % 8) - 1] : '');
}

/** The step's outcome in one line. */
export function stepSummary(s: StepResult, width = 72): string {
  let text: string;
  if (s.errno) text = s.message ?? s.errno;
  else text = Object.entries(s.result ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  if (s.unmet) text = `UNMET ${Object.entries(s.unmet).map(([k, u]) => `${k}: expected ${JSON.stringify(u.expected)}, got ${JSON.stringify(u.got)}`).join('; ')} | ${text}`;
  return text.length > width ? text.slice(0, width - 1) + '…' : text;
}

/** Sorted entries of a count table, largest first, then by key (node lists in numeric order). */
export function ranked(t: Record<string, number>): [string, number][] {
  return Object.entries(t).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'en', { numeric: true }));
}

function countTable(title: string, what: string, t: Record<string, number>, limit = 12): string[] {
  const rows = ranked(t);
  if (rows.length === 0) return [];
  const max = rows[0][1];
  const shown = rows.slice(0, limit).map(([k, n]) => [k || '(none)', String(n), bar(n, max, 24)]);
  const more = rows.length > limit ? [`… ${rows.length - limit} more`] : [];
  return ['', title, ...table(['set', what, ''], shown, [1]).map((l) => '  ' + l), ...more.map((l) => '  ' + l)];
}

/** Node ids grouped so that a chart has at most {@link HEAT_CELLS} rows: [label, sum] per group. */
function nodeBlocks(values: readonly number[]): [string, number][] {
  const block = Math.ceil(values.length / HEAT_CELLS);
  const out: [string, number][] = [];
  for (let i = 0; i < values.length; i += block) {
    const hi = Math.min(values.length, i + block) - 1;
    out.push([block === 1 ? `node ${i}` : `nodes ${i}-${hi}`, values.slice(i, hi + 1).reduce((a, b) => a + b, 0)]);
  }
  return out;
}

/** One line: the load's total, per node min/mean/max, and per online CPU. */
export function loadSummary(load: readonly number[], onlineCpus: number): string {
  const total = load.reduce((a, b) => a + b, 0);
  const mean = load.length ? total / load.length : 0;
  return `load: ${total} vCPUs/LWPs placed; per node min ${Math.min(...load)}, mean ${mean.toFixed(1)}, max ${Math.max(...load)}; ` +
    `${(total / Math.max(1, onlineCpus)).toFixed(3)} per online CPU`;
}

/** Per-node bars of `load` (per block of nodes on large hosts). */
function nodeBars(load: readonly number[], what: string): string[] {
  const rows = nodeBlocks(load);
  const max = Math.max(0, ...rows.map((r) => r[1]));
  if (max === 0) return [];
  const w = Math.max(...rows.map((r) => r[0].length));
  return ['', `${what} per node`, ...rows.map(([label, n]) => `  ${label.padStart(w)} │${bar(n, max, 40).padEnd(40)} ${n}`)];
}

/**
 * A node × node heatmap in shades, one character per cell; hosts with more than
 * {@link HEAT_CELLS} nodes are shown in blocks of nodes (a cell sums its block).
 */
function heatmap(m: readonly number[][], title: string): string[] {
  const n = m.length;
  const block = Math.ceil(n / HEAT_CELLS);
  const cells = Math.ceil(n / block);
  const sums = Array.from({ length: cells }, () => new Array<number>(cells).fill(0));
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) sums[Math.floor(a / block)][Math.floor(b / block)] += m[a][b];
  const max = Math.max(0, ...sums.flat());
  if (max === 0) return [];
  const name = (i: number) => (block === 1 ? String(i) : `${i * block}-${Math.min(n, (i + 1) * block) - 1}`);
  const w = Math.max(...sums.map((_, i) => name(i).length));
  const rows = sums.map((r, i) => `  ${name(i).padStart(w)} │${r.map((v) => SHADES[v === 0 ? 0 : Math.max(1, Math.round((v / max) * 4))].repeat(2)).join('')}│`);
  const unit = block === 1 ? 'node' : `block of ${block} nodes`;
  return ['', `${title} (one cell per ${unit}; darkest = ${max})`, ...rows];
}

export function renderReport(r: Results, timings: Timings, kernels: string): string {
  const failed = r.steps.filter((s) => !s.ok).length;
  const refused = r.steps.filter((s) => s.errno).length;
  const out = [
    `affinity-engine · scenario "${r.scenario}" · seed ${r.seed} · ${kernels} kernels`,
    `host: ${r.host.cpus} CPUs (${r.host.online} online), ${r.host.nodes} NUMA nodes`,
    `steps: ${r.steps.length} run, ${r.steps.length - failed} ok, ${failed} failed; ${refused} refused with an errno`,
    '',
    ...table(['#', 'op', 'label', 'ok', 'result'], r.steps.map((s) => [String(s.index), s.op, s.label ?? '', s.ok ? 'ok' : 'FAIL', stepSummary(s)]), [0]),
    ...countTable('VMs placed per node set', 'VMs', r.metrics.placements),
    ...countTable('Node affinity (domains per node set)', 'domains', r.metrics.nodeAffinity),
    ...countTable('Failures by errno', 'count', r.metrics.failures),
    '',
    loadSummary(r.metrics.nodeLoad, r.host.online),
    ...nodeBars(r.metrics.nodeLoad, 'Load (vCPUs / LWPs)'),
    ...heatmap(r.metrics.nodePairs, 'Node × node: node-affinity sets holding both'),
    '',
    'Time per phase',
    ...table(['phase', 'steps', 'ms'], [...timings].map(([op, t]) => [op, String(t.steps), t.ms.toFixed(2)]), [1, 2]).map((l) => '  ' + l),
  ];
  return out.join('\n') + '\n';
}

/** The stress report: the profile's totals, throughput, and time per phase. */
export function renderStress(profile: string, kernels: string, run: { results: Results; timings: Timings; ms: number; checkMs: number; operations: number; violations: string[] }): string {
  const r = run.results;
  const failed = r.steps.filter((s) => s.errno).length;
  const perSec = (n: number) => Math.round(n / (run.ms / 1000)).toLocaleString('en-US');
  const phases = [...run.timings].map(([op, t]) => [op, String(t.steps), t.ms.toFixed(1)]);
  return [
    `stress ${profile} · ${kernels} kernels · ${r.host.cpus} CPUs, ${r.host.nodes} nodes · scenario "${r.scenario}"`,
    `${r.steps.length} steps in ${(run.ms / 1000).toFixed(2)} s (invariants checked after each: ${run.violations.length ? `${run.violations.length} VIOLATION(S)` : 'all held'}; checks took ${(run.checkMs / 1000).toFixed(2)} s)`,
    `${run.operations.toLocaleString('en-US')} operations (domctls, Xenstore requests, system calls): ${perSec(run.operations)} ops/s; ${failed} step(s) refused`,
    ...countTable('Failures by errno', 'count', r.metrics.failures),
    '',
    'Time per phase',
    ...table(['phase', 'steps', 'ms'], phases, [1, 2]).map((l) => '  ' + l),
  ].join('\n');
}
