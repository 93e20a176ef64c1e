/**
 * The Xenstore: a tree of byte values with permissions, watches, transactions and domains,
 * behaving like C xenstored or oxenstored 4.17 (spec xen-hypervisor.md §10,
 * xenstore-clients.md §6). This is the typed API TS callers (the toolstack) use directly; the
 * socket server (server.ts) is a thin wire layer over it.
 *
 * ```ts
 * const xs = createStore({ flavour: 'oxenstored' });
 * xs.write(0, '/local/domain/5/platform/acpi', '1');
 * xs.read(0, '/local/domain/5/platform/acpi').toString(); // '1'
 * ```
 * Every failure throws an AffinityError carrying the daemon's errno name (ENOENT, EACCES,
 * EAGAIN, ENOSPC/EQUOTA/E2BIG, …). A failed operation changes nothing.
 */
import { fail, isAffinityError } from '../../errors.js';
import { flavourOf, type Flavour, type FlavourName } from './flavour.js';
import { canonicalNodePath, domainPath, isSpecial, parentOf } from './paths.js';
import { parsePerm, type Caller, type Perm } from './perms.js';
import { abortTransaction, answerOf, commitTransaction, LiveTree, noteRead, noteWrite, startTransaction, TransactionView, type Outcome, type Transaction } from './transactions.js';
import { directoryOf, emptyNode, listChildren, makeNode, accessNode, nodesOwnedBy, permsOf, readNode, removeNode, ROOT_PERMS, setNodePerms, stripPermEntries, writeNode, type NodeEvent, type NodeView } from './tree.js';
import { addWatch, fireSpecialEvent, matchNodeEvents, removeWatch, type Peek, type Watch, type Watcher } from './watches.js';

/** A client of the store: a socket connection, or a TS caller that wants watches and transactions. */
export interface Session extends Watcher {
  readonly domid: number;
  readonly transactions: Map<number, Transaction>;
  /** Watch events for this session, in order. */
  onEvent: (path: string, token: string) => void;
}

/** Who is calling: a session, or just a domid (a per-domain default session is used). */
export type Who = number | Session;

export interface StoreOptions {
  flavour?: FlavourName;
}

interface DomainInfo {
  gfn: bigint;
  port: number;
  target?: number;
}

/** Domain lifecycle notifications (the server binds and closes per-domain sockets on these). */
export type DomainListener = (event: 'introduce' | 'release', domid: number) => void;

/** The privileged domain (C xenstored `priv_domid`). */
export const PRIV_DOMID = 0;

export class XenstoreStore {
  readonly flavour: Flavour;
  private readonly live = new LiveTree();
  private readonly sessions = new Set<Session>();
  private readonly defaultSessions = new Map<number, Session>();
  private readonly domains = new Map<number, DomainInfo>();
  private readonly listeners = new Set<DomainListener>();
  private readonly generations = new WeakMap<object, number>();
  /** cx: permissions of `@introduceDomain` / `@releaseDomain` (they are not nodes there). */
  private readonly specials = new Map<string, readonly Perm[]>();
  private nextGeneration = 1;
  private nextTxId = 1;

  constructor(flavour: Flavour) {
    this.flavour = flavour;
    this.live.set('/', emptyNode(ROOT_PERMS));
    const view = new TransactionView(this.live, { kind: 'direct' });
    for (const p of flavour.initialNodes) makeNode(flavour, view, this.callerOf(PRIV_DOMID), p);
    view.applyTo(this.live);
  }

  // ---- sessions ------------------------------------------------------------------------

  /** A new session for domain `domid` (a connection); its watch events go to `onEvent`. */
  connect(domid: number, onEvent: (path: string, token: string) => void = () => {}): Session {
    checkDomid(domid);
    const store = this;
    const session: Session = {
      domid,
      transactions: new Map(),
      watches: new Map<string, Watch>(),
      onEvent,
      caller: () => store.callerOf(domid),
      deliver(path, token) {
        this.onEvent(path, token);
      },
    };
    this.sessions.add(session);
    return session;
  }

  /** Ends a session: its watches and open transactions go (a client that disconnects, §10). */
  disconnect(session: Session): void {
    this.resetWatches(session);
    this.sessions.delete(session);
  }

