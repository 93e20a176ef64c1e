/**
 * `affinity-engine mask EXPR [--host H] [--from F] [--and E|--or E|--xor E|--andnot E]…
 *  [--to cpulist|hex|hwloc|taskset|xl|bits] [--nodes] [--weight]`
 *
 * Parses EXPR (and each operand) in the `--from` format — by default xl's cpulist syntax
 * (spec xen-hypervisor.md §9.1), a superset of the plain cpulist with `node:N`, `^N`, `all` —
 * applies the operators left to right (cpumask_and/or/xor/andnot) and prints the result.
 * `--nodes` prints instead the NUMA nodes the mask touches, through the engine's
 * domain_update_node_aff kernel with the mask as the only hard affinity and every CPU valid:
 * exactly the CPU→node step of node affinity (spec §3.6).
 */
import { fail } from '../errors.js';
import type { Engine } from '../engine.js';
import type { CpuMask } from '../mask/cpumask.js';
import {
  formatBitString, formatCpulist, formatHwlocBitmap, formatHwlocTaskset, formatLinuxHex, formatXl,
  parseBitString, parseCpulist, parseHwlocBitmap, parseLinuxHex, parseXlCpulist,
} from '../mask/formats/index.js';
import { lastValue, parseArgs } from './args.js';
import { hostEngine, loadHost } from './host.js';

/** The default host of the CLI: the demo's 4096 CPUs on 64 nodes (4 packages × 16 nodes). */
export const DEFAULT_HOST = 'pack:4 node:16 core:32 pu:2';

const PARSERS: Record<string, (engine: Engine, text: string) => CpuMask> = {
  xl: (e, t) => parseXlCpulist(e, t),
  cpulist: parseCpulist,
  hex: (e, t) => parseLinuxHex(e.cpumask(), t),
  hwloc: (e, t) => parseHwlocBitmap(e.cpumask(), t),
  bits: parseBitString,
};

const PRINTERS: Record<string, (m: CpuMask) => string> = {
  xl: formatXl,
  cpulist: formatCpulist,
  hex: formatLinuxHex,
  hwloc: formatHwlocBitmap,
  taskset: formatHwlocTaskset,
  bits: formatBitString,
};

const OPS = ['and', 'or', 'xor', 'andnot'] as const;

function choice<T>(table: Record<string, T>, name: string, option: string): T {
  const v = table[name];
  if (v === undefined) fail('EINVAL', `--${option} ${name}: expected one of ${Object.keys(table).join('|')}`);
  return v;
}

/** Runs the command; returns the text to print. */
export function maskCommand(argv: readonly string[]): string {
  const args = parseArgs(argv, { values: ['host', 'from', 'to', ...OPS], flags: ['nodes', 'weight'] });
  if (args.positionals.length !== 1) fail('EINVAL', 'mask: expected exactly one mask expression');
  const parse = choice(PARSERS, lastValue(args, 'from') ?? 'xl', 'from');
  const print = choice(PRINTERS, lastValue(args, 'to') ?? 'cpulist', 'to');
  const engine = hostEngine(loadHost(lastValue(args, 'host') ?? DEFAULT_HOST));
  const mask = parse(engine, args.positionals[0]);
  for (const { name, value } of args.ordered) {
    if (!(OPS as readonly string[]).includes(name)) continue;
    const operand = parse(engine, value);
    if (name === 'and') mask.and(operand);
    else if (name === 'or') mask.or(operand);
    else if (name === 'xor') mask.xor(operand);
    else mask.andNot(operand);
    operand.free();
  }
  if (args.flags.has('weight')) return String(mask.weight());
  if (args.flags.has('nodes')) return formatCpulist(nodesOf(engine, mask));
  return print(mask);
}

/** The nodes a CPU mask touches: domain_update_node_aff with `mask` as the one hard affinity. */
export function nodesOf(engine: Engine, mask: CpuMask) {
  const all = engine.cpumaskAll();
  const out = engine.nodemask();
  engine.updateNodeAff([mask.handle], [], all.handle, out.handle);
  all.free();
  return out;
}
