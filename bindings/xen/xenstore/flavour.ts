/**
 * The two real Xenstore daemons the store can behave like (spec xenstore-clients.md §6).
 *
 * Everything that differs between C xenstored 4.17 ("cx") and oxenstored 4.17 ("ox") lives
 * here as plain data, so the rest of the code asks "what does this flavour do" instead of
 * testing the flavour's name. Values marked "observed" were measured on the reference kit
 * (../shared/xenstore-reference) with raw wire messages.
 */
import { fail, type ErrnoName } from '../../errors.js';

export type FlavourName = 'cxenstored' | 'oxenstored';

export interface Flavour {
  name: FlavourName;
  /** DIRECTORY lists children in creation order (cx) or sorted (ox). */
  directoryOrder: 'creation' | 'sorted';
  /** DIRECTORY_PART (type 22) is implemented (cx) or answered ENOSYS (ox). */
  directoryPart: boolean;
  /** A DIRECTORY reply over 4096 bytes: E2BIG (cx, the client then pages) or sent anyway (ox). */
  oversizedDirectory: 'E2BIG' | 'send';
  /** `RM /`: refused EINVAL (cx) or removes the whole tree (ox). */
  rmRoot: 'EINVAL' | 'allowed';
  /**
   * `@name` paths: cx accepts them only as watch paths (and SET_PERMS on the two specials);
   * ox stores them as ordinary children of `/` named `@name` (observed: `mkdir @foo` OK and
   * `/` lists `@introduceDomain`, `@releaseDomain`).
   */
  specialPaths: 'watch-only' | 'root-nodes';
  /** Path length rule: cx strips `/local/domain/<n>/` and allows 2048; ox allows 1024 in total. */
  pathMax: { stripLocalDomain: boolean; max: number };
  /** Largest value; null = only the 4096-byte payload limits it (cx dom0). */
  valueMax: { dom0: number | null; domU: number | null };
  /** cx domU: node record size (header + 8·perms + value + child names, tree.ts) over 2048 ⇒ ENOSPC. */
  nodeSizeMax: number | null;
  /** Per-domain quotas (unprivileged domains only) and the error each one gives. */
  quota: {
    entries: number;
    watches: number;
    transactions: number;
    permsPerNode: number | null;
    error: ErrnoName;
    /** The watch quota's error: E2BIG in C xenstored 4.17 (ENOSPC only later, spec §10.3; observed). */
    watchError: ErrnoName;
    valueError: ErrnoName;
  };
  /** UNWATCH with an empty path: cx ENOENT (no such watch), ox EINVAL (observed). */
  unwatchEmptyPath: ErrnoName;
  /** An unprivileged owner naming another owner in SET_PERMS: cx EPERM, ox EACCES (observed). */
  changeOwnerError: ErrnoName;
  /** Unknown non-zero transaction id, on any request including TRANSACTION_END: cx ENOENT, ox EIO (id 0 at END: ENOENT on both). */
  unknownTransaction: ErrnoName;
  /** RELEASE / RESUME of a domain that is not introduced: cx ENOENT, ox EINVAL. */
  unknownDomain: ErrnoName;
  /**
   * Transaction commit (spec §10.7). cx: optimistic, every node the transaction touched keeps
   * the generation it had at first touch, and reads of untouched nodes see the live store.
   * ox: a snapshot taken at start; on commit a read-only transaction always succeeds; otherwise
   * it commits if the store did not change, or if the subtrees under its read and write low
   * paths did not (`can_coalesce`), or if replaying its operations on the live store gives the
   * same reply for each (oxenstored `transaction_replay`).
   */
  transactions: 'generation' | 'snapshot-replay';
  /**
   * RM's watch events below the removed node: cx fires each removed node that existed, exact
   * match only; ox fires every watch registered below the removed path, with its own path.
   */
  rmEventsBelow: 'removed-nodes' | 'registered-watches';
  /** A connection's own watch events go out before the reply of the request that caused them (cx) or after it (ox); WATCH's initial event always follows its reply. */
  ownEventsBeforeReply: boolean;
  /**
   * Which permissions decide whether an unprivileged watcher hears a change (spec §10.6,
   * `watch_permitted`): cx the node's (old and new for SET_PERMS; the parent's once the node
   * is gone); ox the node's and its parent's, before and after the change (oxenstored
   * `lookup_watch_perms`). Either way the watcher needs read access through one of them.
   */
  watchPerms: 'node-or-parent' | 'node-and-parent-before-and-after';
  /** A node created by an unprivileged domain is owned by it (cx) or inherits the parent's list unchanged (ox, observed). */
  creatorOwnsNewNodes: boolean;
  /** One change reaching a connection through several of its watches with the same path and token is sent once (cx coalesces identical events). */
  coalesceEvents: boolean;
  /**
   * C xenstored `errno_from_parents`: after a failed lookup (missing node, or access denied) cx
   * looks at the nearest existing ancestor — a missing node under an ancestor the caller cannot
   * read is EACCES, and in a transaction that ancestor counts as read (a later change of it is
   * a conflict, observed). ox answers ENOENT and looks at nothing else.
   */
  errnoFromParents: boolean;
  /** INTRODUCE argument checks: cx rejects evtchn 0 and accepts domid 0; ox the reverse (observed). */
  introduce: { rejectPortZero: boolean; rejectDomid0: boolean; strictNumbers: boolean };
  /** SET_TARGET naming a target that is not introduced: cx ENOENT, ox accepts (observed). */
  setTargetNeedsIntroducedTarget: boolean;
  /**
   * RELEASE of a domain removes the nodes it owns on both daemons; cx fires the watches of the
   * removed nodes, ox only `@releaseDomain` but also drops the dead domain's entries from every
   * other node's permissions (observed).
   */
  release: { firesNodeWatches: boolean; stripsPermEntries: boolean };
  /** The tree at start: cx `/tool/xenstored = ""`; ox also `/local` and the two `@` nodes. */
  initialNodes: readonly string[];
  /**
   * Payload > 4096: cx drops the connection at once (replies not yet sent are lost); ox reads
   * the whole message, answers it (E2BIG for a big WRITE value, EINVAL for a bad path) and then
   * answers nothing more on that connection (observed). Ours reads at most 64 KiB that way; a
   * larger announced length just silences the connection (ox waits for the bytes, observed).
   */
  oversizedRequest: 'close' | 'answer-then-silence';
}

