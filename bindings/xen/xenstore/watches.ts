/**
 * Watches (spec xen-hypervisor.md §10.6, xenstore-clients.md §6): registration with duplicate
 * and quota checks, and which watches an event reaches with which path.
 */
import { fail } from '../../errors.js';
import type { Flavour } from './flavour.js';
import { canonicalWatchPath, domainPath, isAtOrBelow, isSpecial, parentOf, relativeTo } from './paths.js';
import { accessFor, type Caller, type Perm } from './perms.js';
import type { NodeEvent } from './tree.js';

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
  if (!caller.privileged && watcher.watches.size >= flavour.quota.watches) {
    fail(flavour.quota.error, `domain ${caller.domid} already has ${watcher.watches.size} watches (quota ${flavour.quota.watches})`);
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

/**
 * May this watcher learn of a change guarded by these permission lists (cx `watch_permitted`,
 * ox `can_fire_watch`)? ox finds nothing to check for a path that exists neither before nor
 * after, and then tells nobody, not even dom0 (observed for watches below a removed node).
 */
function permitted(flavour: Flavour, caller: Caller, perms: readonly (readonly Perm[] | undefined)[]): boolean {
  const lists = perms.filter((p): p is readonly Perm[] => p !== undefined);
  if (lists.length === 0 && flavour.watchPerms === 'node-and-parent-before-and-after') return false;
  return caller.privileged || lists.some((p) => accessFor(caller, p).read);
}

/** Fires one node event at every matching watch of every watcher. */
export function fireNodeEvent(flavour: Flavour, watchers: Iterable<Watcher>, event: NodeEvent): void {
  for (const w of watchers) {
    const caller = w.caller();
    const mayHear = permitted(flavour, caller, event.perms);
    const sent = flavour.coalesceEvents ? new Set<string>() : undefined;
    const deliver = (path: string, token: string) => {
      if (sent) {
        const k = `${path}\0${token}`;
        if (sent.has(k)) return;
        sent.add(k);
      }
      w.deliver(path, token);
    };
    for (const watch of w.watches.values()) {
      if (isSpecial(watch.abs)) continue;
      if (event.subtree ? isAtOrBelow(event.path, watch.abs) : event.path === watch.abs) {
        if (mayHear) deliver(eventPathFor(caller, watch, event.path), watch.token);
      } else if (event.watchesBelow && isAtOrBelow(watch.abs, event.path)) {
        if (permitted(flavour, caller, [event.watchesBelow.get(parentOf(watch.abs)), event.watchesBelow.get(watch.abs)])) deliver(watch.path, watch.token);
      }
    }
  }
}

/** `@introduceDomain` / `@releaseDomain`: only privileged watchers hear them (UNVERIFIED for domUs; chosen as the safe side). */
export function fireSpecialEvent(watchers: Iterable<Watcher>, name: string): void {
  for (const w of watchers) {
    if (!w.caller().privileged) continue;
    for (const watch of w.watches.values()) if (watch.abs === name) w.deliver(name, watch.token);
  }
}
