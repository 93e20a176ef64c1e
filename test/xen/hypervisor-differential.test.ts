// Random differential test of the Xen hypervisor model: random op sequences on small random
// hosts, run against bindings/xen/hypervisor and against a small, obviously-correct model written
// here from the spec text (xen-hypervisor.md §3-6) with plain Sets and arrays. Nothing is shared
// with bindings/ except the public calls that drive the system under test. After every op the
// return code, write-back maps, raw hard/soft per vCPU, node affinity, auto flag, pool membership
// and free CPUs must agree. Most runs follow REF (the default); two follow HEAD, whose copy-back
// differs for guest buffers shorter than Xen's (§5.4).
//
// Where the spec leaves a choice to the implementation the model follows the implementation's
// documented choice: max_vcpus only ever adds vCPUs (lowering is EINVAL); a failed
// cpu_disable_scheduler changes nothing; SCHEDOP_pin_override names the vCPU explicitly (EINVAL
// if it does not exist); a scheduling resource leaving a pool breaks the units whose hard mask
// meets any of its CPUs. Pins are exercised with sched-gran=cpu only (with larger granularity
// the EBUSY rule of §3.5 depends on where the scheduler placed each vCPU, which is not
// observable); CPU 0 is never taken offline by the random runs (see the test at the end).
import { describe, expect, it } from 'vitest';
import { createEngine, type KernelKind } from '../../bindings/engine.js';
import { isAffinityError } from '../../bindings/errors.js';
import { Topology } from '../../bindings/topology/topology.js';
import { createHypervisor, type Hypervisor } from '../../bindings/xen/hypervisor/hypervisor.js';
import {
  getNodeAffinityDomctl, getVcpuAffinity, maxVcpusDomctl, pinOverride, setNodeAffinityDomctl, setVcpuAffinity,
} from '../../bindings/xen/hypervisor/domctl.js';

// ---- constants from the spec (public headers), written out here ------------------------------
const HARD = 1, SOFT = 2, FORCE = 4; // XEN_VCPUAFFINITY_* (§5.2)
const PAR_ANY = 0xffffffff; // XEN_SYSCTL_CPUPOOL_PAR_ANY (§6)
const MAX_NUMNODES = 64; // §1.1
const NR_CPUS = 16384; // the model's NR_CPUS ceiling for SCHEDOP_pin_override
const E = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EFAULT: 14, EBUSY: 16, EEXIST: 17, ENODEV: 19, EINVAL: 22,
  EADDRINUSE: 98, EADDRNOTAVAIL: 99,
} as const;

// ---- the host, from the synthetic string (hwloc numbering: depth-first positions) -------------
interface Host { n: number; nodes: number; node: number[]; core: number[] }

function host(spec: string): Host {
  const levels = spec.split(' ').map((t) => {
    const [type, count] = t.split(':');
    return { type: type === 'pack' ? 'package' : type === 'node' ? 'numa' : type, count: Number(count) };
  });
  const n = levels.reduce((p, l) => p * l.count, 1);
  const node: number[] = [], core: number[] = [];
  for (let cpu = 0; cpu < n; cpu++) {
    // index of the object containing cpu at each level = cpu / (product of the deeper counts)
    const indexAt = (type: string) => {
      const at = levels.findIndex((l) => l.type === type);
      if (at < 0) return -1;
      return Math.floor(cpu / levels.slice(at + 1).reduce((p, l) => p * l.count, 1));
    };
    node.push(Math.max(0, indexAt('numa')));
    core.push(indexAt('core') < 0 ? cpu : indexAt('core'));
  }
  return { n, nodes: Math.max(...node) + 1, node, core };
}

// ---- the reference model ---------------------------------------------------------------------
type CpuSet = Set<number>;
/** Which upstream behaviour (spec §0): REF, the default, or HEAD. */
type Version = 'REF' | 'HEAD';
interface MDom {
  domid: number; maxVcpus: number; created: number; pool: number; isDom0: boolean;
  hard: CpuSet[]; soft: CpuSet[]; saved: (CpuSet | null)[]; broken: number[];
  nodeAff: Set<number>; auto: boolean;
}
interface Model {
  h: Host; gran: number; version: Version; online: CpuSet;
  pools: Map<number, CpuSet>; cpuPool: number[]; doms: Map<number, MDom>;
}

const sorted = (s: Iterable<number>) => [...s].sort((a, b) => a - b);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const allCpus = (m: Model): CpuSet => new Set(range(m.h.n));
const meets = (a: CpuSet, b: CpuSet) => [...a].some((c) => b.has(c));
const inter = (a: CpuSet, b: CpuSet): CpuSet => new Set([...a].filter((c) => b.has(c)));

