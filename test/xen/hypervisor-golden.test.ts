// The golden vectors of spec xen-hypervisor.md §11, through the hypercall layer (byte maps,
// -errno), on its host: node0 = CPUs 0-3, node1 = CPUs 4-7, one pool, sched-gran=cpu.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../bindings/engine.js';
import { ERRNO } from '../../bindings/errors.js';
import { Topology } from '../../bindings/topology/topology.js';
import { createHypervisor } from '../../bindings/xen/hypervisor/hypervisor.js';
import {
  getNodeAffinityDomctl, getVcpuAffinity, setNodeAffinityDomctl, setVcpuAffinity,
  XEN_VCPUAFFINITY_HARD as HARD, XEN_VCPUAFFINITY_SOFT as SOFT,
} from '../../bindings/xen/hypervisor/domctl.js';

const KINDS = ['wasm', 'ts'] as const;
const byte = (...cpus: number[]) => new Uint8Array([cpus.reduce((b, c) => b | (1 << c), 0)]);
const map = (bytes: Uint8Array, nrBits = bytes.length * 8) => ({ bytes, nrBits });
const nodemap = (...nodes: number[]) => {
  const b = new Uint8Array(8);
  for (const n of nodes) b[n >> 3] |= 1 << (n & 7);
  return map(b, 64);
};
const nodesOf = (b: Uint8Array) => [...Array(64).keys()].filter((n) => b[n >> 3] & (1 << (n & 7)));