  private sessionOf(who: Who): Session {
    if (typeof who !== 'number') {
      if (!this.sessions.has(who)) fail('EINVAL', 'the session is closed');
      return who;
    }
    let s = this.defaultSessions.get(who);
    if (!s) {
      s = this.connect(who);
      this.defaultSessions.set(who, s);
    }
    return s;
  }

  private callerOf(domid: number): Caller {
    return { domid, privileged: domid === PRIV_DOMID, target: this.domains.get(domid)?.target };
  }

  // ---- running operations --------------------------------------------------------------

  /**
   * Runs a node operation for `who`, outside a transaction (all-or-nothing on the live tree,
   * events fire now) or inside transaction `tx` (recorded for replay, events fire on commit).
   * `lowpath` is the path the operation reads or changes, as oxenstored records it for its
   * commit-time coalescing (`set_read_lowpath` / `set_write_lowpath`).
   */
  private run(who: Who, tx: number, kind: 'read' | 'write', lowpath: (view: NodeView) => string, op: (view: NodeView, caller: Caller) => Outcome): Outcome {
    const session = this.sessionOf(who);
    const caller = session.caller();
    if (tx === 0) {
      if (kind === 'read') return op(this.live, caller);
      const view = new TransactionView(this.live, { kind: 'direct' });
      const outcome = op(view, caller);
      this.fire(outcome.events, (p) => this.live.peek(p), (p) => view.peek(p), () => view.applyTo(this.live));
      return outcome;
    }
    const t = this.transactionOf(session, tx);
    const low = lowpath(t.view);
    const attempt = answerOf(() => {
      const inner = new TransactionView(t.view, { kind: 'direct' });
      const out = op(inner, caller);
      inner.applyTo(t.view);
      return out;
    });
    // Only an operation that changed something makes the transaction a writer (ox `add_wop`):
    // failed writes, MKDIR of an existing node and RM of a missing one do not.
    const changed = (attempt.outcome?.events.length ?? 0) > 0;
    t.operations.push({ run: (view) => op(view, caller), answer: attempt.answer, writes: changed });
    if (!attempt.outcome) throw attempt.error;
    if (kind === 'read') noteRead(t, low);
    else if (changed) noteWrite(t, low);
    t.events.push(...attempt.outcome.events);
    return attempt.outcome;
  }

  /** The session's transaction `tx`: id 0 is ENOENT on both daemons, another unknown id the flavour's error (cx ENOENT, ox EIO). */
  private transactionOf(session: Session, tx: number): Transaction {
    if (tx === 0) fail('ENOENT', 'not in a transaction');
    return session.transactions.get(tx) ?? fail(this.flavour.unknownTransaction, `no transaction ${tx} on this connection`);
  }

  /** Works out who hears `events` (judged on the trees `before` and `after`), applies the change, then tells them. */
  private fire(events: readonly NodeEvent[], before: Peek, after: Peek, apply: () => void): void {
    const deliveries = matchNodeEvents(this.flavour, this.sessions, events, before, after);
    apply();
    for (const d of deliveries) d.watcher.deliver(d.path, d.token);
  }

  /** Permissions of a special watch name (cx keeps them aside, ox has them as the `/@name` node). */
  private specialPerms(name: string): readonly Perm[] | undefined {
    return this.flavour.specialPaths === 'root-nodes' ? this.live.get(`/${name}`)?.perms : (this.specials.get(name) ?? ROOT_PERMS);
  }

  private path(who: Who, path: string): string {
    return canonicalNodePath(this.flavour, this.sessionOf(who).domid, path);
  }

  // ---- node operations -----------------------------------------------------------------

  /** XS_READ: the value bytes. */
  read(who: Who, path: string, tx = 0): Buffer {
    const abs = this.path(who, path);
    return this.run(who, tx, 'read', () => abs, (v, c) => ({ reply: readNode(this.flavour, v, c, abs), events: [] })).reply as Buffer;
  }

