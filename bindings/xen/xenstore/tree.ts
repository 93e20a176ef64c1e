/**
 * The node tree and the operations on it (spec xen-hypervisor.md §10.2, §10.4, §10.5).
 *
 * Nodes are immutable records kept in a map by absolute path; every change replaces the
 * record, so a record's identity is its generation (what C xenstored's per-node generation
 * count and oxenstored's physical node equality both compare). The operations here work on a
 * {@link NodeView} — the live tree or a transaction's view of it — and return the watch events
 * they cause; the caller decides when those fire (at once, or at commit).
 */
import { fail } from '../../errors.js';
import type { Flavour } from './flavour.js';
import { baseName, childPath, parentOf } from './paths.js';
import { accessFor, samePerms, type Access, type Caller, type Perm } from './perms.js';

export interface Node {
  readonly value: Buffer;
  readonly perms: readonly Perm[];
  /** Child names in creation order (C xenstored's order; oxenstored sorts on output). */
  readonly children: readonly string[];
}

/** Read/replace access to nodes by absolute path; `set(path, undefined)` deletes one node. */
export interface NodeView {
  get(path: string): Node | undefined;
  /** Like `get`, but not a transaction access (for deciding who hears a watch event). */
  peek(path: string): Node | undefined;
  set(path: string, node: Node | undefined): void;
  /** Number of nodes owned by `domid` as this view sees them (quota `nodes`/`maxentity`). */
  owned(domid: number): number;
}

/** A watch event an operation caused (spec §10.6). */
export interface NodeEvent {
  path: string;
  op: 'write' | 'mkdir' | 'rm' | 'perms';
  /** Watches on ancestors also fire (`true`), or only watches on exactly this path. */
  subtree: boolean;
  /**
   * cx: the permission lists that decide delivery, taken when the operation ran. ox decides
   * from the trees before and after instead (see watches.ts), and leaves this empty.
   */
  perms: (readonly Perm[])[];
  /** ox RM: watches registered anywhere below `path` fire too, with their own path. */
  watchesBelow?: boolean;
}

/** A node and its parent at one moment, for {@link eventPerms}. */
interface Around {
  parent: Node | undefined;
  node: Node | undefined;
}

function around(view: NodeView, path: string): Around {
  return { parent: path === '/' ? undefined : view.peek(parentOf(path)), node: view.peek(path) };
}

/** cx: the permission lists that decide delivery of an event on a node that was `before` and is `after` (see {@link Flavour.watchPerms}). */
function eventPerms(flavour: Flavour, before: Around, after: Around): (readonly Perm[])[] {
  if (flavour.watchPerms === 'node-and-parent-before-and-after') return [];
  // cx `watch_permitted`: the old permissions of a SET_PERMS, the node (as it is, or as it was
  // when removed), then its parent.
  const node = after.node ?? before.node;
  const parent = after.parent ?? before.parent;
  const lists = [node?.perms, parent?.perms];
  if (before.node && after.node && !samePerms(before.node.perms, after.node.perms)) lists.unshift(before.node.perms);
  return lists.filter((p): p is readonly Perm[] => p !== undefined);
}

const EMPTY = Buffer.alloc(0);
/** Default permissions of `/`: owned by dom0, nobody else may read or write. */
export const ROOT_PERMS: readonly Perm[] = [{ letter: 'n', domid: 0 }];

export function emptyNode(perms: readonly Perm[]): Node {
  return { value: EMPTY, perms, children: [] };
}

/** The nearest existing ancestor of `path` (which may be `/`). */
function nearestAncestor(view: NodeView, path: string): { path: string; node: Node | undefined } {
  let p = parentOf(path);
  for (;;) {
    const node = view.get(p);
    if (node || p === '/') return { path: p, node };
    p = parentOf(p);
  }
}

/**
 * C xenstored `errno_from_parents`: for a missing node, cx looks at the nearest existing
 * ancestor, and a caller lacking the access it asked for there gets EACCES (a domU may not
 * learn what exists where it may not look or write). ox does not.
 */
