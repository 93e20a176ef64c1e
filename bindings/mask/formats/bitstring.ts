/**
 * The xenguest bit-string (spec xenopsd-xenguest.md §5-6): one character per CPU, CPU 0
 * leftmost, written by xenopsd into `platform/vcpu/<n>/affinity`. xenguest's configure_vcpus
 * reads at most cpumap-size·8 characters and sets bit j only when character j is `'1'`; any
 * other character means "not set" and is not an error.
 */

import { fail } from '../../errors.js';
import type { Engine } from '../../engine.js';
import type { CpuMask } from '../cpumask.js';

/** xenopsd's string: nr_cpu_ids characters, '1' at each member. */
export function formatBitString(m: CpuMask): string {
  const chars = new Array<string>(m.nbits).fill('0');
  for (const c of m.toArray()) chars[c] = '1';
  return chars.join('');
}

/** configure_vcpus step 2a-b: the byte cpumap (libxenctrl layout) of a bit-string, `bytes` long. */
export function bitStringToCpumap(s: string, bytes: number): Uint8Array {
  if (typeof s !== 'string') fail('EINVAL', 'bit-string must be a string');
  const map = new Uint8Array(bytes);
  const len = Math.min(s.length, bytes * 8);
  for (let j = 0; j < len; j++) if (s.charCodeAt(j) === 0x31) map[j >>> 3] |= 1 << (j & 7);
  return map;
}

/** A CpuMask of a bit-string read as xenguest reads it (characters beyond the CPUs ignored). */
export function parseBitString(engine: Engine, s: string): CpuMask {
  if (typeof s !== 'string') fail('EINVAL', 'bit-string must be a string');
  const ids: number[] = [];
  const len = Math.min(s.length, engine.nrCpuIds);
  for (let j = 0; j < len; j++) if (s.charCodeAt(j) === 0x31) ids.push(j);
  return engine.cpumaskFrom(ids);
}