export const CXENSTORED: Flavour = {
  name: 'cxenstored',
  directoryOrder: 'creation',
  directoryPart: true,
  oversizedDirectory: 'E2BIG',
  rmRoot: 'EINVAL',
  specialPaths: 'watch-only',
  pathMax: { stripLocalDomain: true, max: 2048 },
  valueMax: { dom0: null, domU: null },
  nodeSizeMax: 2048,
  quota: { entries: 1000, watches: 128, transactions: 10, permsPerNode: 5, error: 'ENOSPC', watchError: 'E2BIG', valueError: 'ENOSPC' },
  unwatchEmptyPath: 'ENOENT',
  changeOwnerError: 'EPERM',
  unknownTransaction: 'ENOENT',
  unknownDomain: 'ENOENT',
  transactions: 'generation',
  rmEventsBelow: 'removed-nodes',
  coalesceEvents: true,
  creatorOwnsNewNodes: true,
  watchPerms: 'node-or-parent',
  ownEventsBeforeReply: true,
  errnoFromParents: true,
  introduce: { rejectPortZero: true, rejectDomid0: false, strictNumbers: false },
  setTargetNeedsIntroducedTarget: true,
  release: { firesNodeWatches: true, stripsPermEntries: false },
  initialNodes: ['/tool', '/tool/xenstored'],
  oversizedRequest: 'close',
};

export const OXENSTORED: Flavour = {
  name: 'oxenstored',
  directoryOrder: 'sorted',
  directoryPart: false,
  oversizedDirectory: 'send',
  rmRoot: 'allowed',
  specialPaths: 'root-nodes',
  pathMax: { stripLocalDomain: false, max: 1024 },
  valueMax: { dom0: 2048, domU: 2048 },
  nodeSizeMax: null,
  // Debian's oxenstored.conf: quota-maxentity 1000, quota-maxwatch 100, quota-transaction 10.
  quota: { entries: 1000, watches: 100, transactions: 10, permsPerNode: null, error: 'EQUOTA', watchError: 'EQUOTA', valueError: 'E2BIG' },
  unwatchEmptyPath: 'EINVAL',
  changeOwnerError: 'EACCES',
  unknownTransaction: 'EIO',
  unknownDomain: 'EINVAL',
  transactions: 'snapshot-replay',
  rmEventsBelow: 'registered-watches',
  coalesceEvents: false,
  creatorOwnsNewNodes: false,
  watchPerms: 'node-and-parent-before-and-after',
  ownEventsBeforeReply: false,
  errnoFromParents: false,
  introduce: { rejectPortZero: false, rejectDomid0: true, strictNumbers: true },
  setTargetNeedsIntroducedTarget: false,
  release: { firesNodeWatches: false, stripsPermEntries: true },
  initialNodes: ['/tool', '/tool/xenstored', '/local', '/@introduceDomain', '/@releaseDomain'],
  oversizedRequest: 'answer-then-silence',
};

/** The flavour of a name; the default is oxenstored (the XenServer/XCP-ng daemon). */
export function flavourOf(name: FlavourName = 'oxenstored'): Flavour {
  if (name === 'cxenstored') return CXENSTORED;
  if (name === 'oxenstored') return OXENSTORED;
  const bad: string = name;
  return fail('EINVAL', `unknown xenstore flavour ${JSON.stringify(bad)}`);
}