function checkMayKnow(flavour: Flavour, view: NodeView, caller: Caller, path: string, need: 'read' | 'write'): void {
  if (!flavour.errnoFromParents) return;
  const anc = nearestAncestor(view, path).node;
  if (anc && !caller.privileged && !accessFor(caller, anc.perms)[need]) fail('EACCES', `no permission to know whether ${path} exists`);
}

/** Error for a missing node: ENOENT, or EACCES per {@link checkMayKnow}. */
function missing(flavour: Flavour, view: NodeView, caller: Caller, path: string, need: 'read' | 'write'): never {
  checkMayKnow(flavour, view, caller, path, need);
  return fail('ENOENT', `${path} does not exist`);
}

/** EACCES for an existing node; cx looks at the ancestors first (a transaction read, see {@link Flavour.errnoFromParents}). */
function denied(flavour: Flavour, view: NodeView, path: string, message: string): never {
  if (flavour.errnoFromParents) nearestAncestor(view, path);
  return fail('EACCES', message);
}

/** `get_node(conn, path, perm)`: the node, or ENOENT/EACCES. */
export function accessNode(flavour: Flavour, view: NodeView, caller: Caller, path: string, need: keyof Access): Node {
  const node = view.get(path);
  if (!node) return missing(flavour, view, caller, path, need === 'read' ? 'read' : 'write');
  if (!accessFor(caller, node.perms)[need]) denied(flavour, view, path, `domain ${caller.domid} may not ${need === 'owner' ? 'change permissions of' : need} ${path}`);
  return node;
}

/**
 * Size C xenstored charges a node record, quota `node-size`: its record header (generation,
 * counts: 24 bytes with alignment — spec §10.8 says 16, but the domU flood against the real
 * 4.17 daemon stops exactly where 24 puts it), 8 bytes per permission, the value and the child
 * names with their NULs.
 */
function recordSize(node: Node): number {
  return 24 + 8 * node.perms.length + node.value.length + node.children.reduce((n, c) => n + c.length + 1, 0);
}

function checkValueSize(flavour: Flavour, caller: Caller, value: Buffer): void {
  const max = caller.privileged ? flavour.valueMax.dom0 : flavour.valueMax.domU;
  if (max !== null && value.length > max) fail(flavour.quota.valueError, `value of ${value.length} bytes is over the ${flavour.name} limit of ${max}`);
}

function checkNodeSize(flavour: Flavour, caller: Caller, node: Node): void {
  if (caller.privileged || flavour.nodeSizeMax === null) return;
  if (recordSize(node) > flavour.nodeSizeMax) fail(flavour.quota.error, `node record of ${recordSize(node)} bytes is over the quota of ${flavour.nodeSizeMax}`);
}

/** Sorted child lists, per (immutable) node record: ox sorts on every DIRECTORY otherwise. */
const sortedChildren = new WeakMap<Node, readonly string[]>();

/** Children in the flavour's DIRECTORY order. */
export function listChildren(flavour: Flavour, node: Node): readonly string[] {
  if (flavour.directoryOrder === 'creation') return node.children;
  let sorted = sortedChildren.get(node);
  if (!sorted) {
    sorted = [...node.children].sort();
    sortedChildren.set(node, sorted);
  }
  return sorted;
}

/**
 * Creates `path` and any missing parents (C xenstored `create_node`/`construct_node`): the
 * nearest existing ancestor must be writable; each new node inherits its parent's permissions,
 * with the creator as owner when the creator is unprivileged (§10.5).
 */
