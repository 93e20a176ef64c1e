/**
 * Interned CPU masks: equal masks share one slot, so memory and work grow with the number of
 * *distinct* masks rather than with the number of users. A host has few distinct affinities
 * (all CPUs, one per node or socket, a few pins) but may have tens of thousands of vCPUs or
 * LWPs holding them; the Xen and Solaris models store interned handles per vCPU/LWP.
 *
 * Interned masks are immutable and canonical (bits ≥ nr_cpu_ids cleared — invisible to every
 * query, spec xen-hypervisor.md §2.1). A handle stays valid while its reference count is > 0.
 */

import { fail } from '../errors.js';
import type { Engine } from '../engine.js';
import { CpuMask } from './cpumask.js';

export class InternTable {
  private readonly buckets = new Map<number, number[]>();
  private readonly refs = new Map<number, number>();
  /** Each interned handle's hash, so that releasing it does not hash it again. */
  private readonly hashes = new Map<number, number>();

  constructor(private readonly engine: Engine) {}

  /** Number of distinct masks held. */
  get size(): number {
    return this.refs.size;
  }

  /** The shared handle of a mask equal to `m` (taking one reference). `m` itself is not kept. */
  intern(m: CpuMask | number): number {
    const e = this.engine;
    const src = typeof m === 'number' ? m : m.handle;
    const hash = e.k.hash(src, e.nrCpuIds) >>> 0;
    let bucket = this.buckets.get(hash);
    if (bucket) {
      for (const h of bucket) {
        if (e.k.equal(h, src, e.nrCpuIds)) {
          this.refs.set(h, this.refs.get(h)! + 1);
          return h;
        }
      }
    } else {
      this.buckets.set(hash, (bucket = []));
    }
    const h = e.alloc(e.cpuWords * 8);
    e.k.copy(h, src, e.cpuWords);
    e.k.clearTail(h, e.nrCpuIds);
    bucket.push(h);
    this.refs.set(h, 1);
    this.hashes.set(h, hash);
    return h;
  }

  /** Takes one more reference to an interned handle. */
  retain(h: number): number {
    const n = this.refs.get(h);
    if (n === undefined) fail('EINVAL', `handle ${h} is not an interned mask`);
    this.refs.set(h, n + 1);
    return h;
  }

  /** Drops one reference; the slot is freed with the last one. */
  release(h: number): void {
    const n = this.refs.get(h);
    if (n === undefined) fail('EINVAL', `handle ${h} is not an interned mask`);
    if (n > 1) {
      this.refs.set(h, n - 1);
      return;
    }
    const e = this.engine;
    const hash = this.hashes.get(h)!;
    const bucket = this.buckets.get(hash)!;
    bucket.splice(bucket.indexOf(h), 1);
    if (bucket.length === 0) this.buckets.delete(hash);
    this.refs.delete(h);
    this.hashes.delete(h);
    e.release(h, e.cpuWords * 8);
  }

  /** References held on `h` (0 when it is not interned). */
  refCount(h: number): number {
    return this.refs.get(h) ?? 0;
  }

  /** A read-only view of an interned mask (do not mutate or free it). */
  view(h: number): CpuMask {
    if (!this.refs.has(h)) fail('EINVAL', `handle ${h} is not an interned mask`);
    return new CpuMask(this.engine, h);
  }
}