/** The CPUs of c's scheduling resource: c alone, or its core with sched-gran=core. */
const resource = (m: Model, c: number) => (m.gran === 1 ? [c] : range(m.h.n).filter((x) => m.h.core[x] === m.h.core[c]));
/** Master CPU of a resource: its lowest CPU. */
const isMaster = (m: Model, c: number) => resource(m, c)[0] === c;
/** res_valid (§1.2): the pool's CPUs that are masters of their resource. */
const resValid = (m: Model, pool: number): CpuSet => new Set([...m.pools.get(pool)!].filter((c) => isMaster(m, c)));
const unitsOf = (d: MDom, gran: number) => range(Math.ceil(d.created / gran));

class Errno extends Error {
  constructor(readonly code: number) {
    super(`errno ${code}`);
  }
}
const fail = (code: number): never => {
  throw new Errno(code);
};
const run = (body: () => void): number => {
  try {
    body();
    return 0;
  } catch (e) {
    if (e instanceof Errno) return -e.code;
    throw e;
  }
};

/** §3.6 domain_update_node_aff: union over all units first, then ∩ res_valid, soft ∩ hard, fallback to hard. */
function updateNodeAff(m: Model, d: MDom): void {
  if (d.created === 0 || !d.auto) return;
  const H = new Set<number>(), S = new Set<number>();
  for (const u of unitsOf(d, m.gran)) {
    d.hard[u].forEach((c) => H.add(c));
    d.soft[u].forEach((c) => S.add(c));
  }
  const Hv = inter(H, resValid(m, d.pool));
  const Sv = inter(S, Hv);
  d.nodeAff = new Set([...(Sv.size ? Sv : Hv)].map((c) => m.h.node[c]));
}

function updatePool(m: Model, pool: number): void {
  for (const d of m.doms.values()) if (d.pool === pool) updateNodeAff(m, d);
}

function newDomain(m: Model, domid: number, maxVcpus: number, pool: number, isDom0: boolean): MDom {
  const units = Math.ceil(maxVcpus / m.gran);
  const d: MDom = {
    domid, maxVcpus, created: 0, pool, isDom0,
    hard: Array.from({ length: units }, () => allCpus(m)), soft: Array.from({ length: units }, () => allCpus(m)),
    saved: new Array(units).fill(null), broken: new Array(maxVcpus).fill(0),
    nodeAff: new Set(range(MAX_NUMNODES)), auto: true,
  };
  m.doms.set(domid, d);
  return d;
}

/** XEN_DOMCTL_createdomain (§4.2). */
function mCreateDomain(m: Model, maxVcpus: number, pool: number): void {
  if (!(maxVcpus >= 1 && maxVcpus <= 4096)) fail(E.EINVAL);
  if (!m.pools.has(pool)) fail(E.ESRCH);
  if (m.pools.get(pool)!.size === 0) fail(E.ENODEV);
}

/** XEN_DOMCTL_max_vcpus: a unit's first vCPU gets hard = soft = all (§3.1); node affinity once. */
function mMaxVcpus(m: Model, domid: number, max: number): void {
  const d = m.doms.get(domid) ?? fail(E.ESRCH);
  if (!(max >= 1 && max <= d.maxVcpus) || max < d.created) fail(E.EINVAL);
  for (let v = d.created; v < max; v++) {
    if (v % m.gran === 0) {
      d.hard[v / m.gran] = allCpus(m);
      d.soft[v / m.gran] = allCpus(m);
    }
  }
  d.created = Math.max(d.created, max);
  updateNodeAff(m, d);
}

interface GuestMap { bytes: Uint8Array | null; nrBits: number }

/** §5.4 IN: EFAULT for a short buffer; visible bits are those below min(nr_cpu_ids, nr_bits). */
function parse(map: GuestMap, width: number): CpuSet {
  if (!map.bytes || map.bytes.length < Math.ceil(map.nrBits / 8)) fail(E.EFAULT);
  const out = new Set<number>();
  for (let i = 0; i < Math.min(width, map.nrBits); i++) if (map.bytes![i >> 3] & (1 << (i & 7))) out.add(i);
  return out;
}

/**
 * §5.4 OUT: ceil(nr_bits/8) guest bytes hold the mask's bits, the rest of those bytes zero. At
 * HEAD, when the guest's buffer is shorter than Xen's, its last byte gets Xen's *last* byte.
 */
function writeBack(m: Model, map: GuestMap, set: CpuSet): void {
  const n = Math.ceil(map.nrBits / 8), xenBytes = Math.ceil(m.h.n / 8);
  map.bytes!.fill(0, 0, n);
  for (const c of set) if (c < n * 8) map.bytes![c >> 3] |= 1 << (c & 7);
  if (m.version === 'HEAD' && n > 0 && n < xenBytes) {
    map.bytes![n - 1] = 0;
    for (const c of set) if (c >> 3 === xenBytes - 1) map.bytes![n - 1] |= 1 << (c & 7);
  }
}

/** §3.5 undo: clear the reason; restore the saved hard mask when the unit has no pin left. */
function mUnpin(m: Model, d: MDom, v: number): void {
  if (!(d.broken[v] & 1)) fail(E.EINVAL);
  d.broken[v] &= ~1;
  const u = Math.floor(v / m.gran);
  if (unitVcpus(m, d, u).every((w) => d.broken[w] === 0)) {
    d.hard[u] = d.saved[u]!;
    d.saved[u] = null;
  }
}
const unitVcpus = (m: Model, d: MDom, u: number) => range(m.gran).map((i) => u * m.gran + i).filter((v) => v < d.created);

