/**
 * Node permissions (spec xen-hypervisor.md §10.5): a list of `letter + domid` entries, `n`
 * none, `r` read, `w` write, `b` both. The first entry names the owner and is also the access
 * of every domain not listed after it.
 */
import { fail } from '../../errors.js';

export type PermLetter = 'n' | 'r' | 'w' | 'b';

export interface Perm {
  letter: PermLetter;
  domid: number;
}

/** What a caller may do on a node. */
export interface Access {
  read: boolean;
  write: boolean;
  /** Owner (or privileged): may change the permissions. */
  owner: boolean;
}

/** Who is asking: a domain, whether it is privileged, and its SET_TARGET target if any. */
export interface Caller {
  domid: number;
  privileged: boolean;
  target?: number;
}

const FULL: Access = { read: true, write: true, owner: true };

/** `xenstore_strings_to_perms`: `r5`, `b0`, … (domid parsed like strtol base 0). */
export function parsePerm(text: string): Perm {
  const letter = text[0];
  if (letter !== 'n' && letter !== 'r' && letter !== 'w' && letter !== 'b') fail('EINVAL', `permission ${JSON.stringify(text)} does not start with n, r, w or b`);
  const id = text.slice(1);
  const domid = /^0x[0-9a-f]+$/i.test(id) ? parseInt(id.slice(2), 16) : /^0[0-7]*$/.test(id) ? parseInt(id, 8) : /^[1-9][0-9]*$/.test(id) ? parseInt(id, 10) : NaN;
  if (!Number.isSafeInteger(domid) || domid > 0xffffffff) fail('EINVAL', `permission ${JSON.stringify(text)} has no valid domid`);
  return { letter, domid };
}

export function parsePerms(texts: readonly string[]): Perm[] {
  if (texts.length === 0) fail('EINVAL', 'a permission list needs at least the owner entry');
  return texts.map(parsePerm);
}

export function formatPerm(p: Perm): string {
  return `${p.letter}${p.domid}`;
}

function letterAccess(letter: PermLetter): Access {
  return { read: letter === 'r' || letter === 'b', write: letter === 'w' || letter === 'b', owner: false };
}

/** `perm_for_conn`: privileged ⇒ all; owner (or owner's controller by SET_TARGET) ⇒ all; else first matching entry; else the owner entry's letter. */
export function accessFor(caller: Caller, perms: readonly Perm[]): Access {
  if (caller.privileged) return FULL;
  const isMe = (id: number) => id === caller.domid || (caller.target !== undefined && id === caller.target);
  if (isMe(perms[0].domid)) return FULL;
  for (let i = 1; i < perms.length; i++) if (isMe(perms[i].domid)) return letterAccess(perms[i].letter);
  return letterAccess(perms[0].letter);
}

export function samePerms(a: readonly Perm[], b: readonly Perm[]): boolean {
  return a.length === b.length && a.every((p, i) => p.letter === b[i].letter && p.domid === b[i].domid);
}
