/**
 * Linux hex mask: comma-separated 32-bit groups, most significant first — what
 * /proc/<pid>/status Cpus_allowed and `taskset -p` print, and Xen's `%*pb` (spec
 * xen-hypervisor.md §9.2): the first group is zero-padded to the digits its bits need,
 * later groups to 8 digits (40 bits holding {0-3} print as `00,0000000f`).
 */

import { fail } from '../../errors.js';
import type { Bitmap } from '../bitmap.js';

export function formatLinuxHex(m: Bitmap): string {
  const words = m.toWords();
  const groups = Math.ceil(m.nbits / 32);
  const out: string[] = [];
  for (let g = groups - 1; g >= 0; g--) {
    const bitsInGroup = g === groups - 1 ? m.nbits - 32 * g : 32;
    const digits = g === groups - 1 ? Math.ceil(bitsInGroup / 4) : 8;
    out.push((words[g] >>> 0).toString(16).padStart(digits, '0'));
  }
  return out.join(',');
}

/** Parses into `m` (replacing its bits). EINVAL for malformed text, ERANGE for set bits at or above m.nbits. */
export function parseLinuxHex<M extends Bitmap>(m: M, text: string): M {
  if (typeof text !== 'string') fail('EINVAL', 'hex mask must be a string');
  const s = text.trim();
  if (!/^[0-9a-fA-F]{1,8}(,[0-9a-fA-F]{1,8})*$/.test(s)) fail('EINVAL', `hex mask ${JSON.stringify(text)} is not comma-separated groups of 1-8 hex digits`);
  const groups = s.split(',').reverse().map((g) => parseInt(g, 16) >>> 0);
  return setWordsChecked(m, groups, text);
}

/** Sets `m` from 32-bit words, rejecting set bits beyond the width with ERANGE. */
export function setWordsChecked<M extends Bitmap>(m: M, words: number[], text: string): M {
  const n = m.nwords * 2;
  for (let i = 0; i < words.length; i++) {
    const limit = i < n ? Math.max(0, Math.min(32, m.nbits - 32 * i)) : 0;
    const stray = limit === 32 ? 0 : words[i] >>> limit;
    if (stray !== 0) fail('ERANGE', `${JSON.stringify(text)} sets bits at or above ${m.nbits}`);
  }
  return m.setWords(words.slice(0, n));
}