/** §3.3 vcpu_set_affinity: EBUSY while pinned; node affinity recomputed either way. */
function mSetAffinity(m: Model, d: MDom, v: number, mask: CpuSet, which: 'hard' | 'soft'): void {
  const busy = d.broken[v] !== 0;
  if (!busy) d[which][Math.floor(v / m.gran)] = new Set(mask);
  updateNodeAff(m, d);
  if (busy) fail(E.EBUSY);
}

/** §5.1/§5.3 checks shared by set and get. */
function vcpuChecks(m: Model, domid: number, vcpu: number, flags: number, hard: GuestMap | null, soft: GuestMap | null): MDom {
  const d = m.doms.get(domid) ?? fail(E.ESRCH);
  const v = vcpu >>> 0;
  if (v >= d.maxVcpus) fail(E.EINVAL);
  if (v >= d.created) fail(E.ESRCH);
  if (flags === 0 || (flags & HARD && !hard?.bytes) || (flags & SOFT && !soft?.bytes)) fail(E.EINVAL);
  return d;
}

/** XEN_DOMCTL_setvcpuaffinity (§5.3), in its order. */
function mSetVcpuAffinity(m: Model, domid: number, vcpu: number, flags: number, hard: GuestMap | null, soft: GuestMap | null): void {
  const d = vcpuChecks(m, domid, vcpu, flags, hard, soft);
  const u = Math.floor(vcpu / m.gran);
  const old = d.hard[u];
  if (flags & FORCE) run(() => mUnpin(m, d, vcpu));
  const online = resValid(m, d.pool);
  if (flags & HARD) {
    const req = parse(hard!, m.h.n);
    if (!meets(req, online)) fail(E.EINVAL); // §3.4
    mSetAffinity(m, d, vcpu, req, 'hard');
    writeBack(m, hard!, inter(d.hard[u], online));
  }
  if (flags & SOFT) {
    let req: CpuSet;
    try {
      req = parse(soft!, m.h.n);
      mSetAffinity(m, d, vcpu, req, 'soft');
    } catch (e) {
      if (flags & HARD) run(() => mSetAffinity(m, d, vcpu, old, 'hard'));
      throw e;
    }
    writeBack(m, soft!, inter(inter(req, online), d.hard[u]));
  }
}

/** XEN_DOMCTL_getvcpuaffinity: raw masks. */
function mGetVcpuAffinity(m: Model, domid: number, vcpu: number, flags: number, hard: GuestMap | null, soft: GuestMap | null): void {
  const d = vcpuChecks(m, domid, vcpu, flags, hard, soft);
  const u = Math.floor(vcpu / m.gran);
  if (flags & HARD) writeBack(m, hard!, d.hard[u]);
  if (flags & SOFT) writeBack(m, soft!, d.soft[u]);
}

/** XEN_DOMCTL_setnodeaffinity (§4.1, §5.5). */
function mSetNodeAffinity(m: Model, domid: number, map: GuestMap): void {
  const d = m.doms.get(domid) ?? fail(E.ESRCH);
  const nodes = parse(map, MAX_NUMNODES);
  if (![...nodes].some((n) => n < m.h.nodes)) fail(E.EINVAL);
  if (nodes.size === MAX_NUMNODES) d.auto = true;
  else {
    d.auto = false;
    d.nodeAff = nodes;
  }
  updateNodeAff(m, d);
}

/** SCHEDOP_pin_override (§3.5) by `caller` for its vCPU `vcpu`. */
function mPinOverride(m: Model, caller: number, vcpu: number, pcpu: number): void {
  const d = m.doms.get(caller) ?? fail(E.ESRCH);
  if (!d.isDom0) fail(E.EPERM);
  if (!(vcpu >= 0 && vcpu < d.created)) fail(E.EINVAL);
  if (pcpu >= NR_CPUS) fail(E.EINVAL);
  if (pcpu < 0) return mUnpin(m, d, vcpu);
  if (pcpu >= m.h.n) fail(E.EINVAL);
  if (d.broken[vcpu] & 1) fail(E.EBUSY);
  if (!resValid(m, d.pool).has(pcpu)) fail(E.EINVAL);
  const u = Math.floor(vcpu / m.gran);
  d.saved[u] = d.hard[u];
  d.hard[u] = new Set([pcpu]);
  d.broken[vcpu] |= 1;
}

/**
 * A scheduling resource leaving `pool` (§3.8, §6.1 RMCPU, §6.2 offline): units with no CPU of
 * the pool left that had one of the leaving CPUs get hard := all; EADDRINUSE (nothing changes)
 * if such a unit is temporarily pinned; then node affinity for the whole pool.
 */