describe.each(KINDS)('§11 golden vectors (%s kernels)', (kernels) => {
  const host = () => {
    const topology = Topology.fromSynthetic('node:2 core:4 pu:1');
    const engine = createEngine({ nrCpus: 8, kernels });
    const hv = createHypervisor({ engine, topology, dom0: false });
    const domid = hv.createDomain({ maxVcpus: 2 });
    return { hv, s: hv.state, domid };
  };
  const nodeAff = (s: ReturnType<typeof host>['s'], domid: number) => {
    const m = nodemap();
    expect(getNodeAffinityDomctl(s, domid, m)).toBe(0);
    return nodesOf(m.bytes!);
  };

  it('fresh domain before max_vcpus: all 64 node bits', () => {
    const { s, domid } = host();
    expect(nodeAff(s, domid)).toHaveLength(64);
  });

  it('after max_vcpus: node affinity {0,1}, hard = soft = CPUs 0-7', () => {
    const { hv, s, domid } = host();
    hv.maxVcpus(domid, 2);
    expect(nodeAff(s, domid)).toEqual([0, 1]);
    const h = map(new Uint8Array(1)), so = map(new Uint8Array(1));
    expect(getVcpuAffinity(s, domid, 0, HARD | SOFT, h, so)).toBe(0);
    expect([h.bytes![0], so.bytes![0]]).toEqual([0xff, 0xff]);
  });

  it('the sequence of §11: soft {4,5}, union before intersection, fallback to hard, EINVAL, empty soft', () => {
    const { hv, s, domid } = host();
    hv.maxVcpus(domid, 2);
    for (const v of [0, 1]) {
      const h = map(byte(0, 1, 2, 3, 4, 5, 6, 7)), so = map(byte(4, 5));
      expect(setVcpuAffinity(s, domid, v, HARD | SOFT, h, so)).toBe(0);
      expect([h.bytes![0], so.bytes![0]]).toEqual([0xff, 0x30]);
    }
    expect(nodeAff(s, domid)).toEqual([1]);
    const h0 = map(byte(0, 1, 2, 3));
    expect(setVcpuAffinity(s, domid, 0, HARD, h0, null)).toBe(0);
    expect(h0.bytes![0]).toBe(0x0f);
    expect(nodeAff(s, domid)).toEqual([1]); // S = {4,5} ∩ ({0-3} ∪ {0-7}) survives through v1
    expect(setVcpuAffinity(s, domid, 1, HARD, map(byte(0, 1, 2, 3)), null)).toBe(0);
    expect(nodeAff(s, domid)).toEqual([0]); // soft ∩ hard empty for the whole domain: fall back to hard
    // hard {9} in a 2-byte map: byte 1 is dropped, the mask is empty ⇒ EINVAL, nothing changes.
    const nine = map(new Uint8Array([0, 2]), 16);
    expect(setVcpuAffinity(s, domid, 0, HARD, nine, null)).toBe(-ERRNO.EINVAL);
    expect(Array.from(nine.bytes!)).toEqual([0, 2]);
    const g = map(new Uint8Array(1));
    getVcpuAffinity(s, domid, 0, HARD, g, null);
    expect(g.bytes![0]).toBe(0x0f);
    const h3 = map(byte(3)), empty = map(byte());
    expect(setVcpuAffinity(s, domid, 0, HARD | SOFT, h3, empty)).toBe(0);
    expect([h3.bytes![0], empty.bytes![0]]).toEqual([0x08, 0x00]);
  });

  it('explicit node affinity, offline-only and partly offline node maps, reset to automatic', () => {
    const { hv, s, domid } = host();
    hv.maxVcpus(domid, 2);
    expect(setNodeAffinityDomctl(s, domid, nodemap(1))).toBe(0);
    expect(s.domains.get(domid)!.autoNodeAffinity).toBe(false);
    expect(setVcpuAffinity(s, domid, 0, HARD, map(byte(0)), null)).toBe(0);
    expect(setVcpuAffinity(s, domid, 1, HARD, map(byte(1)), null)).toBe(0);
    expect(nodeAff(s, domid)).toEqual([1]);
    expect(setNodeAffinityDomctl(s, domid, nodemap(5))).toBe(-ERRNO.EINVAL);
    expect(setNodeAffinityDomctl(s, domid, nodemap(1, 5))).toBe(0);
    expect(nodeAff(s, domid)).toEqual([1, 5]);
    const all = map(new Uint8Array(8).fill(0xff), 64);
    expect(setNodeAffinityDomctl(s, domid, all)).toBe(0);
    expect(s.domains.get(domid)!.autoNodeAffinity).toBe(true);
    expect(nodeAff(s, domid)).toEqual([0]);
  });

  it('bad vCPU index: EINVAL at max_vcpus, ESRCH below it when not created', () => {
    const { hv, s } = host();
    const d = hv.createDomain({ maxVcpus: 4 });
    hv.maxVcpus(d, 2);
    expect(setVcpuAffinity(s, d, 4, HARD, map(byte(0)), null)).toBe(-ERRNO.EINVAL);
    expect(setVcpuAffinity(s, d, 2, HARD, map(byte(0)), null)).toBe(-ERRNO.ESRCH);
    expect(setVcpuAffinity(s, d, -1, HARD, map(byte(0)), null)).toBe(-ERRNO.EINVAL);
    expect(setVcpuAffinity(s, 99, 0, HARD, map(byte(0)), null)).toBe(-ERRNO.ESRCH);
  });

  it('pool move resets hard and soft to all; CPU removal breaks a lone pin', () => {
    const { hv, s, domid } = host();
    hv.maxVcpus(domid, 2);
    for (const c of [4, 5, 6, 7]) hv.cpupoolRemoveCpu(0, c);
    const p = hv.cpupoolCreate();
    for (const c of [4, 5, 6, 7]) hv.cpupoolAddCpu(p, c);
    setVcpuAffinity(s, domid, 0, HARD | SOFT, map(byte(4)), map(byte(5)));
    hv.cpupoolMoveDomain(p, domid);
    const a = hv.getVcpuAffinity(domid, 0);
    expect([a.hard.weight(), a.soft.weight()]).toEqual([8, 8]);
    expect(nodeAff(s, domid)).toEqual([1]);
    // Back in pool 0 with CPUs 0-3: pin v0 to CPU 3, then take CPU 3 away.
    hv.cpupoolMoveDomain(0, domid);
    expect(setVcpuAffinity(s, domid, 0, HARD, map(byte(3)), null)).toBe(0);
    hv.cpupoolRemoveCpu(0, 3);
    expect(hv.getVcpuAffinity(domid, 0).hard.weight()).toBe(8);
    expect(s.log).toContain(`Breaking affinity for d${domid}v0`);
    expect(nodeAff(s, domid)).toEqual([0]);
  });
});
