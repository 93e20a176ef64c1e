import { describe, expect, it } from 'vitest';
import { AffinityError } from '../../../bindings/errors.js';
import type { ToolstackXenctrl } from '../../../bindings/xen/xenopsd/build.js';
import { chain, errorOf, exampleSlit, GiB, hostSpec, OPTERON_SLIT, range } from './fixtures.js';

/** 4 nodes × 4 CPUs (2 cores each), SLIT 10 + 11·|i−j|, 16 GiB per node. */
const host4 = (memPerNode = 16 * GiB) => hostSpec(exampleSlit(4), 4, memPerNode);
const ALL16 = range(0, 16);
const ONES16 = '1'.repeat(16);

/** Records each xc_vcpu_setaffinity (kind, vCPU, map) with the domain's node affinity right after it, and the memory build. */
function recorder() {
  const events: string[] = [];
  const wrap = (xc: ToolstackXenctrl): ToolstackXenctrl => ({
    ...xc,
    vcpuSetAffinity(domid, vcpu, hard, soft, flags) {
      xc.vcpuSetAffinity(domid, vcpu, hard, soft, flags);
      const nodes: number[] = [];
      xc.domainNodeGetAffinity(domid).forEach((b, i) => {
        for (let k = 0; k < 8; k++) if (b & (1 << k)) nodes.push(i * 8 + k);
      });
      events.push(`${hard ? 'hard' : 'soft'} v${vcpu} → nodes ${nodes.join(',')}`);
    },
    populateGuestMemory(domid, bytes) {
      events.push(`populate ${bytes / GiB} GiB`);
      xc.populateGuestMemory(domid, bytes);
    },
  });
  return { events, wrap };
}