  /**
   * XS_READ as libxenstore's `xs_read` callers see it: the value, or null where the daemon
   * answers ENOENT. Toolstacks probe many absent keys (xenguest reads ~25 per build), so a
   * privileged caller outside a transaction is answered from the live tree without building an
   * error: with every permission, a missing node can only be ENOENT. Other refusals still throw.
   */
  readOrNull(who: Who, path: string, tx = 0): Buffer | null {
    if (tx === 0 && this.sessionOf(who).caller().privileged && !this.live.peek(this.path(who, path))) return null;
    try {
      return this.read(who, path, tx);
    } catch (e) {
      if (isAffinityError(e) && e.errno === 'ENOENT') return null;
      throw e;
    }
  }

  /** XS_WRITE: sets the value, creating missing parents (they inherit the parent's permissions). */
  write(who: Who, path: string, value: Uint8Array | string, tx = 0): void {
    const abs = this.path(who, path);
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    this.run(who, tx, 'write', (v) => (v.get(abs) ? abs : parentOf(abs)), (v, c) => ({ reply: null, events: writeNode(this.flavour, v, c, abs, bytes) }));
  }

  /** XS_MKDIR: creates an empty node if missing. */
  mkdir(who: Who, path: string, tx = 0): void {
    const abs = this.path(who, path);
    this.run(who, tx, 'write', () => parentOf(abs), (v, c) => ({ reply: null, events: makeNode(this.flavour, v, c, abs) }));
  }

  /** XS_RM: removes the node and everything below it. */
  rm(who: Who, path: string, tx = 0): void {
    const abs = this.path(who, path);
    this.run(who, tx, 'write', () => parentOf(abs), (v, c) => ({ reply: null, events: removeNode(this.flavour, v, c, abs) }));
  }

  /** XS_DIRECTORY: child names (creation order on cx, sorted on ox). */
  directory(who: Who, path: string, tx = 0): string[] {
    const abs = this.path(who, path);
    return [...(this.run(who, tx, 'read', () => abs, (v, c) => ({ reply: directoryOf(this.flavour, v, c, abs), events: [] })).reply as readonly string[])];
  }

  /**
   * XS_DIRECTORY_PART (cx only; ox answers ENOSYS): the node's generation and the child names
   * whose `name\0` bytes start at byte `offset` of the full list, as many as fit in `room` bytes.
   */
  directoryPart(who: Who, path: string, offset: number, room: number, tx = 0): { generation: number; names: string[]; complete: boolean } {
    if (!this.flavour.directoryPart) fail('ENOSYS', `${this.flavour.name} has no XS_DIRECTORY_PART`);
    const abs = this.path(who, path);
    const run = this.run(who, tx, 'read', () => abs, (v, c) => {
      const node = accessNode(this.flavour, v, c, abs, 'read');
      return { reply: { generation: this.generationOf(node), children: listChildren(this.flavour, node) }, events: [] };
    });
    const { generation, children } = run.reply as { generation: number; children: readonly string[] };
    const names: string[] = [];
    let pos = 0;
    let used = 0;
    let complete = true;
    for (const name of children) {
      const size = name.length + 1;
      if (pos >= offset) {
        if (used + size > room) {
          complete = false;
          break;
        }
        names.push(name);
        used += size;
      }
      pos += size;
    }
    return { generation, names, complete };
  }

  private generationOf(node: object): number {
    let g = this.generations.get(node);
    if (g === undefined) {
      g = this.nextGeneration++;
      this.generations.set(node, g);
    }
    return g;
  }

  /** XS_GET_PERMS: the permission list, owner first. */
  getPerms(who: Who, path: string, tx = 0): Perm[] {
    const abs = this.path(who, path);
    return [...(this.run(who, tx, 'read', () => abs, (v, c) => ({ reply: permsOf(this.flavour, v, c, abs), events: [] })).reply as Perm[])];
  }

