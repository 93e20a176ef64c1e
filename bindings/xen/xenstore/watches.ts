/**
 * Watches (spec xen-hypervisor.md §10.6, xenstore-clients.md §6): registration with duplicate
 * and quota checks, and which watches an event reaches, with which path, under whose
 * permissions.
 */
import { fail } from '../../errors.js';
import type { Flavour } from './flavour.js';
import { canonicalWatchPath, domainPath, isAtOrBelow, isSpecial, parentOf, relativeTo } from './paths.js';
import { accessFor, type Caller, type Perm } from './perms.js';
import type { Node, NodeEvent } from './tree.js';

export interface Watch {
  /** The path as registered (relative paths come back relative in events). */
  path: string;
  /** Canonical absolute path, or the `@name` itself. */
  abs: string;
  token: string;
}

/** Anyone who can hold watches: a connection, or a store-level session. */
export interface Watcher {
  caller(): Caller;
  readonly watches: Map<string, Watch>;
  /** Queues one WATCH_EVENT `path\0token\0`; events to one watcher keep their order. */
  deliver(path: string, token: string): void;
}

const key = (abs: string, token: string) => `${abs}\0${token}`;

/** XS_WATCH (C `do_watch`): EEXIST for the same path and token, quota for unprivileged callers. */
export function addWatch(flavour: Flavour, watcher: Watcher, path: string, token: string): Watch {
  const caller = watcher.caller();
  const abs = canonicalWatchPath(flavour, caller.domid, path);
  const k = key(abs, token);
  if (watcher.watches.has(k)) fail('EEXIST', `already watching ${path} with token ${JSON.stringify(token)}`);
  // Both daemons compare the count *before* adding with `>` (xenstored 4.17 REF, ox
  // `nb_watches > maxwatch`): a domain ends up with quota + 1 watches (observed: 129 and 101).
  if (!caller.privileged && watcher.watches.size > flavour.quota.watches) {
    fail(flavour.quota.watchError, `domain ${caller.domid} already has ${watcher.watches.size} watches (quota ${flavour.quota.watches})`);
  }
  const watch = { path, abs, token };
  watcher.watches.set(k, watch);
  return watch;
}

/** XS_UNWATCH: ENOENT if there is no such watch. */
export function removeWatch(flavour: Flavour, watcher: Watcher, path: string, token: string): void {
  // Both daemons only look the watch up: an invalid path is simply not watched (ENOENT, observed).
  if (path === '') fail(flavour.unwatchEmptyPath, 'empty watch path');
  const abs = path.startsWith('/') || isSpecial(path) ? path : `${domainPath(watcher.caller().domid)}/${path}`;
  if (!watcher.watches.delete(key(abs, token))) fail('ENOENT', `no watch on ${path} with token ${JSON.stringify(token)}`);
}

/** The path a watcher is told: relative again when it registered a relative path. */
function eventPathFor(caller: Caller, watch: Watch, abs: string): string {
  return watch.path.startsWith('/') || isSpecial(watch.path) ? abs : relativeTo(caller.domid, abs);
}

/** Reads a node of one version of the tree, without it counting as a transaction access. */
export type Peek = (path: string) => Node | undefined;

/** One WATCH_EVENT to send. */
export interface Delivery {
  watcher: Watcher;
  path: string;
  token: string;
}

function readable(caller: Caller, lists: readonly (readonly Perm[])[]): boolean {
  return caller.privileged || lists.some((p) => accessFor(caller, p).read);
}

/** oxenstored `lookup_watch_perm`: the permissions of `path`'s parent and of `path`, where they exist. */
function permsAround(peek: Peek, path: string): (readonly Perm[])[] {
  const nodes = path === '/' ? [peek('/')] : [peek(parentOf(path)), peek(path)];
  return nodes.filter((n): n is Node => n !== undefined).map((n) => n.perms);
}

/**
 * oxenstored `process_watch` + `can_fire_watch`: WRITE/MKDIR are judged on the tree after,
 * RM on the tree before, SET_PERMS on both; a path found in neither is told to nobody, not
 * even dom0 (observed for watches below a removed node).
 */
function oxPermitted(caller: Caller, event: NodeEvent, path: string, before: Peek, after: Peek): boolean {
  const lists = event.op === 'rm' ? permsAround(before, path) : event.op === 'perms' ? [...permsAround(before, path), ...permsAround(after, path)] : permsAround(after, path);
  return lists.length > 0 && readable(caller, lists);
}

/**
 * Who hears a batch of node events (one request, or one commit), judged against the tree
 * `before` and `after` the change; the caller sends them once the change is applied.
 * cx sends identical events queued together only once.
 */
export function matchNodeEvents(flavour: Flavour, watchers: Iterable<Watcher>, events: readonly NodeEvent[], before: Peek, after: Peek): Delivery[] {
  const out: Delivery[] = [];
  const ox = flavour.watchPerms === 'node-and-parent-before-and-after';
  for (const w of watchers) {
    const caller = w.caller();
    const sent = flavour.coalesceEvents ? new Set<string>() : undefined;
    const deliver = (path: string, token: string) => {
      if (sent) {
        const k = key(path, token);
        if (sent.has(k)) return;
        sent.add(k);
      }
      out.push({ watcher: w, path, token });
    };
    for (const event of events) {
      const mayHear = ox ? oxPermitted(caller, event, event.path, before, after) : readable(caller, event.perms);
      for (const watch of w.watches.values()) {
        if (isSpecial(watch.abs)) continue;
        if (event.subtree ? isAtOrBelow(event.path, watch.abs) : event.path === watch.abs) {
          if (mayHear) deliver(eventPathFor(caller, watch, event.path), watch.token);
        } else if (event.watchesBelow && isAtOrBelow(watch.abs, event.path)) {
          if (oxPermitted(caller, event, watch.abs, before, after)) deliver(watch.path, watch.token);
        }
      }
    }
  }
  return out;
}

/**
 * `@introduceDomain` / `@releaseDomain`: delivered to the watchers that may read the special
 * name's permissions (default `n0`: dom0 only). Observed on both daemons: a domU hears
 * `@introduceDomain` once dom0 gave it `r` there, and nothing by default.
 */
export function fireSpecialEvent(watchers: Iterable<Watcher>, name: string, perms: readonly Perm[] | undefined): void {
  for (const w of watchers) {
    if (!readable(w.caller(), perms ? [perms] : [])) continue;
    for (const watch of w.watches.values()) if (watch.abs === name) w.deliver(name, watch.token);
  }
}