describe('reference mode (the flowchart\'s xen-api) on a 4-node host', () => {
  it('default_policy is Any: no placement; hard = soft = all; node affinity all; Xenstore holds all-ones strings', () => {
    const { ts, hv } = chain(host4());
    const domid = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 });
    const r = ts.vmBuild(domid);
    expect(r).toMatchObject({ mode: 'reference', policy: 'Any', placementSkipped: 'policy-any' });
    expect(r.placement).toBeUndefined();
    const v = ts.inspect(domid);
    expect(v.vcpus).toEqual([{ hard: ALL16, soft: ALL16 }, { hard: ALL16, soft: ALL16 }]);
    expect(v.nodeAffinity).toEqual([0, 1, 2, 3]);
    expect(v.platform).toEqual({
      acpi: '0', // written back by xenguest's hvmloader_flag: the key was missing
      acpi_s3: '0',
      acpi_s4: '0',
      'vcpu/number': '2',
      'vcpu/current': '2',
      'vcpu/0/affinity': ONES16,
      'vcpu/1/affinity': ONES16,
      'vcpu/weight': '256',
      'vcpu/cap': '0',
    });
    expect([...hv.domain(domid).memory]).toEqual([[0, GiB]]);
  });

  it('best_effort: soft = the planned node, hard = all (xenguest), node affinity = the plan; Xenstore unchanged by placement', () => {
    const { ts, hv } = chain(host4(), { numaAffinityPolicy: 'best_effort' });
    const landed: number[][] = [];
    for (let i = 0; i < 5; i++) {
      const domid = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 });
      const r = ts.vmBuild(domid);
      expect(r.policy).toBe('Best_effort');
      expect(r.placement).toMatchObject({ request: { memory: 1025 * 2 ** 20, vcpus: 2, cores: 0 }, affinitySet: 'soft', memPnode: null });
      const node = r.placement!.plan!.nodes[0]!;
      const v = ts.inspect(domid);
      expect(v.vcpus).toEqual([0, 1].map(() => ({ hard: ALL16, soft: range(4 * node, 4 * node + 4) })));
      expect(v.nodeAffinity).toEqual([node]);
      expect(v.platform['vcpu/0/affinity']).toBe(ONES16);
      // The memory build follows the node affinity.
      expect([...hv.domain(domid).memory]).toEqual([[node, GiB]]);
      landed.push(r.placement!.plan!.nodes as number[]);
    }
    expect(landed).toEqual([[0], [1], [2], [3], [0]]);
    expect(ts.vmBuild(ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 })).nodeUsage).toEqual([2, 2, 1, 1]);
  });

  it('a user mask: placement skipped, hard = the mask through the Xenstore bit-string, soft = all', () => {
    const { ts } = chain(host4(), { numaAffinityPolicy: 'best_effort' });
    const domid = ts.vmCreate({ vcpusMax: 3, memoryStaticMaxMib: 1024, vcpusParams: { mask: '4,5;9' } });
    const r = ts.vmBuild(domid);
    expect(r.placementSkipped).toBe('user-hard-affinity');
    expect(r.log).toContain('VM has hard affinity set, skipping NUMA optimization');
    const v = ts.inspect(domid);
    expect(v.vcpus.map((x) => x.hard)).toEqual([[4, 5], [9], [4, 5]]);
    expect(v.vcpus.map((x) => x.soft)).toEqual([ALL16, ALL16, ALL16]);
    expect(v.nodeAffinity).toEqual([1, 2]);
    expect(v.platform['vcpu/0/affinity']).toBe('0000110000000000');
    expect(v.platform['vcpu/1/affinity']).toBe('0000000001000000');
    expect(Array.from(ts.numaHost()!.nodeUsage)).toEqual([0, 0, 0, 0]);
  });

  it('a VM too big for any node set: no placement, no error', () => {
    const { ts } = chain(host4(), { numaAffinityPolicy: 'best_effort' });
    const domid = ts.vmCreate({ vcpusMax: 17, memoryStaticMaxMib: 1024 });
    const r = ts.vmBuild(domid);
    expect(r.placement).toMatchObject({ plan: null, affinitySet: null });
    expect(r.log).toContain(`NUMA-aware placement failed for domid ${domid}`);
    const v = ts.inspect(domid);
    expect(v.vcpus.every((x) => x.soft.length === 16 && x.hard.length === 16)).toBe(true);
    expect(v.nodeAffinity).toEqual([0, 1, 2, 3]);
    expect(Array.from(ts.numaHost()!.nodeUsage)).toEqual([0, 0, 0, 0]);
  });

  it('order of effects (spec §1.1 item 6): xenopsd sets soft first, xenguest then sets hard, memory comes last', () => {
    const rec = recorder();
    const { ts } = chain(host4(), { numaAffinityPolicy: 'best_effort', wrapXc: rec.wrap });
    ts.vmBuild(ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 }));
    // Node affinity unions all vCPUs before intersecting (hypervisor spec §3.6): v1 still has soft = all after v0's call.
    expect(rec.events).toEqual(['soft v0 → nodes 0,1,2,3', 'soft v1 → nodes 0', 'hard v0 → nodes 0', 'hard v1 → nodes 0', 'populate 1 GiB']);
  });

  it('order of effects with a user mask: only xenguest\'s hard calls, then memory', () => {
    const rec = recorder();
    const { ts } = chain(host4(), { numaAffinityPolicy: 'best_effort', wrapXc: rec.wrap });
    ts.vmBuild(ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024, vcpusParams: { mask: '8' } }));
    expect(rec.events).toEqual(['hard v0 → nodes 0,1,2,3', 'hard v1 → nodes 2', 'populate 1 GiB']);
  });

  it('the running-minimum quirk: freed memory is never seen again, so placement degrades to whole-host plans', () => {
    const { ts, hv } = chain(host4(4 * GiB), { numaAffinityPolicy: 'best_effort' });
    const vm = { vcpusMax: 1, memoryStaticMaxMib: 3072 };
    const first = [0, 1, 2, 3].map(() => {
      const d = ts.vmCreate(vm);
      return { d, nodes: ts.vmBuild(d).placement!.plan!.nodes };
    });
    expect(first.map((x) => x.nodes)).toEqual([[0], [1], [2], [3]]);
    for (const { d } of first) ts.vmDestroy(d);
    expect(Array.from(hv.state.nodeFree)).toEqual([4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB]);
    // Xen has all memory back, but the planner still sees the minimum of what it observed.
    const a = ts.vmBuild(ts.vmCreate(vm));
    expect(a.placement!.memfree).toEqual([GiB, GiB, GiB, 4 * GiB]);
    expect(a.placement!.plan!.nodes).toEqual([3]);
    expect(Array.from(hv.state.nodeFree)).toEqual([4 * GiB, 4 * GiB, 4 * GiB, GiB]);
    const b = ts.vmBuild(ts.vmCreate(vm));
    expect(b.placement!.memfree).toEqual([GiB, GiB, GiB, GiB]);
    expect(b.placement!.plan!.nodes).toEqual([3, 2, 1, 0]);
  });

  it('the same sequence in latest mode sees the freed memory (CA-411684 fixed)', () => {
    const { ts } = chain(host4(4 * GiB), { mode: 'latest', numaAffinityPolicy: 'best_effort' });
    const vm = { vcpusMax: 1, memoryStaticMaxMib: 3072 };
    const built = [0, 1, 2, 3].map(() => ts.vmCreate(vm));
    built.forEach((d) => ts.vmBuild(d));
    built.forEach((d) => ts.vmDestroy(d));
    ts.vmBuild(ts.vmCreate(vm));
    const b = ts.vmBuild(ts.vmCreate(vm));
    // The fifth VM went to node 0 (all counters equal), and the planner sees exactly what Xen reports.
    expect(b.placement!.memfree).toEqual([GiB, 4 * GiB, 4 * GiB, 4 * GiB]);
    expect(b.placement!.plan!.nodes).toEqual([1]);
  });
});