  /** XS_SET_PERMS: `perms` as objects or wire strings (`'n0'`, `'r5'`, …); the first is the owner. */
  setPerms(who: Who, path: string, perms: readonly (Perm | string)[], tx = 0): void {
    const list = perms.map((p) => (typeof p === 'string' ? parsePerm(p) : parsePerm(`${p.letter}${p.domid}`)));
    if (list.length === 0) fail('EINVAL', 'a permission list needs at least the owner entry');
    if (isSpecial(path) && this.flavour.specialPaths === 'watch-only') {
      // cx accepts SET_PERMS on its two special watch names from dom0 (observed OK) but they
      // are not nodes; a domU is refused (observed ENOENT; the real daemon crashes on some lists).
      if (path !== '@introduceDomain' && path !== '@releaseDomain') fail('EINVAL', `${path} is not a special node`);
      if (!this.sessionOf(who).caller().privileged) fail('ENOENT', `${path} is not a node a domain may change`);
      this.specials.set(path, list);
      return;
    }
    const abs = this.path(who, path);
    this.run(who, tx, 'write', () => abs, (v, c) => ({ reply: null, events: setNodePerms(this.flavour, v, c, abs, list) }));
  }

  // ---- transactions --------------------------------------------------------------------

  /** XS_TRANSACTION_START: a new non-zero id; EBUSY when `tx` (the request's tx id) is already set. */
  transactionStart(who: Who, tx = 0): number {
    const session = this.sessionOf(who);
    if (tx !== 0) {
      this.transactionOf(session, tx);
      fail('EBUSY', 'transactions do not nest');
    }
    const caller = session.caller();
    if (!caller.privileged && session.transactions.size >= this.flavour.quota.transactions) {
      fail(this.flavour.quota.error, `domain ${caller.domid} already has ${session.transactions.size} open transactions`);
    }
    const id = this.nextTxId++;
    if (this.nextTxId > 0xffffffff) this.nextTxId = 1;
    session.transactions.set(id, startTransaction(this.flavour, this.live, id));
    return id;
  }

  /** XS_TRANSACTION_END: commit (EAGAIN on conflict, nothing applied) or abort. */
  transactionEnd(who: Who, tx: number, commit: boolean): void {
    const session = this.sessionOf(who);
    const t = this.transactionOf(session, tx);
    session.transactions.delete(tx);
    if (!commit) {
      abortTransaction(this.live, t);
      return;
    }
    const plan = commitTransaction(this.live, t);
    this.fire(plan.events, plan.before, plan.after, plan.apply);
  }

  /**
   * Runs `body` in a transaction and commits it, starting again on EAGAIN (what libxenstore
   * callers do, up to `attempts` times). Any other error aborts and is rethrown.
   */
  transaction<T>(who: Who, body: (tx: number) => T, attempts = 100): T {
    for (let i = 1; ; i++) {
      const tx = this.transactionStart(who);
      let result: T;
      try {
        result = body(tx);
      } catch (e) {
        this.transactionEnd(who, tx, false);
        throw e;
      }
      try {
        this.transactionEnd(who, tx, true);
        return result;
      } catch (e) {
        if (i >= attempts || !(e instanceof Error && 'errno' in e && e.errno === 'EAGAIN')) throw e;
      }
    }
  }

  // ---- watches -------------------------------------------------------------------------

  /** XS_WATCH: registers the watch and delivers its initial event (path as registered). */
  watch(who: Who, path: string, token: string): void {
    const session = this.sessionOf(who);
    const w = addWatch(this.flavour, session, path, token);
    session.deliver(w.path, w.token);
  }

  /** XS_UNWATCH. */
  unwatch(who: Who, path: string, token: string): void {
    removeWatch(this.flavour, this.sessionOf(who), path, token);
  }

  /** XS_RESET_WATCHES: drops the session's watches and open transactions. */
  resetWatches(who: Who): void {
    const session = this.sessionOf(who);
    session.watches.clear();
    for (const t of session.transactions.values()) abortTransaction(this.live, t);
    session.transactions.clear();
  }

  // ---- domains -------------------------------------------------------------------------

  private requirePrivileged(who: Who, what: string): void {
    if (!this.sessionOf(who).caller().privileged) fail('EACCES', `only the privileged domain may ${what}`);
  }