function leavePool(m: Model, pool: number, cpus: number[]): void {
  const leaving = new Set(cpus);
  const rest = new Set([...m.pools.get(pool)!].filter((c) => !leaving.has(c)));
  const broken: [MDom, number][] = [];
  for (const d of m.doms.values()) {
    if (d.pool !== pool) continue;
    for (const u of unitsOf(d, m.gran)) if (!meets(d.hard[u], rest) && meets(d.hard[u], leaving)) broken.push([d, u]);
  }
  if (broken.some(([d, u]) => unitVcpus(m, d, u).some((v) => d.broken[v]))) fail(E.EADDRINUSE);
  for (const [d, u] of broken) d.hard[u] = allCpus(m);
  m.pools.set(pool, rest);
  for (const c of cpus) m.cpuPool[c] = -1;
  updatePool(m, pool);
}

const poolHasDomains = (m: Model, pool: number) => [...m.doms.values()].some((d) => d.pool === pool);
const wholeFree = (m: Model, c: number) => resource(m, c).every((x) => m.online.has(x) && m.cpuPool[x] < 0);

function joinPool(m: Model, pool: number, c: number): void {
  for (const x of resource(m, c)) {
    m.pools.get(pool)!.add(x);
    m.cpuPool[x] = pool;
  }
  updatePool(m, pool);
}

/** §6.1 CREATE: PAR_ANY = last id + 1. */
function mPoolCreate(m: Model, id: number): number {
  if (id === PAR_ANY) id = Math.max(...m.pools.keys()) + 1;
  else if (m.pools.has(id)) fail(E.EEXIST);
  m.pools.set(id, new Set());
  return id;
}

function mPoolDestroy(m: Model, id: number): void {
  const p = m.pools.get(id) ?? fail(E.ENOENT);
  if (p.size || poolHasDomains(m, id)) fail(E.EBUSY);
  m.pools.delete(id);
}

function mPoolAddCpu(m: Model, id: number, cpu: number): void {
  if (!m.pools.has(id)) fail(E.ENOENT);
  if (cpu === PAR_ANY) cpu = range(m.h.n).find((c) => m.online.has(c) && m.cpuPool[c] < 0 && wholeFree(m, c)) ?? fail(E.ENODEV);
  if (cpu >= m.h.n) fail(E.EINVAL);
  if (!m.online.has(cpu) || !wholeFree(m, cpu)) fail(E.ENODEV);
  joinPool(m, id, cpu);
}

function mPoolRemoveCpu(m: Model, id: number, cpu: number): void {
  const p = m.pools.get(id) ?? fail(E.ENOENT);
  if (cpu === PAR_ANY) cpu = p.size ? Math.max(...p) : m.h.n; // cpumask_last: nr_cpu_ids when empty
  if (cpu >= m.h.n) fail(E.EINVAL);
  if ((id === 0 && cpu === 0) || !m.online.has(cpu)) fail(E.EINVAL);
  if (m.cpuPool[cpu] !== id) fail(E.EADDRNOTAVAIL);
  if (p.size === resource(m, cpu).length && poolHasDomains(m, id)) fail(E.EBUSY);
  leavePool(m, id, resource(m, cpu));
}

/** §6.1 MOVEDOMAIN, §3.9 sched_move_domain. The caller is dom0. */
function mMoveDomain(m: Model, id: number, domid: number): void {
  const d = m.doms.get(domid) ?? fail(E.ESRCH);
  if (domid === 0) fail(E.EPERM);
  if (d.pool === id) return;
  if (!m.pools.get(id)?.size) fail(E.ENOENT);
  if (d.broken.some((b) => b)) fail(E.EBUSY);
  d.pool = id;
  d.hard = d.hard.map(() => allCpus(m));
  d.soft = d.soft.map(() => allCpus(m));
  d.saved = d.saved.map(() => null);
  updateNodeAff(m, d);
}

/** §6.2: offline only from Pool-0 (EADDRINUSE if any of its vCPUs is pinned) or free; online rejoins Pool-0. */
function mSetCpuState(m: Model, cpu: number, online: boolean): void {
  if (online === m.online.has(cpu)) return;
  if (!online) {
    const pool = m.cpuPool[cpu];
    if (pool > 0) fail(E.ENODEV);
    if (pool === 0) {
      if ([...m.doms.values()].some((d) => d.pool === 0 && d.broken.some((b) => b))) fail(E.EADDRINUSE);
      if (m.pools.get(0)!.size === resource(m, cpu).length && poolHasDomains(m, 0)) fail(E.EBUSY);
      leavePool(m, 0, resource(m, cpu));
    }
    m.online.delete(cpu);
  } else {
    m.online.add(cpu);
    if (wholeFree(m, cpu)) joinPool(m, 0, cpu);
  }
}

// ---- boot --------------------------------------------------------------------------------
interface Dom0Opts { vcpus?: number; nodes?: number[]; relaxed?: boolean; vcpusPin?: boolean }