describe('balancing through the whole chain', () => {
  it.each(['reference', 'latest'] as const)('%s: 100 identical VMs on 4 equal nodes land 25/25/25/25 (counters and node affinity)', (mode) => {
    const equal = [[10, 20, 20, 20], [20, 10, 20, 20], [20, 20, 10, 20], [20, 20, 20, 10]];
    const { ts } = chain(hostSpec(equal, 4, 64 * GiB), { mode, numaAffinityPolicy: 'best_effort' });
    const perNode = [0, 0, 0, 0];
    let last: number[] = [];
    for (let i = 0; i < 100; i++) {
      const domid = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 512 });
      last = ts.vmBuild(domid).nodeUsage;
      const nodes = ts.inspect(domid).nodeAffinity;
      expect(nodes).toHaveLength(1);
      perNode[nodes[0]!]!++;
    }
    expect(last).toEqual([25, 25, 25, 25]);
    expect(perNode).toEqual([25, 25, 25, 25]);
  });
});

describe('latest mode on a 4-node host', () => {
  it('default_policy is Best_effort with cores = vCPUs; per-node claims unsupported ⇒ soft affinity anyway, host-wide claim error ignored', () => {
    const { ts } = chain(host4(), { mode: 'latest' });
    const domid = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 });
    const r = ts.vmBuild(domid);
    expect(r.policy).toBe('Best_effort');
    expect(r.placement).toMatchObject({
      request: { memory: GiB, vcpus: 2, cores: 2 },
      plan: { nodes: [0] },
      nodeClaim: { node: 0, pages: GiB / 4096, result: 'ENOSYS' },
      affinitySet: 'soft',
      memPnode: null,
    });
    expect(r.globalClaim).toEqual({ pages: GiB / 4096, result: 'ENOSYS' });
    expect(r.xenguestArgs.memPnode).toBeUndefined();
    const v = ts.inspect(domid);
    expect(v.vcpus).toEqual([0, 1].map(() => ({ hard: ALL16, soft: range(0, 4) })));
    expect(v.nodeAffinity).toEqual([0]);
    // No vcpu/<n>/affinity keys in latest mode.
    expect(v.platform).toEqual({ acpi: '0', acpi_s3: '0', acpi_s4: '0', 'vcpu/number': '2', 'vcpu/current': '2', 'vcpu/weight': '256', 'vcpu/cap': '0' });
  });

  it('Best_effort: a VM needing more cores than a node has gets a 2-node plan, which latest mode drops (counters still grow)', () => {
    const { ts } = chain(host4(), { mode: 'latest' });
    const domid = ts.vmCreate({ vcpusMax: 4, memoryStaticMaxMib: 1024 });
    const r = ts.vmBuild(domid);
    expect(r.placement).toMatchObject({ request: { cores: 4 }, plan: { nodes: [1, 0] }, affinitySet: null });
    expect(r.log).toContain("can't fit a single NUMA node, falling back to default behaviour");
    const v = ts.inspect(domid);
    expect(v.vcpus.every((x) => x.soft.length === 16 && x.hard.length === 16)).toBe(true);
    expect(v.nodeAffinity).toEqual([0, 1, 2, 3]);
    expect(Array.from(ts.numaHost()!.nodeUsage)).toEqual([1, 1, 0, 0]);
  });

  it('Prio_mem_only (xenopsd.conf): no cores requested, so the same VM fits one node', () => {
    const { ts } = chain(host4(), { mode: 'latest', conf: { numaBestEffortPrioMemOnly: true } });
    const domid = ts.vmCreate({ vcpusMax: 4, memoryStaticMaxMib: 1024 });
    const r = ts.vmBuild(domid);
    expect(r.policy).toBe('Prio_mem_only');
    expect(r.placement).toMatchObject({ request: { cores: 0 }, plan: { nodes: [0] }, affinitySet: 'soft' });
    expect(ts.inspect(domid).vcpus.map((x) => x.soft)).toEqual(new Array(4).fill(range(0, 4)));
  });

  it('Best_effort_hard (restrict_hard_numa=false): hard = the node, soft = all', () => {
    const { ts } = chain(host4(), { mode: 'latest', numaAffinityPolicy: 'best_effort', restrictions: { restrict_hard_numa: 'false' } });
    const domid = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 });
    const r = ts.vmBuild(domid);
    expect(r.policy).toBe('Best_effort_hard');
    expect(r.placement).toMatchObject({ plan: { nodes: [0] }, affinitySet: 'hard' });
    const v = ts.inspect(domid);
    expect(v.vcpus).toEqual([0, 1].map(() => ({ hard: range(0, 4), soft: ALL16 })));
    expect(v.nodeAffinity).toEqual([0]);
  });

  it('a user mask: xenopsd applies it as hard affinity itself (nothing in Xenstore), placement skipped', () => {
    const rec = recorder();
    const { ts } = chain(host4(), { mode: 'latest', wrapXc: rec.wrap });
    const domid = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024, vcpusParams: { mask: '4,5,99' } });
    const r = ts.vmBuild(domid);
    expect(r.placementSkipped).toBe('user-hard-affinity');
    expect(r.globalClaim).toBeUndefined();
    const v = ts.inspect(domid);
    expect(v.vcpus).toEqual([0, 1].map(() => ({ hard: [4, 5], soft: ALL16 })));
    expect(v.nodeAffinity).toEqual([1]);
    expect(Object.keys(v.platform).filter((k) => k.endsWith('/affinity'))).toEqual([]);
    expect(rec.events).toEqual(['hard v0 → nodes 0,1,2,3', 'hard v1 → nodes 1', 'populate 1 GiB']);
  });

  it('too big: no plan, host-wide claim, no error', () => {
    const { ts } = chain(host4(), { mode: 'latest' });
    const r = ts.vmBuild(ts.vmCreate({ vcpusMax: 17, memoryStaticMaxMib: 1024 }));
    expect(r.placement).toMatchObject({ plan: null, affinitySet: null });
    expect(r.globalClaim).toMatchObject({ result: 'ENOSYS' });
  });

  it('an empty user mask (VM 2,3 ∩ host 0,1) fails the build with the raw xc_vcpu_setaffinity error', () => {
    const { ts } = chain(host4(), { mode: 'latest', guestVcpusParams: { mask: '0,1' } });
    const domid = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024, vcpusParams: { mask: '2,3' } });
    const e = errorOf(() => ts.vmBuild(domid));
    expect(e.errno).toBe('EINVAL');
    expect(e.message).toBe('EINVAL: xc_vcpu_setaffinity returned -1, errno 22');
  });
});