function createNode(flavour: Flavour, view: NodeView, caller: Caller, path: string, value: Buffer): void {
  const anc = nearestAncestor(view, path);
  if (!anc.node) return missing(flavour, view, caller, path, 'write');
  if (!accessFor(caller, anc.node.perms).write) fail('EACCES', `domain ${caller.domid} may not create nodes under ${anc.path}`);
  const chain: string[] = [];
  for (let p = path; p !== anc.path; p = parentOf(p)) chain.unshift(p);
  const owner = caller.privileged || !flavour.creatorOwnsNewNodes ? anc.node.perms[0].domid : caller.domid;
  // The new nodes count against their owner's quota (dom0 has none).
  if (!caller.privileged && owner !== 0 && view.owned(owner) + chain.length > flavour.quota.entries) {
    fail(flavour.quota.error, `domain ${owner} would own more than ${flavour.quota.entries} nodes`);
  }
  let parentPath = anc.path;
  let parent = anc.node;
  for (const p of chain) {
    const perms = owner === parent.perms[0].domid ? parent.perms : [{ letter: parent.perms[0].letter, domid: owner }, ...parent.perms.slice(1)];
    const node: Node = { value: p === path ? value : EMPTY, perms, children: [] };
    const newParent: Node = { ...parent, children: [...parent.children, baseName(p)] };
    checkNodeSize(flavour, caller, newParent);
    checkNodeSize(flavour, caller, node);
    view.set(parentPath, newParent);
    view.set(p, node);
    parentPath = p;
    parent = node;
  }
}

/** XS_READ. */
export function readNode(flavour: Flavour, view: NodeView, caller: Caller, path: string): Buffer {
  return accessNode(flavour, view, caller, path, 'read').value;
}

/** XS_WRITE: replaces the value, creating the node and its parents if missing. */
export function writeNode(flavour: Flavour, view: NodeView, caller: Caller, path: string, value: Buffer): NodeEvent[] {
  checkValueSize(flavour, caller, value);
  const before = around(view, path);
  const node = before.node;
  if (node) {
    if (!accessFor(caller, node.perms).write) denied(flavour, view, path, `domain ${caller.domid} may not write ${path}`);
    const updated = { ...node, value };
    checkNodeSize(flavour, caller, updated);
    view.set(path, updated);
  } else {
    createNode(flavour, view, caller, path, value);
  }
  return [{ path, op: 'write', subtree: true, perms: eventPerms(flavour, before, around(view, path)) }];
}

/** XS_MKDIR: creates an empty node; an existing node is left alone (and fires nothing). */
export function makeNode(flavour: Flavour, view: NodeView, caller: Caller, path: string): NodeEvent[] {
  const node = view.get(path);
  if (node) {
    if (!accessFor(caller, node.perms).write) denied(flavour, view, path, `domain ${caller.domid} may not write ${path}`);
    return [];
  }
  const before = around(view, path);
  createNode(flavour, view, caller, path, EMPTY);
  return [{ path, op: 'mkdir', subtree: true, perms: eventPerms(flavour, before, around(view, path)) }];
}

/** Every path of the subtree at `path`, parents before children. */
export function subtreePaths(view: NodeView, path: string): string[] {
  const out: string[] = [];
  const stack = [path];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const node = view.get(p);
    if (!node) continue;
    out.push(p);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(childPath(p, node.children[i]));
  }
  return out;
}

/**
 * XS_RM: removes the node and its subtree. A missing node whose parent exists is fine; a
 * missing parent is ENOENT. `/` is refused by cx and empties the tree on ox (§6).
 */