/** §3.1 boot: Pool-0 holds every CPU; dom0 with dom0_cpus, dom0_nodes, pinning as configured. */
function bootModel(h: Host, gran: number, version: Version, o: Dom0Opts): Model {
  const m: Model = {
    h, gran, version, online: new Set(range(h.n)), pools: new Map([[0, new Set(range(h.n))]]),
    cpuPool: new Array(h.n).fill(0), doms: new Map(),
  };
  const pool0 = m.pools.get(0)!;
  let dom0Cpus = new Set([...pool0].filter((c) => (o.nodes ?? []).includes(h.node[c])));
  if (!dom0Cpus.size) dom0Cpus = new Set(pool0);
  const vcpus = o.vcpus ?? dom0Cpus.size;
  const d = newDomain(m, 0, vcpus, 0, true);
  if (o.nodes?.length) {
    d.nodeAff = new Set(o.nodes);
    d.auto = false;
  }
  // §3.7: initial processors cycle over the CPUs of the domain's (online) nodes in its pool.
  let C = sorted([...pool0].filter((c) => d.nodeAff.has(h.node[c])));
  if (!C.length) C = sorted(pool0);
  let cpu = C[0];
  for (let v = 0; v < vcpus; v++) {
    if (v > 0) cpu = C.find((c) => c > cpu) ?? C[0];
    if (v % gran) continue;
    const u = v / gran;
    if (o.vcpusPin) d.hard[u] = new Set([cpu]);
    else if (o.relaxed) d.soft[u] = new Set(dom0Cpus);
    else d.hard[u] = new Set(dom0Cpus);
  }
  d.created = vcpus;
  updateNodeAff(m, d);
  return m;
}