describe('the 8-node Opteron SLIT of spec §4.5', () => {
  const opteron = () => hostSpec(OPTERON_SLIT, 4);
  const pairs = [[1, 0], [3, 2], [5, 4], [7, 6]];

  it('reference best_effort: 5-vCPU VMs take node pairs [1,0] [3,2] [5,4] [7,6]; node affinity = the pair', () => {
    const { ts } = chain(opteron(), { numaAffinityPolicy: 'best_effort' });
    for (const pair of pairs) {
      const domid = ts.vmCreate({ vcpusMax: 5, memoryStaticMaxMib: 1024 });
      const r = ts.vmBuild(domid);
      expect(r.placement!.plan!.nodes).toEqual(pair);
      const v = ts.inspect(domid);
      const cpus = [...pair].reverse().flatMap((n) => range(4 * n, 4 * n + 4));
      expect(v.vcpus.every((x) => JSON.stringify(x.soft) === JSON.stringify(cpus) && x.hard.length === 32)).toBe(true);
      expect(v.nodeAffinity).toEqual([...pair].reverse());
    }
  });

  it('latest Best_effort drops the same pairs (multi-node), Prio_mem_only places 3-vCPU VMs on single nodes', () => {
    const a = chain(opteron(), { mode: 'latest' });
    const r = a.ts.vmBuild(a.ts.vmCreate({ vcpusMax: 5, memoryStaticMaxMib: 1024 }));
    expect(r.placement).toMatchObject({ affinitySet: null });
    expect(r.placement!.plan!.nodes.length).toBeGreaterThan(1);
    const b = chain(opteron(), { mode: 'latest', conf: { numaBestEffortPrioMemOnly: true } });
    for (const node of [0, 1, 2]) {
      const domid = b.ts.vmCreate({ vcpusMax: 3, memoryStaticMaxMib: 1024 });
      expect(b.ts.vmBuild(domid).placement!.plan!.nodes).toEqual([node]);
      expect(b.ts.inspect(domid).nodeAffinity).toEqual([node]);
    }
  });
});

