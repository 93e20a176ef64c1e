/**
 * CpuMask — a set of CPUs, nr_cpu_ids wide (Xen cpumask_t), resident in engine memory.
 * Every operation and its Xen name is in {@link Bitmap}; create one with
 * `engine.cpumask()`, `cpumaskAll()`, `cpumaskOf(c)` or `cpumaskFrom(ids)`.
 */

import type { Engine } from '../engine.js';
import { Bitmap } from './bitmap.js';
import { formatCpulist } from './formats/cpulist.js';

export class CpuMask extends Bitmap {
  readonly kind = 'cpu' as const;
  constructor(engine: Engine, handle: number) {
    super(engine, handle, engine.nrCpuIds);
  }
  /** A new mask with the same bits. */
  clone(): CpuMask {
    return this.engine.cpumask().copy(this);
  }
  /** The cpulist form, e.g. `0-3,8` (Linux sysfs / taskset -c). */
  toString(): string {
    return formatCpulist(this);
  }
}
