/**
 * xl/libxl CPU-list syntax (spec xen-hypervisor.md §9.1, xl_parse.c parse_cpurange) and xl's
 * printer (§9.2, xl_utils.c print_bitmap).
 *
 * Parsing starts from an empty map and applies comma-separated tokens left to right; empty
 * tokens are skipped (strtok). A token is `[^][node:|nodes:](all|A|A-B)`: `^` removes,
 * `node:`/`nodes:` names NUMA nodes (each expands to its CPUs), `all` is every CPU, `^all`
 * is an error. A and B are read as C's strtoul(…, 10) reads them (leading white space and a
 * sign accepted; no digits, ULONG_MAX, B < A or trailing junk rejected). Ids beyond the map,
 * and unknown nodes, are silently dropped, as libxl_bitmap_set does.
 */

import { fail } from '../../errors.js';
import type { Engine } from '../../engine.js';
import type { CpuMask } from '../cpumask.js';
import type { Bitmap } from '../bitmap.js';
import { formatRuns } from './cpulist.js';

const ULONG_MAX = (1n << 64n) - 1n;

/** C strtoul(s, &end, 10): [value, index after the number]; end = 0 when nothing was converted. */
function strtoul10(s: string): [bigint, number] {
  let i = 0;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  const start = i;
  while (i < s.length && s[i] >= '0' && s[i] <= '9') i++;
  if (i === start) return [0n, 0];
  let v = BigInt(s.slice(start, i));
  if (v > ULONG_MAX) v = ULONG_MAX; // ERANGE: strtoul returns ULONG_MAX
  else if (neg) v = (ULONG_MAX + 1n - v) & ULONG_MAX;
  return [v, i];
}

/** xl parse_range: `A` or `A-B`. */
function parseRange(tok: string, whole: string): [bigint, bigint] {
  const bad = (): never => fail('EINVAL', `xl cpulist ${JSON.stringify(whole)}: invalid range ${JSON.stringify(tok)}`);
  const [a, endA] = strtoul10(tok);
  if (endA === 0 || a === ULONG_MAX) bad();
  let b = a;
  let end = endA;
  if (tok[end] === '-') {
    const rest = tok.slice(end + 1);
    const [bb, endB] = strtoul10(rest);
    if (endB === 0 || bb === ULONG_MAX || bb < a) bad();
    b = bb;
    end = end + 1 + endB;
  }
  if (end !== tok.length) bad();
  return [a, b];
}

/** The CPUs of a node, for `node:` tokens; undefined for a node the host does not have. */
export type NodeCpus = (node: number) => CpuMask | undefined;

/**
 * Parses an xl cpulist into a new CpuMask. `nodeCpus` resolves `node:N`; by default the
 * engine's installed CPU→node table (Topology) is used.
 */
export function parseXlCpulist(engine: Engine, text: string, nodeCpus?: NodeCpus): CpuMask {
  if (typeof text !== 'string') fail('EINVAL', 'xl cpulist must be a string');
  const resolveNode: NodeCpus =
    nodeCpus ?? ((n) => (n < engine.nrNodes ? engine.nodeCpumask(n) : undefined));
  const m = engine.cpumask();
  try {
    for (const raw of text.split(',')) {
      if (raw === '') continue;
      let tok = raw;
      const remove = tok.startsWith('^');
      if (remove) tok = tok.slice(1);
      const nodeMatch = /^nodes?:/.exec(tok);
      if (nodeMatch) tok = tok.slice(nodeMatch[0].length);
      if (tok === 'all') {
        if (remove) fail('EINVAL', `xl cpulist ${JSON.stringify(text)}: Can't combine "^" and "all"`);
        m.setAll();
        continue;
      }
      const [a, b] = parseRange(tok, text);
      const limit = BigInt(nodeMatch ? engine.nrNodes : engine.nrCpuIds);
      const hi = b < limit ? Number(b) : Number(limit) - 1;
      for (let id = Number(a < limit ? a : limit); id <= hi; id++) {
        if (nodeMatch) {
          const cpus = resolveNode(id);
          if (cpus) remove ? m.andNot(cpus) : m.or(cpus);
        } else {
          remove ? m.clear(id) : m.set(id);
        }
      }
    }
  } catch (e) {
    m.free();
    throw e;
  }
  return m;
}

/** xl print_bitmap over the mask's width: `none`, `all` (one run covering every id), or runs. */
export function formatXl(m: Bitmap): string {
  const ids = m.toArray();
  if (ids.length === 0) return 'none';
  if (ids.length === m.nbits) return 'all';
  return formatRuns(ids);
}
