/**
 * The operation gate and the trace. Every operation a step performs on a modelled system —
 * a libxenctrl call (domctl/sysctl), a Xenstore request, a Solaris system call — goes through
 * {@link Gate.call} under a name from an executor table. The gate runs it, keeps the step's
 * operations for the step's result, and with `--trace` records each one (arguments, return
 * value or errno) in JSON. `replay` runs the recorded operations through the same executor
 * table on freshly booted systems — no planner, no random numbers — and checks every outcome.
 */
import { AffinityError, fail } from '../errors.js';

/** One operation as performed: name, arguments, and its return value or errno. */
export interface Op {
  call: string;
  args: unknown[];
  ret?: unknown;
  errno?: string;
}

/** An executor: performs the named operation on the systems `S` with decoded arguments. */
export type Executor<S> = (systems: S, args: unknown[]) => unknown;

/** A JSON-safe form of values crossing the gate (byte maps as hex, undefined kept). */
export function encode(v: unknown): unknown {
  if (v === undefined) return { $undefined: true };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = encode(x);
    return o;
  }
  return v;
}

export function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o.$undefined === true) return undefined;
    if (typeof o.$bytes === 'string') return new Uint8Array(Buffer.from(o.$bytes, 'hex'));
    if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = decode(x);
    return out;
  }
  return v;
}

export class Gate<S> {
  /** The current step's operations (raw values) that its result reads. */
  ops: Op[] = [];
  /** Operations performed since the gate was made. */
  count = 0;
  /** The calls the current step keeps in {@link ops} (all when undefined). */
  private keep: ReadonlySet<string> | undefined;
  /** Every operation encoded, per step, when tracing. */
  readonly recorded: Op[][] | undefined;

  constructor(
    private readonly systems: S,
    private readonly executors: Readonly<Record<string, Executor<S>>>,
    trace: boolean,
  ) {
    this.recorded = trace ? [] : undefined;
  }

  /**
   * Starts a new step's list of operations, keeping only the calls in `keep` when given (a
   * build of thousands of VMs need not hold on to every Xenstore write for its summary).
   */
  beginStep(keep?: ReadonlySet<string>): void {
    this.ops = [];
    this.keep = keep;
    this.recorded?.push([]);
  }

  /** Performs an operation; an AffinityError is recorded and rethrown. */
  call<T = unknown>(name: string, ...args: unknown[]): T {
    const exec = this.executors[name];
    if (!exec) fail('ENOSYS', `no operation ${name}`);
    const op: Op = { call: name, args };
    const rec = this.recorded ? { call: name, args: args.map(encode) as unknown[] } as Op : undefined;
    this.count++;
    if (!this.keep || this.keep.has(name)) this.ops.push(op);
    if (rec) this.recorded![this.recorded!.length - 1].push(rec);
    try {
      const ret = exec(this.systems, args);
      op.ret = ret;
      if (rec && ret !== undefined) rec.ret = encode(ret);
      return ret as T;
    } catch (e) {
      if (e instanceof AffinityError) {
        op.errno = e.errno;
        if (rec) rec.errno = e.errno;
      }
      throw e;
    }
  }

  /**
   * Replays one recorded operation: runs it and checks that its outcome is the recorded one.
   * Returns a description of the difference, or undefined when identical.
   */
  replay(recorded: Op): string | undefined {
    const args = (recorded.args as unknown[]).map(decode);
    let ret: unknown;
    let errno: string | undefined;
    try {
      ret = this.call(recorded.call, ...args);
    } catch (e) {
      if (!(e instanceof AffinityError)) throw e;
      errno = e.errno;
    }
    if (errno !== recorded.errno) return `${recorded.call}: errno ${errno ?? 'none'}, recorded ${recorded.errno ?? 'none'}`;
    const got = ret === undefined ? undefined : JSON.stringify(encode(ret));
    const want = recorded.ret === undefined ? undefined : JSON.stringify(recorded.ret);
    if (got !== want) return `${recorded.call}: returned ${got}, recorded ${want}`;
    return undefined;
  }
}

/** An object whose every method goes through the gate as `prefix.method` (the toolstack's libxenctrl and Xenstore). */
export function gated<T extends object, S>(gate: Gate<S>, prefix: string, target: T): T {
  const out: Record<string, unknown> = {};
  for (const m of Object.keys(target)) {
    const name = `${prefix}.${m}`;
    out[m] = (...args: unknown[]) => gate.call(name, ...args);
  }
  return out as T;
}