// ---- random inputs -----------------------------------------------------------------------
function rngOf(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const below = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[below(xs.length)];
  return { next, below, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rngOf>;

/** A random CPU set of one of the shapes that matter. */
function randomCpus(r: Rng, m: Model, d?: MDom): CpuSet {
  const n = m.h.n;
  const pool = d ? m.pools.get(d.pool)! : m.pools.get(0)!;
  switch (r.below(9)) {
    case 0: return new Set();
    case 1: return new Set(range(n));
    case 2: return new Set([r.below(n)]);
    case 3: { const node = r.below(m.h.nodes); return new Set(range(n).filter((c) => m.h.node[c] === node)); }
    case 4: return new Set([...pool].filter(() => r.chance(0.5)));
    case 5: return new Set(range(n).filter((c) => !pool.has(c) && r.chance(0.7))); // disjoint from the pool
    case 6: return new Set(range(n).filter((c) => !isMaster(m, c))); // only non-master threads (empty with gran=cpu)
    case 7: return new Set([...pool].slice(0, 1).concat(range(n).filter((c) => !pool.has(c)))); // one pool CPU + outside
    default: return new Set(range(n).filter(() => r.chance(0.3)));
  }
}

/** Encodes `set` as a guest buffer with a random nr_bits (mostly libxc's size), junk above nr_cpu_ids, short buffers. */
function randomMap(r: Rng, set: CpuSet, width: number): GuestMap {
  const full = Math.ceil(width / 8) * 8;
  const nrBits = r.pick([full, full, full, full, width, 8, full + 16, 0, Math.max(1, width - 3)]);
  const len = Math.ceil(nrBits / 8);
  const bytes = new Uint8Array(r.chance(0.04) ? Math.max(0, len - 1) : len);
  for (const c of set) if (c < bytes.length * 8) bytes[c >> 3] |= 1 << (c & 7);
  if (r.chance(0.3)) for (let i = width; i < bytes.length * 8; i++) if (r.chance(0.5)) bytes[i >> 3] |= 1 << (i & 7);
  return { bytes, nrBits };
}

function randomNodemap(r: Rng, m: Model): GuestMap {
  const nodes = new Set<number>();
  switch (r.below(7)) {
    case 0: range(MAX_NUMNODES).forEach((x) => nodes.add(x)); break; // "all": auto back on
    case 1: nodes.add(m.h.nodes + r.below(MAX_NUMNODES - m.h.nodes)); break; // offline only
    case 2: break; // empty
    case 3: range(MAX_NUMNODES - 1).forEach((x) => nodes.add(x)); break; // all but node 63: explicit
    case 4: nodes.add(r.below(m.h.nodes)).add(m.h.nodes + r.below(MAX_NUMNODES - m.h.nodes)); break;
    default: range(m.h.nodes).forEach((x) => r.chance(0.5) && nodes.add(x));
  }
  const map = randomMap(r, nodes, MAX_NUMNODES);
  if (nodes.size === MAX_NUMNODES && r.chance(0.8)) return { bytes: new Uint8Array(8).fill(0xff), nrBits: 64 };
  return map;
}

// ---- the system under test ---------------------------------------------------------------
interface Sut { hv: Hypervisor; topology: Topology }

const errnoOf = (body: () => unknown): number => {
  try {
    body();
    return 0;
  } catch (e) {
    if (isAffinityError(e)) return -e.code;
    throw e;
  }
};
const bitsOf = (bytes: Uint8Array, width: number) => range(width).filter((i) => bytes[i >> 3] & (1 << (i & 7)));

/** Everything observable, read through the public calls. */
function observe(s: Sut, m: Model, domids: number[]) {
  const st = s.hv.state;
  const n = m.h.n;
  const doms = domids.map((domid) => {
    const d = st.domains.get(domid);
    if (!d) return { domid, missing: true };
    const node = { bytes: new Uint8Array(8), nrBits: 64 };
    const rc = getNodeAffinityDomctl(st, domid, node);
    const vcpus = range(d.created).map((v) => {
      const h = { bytes: new Uint8Array(Math.ceil(n / 8)), nrBits: n }, so = { bytes: new Uint8Array(Math.ceil(n / 8)), nrBits: n };
      const grc = getVcpuAffinity(st, domid, v, HARD | SOFT, h, so);
      return { v, grc, hard: bitsOf(h.bytes, n), soft: bitsOf(so.bytes, n) };
    });
    return { domid, pool: d.pool.id, auto: d.autoNodeAffinity, created: d.created, rc, nodes: bitsOf(node.bytes, 64), vcpus };
  });
  const pools: { id: number; nDom: number; cpus: number[] }[] = [];
  for (let id = 0; ; id++) {
    let info;
    try {
      info = s.hv.cpupoolInfo(id);
    } catch {
      break;
    }
    pools.push({ id: info.cpupoolId, nDom: info.nDom, cpus: info.cpuValid });
    id = info.cpupoolId;
  }
  return { domids: sorted(st.domains.keys()), doms, pools, free: s.hv.cpupoolFreeinfo(), online: s.topology.onlineCpus() };
}

function expected(m: Model, domids: number[]) {
  const doms = domids.map((domid) => {
    const d = m.doms.get(domid);
    if (!d) return { domid, missing: true };
    const vcpus = range(d.created).map((v) => {
      const u = Math.floor(v / m.gran);
      return { v, grc: 0, hard: sorted(d.hard[u]), soft: sorted(d.soft[u]) };
    });
    return { domid, pool: d.pool, auto: d.auto, created: d.created, rc: 0, nodes: sorted(d.nodeAff), vcpus };
  });
  const pools = sorted(m.pools.keys()).map((id) => ({
    id, nDom: [...m.doms.values()].filter((d) => d.pool === id).length, cpus: sorted(m.pools.get(id)!),
  }));
  const free = range(m.h.n).filter((c) => m.online.has(c) && m.cpuPool[c] < 0);
  return { domids: sorted(m.doms.keys()), doms, pools, free, online: sorted(m.online) };
}

// ---- one random op, applied to both -------------------------------------------------------
const clone = (map: GuestMap | null): GuestMap | null => (map ? { bytes: map.bytes && map.bytes.slice(), nrBits: map.nrBits } : null);

/** One op on both: its description, the model's and the SUT's return codes, the buffers to compare. */
interface StepResult { op: string; want: number; got: number; bufs?: [GuestMap | null, GuestMap | null][] }

function step(r: Rng, m: Model, s: Sut, pinOk: boolean): StepResult {
  const st = s.hv.state;
  const domList = [...m.doms.keys()];
  const anyDom = () => (r.chance(0.05) ? 999 : r.pick(domList));
  const anyVcpu = (domid: number) => {
    const d = m.doms.get(domid);
    const max = d?.maxVcpus ?? 2;
    if (r.chance(0.08)) return r.pick([-1, max, max + 3]);
    return d?.created && r.chance(0.8) ? r.below(d.created) : r.below(max);
  };
  const poolIds = () => [...m.pools.keys()];
  const anyPool = () => (r.chance(0.08) ? 17 : r.pick(poolIds()));
  const anyCpu = (likely: number[]) => {
    if (r.chance(0.06)) return r.pick([PAR_ANY, m.h.n, m.h.n + 5]);
    return likely.length && r.chance(0.7) ? r.pick(likely) : r.below(m.h.n);
  };
  const roll = r.below(100);

  if (roll < 30) {
    const domid = anyDom(), vcpu = anyVcpu(domid);
    const d = m.doms.get(domid);
    const base = r.pick([HARD, SOFT, HARD | SOFT, HARD | SOFT, HARD, SOFT]);
    const flags = base | (r.chance(0.15) ? FORCE : 0) | (r.chance(0.05) ? 0x80 : 0);
    const fl = r.chance(0.03) ? r.pick([0, FORCE]) : flags;
    const hard = r.chance(0.04) ? null : randomMap(r, randomCpus(r, m, d), m.h.n);
    const soft = r.chance(0.04) ? null : randomMap(r, randomCpus(r, m, d), m.h.n);
    const mh = clone(hard), ms = clone(soft);
    const want = run(() => mSetVcpuAffinity(m, domid, vcpu, fl, mh, ms));
    const got = setVcpuAffinity(st, domid, vcpu, fl, hard, soft);
    return { op: `setvcpuaffinity(d${domid}, v${vcpu}, flags ${fl})`, want, got, bufs: [[mh, hard], [ms, soft]] };
  }
  if (roll < 36) {
    const domid = anyDom(), vcpu = anyVcpu(domid);
    const fl = r.pick([HARD, SOFT, HARD | SOFT, 0, HARD | SOFT | 0x40]);
    const mk = () => (r.chance(0.05) ? null : { bytes: new Uint8Array(Math.ceil(m.h.n / 8)).fill(0xa5), nrBits: Math.ceil(m.h.n / 8) * 8 });
    const hard = mk(), soft = mk();
    const mh = clone(hard), ms = clone(soft);
    const want = run(() => mGetVcpuAffinity(m, domid, vcpu, fl, mh, ms));
    const got = getVcpuAffinity(st, domid, vcpu, fl, hard, soft);
    return { op: `getvcpuaffinity(d${domid}, v${vcpu}, flags ${fl})`, want, got, bufs: [[mh, hard], [ms, soft]] };
  }
  if (roll < 48) {
    const domid = anyDom(), map = randomNodemap(r, m);
    const mm = clone(map)!;
    const want = run(() => mSetNodeAffinity(m, domid, mm));
    const got = setNodeAffinityDomctl(st, domid, map);
    return { op: `setnodeaffinity(d${domid}, [${bitsOf(map.bytes!, Math.min(64, map.nrBits))}] nr_bits ${map.nrBits})`, want, got };
  }
  if (roll < 54) {
    if (m.doms.size > 6) {
      const domid = r.pick(domList.filter((x) => x !== 0));
      m.doms.delete(domid);
      s.hv.destroyDomain(domid);
      return { op: `destroy(d${domid})`, want: 0, got: 0 };
    }
    const maxV = r.chance(0.05) ? 0 : 1 + r.below(6), pool = anyPool();
    const want = run(() => mCreateDomain(m, maxV, pool));
    let domid = -1;
    const got = errnoOf(() => (domid = s.hv.createDomain({ maxVcpus: maxV, cpupoolId: pool })));
    if (want === 0 && got === 0) newDomain(m, domid, maxV, pool, false);
    return { op: `createdomain(max ${maxV}, pool ${pool}) = d${domid}`, want, got };
  }
  if (roll < 62) {
    const domid = anyDom();
    const d = m.doms.get(domid);
    const max = r.chance(0.1) ? r.pick([0, (d?.maxVcpus ?? 1) + 1]) : 1 + r.below(d?.maxVcpus ?? 1);
    const want = run(() => mMaxVcpus(m, domid, max));
    const got = maxVcpusDomctl(st, domid, max);
    return { op: `max_vcpus(d${domid}, ${max})`, want, got };
  }
  if (roll < 65) {
    if (m.pools.size >= 4) {
      const id = r.pick(poolIds());
      const want = run(() => mPoolDestroy(m, id));
      const got = errnoOf(() => s.hv.cpupoolDestroy(id));
      return { op: `cpupool destroy ${id}`, want, got };
    }
    const id = r.chance(0.2) ? r.pick([...poolIds(), 9]) : PAR_ANY;
    let mid = -1, sid = -1;
    const want = run(() => void (mid = mPoolCreate(m, id)));
    const got = errnoOf(() => (sid = s.hv.cpupoolCreate(id)));
    return { op: `cpupool create ${id} → ${sid}`, want: want || mid, got: got || sid };
  }
  if (roll < 72) {
    const id = anyPool(), cpu = anyCpu(range(m.h.n).filter((c) => m.online.has(c) && m.cpuPool[c] < 0));
    const want = run(() => mPoolAddCpu(m, id, cpu));
    const got = errnoOf(() => s.hv.cpupoolAddCpu(id, cpu));
    return { op: `cpupool ${id} addcpu ${cpu}`, want, got };
  }
  if (roll < 80) {
    const id = anyPool(), cpu = anyCpu([...(m.pools.get(id) ?? [])]);
    const want = run(() => mPoolRemoveCpu(m, id, cpu));
    const got = errnoOf(() => s.hv.cpupoolRemoveCpu(id, cpu));
    return { op: `cpupool ${id} rmcpu ${cpu}`, want, got };
  }
  if (roll < 86) {
    const id = anyPool(), domid = r.chance(0.1) ? anyDom() : r.pick(domList.filter((x) => x !== 0).concat(999));
    const want = run(() => mMoveDomain(m, id, domid));
    const got = errnoOf(() => s.hv.cpupoolMoveDomain(id, domid));
    return { op: `cpupool ${id} movedomain d${domid}`, want, got };
  }
  if (roll < 90 || !pinOk) {
    const cpu = 1 + r.below(m.h.n - 1);
    const online = !m.online.has(cpu) || r.chance(0.2);
    const want = run(() => mSetCpuState(m, cpu, online));
    const got = errnoOf(() => s.topology.setCpuState(cpu, online ? 'online' : 'offline'));
    return { op: `cpu ${cpu} ${online ? 'online' : 'offline'}`, want, got };
  }
  const caller = r.chance(0.1) ? anyDom() : 0;
  const vcpu = r.chance(0.05) ? 99 : r.below(m.doms.get(0)!.created);
  const pcpu = r.pick([-1, -1, r.below(m.h.n), r.below(m.h.n), m.h.n, NR_CPUS]);
  const want = run(() => mPinOverride(m, caller, vcpu, pcpu));
  const got = pinOverride(st, caller, vcpu, pcpu);
  return { op: `pin_override(d${caller}v${vcpu} → ${pcpu})`, want, got };
}

// ---- the runs ------------------------------------------------------------------------------
interface Case { spec: string; gran: 'cpu' | 'core'; version: Version; seeds: number[] }
const CASES: Case[] = [
  { spec: 'pack:2 node:2 core:3 pu:2', gran: 'cpu', version: 'REF', seeds: [1, 2, 3] },
  { spec: 'node:2 core:3 pu:1', gran: 'cpu', version: 'REF', seeds: [4, 5, 13, 14] },
  { spec: 'pack:3 node:1 core:2 pu:2', gran: 'cpu', version: 'REF', seeds: [6, 7, 15] },
  { spec: 'node:4 core:5 pu:2', gran: 'cpu', version: 'REF', seeds: [8] },
  { spec: 'pack:2 core:5 pu:2', gran: 'cpu', version: 'REF', seeds: [9] },
  { spec: 'pack:2 node:2 core:3 pu:2', gran: 'core', version: 'REF', seeds: [10, 11] },
  { spec: 'node:3 core:3 pu:2', gran: 'core', version: 'REF', seeds: [12] },
  { spec: 'pack:2 node:2 core:3 pu:2', gran: 'cpu', version: 'HEAD', seeds: [16] },
  { spec: 'node:5 core:2 pu:2', gran: 'cpu', version: 'HEAD', seeds: [17] },
];
const OPS = 300;
const KINDS: KernelKind[] = ['wasm', 'ts'];

function dom0Options(r: Rng, h: Host, gran: 'cpu' | 'core'): Dom0Opts {
  const vcpus = gran === 'core' ? 2 * (1 + r.below(2)) : 1 + r.below(3);
  switch (r.below(5)) {
    case 0: return h.n <= 12 ? {} : { vcpus };
    case 1: return { vcpus, nodes: [r.below(h.nodes)] };
    case 2: return { vcpus, nodes: [r.below(h.nodes)], relaxed: true };
    case 3: return gran === 'cpu' ? { vcpus, vcpusPin: true } : { vcpus };
    default: return { vcpus };
  }
}

describe.each(KINDS)('hypervisor differential (%s kernels)', (kernels) => {
  it.each(CASES)('$spec sched-gran=$gran $version', ({ spec, gran, version, seeds }) => {
    const h = host(spec);
    for (const seed of seeds) {
      const r = rngOf(seed * 7919 + (kernels === 'ts' ? 1 : 0));
      const dom0 = dom0Options(r, h, gran);
      const topology = Topology.fromSynthetic(spec);
      expect(topology.nrCpuIds).toBe(h.n);
      const engine = createEngine({ nrCpus: h.n, kernels, seed });
      const hv = createHypervisor({ engine, topology, schedGran: gran, version, dom0 });
      const s: Sut = { hv, topology };
      const m = bootModel(h, gran === 'core' ? 2 : 1, version, dom0);
      const trace: string[] = [`boot dom0 ${JSON.stringify(dom0)}`];
      const check = (what: string) => {
        const domids = sorted(new Set([...m.doms.keys(), ...hv.state.domains.keys()]));
        expect(observe(s, m, domids), `seed ${seed}: after ${what}\n${trace.slice(-8).join('\n')}`).toEqual(expected(m, domids));
      };
      check('boot');
      for (let i = 0; i < OPS; i++) {
        const res = step(r, m, s, gran === 'cpu');
        trace.push(`#${i} ${res.op}: model ${res.want}, sut ${res.got}`);
        expect(res.got, `seed ${seed} #${i} ${res.op}\n${trace.slice(-8).join('\n')}`).toBe(res.want);
        for (const [mine, theirs] of res.bufs ?? []) {
          expect(theirs?.bytes && Array.from(theirs.bytes), `seed ${seed} #${i} ${res.op}: write-back`).toEqual(mine?.bytes && Array.from(mine.bytes));
        }
        check(`#${i} ${res.op}`);
      }
      hv.detach();
    }
  });
});

// Not drawn by the random runs above: Xen's cpu_down refuses CPU 0 (xen/common/cpu.c).
describe('CPU 0 under Xen', () => {
  it('cannot go offline: cpu_down(0) is EINVAL and nothing changes', () => {
    const topology = Topology.fromSynthetic('node:2 core:2 pu:1');
    const hv = createHypervisor({ engine: createEngine({ nrCpus: 4 }), topology });
    expect(errnoOf(() => topology.setCpuState(0, 'offline'))).toBe(-E.EINVAL);
    expect(topology.onlineCpus()).toEqual([0, 1, 2, 3]);
    expect(hv.cpupoolInfo(0).cpuValid).toEqual([0, 1, 2, 3]);
  });
});
