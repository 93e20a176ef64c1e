/**
 * Transactions (spec xen-hypervisor.md §10.7, xenstore-clients.md §6), in both daemons' ways.
 *
 * A transaction works on a {@link TransactionView}: its own changes in an overlay, over either
 * the live tree (C xenstored: a node untouched so far is read live, and the record seen at the
 * first touch is remembered) or a snapshot of the tree at start (oxenstored). Commit:
 * - generation (cx): EAGAIN if any touched node's record changed since its first touch;
 * - snapshot-replay (ox): a read-only transaction always succeeds; otherwise, if the live tree
 *   changed since start, every operation is run again on the live tree and the commit succeeds
 *   only if each gives the same answer as it first did (oxenstored `transaction_replay`).
 * Either way the changes are applied at once, or not at all.
 */
import { fail, isAffinityError } from '../../errors.js';
import type { Flavour } from './flavour.js';
import { baseName, isAtOrBelow, parentOf } from './paths.js';
import { samePerms } from './perms.js';
import type { Node, NodeEvent, NodeView } from './tree.js';
import type { Peek } from './watches.js';

/** The live tree: nodes by path, per-owner counts, and the pre-images open snapshots need. */
export class LiveTree implements NodeView {
  private readonly nodes = new Map<string, Node>();
  private readonly ownedCount = new Map<number, number>();
  /** Open ox snapshots: each keeps the record a path had at its start, captured on first change. */
  private readonly snapshots = new Set<Map<string, Node | undefined>>();

  get(path: string): Node | undefined {
    return this.nodes.get(path);
  }

  peek(path: string): Node | undefined {
    return this.nodes.get(path);
  }

  set(path: string, node: Node | undefined): void {
    const old = this.nodes.get(path);
    for (const pre of this.snapshots) if (!pre.has(path)) pre.set(path, old);
    if (old) this.count(old.perms[0].domid, -1);
    if (node) {
      this.count(node.perms[0].domid, 1);
      this.nodes.set(path, node);
    } else this.nodes.delete(path);
  }

  owned(domid: number): number {
    return this.ownedCount.get(domid) ?? 0;
  }

  get size(): number {
    return this.nodes.size;
  }

  openSnapshot(): Map<string, Node | undefined> {
    const pre = new Map<string, Node | undefined>();
    this.snapshots.add(pre);
    return pre;
  }

  closeSnapshot(pre: Map<string, Node | undefined>): void {
    this.snapshots.delete(pre);
  }

  private count(domid: number, by: number): void {
    const n = (this.ownedCount.get(domid) ?? 0) + by;
    if (n === 0) this.ownedCount.delete(domid);
    else this.ownedCount.set(domid, n);
  }
}

/** How a transaction sees the nodes it has not changed itself. */
export type Base =
  | { kind: 'live'; touched: Map<string, Node | undefined> }
  | { kind: 'snapshot'; preimages: Map<string, Node | undefined> }
  | { kind: 'direct' };

export class TransactionView implements NodeView {
  readonly overlay = new Map<string, Node | undefined>();
  private readonly ownedDelta = new Map<number, number>();

  constructor(
    /** What the transaction is layered on: the live tree, or (for an all-or-nothing single request) any view. */
    private readonly under: NodeView,
    readonly base: Base,
  ) {}

  get(path: string): Node | undefined {
    return this.lookup(path, true);
  }

  peek(path: string): Node | undefined {
    return this.lookup(path, false);
  }

  private lookup(path: string, access: boolean): Node | undefined {
    if (this.overlay.has(path)) return this.overlay.get(path);
    const b = this.base;
    if (b.kind === 'snapshot' && b.preimages.has(path)) return b.preimages.get(path);
    // cx copies a node into the transaction at its first touch: later reads see that copy.
    if (b.kind === 'live' && b.touched.has(path)) return b.touched.get(path);
    const node = access ? this.under.get(path) : this.under.peek(path);
    if (b.kind === 'live' && access) b.touched.set(path, node);
    return node;
  }

