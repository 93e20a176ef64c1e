/**
 * hwloc bitmap strings (hwloc_bitmap_snprintf / _sscanf): comma-separated 32-bit groups, most
 * significant first, each `0x%08x` — except that zero groups below the top one print as empty
 * (`0x00000001,,0x0` is bit 64) and a zero lowest group prints as `0x0`; the empty set is
 * `0x0`. Checked against hwloc-calc 2.9 in the tests. And hwloc's taskset form
 * (hwloc_bitmap_taskset_snprintf): one hex number, `0x` + digits without leading zeros.
 * hwloc's infinite bitmaps (`0xf...f`) do not arise for finite masks; on input `0xf...f`
 * means "every bit of the width".
 */

import { fail } from '../../errors.js';
import type { Bitmap } from '../bitmap.js';
import { setWordsChecked } from './linux-hex.js';

export function formatHwlocBitmap(m: Bitmap): string {
  const w = m.toWords();
  let top = w.length - 1;
  while (top > 0 && w[top] === 0) top--;
  if (top === 0 && w[0] === 0) return '0x0';
  const out: string[] = [];
  for (let i = top; i >= 0; i--) {
    if (i < top && w[i] === 0) out.push(i === 0 ? '0x0' : '');
    else out.push('0x' + (w[i] >>> 0).toString(16).padStart(8, '0'));
  }
  return out.join(',');
}

export function formatHwlocTaskset(m: Bitmap): string {
  const w = m.toWords();
  let top = w.length - 1;
  while (top > 0 && w[top] === 0) top--;
  let s = (w[top] >>> 0).toString(16);
  for (let i = top - 1; i >= 0; i--) s += (w[i] >>> 0).toString(16).padStart(8, '0');
  return '0x' + s;
}

/** Parses either hwloc form into `m`. EINVAL if malformed, ERANGE for bits beyond the width. */
export function parseHwlocBitmap<M extends Bitmap>(m: M, text: string): M {
  if (typeof text !== 'string') fail('EINVAL', 'hwloc bitmap must be a string');
  const s = text.trim();
  if (/^0xf\.\.\.f$/i.test(s)) return m.setAll() as M;
  if (/^0x[0-9a-fA-F]{1,8}(,(0x[0-9a-fA-F]{1,8})?)+$/.test(s) || /^0x[0-9a-fA-F]{1,8}$/.test(s)) {
    return setWordsChecked(m, s.split(',').reverse().map((g) => (g === '' ? 0 : parseInt(g.slice(2), 16) >>> 0)), text);
  }
  const t = /^0x([0-9a-fA-F]+)$/.exec(s);
  if (!t) fail('EINVAL', `${JSON.stringify(text)} is not an hwloc bitmap (0x…,0x… or 0x…)`);
  const hex = t[1];
  const words: number[] = [];
  for (let end = hex.length; end > 0; end -= 8) words.push(parseInt(hex.slice(Math.max(0, end - 8), end), 16) >>> 0);
  return setWordsChecked(m, words, text);
}
