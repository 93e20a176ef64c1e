/** Helpers shared by the Xen and Solaris steps. */
import { AffinityError, fail } from '../errors.js';
import { parseXlCpulist } from '../mask/formats/index.js';
import type { RunContext } from './runner.js';
import type { Op } from './trace.js';

/** The CPU ids of an xl CPU-set expression on the run's host. */
export function cpuIds(ctx: RunContext, expr: string): number[] {
  const m = parseXlCpulist(ctx.systems.engine, expr);
  const ids = m.toArray();
  m.free();
  return ids;
}

/** The ids a target names: a number itself, or the members of a named group (`what` for the message). */
export function groupOf(ctx: RunContext, target: unknown, what: string): number[] {
  if (typeof target === 'number') return [target];
  return ctx.groups.get(target as string) ?? fail('EINVAL', `no ${what} ${JSON.stringify(target)}`);
}

/** Return values of the step's successful operations of one kind. */
export function returns(ops: readonly Op[], call: string): unknown[] {
  return ops.filter((o) => o.call === call && o.errno === undefined).map((o) => o.ret);
}

/** Per-errno counts of failed operations (operations fail individually); undefined when none. */
export function opFailures(ops: readonly Op[]): Record<string, number> | undefined {
  const f: Record<string, number> = {};
  for (const o of ops) if (o.errno) f[o.errno] = (f[o.errno] ?? 0) + 1;
  return Object.keys(f).length ? f : undefined;
}

/**
 * Runs `fn` for each item: a refused item is recorded by its operation and does not stop the
 * others; when the step has a single item, its refusal is the step's.
 */
export function each<T>(items: readonly T[], fn: (item: T) => void): void {
  let first: unknown;
  let failed = 0;
  for (const it of items) {
    try {
      fn(it);
    } catch (e) {
      if (!(e instanceof AffinityError)) throw e;
      failed++;
      first ??= e;
    }
  }
  if (failed === items.length && items.length === 1) throw first;
}