  onDomain(listener: DomainListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** XS_INTRODUCE: the domain becomes known (fires `@introduceDomain` the first time). */
  introduce(domid: number, gfn: bigint | number, port: number, who: Who = PRIV_DOMID): void {
    this.requirePrivileged(who, 'introduce domains');
    checkDomid(domid);
    const f = this.flavour.introduce;
    if (f.rejectPortZero && port <= 0) fail('EINVAL', `event channel ${port} is not valid`);
    if (f.rejectDomid0 && domid === PRIV_DOMID) fail('EINVAL', 'domain 0 cannot be introduced');
    const old = this.domains.get(domid);
    if (old) {
      // ox: a second INTRODUCE with different ring or port is refused (`Domain_not_match`).
      if (f.strictNumbers && (old.gfn !== BigInt(gfn) || old.port !== port)) fail('EINVAL', `domain ${domid} is already introduced with another ring`);
      return;
    }
    this.domains.set(domid, { gfn: BigInt(gfn), port });
    fireSpecialEvent(this.sessions, '@introduceDomain', this.specialPerms('@introduceDomain'));
    for (const l of this.listeners) l('introduce', domid);
  }

  /** The introduced domains (dom0 not included). */
  introducedDomains(): number[] {
    return [...this.domains.keys()];
  }

  /** XS_IS_DOMAIN_INTRODUCED (domain 0 always is). */
  isIntroduced(domid: number): boolean {
    return domid === PRIV_DOMID || this.domains.has(domid);
  }

  /** XS_GET_DOMAIN_PATH. */
  getDomainPath(domid: number): string {
    return domainPath(domid);
  }

  /** XS_RESUME: clears a domain's shutdown state (nothing else to model); unknown domain is the flavour's error. */
  resume(domid: number, who: Who = PRIV_DOMID): void {
    this.requirePrivileged(who, 'resume domains');
    if (!this.domains.has(domid)) fail(this.flavour.unknownDomain, `domain ${domid} is not introduced`);
  }

  /** XS_SET_TARGET: `domid` gets the privileges of the owner of `target`'s nodes (a device model's stub domain). */
  setTarget(domid: number, target: number, who: Who = PRIV_DOMID): void {
    this.requirePrivileged(who, 'set targets');
    const d = this.domains.get(domid) ?? fail('ENOENT', `domain ${domid} is not introduced`);
    if (this.flavour.setTargetNeedsIntroducedTarget && !this.isIntroduced(target)) fail('ENOENT', `target domain ${target} is not introduced`);
    d.target = target;
  }

  /**
   * XS_RELEASE (and domain death): forgets the domain, removes the nodes it owns, drops its
   * sessions' watches and transactions, fires `@releaseDomain`.
   */
  release(domid: number, who: Who = PRIV_DOMID): void {
    this.requirePrivileged(who, 'release domains');
    if (!this.domains.has(domid)) fail(this.flavour.unknownDomain, `domain ${domid} is not introduced`);
    this.domains.delete(domid);
    const view = new TransactionView(this.live, { kind: 'direct' });
    const events: NodeEvent[] = [];
    const priv = this.callerOf(PRIV_DOMID);
    for (const p of nodesOwnedBy(this.live, domid)) events.push(...removeNode(this.flavour, view, priv, p));
    if (this.flavour.release.stripsPermEntries) stripPermEntries(view, domid);
    for (const s of this.sessions) if (s.domid === domid) this.resetWatches(s);
    const fired = this.flavour.release.firesNodeWatches ? events : [];
    this.fire(fired, (p) => this.live.peek(p), (p) => view.peek(p), () => view.applyTo(this.live));
    fireSpecialEvent(this.sessions, '@releaseDomain', this.specialPerms('@releaseDomain'));
    for (const l of this.listeners) l('release', domid);
  }

  /** Watches held by all sessions (for memory checks). */
  get watchCount(): number {
    let n = 0;
    for (const s of this.sessions) n += s.watches.size;
    return n;
  }

  /** Number of nodes in the tree (for memory checks). */
  get nodeCount(): number {
    return this.live.size;
  }
}

function checkDomid(domid: number): void {
  if (!Number.isInteger(domid) || domid < 0 || domid > 0x7fef) fail('EINVAL', `domid ${domid} is not a valid domain id`);
}

/** Creates a store of the given flavour (default oxenstored). */
export function createStore(options: StoreOptions = {}): XenstoreStore {
  return new XenstoreStore(flavourOf(options.flavour));
}
