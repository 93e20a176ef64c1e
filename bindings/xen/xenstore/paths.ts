/**
 * Xenstore path rules (spec xen-hypervisor.md §10.4, xenstore-clients.md §6).
 *
 * A path is absolute (`/a/b`), relative (`a/b`, resolved under `/local/domain/<caller>`) or
 * special (`@introduceDomain`). Allowed characters are `A-Z a-z 0-9 - / _ @`; no `//`, no
 * trailing `/` except for `/` itself. The length limit depends on the flavour.
 */
import { fail } from '../../errors.js';
import type { Flavour } from './flavour.js';

const VALID = /^[A-Za-z0-9\-/_@]+$/;
const LOCAL_DOMAIN = /^\/local\/domain\/\d+\//;

/** `/local/domain/<domid>`: the home of a domain, where its relative paths go (GET_DOMAIN_PATH). */
export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

export function isSpecial(path: string): boolean {
  return path.startsWith('@');
}

/** Checks characters and shape; `what` names the path in the error message. */
function checkShape(path: string): void {
  if (path === '') fail('EINVAL', 'empty path');
  if (!VALID.test(path)) fail('EINVAL', `path ${JSON.stringify(path)} has a character outside [A-Za-z0-9-/_@]`);
  if (path.includes('//')) fail('EINVAL', `path ${JSON.stringify(path)} contains "//"`);
  if (path.length > 1 && path.endsWith('/')) fail('EINVAL', `path ${JSON.stringify(path)} ends with "/"`);
}

function checkLength(flavour: Flavour, path: string): void {
  const { stripLocalDomain, max } = flavour.pathMax;
  const counted = stripLocalDomain ? path.length - (LOCAL_DOMAIN.exec(path)?.[0].length ?? 0) : path.length;
  if (counted > max) fail('EINVAL', `path of ${path.length} bytes is longer than the ${flavour.name} limit of ${max}`);
}

/**
 * Canonical absolute node path of `path` as sent by domain `domid` (C xenstored `canonicalize`
 * plus `is_valid_nodename`). Special `@` paths are refused here unless the flavour stores them as
 * nodes (ox: `@x` is the child `/@x` of the root).
 */
export function canonicalNodePath(flavour: Flavour, domid: number, path: string): string {
  checkShape(path);
  let abs: string;
  if (path.startsWith('/')) abs = path;
  else if (isSpecial(path)) {
    if (flavour.specialPaths !== 'root-nodes') fail('EINVAL', `special path ${path} is not a node`);
    abs = `/${path}`;
  } else abs = `${domainPath(domid)}/${path}`;
  checkLength(flavour, abs);
  return abs;
}

/** A watch path: any node path, or any `@name` (both daemons accept `@bogus`, §6). */
export function canonicalWatchPath(flavour: Flavour, domid: number, path: string): string {
  if (isSpecial(path)) {
    checkShape(path);
    return path;
  }
  return canonicalNodePath(flavour, domid, path);
}

/** The parent of an absolute path (`/` for top-level nodes). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** `path` is `ancestor` or below it. */
export function isAtOrBelow(path: string, ancestor: string): boolean {
  if (ancestor === '/') return path.startsWith('/');
  return path === ancestor || (path.startsWith(ancestor) && path.charCodeAt(ancestor.length) === 47);
}

/** The path as the caller sees it: relative again if it was given relative (watch events, §10.6). */
export function relativeTo(domid: number, path: string): string {
  const home = `${domainPath(domid)}/`;
  return path.startsWith(home) ? path.slice(home.length) : path;
}