describe('weight and cap through Xenstore to credit1', () => {
  it('weight 512 / cap 50 reach the domain', () => {
    const { ts, hv } = chain(host4());
    const domid = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024, vcpusParams: { weight: '512', cap: '50' } });
    ts.vmBuild(domid);
    expect(hv.domain(domid)).toMatchObject({ weight: 512, cap: 50 });
  });
  it('out of range: 70000 is truncated to 16 bits (4464); 65536 truncates to 0 = unchanged; a bad weight falls back to 256', () => {
    const { ts, hv } = chain(host4());
    const a = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024, vcpusParams: { weight: '70000' } });
    ts.vmBuild(a);
    expect(ts.inspect(a).platform['vcpu/weight']).toBe('70000');
    expect(hv.domain(a).weight).toBe(70000 % 65536);
    const b = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024, vcpusParams: { weight: '65536', cap: '65537' } });
    ts.vmBuild(b);
    expect(hv.domain(b)).toMatchObject({ weight: 256, cap: 1 });
    const c = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024, vcpusParams: { weight: 'heavy' } });
    expect(ts.inspect(c).platform['vcpu/weight']).toBe('256');
  });
  it('under credit2 weight/cap are ignored and the build succeeds', () => {
    const { ts, hv } = chain(host4(), { scheduler: 'credit2' });
    const domid = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024, vcpusParams: { weight: '512' } });
    const r = ts.vmBuild(domid);
    expect(r.xenguest.log).toContain('Failed to get credit scheduler parameters: scheduler not enabled?');
    expect(hv.domain(domid).weight).toBe(256);
  });
});