  set(path: string, node: Node | undefined): void {
    const old = this.get(path);
    if (old) this.delta(old.perms[0].domid, -1);
    if (node) this.delta(node.perms[0].domid, 1);
    this.overlay.set(path, node);
  }

  owned(domid: number): number {
    return this.under.owned(domid) + (this.ownedDelta.get(domid) ?? 0);
  }

  /** Writes the overlay into the live tree. */
  applyTo(target: NodeView): void {
    for (const [path, node] of this.overlay) target.set(path, node);
  }

  private delta(domid: number, by: number): void {
    this.ownedDelta.set(domid, (this.ownedDelta.get(domid) ?? 0) + by);
  }
}

/** One operation of a transaction, kept so that oxenstored-style commit can replay it. */
/** What one operation did: its reply (null for a plain OK) and the watch events it caused. */
export interface Outcome {
  reply: unknown;
  events: NodeEvent[];
}

export interface TxOperation {
  run(view: NodeView): Outcome;
  /** The answer it gave (value or error name), compared on replay. */
  answer: string;
  writes: boolean;
}

export interface Transaction {
  id: number;
  view: TransactionView;
  operations: TxOperation[];
  /** Events queued by the transaction's writes; they fire on successful commit only. */
  events: NodeEvent[];
  /** ox: deepest common ancestor of every path read / changed (`read_lowpath`, `write_lowpath`). */
  readLow?: string;
  writeLow?: string;
}

/** Deepest common ancestor of two absolute paths (oxenstored `get_common_prefix`). */
export function commonAncestor(a: string, b: string): string {
  const x = a.split('/');
  const y = b.split('/');
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return n <= 1 ? '/' : x.slice(0, n).join('/');
}

export function noteRead(tx: Transaction, path: string): void {
  tx.readLow = tx.readLow === undefined ? path : commonAncestor(tx.readLow, path);
}

export function noteWrite(tx: Transaction, path: string): void {
  tx.writeLow = tx.writeLow === undefined ? path : commonAncestor(tx.writeLow, path);
}

export function startTransaction(flavour: Flavour, live: LiveTree, id: number): Transaction {
  const base: Base = flavour.transactions === 'generation' ? { kind: 'live', touched: new Map() } : { kind: 'snapshot', preimages: live.openSnapshot() };
  return { id, view: new TransactionView(live, base), operations: [], events: [] };
}

/** Drops a transaction without applying it (END `F`, disconnect, reset). */
export function abortTransaction(live: LiveTree, tx: Transaction): void {
  if (tx.view.base.kind === 'snapshot') live.closeSnapshot(tx.view.base.preimages);
}

/** Runs an operation, turning its outcome or errno into the answer string replay compares. */
export function answerOf(run: () => Outcome): { answer: string; outcome?: Outcome; error?: unknown } {
  try {
    const outcome = run();
    const r = outcome.reply;
    return { answer: `ok:${Buffer.isBuffer(r) ? r.toString('latin1') : JSON.stringify(r)}`, outcome };
  } catch (e) {
    if (!isAffinityError(e)) throw e;
    return { answer: `err:${e.errno}`, error: e };
  }
}

/**
 * oxenstored `can_coalesce` for the read and the write low paths: the subtree there is the very
 * one the transaction started from (nothing at or below it changed, its ancestors' permissions
 * are the same), or it did not exist then and does not now while its parent does. The live
 * tree's other changes then cannot have influenced the transaction, whose changes all lie
 * below the write low path.
 */
function coalesces(live: LiveTree, tx: Transaction, preimages: ReadonlyMap<string, Node | undefined>): boolean {
  const old = (p: string) => (preimages.has(p) ? preimages.get(p) : live.get(p));
  const untouched = (path: string) => {
    for (const p of preimages.keys()) if (isAtOrBelow(p, path)) return false;
    return true;
  };
  const sameAncestorPerms = (path: string) => {
    for (let p = path; ; p = parentOf(p)) {
      const a = old(p);
      const b = live.get(p);
      if (!a || !b || !samePerms(a.perms, b.perms)) return false;
      if (p === '/') return true;
    }
  };
  const check = (path: string | undefined) => {
    if (path === undefined) return true;
    const before = old(path);
    const now = live.get(path);
    if (before && now) return untouched(path) && sameAncestorPerms(path);
    return !before && !now && live.get(parentOf(path)) !== undefined;
  };
  return check(tx.readLow) && check(tx.writeLow);
}

