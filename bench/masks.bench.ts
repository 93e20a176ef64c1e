/**
 * Whole-mask operations and domain_update_node_aff at 4096 and 16384 CPUs: WASM SIMD, WASM
 * scalar, the TS reference kernels and typedfastbitset (the fastest JS bitset peer).
 * Everything is measured through the public API a user calls (CpuMask methods,
 * Engine.updateNodeAff), so the JS→WASM crossing is included.
 */
import { TypedFastBitSet } from 'typedfastbitset';
import { createEngine, createRng, type Engine } from '../bindings/engine.js';
import type { CpuMask } from '../bindings/mask/cpumask.js';
import { measure, type Row } from './harness.js';

const KINDS = { 'wasm-simd': 'wasm', 'wasm-scalar': 'wasm-scalar', 'ts-reference': 'ts' } as const;

function randomIds(n: number, density: number, seed: number): number[] {
  const rng = createRng(seed);
  const ids: number[] = [];
  for (let c = 0; c < n; c++) if (rng.next() / 2 ** 32 < density) ids.push(c);
  return ids;
}

function maskOps(n: number): Row[] {
  const idsA = randomIds(n, 0.5, 1);
  const idsB = randomIds(n, 0.5, 2);
  const sparse = randomIds(n, 0.125, 3);
  const ours = Object.entries(KINDS).map(([label, kernels]) => {
    const e = createEngine({ nrCpus: n, kernels });
    return { label, a: e.cpumaskFrom(idsA), b: e.cpumaskFrom(idsB), a2: e.cpumaskFrom(idsA), d: e.cpumaskFrom(idsA), s: e.cpumaskFrom(sparse), disjoint: e.cpumaskFrom(idsA).complement() };
  });
  const fa = new TypedFastBitSet(idsA), fb = new TypedFastBitSet(idsB), fa2 = new TypedFastBitSet(idsA);
  const fs = new TypedFastBitSet(sparse);
  const fDisjoint = new TypedFastBitSet(Array.from({ length: n }, (_, c) => c).filter((c) => !fa.has(c)));
  const fd = fa.clone();
  let sink = 0;
  const ops: Record<string, [(m: (typeof ours)[0]) => void, () => void]> = {
    and: [(m) => m.d.and(m.b), () => fd.intersection(fb)],
    or: [(m) => m.d.or(m.b), () => fd.union(fb)],
    andNot: [(m) => m.d.andNot(m.b), () => fd.difference(fb)],
    weight: [(m) => (sink += m.a.weight()), () => (sink += fa.size())],
    equal: [(m) => (sink += +m.a.equals(m.a2)), () => (sink += +fa.equals(fa2))],
    intersects: [(m) => (sink += +m.a.intersects(m.disjoint)), () => (sink += +fa.intersects(fDisjoint))],
    'iterate to array (1/8 dense)': [(m) => (sink += m.s.toArray().length), () => (sink += fs.array().length)],
  };
  const rows: Row[] = [];
  for (const [op, [mine, peer]] of Object.entries(ops)) {
    const variants: Record<string, () => void> = {};
    for (const m of ours) variants[m.label] = () => mine(m);
    variants.typedfastbitset = peer;
    rows.push(...measure(`${op} @${n}`, variants));
  }
  if (sink === 0.5) console.log(sink); // keep results alive
  return rows;
}

interface Domain {
  hard: number[];
  soft: number[];
  online: number;
  out: number;
}

/** A domain of `vcpus` vCPUs, each with its own random hard and soft mask (the kernel's worst case). */
function randomDomain(e: Engine, vcpus: number, seed: number): Domain {
  const rng = createRng(seed);
  const masks = (density: number) =>
    Array.from({ length: vcpus }, () => e.cpumaskFrom(randomIds(e.nrCpuIds, density, rng.next())).handle);
  return { hard: masks(0.05), soft: masks(0.01), online: e.cpumaskAll().handle, out: e.nodemask().handle };
}

/** domain_update_node_aff over TypedFastBitSet, the same steps as §3.6. */
function fastBitSetNodeAff(hard: TypedFastBitSet[], soft: TypedFastBitSet[], online: TypedFastBitSet, cpuToNode: Uint16Array): number {
  const H = new TypedFastBitSet();
  for (const h of hard) H.union(h);
  H.intersection(online);
  const S = new TypedFastBitSet();
  for (const s of soft) S.union(s);
  S.intersection(H);
  const D = S.isEmpty() ? H : S;
  let nodes = 0n;
  D.forEach((c) => {
    nodes |= 1n << BigInt(cpuToNode[c]);
  });
  return Number(nodes & 0xffffn);
}

function nodeAff(n: number, nodes: number, vcpus: number): Row[] {
  const c2n = Uint16Array.from({ length: n }, (_, c) => Math.floor((c * nodes) / n));
  const variants: Record<string, () => void> = {};
  for (const [label, kernels] of Object.entries(KINDS)) {
    const e = createEngine({ nrCpus: n, nrNodes: nodes, kernels });
    e.setCpuToNode(c2n);
    const d = randomDomain(e, vcpus, 42);
    variants[label] = () => e.updateNodeAff(d.hard, d.soft, d.online, d.out);
  }
  const rng = createRng(42);
  const sets = (density: number) =>
    Array.from({ length: vcpus }, () => new TypedFastBitSet(randomIds(n, density, rng.next())));
  const fh = sets(0.05), fsft = sets(0.01);
  const fon = new TypedFastBitSet(Array.from({ length: n }, (_, c) => c));
  let sink = 0;
  variants.typedfastbitset = () => (sink += fastBitSetNodeAff(fh, fsft, fon, c2n));
  const rows = measure(`domain_update_node_aff ${vcpus} vCPUs @${n}/${nodes} nodes`, variants);
  if (sink === 0.5) console.log(sink);
  return rows;
}

export async function benchMasks(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of [4096, 16384]) rows.push(...maskOps(n));
  for (const vcpus of [1, 64, 512]) rows.push(...nodeAff(4096, 64, vcpus));
  rows.push(...nodeAff(16384, 256, 512));
  return rows;
}

export type { CpuMask };