describe('malformed platform data and failures', () => {
  it('a bit-string rewritten between VM.create and VM.build is read leniently: only "1" counts', () => {
    const { ts, xs } = chain(host4());
    const domid = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024 });
    xs.write(0, `/local/domain/${domid}/platform/vcpu/0/affinity`, 'x1y1,1');
    ts.vmBuild(domid);
    expect(ts.inspect(domid).vcpus[0]!.hard).toEqual([1, 3, 5]);
  });

  it('an all-zero bit-string (VM 2,3 ∩ host 0,1) makes xenguest exit 1: Xenguest_failure with EINVAL', () => {
    const { ts } = chain(host4(), { guestVcpusParams: { mask: '0,1' } });
    const domid = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024, vcpusParams: { mask: '2,3' } });
    expect(ts.inspect(domid).platform['vcpu/0/affinity']).toBe('0'.repeat(16));
    const e = errorOf(() => ts.vmBuild(domid));
    expect(e.errno).toBe('EINVAL');
    expect(e.message).toBe('EINVAL: Xenguest_failure: exit status 1: xenguest: xc_vcpu_setaffinity: [22] EINVAL');
  });

  it('a CPU without a NUMA node makes numa_hierarchy raise: every placement fails the build (Domain_build_pre_failed)', () => {
    const spec = host4();
    spec.cpus[15] = { ...spec.cpus[15]!, node: -1 };
    const { ts } = chain(spec, { numaAffinityPolicy: 'best_effort' });
    for (let i = 0; i < 2; i++) {
      const e = errorOf(() => ts.vmBuild(ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024 })));
      expect(e.errno).toBe('EINVAL');
      expect(e.message).toMatch(/Domain_build_pre_failed: Calling 'NUMA placement' failed: .*CPU 15 is on node 4294967295/);
    }
  });

  it('not enough host memory: Not_enough_memory (ENOMEM) before any vCPU exists', () => {
    const { ts, hv } = chain(host4(GiB));
    const domid = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 4096 });
    expect(errorOf(() => ts.vmBuild(domid)).message).toMatch(/Not_enough_memory/);
    expect(hv.domain(domid).created).toBe(0);
  });

  it('bad VM records and policy names are EINVAL and change nothing', () => {
    const { ts, hv, xs } = chain(host4());
    const before = xs.nodeCount;
    expect(errorOf(() => ts.vmCreate({ vcpusMax: 0, memoryStaticMaxMib: 1024 })).errno).toBe('EINVAL');
    expect(errorOf(() => ts.vmCreate({ vcpusMax: 2, vcpusAtStartup: 3, memoryStaticMaxMib: 1024 })).errno).toBe('EINVAL');
    expect(errorOf(() => ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024, memoryTargetMib: 2048 })).errno).toBe('EINVAL');
    expect(errorOf(() => ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024, domainType: 'hvm2' as never })).errno).toBe('EINVAL');
    expect(errorOf(() => ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024, platform: { nx: 1 as never } })).errno).toBe('EINVAL');
    expect(hv.state.domains.size).toBe(0);
    expect(xs.nodeCount).toBe(before);
    expect(errorOf(() => ts.setNumaAffinityPolicy('strict')).errno).toBe('EINVAL');
    expect(ts.numaPolicy).toBe('Any');
    ts.setNumaAffinityPolicy('Best_Effort');
    expect(ts.numaPolicy).toBe('Best_effort');
    expect(errorOf(() => ts.vmBuild(999)).errno).toBe('ESRCH');
    expect(errorOf(() => chain(host4(), { mode: 'head' as never })).message).toMatch(/unknown toolstack mode "head"/);
    expect(errorOf(() => chain(host4(), { numaAffinityPolicy: 'best-effort' as never })).message).toMatch(/unknown host NUMA affinity policy/);
    expect(errorOf(() => chain(host4(), { restrictions: { restrict_hard_numa: false as never } })).message).toMatch(/restrictions must map names to strings/);
    const domid = ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024 });
    ts.vmBuild(domid);
    expect(errorOf(() => ts.vmBuild(domid)).message).toMatch(/already been built/);
    ts.vmDestroy(domid);
    expect(errorOf(() => ts.vmDestroy(domid)).errno).toBe('ESRCH');
    expect(errorOf(() => ts.inspect(domid)).errno).toBe('ESRCH');
  });
});