/** oxenstored `set_node`: the transaction's subtree at `at` replaces the live one, linked into the live parent. */
function graft(live: LiveTree, view: TransactionView, at: string): void {
  for (const [p, n] of view.overlay) if (isAtOrBelow(p, at)) live.set(p, n);
  if (at === '/' || !live.get(at)) return;
  const parent = live.get(parentOf(at))!;
  const name = baseName(at);
  if (!parent.children.includes(name)) live.set(parentOf(at), { ...parent, children: [...parent.children, name] });
}

/**
 * cx keeps one watch entry per node a transaction changed: on commit each node fires once,
 * for watches above it too if any of its changes did (a node given new permissions and then
 * removed with its parent still reaches the parent's watchers — observed), and not at all if
 * it neither existed before the transaction nor exists after it (observed).
 */
function eventPerNode(events: readonly NodeEvent[], existed: (path: string) => boolean, exists: (path: string) => boolean): NodeEvent[] {
  const byPath = new Map<string, NodeEvent>();
  for (const e of events) {
    const first = byPath.get(e.path);
    byPath.set(e.path, first ? { ...first, subtree: first.subtree || e.subtree } : e);
  }
  return [...byPath.values()].filter((e) => existed(e.path) || exists(e.path));
}

/** A commit that passed its checks: who to tell (judged on `before`/`after`), then `apply`. */
export interface CommitPlan {
  events: NodeEvent[];
  before: Peek;
  after: Peek;
  apply(): void;
}

/** Commits (END `T`): the plan to apply, or EAGAIN leaving the live tree as it was. */
export function commitTransaction(live: LiveTree, tx: Transaction): CommitPlan {
  try {
    return plan(live, tx);
  } catch (e) {
    abortTransaction(live, tx);
    throw e;
  }
}

function plan(live: LiveTree, tx: Transaction): CommitPlan {
  const base = tx.view.base;
  const after: Peek = (p) => tx.view.peek(p);
  if (base.kind !== 'snapshot') {
    for (const [path, node] of base.kind === 'live' ? base.touched : []) {
      if (live.get(path) !== node) fail('EAGAIN', `${path} changed since the transaction first used it`);
    }
    const touched = base.kind === 'live' ? base.touched : new Map<string, Node | undefined>();
    const events = eventPerNode(tx.events, (p) => touched.get(p) !== undefined, (p) => tx.view.peek(p) !== undefined);
    return { events, before: (p) => live.peek(p), after, apply: () => tx.view.applyTo(live) };
  }
  const pre = base.preimages;
  // the tree as the transaction started from it (valid until the snapshot closes)
  const before: Peek = (p) => (pre.has(p) ? pre.get(p) : live.peek(p));
  const done = (change: () => void): CommitPlan => ({
    events: tx.events,
    before,
    after,
    apply() {
      change();
      abortTransaction(live, tx);
    },
  });
  if (!tx.operations.some((op) => op.writes)) return { ...done(() => {}), events: [] };
  if (pre.size === 0) return done(() => tx.view.applyTo(live));
  if (tx.writeLow !== undefined && coalesces(live, tx, pre)) return done(() => graft(live, tx.view, tx.writeLow!));
  const replay = new TransactionView(live, { kind: 'direct' });
  for (const op of tx.operations) {
    const again = answerOf(() => op.run(replay));
    if (again.answer !== op.answer) fail('EAGAIN', 'replaying the transaction on the changed store gave a different answer');
  }
  // ox fires the watches of the transaction as the client ran it, not of the replay (observed).
  return done(() => replay.applyTo(live));
}