export function removeNode(flavour: Flavour, view: NodeView, caller: Caller, path: string): NodeEvent[] {
  if (path === '/' && flavour.rmRoot === 'EINVAL') fail('EINVAL', 'the root node cannot be removed');
  const node = view.get(path);
  if (!node) {
    // "didn't exist already? fine, if the parent exists" — after cx's EACCES check
    checkMayKnow(flavour, view, caller, path, 'write');
    if (!view.get(parentOf(path))) missing(flavour, view, caller, path, 'write');
    return [];
  }
  if (!accessFor(caller, node.perms).write) denied(flavour, view, path, `domain ${caller.domid} may not remove ${path}`);
  // a cx transaction can see a node whose parent is gone (see transactions.ts): `do_rm` says EINVAL
  if (path !== '/' && !view.get(parentOf(path))) fail('EINVAL', `the parent of ${path} is gone`);
  const removed = subtreePaths(view, path);
  const before = around(view, path);
  const after: Around = { parent: before.parent, node: undefined };
  const events: NodeEvent[] = [{ path, op: 'rm', subtree: true, perms: eventPerms(flavour, before, after), watchesBelow: flavour.rmEventsBelow === 'registered-watches' }];
  if (flavour.rmEventsBelow === 'removed-nodes') {
    for (const p of removed.slice(1)) events.push({ path: p, op: 'rm', subtree: false, perms: eventPerms(flavour, around(view, p), { parent: undefined, node: undefined }) });
  }
  if (path === '/') {
    for (const p of removed.slice(1)) view.set(p, undefined);
    view.set('/', { ...node, children: [] });
    return events;
  }
  for (let i = removed.length - 1; i >= 0; i--) view.set(removed[i], undefined);
  const parentPath = parentOf(path);
  const parent = view.get(parentPath)!;
  const name = baseName(path);
  view.set(parentPath, { ...parent, children: parent.children.filter((c) => c !== name) });
  return events;
}

/** XS_DIRECTORY: child names in the flavour's order. */
export function directoryOf(flavour: Flavour, view: NodeView, caller: Caller, path: string): readonly string[] {
  return listChildren(flavour, accessNode(flavour, view, caller, path, 'read'));
}

/** XS_GET_PERMS. */
export function permsOf(flavour: Flavour, view: NodeView, caller: Caller, path: string): readonly Perm[] {
  return accessNode(flavour, view, caller, path, 'read').perms;
}

/**
 * XS_SET_PERMS: only the owner (or a privileged caller) may; an unprivileged owner may not give
 * the node away (EPERM) nor list more entries than its quota allows.
 */
export function setNodePerms(flavour: Flavour, view: NodeView, caller: Caller, path: string, perms: readonly Perm[]): NodeEvent[] {
  if (perms.length === 0) fail('EINVAL', 'a permission list needs at least the owner entry');
  const node = view.get(path);
  if (!node) return missing(flavour, view, caller, path, 'write');
  const access = accessFor(caller, node.perms);
  if (!access.write || !access.owner) denied(flavour, view, path, `domain ${caller.domid} does not own ${path}`);
  if (!caller.privileged) {
    const max = flavour.quota.permsPerNode;
    if (max !== null && perms.length > max) fail(flavour.quota.error, `${perms.length} permission entries are over the quota of ${max}`);
    if (perms[0].domid !== node.perms[0].domid) fail(flavour.changeOwnerError, `domain ${caller.domid} may not change the owner of ${path}`);
  }
  const before = around(view, path);
  const updated = { ...node, perms: [...perms] };
  checkNodeSize(flavour, caller, updated);
  view.set(path, updated);
  return [{ path, op: 'perms', subtree: true, perms: eventPerms(flavour, before, around(view, path)) }];
}

/** Top-most nodes owned by `domid` (their subtrees go with them when the domain dies). */
export function nodesOwnedBy(view: NodeView, domid: number): string[] {
  const out: string[] = [];
  const stack = ['/'];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const node = view.get(p)!;
    if (p !== '/' && node.perms[0].domid === domid) out.push(p);
    else for (const c of node.children) stack.push(childPath(p, c));
  }
  return out;
}

/** ox on domain death: entries (after the owner's) naming `domid` leave every permission list. */
export function stripPermEntries(view: NodeView, domid: number): void {
  for (const p of subtreePaths(view, '/')) {
    const node = view.get(p)!;
    if (node.perms.some((e, i) => i > 0 && e.domid === domid)) view.set(p, { ...node, perms: node.perms.filter((e, i) => i === 0 || e.domid !== domid) });
  }
}