describe('reference mode on hosts with more than 2048 CPUs', () => {
  // xenopsd writes one '0'/'1' per CPU into platform/vcpu/<n>/affinity; oxenstored (XenServer's
  // daemon) caps values at 2048 bytes even for dom0, C xenstored does not.
  const big = (cpusPerNode: number) => hostSpec([[10, 20], [20, 10]], cpusPerNode);
  it('oxenstored: 2048 CPUs work, 2056 CPUs make VM.create fail with E2BIG and leave nothing behind', () => {
    const ok = chain(big(1024), { xenstored: 'oxenstored' });
    const domid = ok.ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024 });
    expect(ok.ts.inspect(domid).platform['vcpu/0/affinity']).toHaveLength(2048);
    const bad = chain(big(1028), { xenstored: 'oxenstored' });
    const e = errorOf(() => bad.ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024 }));
    expect(e.errno).toBe('E2BIG');
    expect(bad.hv.state.domains.size).toBe(0);
    expect(bad.xs.directory(0, '/local/domain')).toEqual([]);
  });
  it('C xenstored accepts the long strings; latest mode writes none, so oxenstored is fine there', () => {
    const cx = chain(big(1028), { xenstored: 'cxenstored' });
    const a = cx.ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024 });
    cx.ts.vmBuild(a);
    expect(cx.ts.inspect(a).vcpus[0]!.hard).toHaveLength(2056);
    const latest = chain(big(1028), { xenstored: 'oxenstored', mode: 'latest' });
    latest.ts.vmBuild(latest.ts.vmCreate({ vcpusMax: 1, memoryStaticMaxMib: 1024 }));
  });
});

