/**
 * NodeMask — a set of NUMA nodes, MAX_NUMNODES wide (Xen nodemask_t; 64 by default, so one
 * word). Same operations as {@link CpuMask}; Xen's nodemask ops use the full width for both
 * mutators and queries (spec xen-hypervisor.md §2.3), which is what `nbits = nrNodes` gives.
 */

import type { Engine } from '../engine.js';
import { Bitmap } from './bitmap.js';
import { formatCpulist } from './formats/cpulist.js';

export class NodeMask extends Bitmap {
  readonly kind = 'node' as const;
  constructor(engine: Engine, handle: number) {
    super(engine, handle, engine.nrNodes);
  }
  /** A new mask with the same bits. */
  clone(): NodeMask {
    return this.engine.nodemask().copy(this);
  }
  /** The list form, e.g. `0-1,5`. */
  toString(): string {
    return formatCpulist(this);
  }
}