describe('latest mode with per-node claims (a Xen that has them, modelled in the test)', () => {
  /** Claims as the xenctrlext stub reports them: ENOMEM when the node (or the host) lacks the pages; no accounting. */
  const withClaims = (hostFails = false) => (xc: ToolstackXenctrl): ToolstackXenctrl => ({
    ...xc,
    domainClaimPages(_domid, node, pages) {
      const free = node === null ? xc.freeMemory() : xc.nodeMemory()[node]!.free;
      if (pages * 4096 > free || (node === null && hostFails)) throw new AffinityError('ENOMEM', 'not enough free memory to claim');
    },
  });

  it('a successful node claim: affinity set, -mem_pnode passed to xenguest, no host-wide claim', () => {
    const { ts } = chain(host4(), { mode: 'latest', wrapXc: withClaims() });
    const domid = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 });
    const r = ts.vmBuild(domid);
    expect(r.placement).toMatchObject({ nodeClaim: { node: 0, result: 'ok' }, affinitySet: 'soft', memPnode: 0 });
    expect(r.globalClaim).toBeUndefined();
    expect(r.xenguestArgs.memPnode).toBe(0);
    expect(r.xenguest.log).toContain('mem_pnode: 0');
    expect(ts.inspect(domid).nodeAffinity).toEqual([0]);
  });

  it('a node claim failing with ENOMEM: no affinity at all, then the host-wide claim', () => {
    // The planner sees enough memory on node 0; this Xen's node claim asks 64× the pages (more than the node has).
    const { ts } = chain(host4(), {
      mode: 'latest',
      wrapXc: (xc) => ({ ...withClaims()(xc), domainClaimPages: (d, node, pages) => (node === null ? undefined : withClaims()(xc).domainClaimPages(d, node, pages * 64)) }),
    });
    const domid = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 });
    const r = ts.vmBuild(domid);
    expect(r.placement).toMatchObject({ nodeClaim: { node: 0, result: 'ENOMEM' }, affinitySet: null, memPnode: null });
    expect(r.globalClaim).toMatchObject({ result: 'ok' });
    expect(ts.inspect(domid).nodeAffinity).toEqual([0, 1, 2, 3]);
  });

  it('the host-wide claim failing with ENOMEM fails the build (Domain_build_pre_failed)', () => {
    const { ts } = chain(host4(), { mode: 'latest', wrapXc: withClaims(true) });
    const e = errorOf(() => ts.vmBuild(ts.vmCreate({ vcpusMax: 17, memoryStaticMaxMib: 1024 })));
    expect(e.errno).toBe('ENOMEM');
    expect(e.message).toMatch(/Domain_build_pre_failed: claiming 262144 pages failed/);
  });

  it('claimed memory is taken off the planner\'s free memory; claimed > free fails the build', () => {
    const claimed = [15 * GiB, 0, 0, 0];
    const { ts } = chain(host4(), { mode: 'latest', wrapXc: (xc) => ({ ...withClaims()(xc), nodeMemory: () => xc.nodeMemory().map((m, k) => ({ ...m, claimed: claimed[k]! })) }) });
    const r = ts.vmBuild(ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 2048 }));
    expect(r.placement!.memfree).toEqual([GiB, 16 * GiB, 16 * GiB, 16 * GiB]);
    expect(r.placement!.plan!.nodes).toEqual([1]);
    claimed[0] = 17 * GiB;
    const e = errorOf(() => ts.vmBuild(ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 })));
    expect(e.message).toMatch(/Domain_build_pre_failed: Calling 'NUMA placement' failed: .*memory cannot be negative on node 0/);
  });

  it('soft-affinity errors are ignored in latest mode but fail the build in reference mode; hard errors always fail', () => {
    const failSoft = (xc: ToolstackXenctrl): ToolstackXenctrl => ({
      ...xc,
      vcpuSetAffinity(domid, vcpu, hard, soft, flags) {
        if (soft) throw new AffinityError('EBUSY', 'vCPU temporarily pinned');
        xc.vcpuSetAffinity(domid, vcpu, hard, soft, flags);
      },
    });
    const latest = chain(host4(), { mode: 'latest', wrapXc: (xc) => failSoft(withClaims()(xc)) });
    const r = latest.ts.vmBuild(latest.ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 }));
    expect(r.placement).toMatchObject({ affinitySet: null, memPnode: 0 });
    expect(r.log.some((l) => l.startsWith('Ignoring error while setting soft affinity: EBUSY'))).toBe(true);
    const reference = chain(host4(), { numaAffinityPolicy: 'best_effort', wrapXc: failSoft });
    const e = errorOf(() => reference.ts.vmBuild(reference.ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 })));
    expect(e.errno).toBe('EBUSY');
    expect(e.message).toMatch(/^EBUSY: Domain_build_pre_failed: Calling 'NUMA placement' failed/);
    const failHard = (xc: ToolstackXenctrl): ToolstackXenctrl => ({
      ...xc,
      vcpuSetAffinity(domid, vcpu, hard, soft, flags) {
        if (hard) throw new AffinityError('EBUSY', 'vCPU temporarily pinned');
        xc.vcpuSetAffinity(domid, vcpu, hard, soft, flags);
      },
    });
    const hard = chain(host4(), { mode: 'latest', numaAffinityPolicy: 'best_effort', restrictions: { restrict_hard_numa: 'false' }, wrapXc: (xc) => failHard(withClaims()(xc)) });
    expect(errorOf(() => hard.ts.vmBuild(hard.ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 }))).message).toMatch(/Domain_build_pre_failed/);
  });

  it('a policy change affects only VMs built afterwards', () => {
    const { ts } = chain(host4(), { mode: 'latest', numaAffinityPolicy: 'any' });
    const a = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 });
    expect(ts.vmBuild(a).placementSkipped).toBe('policy-any');
    ts.setNumaAffinityPolicy('default_policy');
    const b = ts.vmCreate({ vcpusMax: 2, memoryStaticMaxMib: 1024 });
    expect(ts.vmBuild(b).placement!.plan!.nodes).toEqual([0]);
    expect(ts.inspect(a).nodeAffinity).toEqual([0, 1, 2, 3]);
  });
});
