// Xen domain_update_node_aff (spec xen-hypervisor.md §3.6), steps 5-8, for one domain and
// for a batch of domains. The policy around it (no vCPUs yet, auto_node_affinity off) is the
// caller's: this is only the arithmetic.
//
// cpuToNode: u16 per CPU, NO_NODE (0xFFFF) for a CPU without a node.
// wordNodes: u16 per 64-CPU word: the node every CPU of that word belongs to when they all
// share one, else NO_NODE. It lets a word of D be mapped with one store instead of 64 lookups.

import { and, empty, fill, lastWordMask } from './words';
import { orMany } from './masks';

const NO_NODE: u32 = 0xffff;

/** Derives wordNodes from cpuToNode for an nbits-wide CPU space. */
export function buildWordNodes(cpuToNode: usize, nbits: i32, wordNodes: usize): void {
  const nw = (nbits + 63) >>> 6;
  for (let i = 0; i < nw; i++) {
    const lo = i << 6;
    const hi = min(lo + 64, nbits);
    let node = <u32>load<u16>(cpuToNode + (<usize>lo << 1));
    for (let c = lo + 1; c < hi && node != NO_NODE; c++) {
      if (<u32>load<u16>(cpuToNode + (<usize>c << 1)) != node) node = NO_NODE;
    }
    store<u16>(wordNodes + (<usize>i << 1), <u16>node);
  }
}

/** out (nodemask, nodeWords words) = the nodes of the CPUs of D below nbits. */
function cpusToNodes(D: usize, nbits: i32, cpuToNode: usize, wordNodes: usize, out: usize, nodeWords: i32): void {
  fill(out, nodeWords, 0);
  const nw = (nbits + 63) >>> 6;
  for (let i = 0; i < nw; i++) {
    let w = load<u64>(D + (<usize>i << 3));
    if (i == nw - 1) w &= lastWordMask(nbits);
    if (!w) continue;
    const wn = <u32>load<u16>(wordNodes + (<usize>i << 1));
    if (wn != NO_NODE) {
      setNode(out, wn);
      continue;
    }
    while (w) {
      const cpu = (i << 6) + <i32>ctz<u64>(w);
      const n = <u32>load<u16>(cpuToNode + (<usize>cpu << 1));
      if (n != NO_NODE) setNode(out, n);
      w &= w - 1;
    }
  }
}

// @ts-ignore: decorator
@inline function setNode(out: usize, n: u32): void {
  const p = out + (<usize>(n >>> 6) << 3);
  store<u64>(p, load<u64>(p) | (<u64>1 << <u64>(n & 63)));
}

/**
 * domain_update_node_aff steps 5-8: H = ∪hard ∩ online, S = ∪soft ∩ H, D = S if S ≠ ∅ else H,
 * out = nodes of D. Unions are taken over all listed masks before any intersection (§3.6 note 1).
 * H and S are caller-provided scratch masks. Returns 1 when H is empty (Xen's ASSERT case,
 * which leaves an empty node affinity in a release build), else 0.
 */
export function updateNodeAff(
  hardList: usize, nHard: i32, softList: usize, nSoft: i32, online: usize,
  cpuToNode: usize, wordNodes: usize, nbits: i32, out: usize, nodeWords: i32,
  H: usize, S: usize,
): i32 {
  const nwords = (nbits + 63) >>> 6;
  orMany(H, hardList, nHard, nwords);
  orMany(S, softList, nSoft, nwords);
  and(H, H, online, nwords);
  and(S, S, H, nwords);
  const D = empty(S, nbits) ? H : S;
  cpusToNodes(D, nbits, cpuToNode, wordNodes, out, nodeWords);
  return empty(H, nbits);
}

/**
 * updateNodeAff over `count` domains described by 6 u32s each at `descs`:
 * hardList, nHard, softList, nSoft, online, out. Returns how many had an empty H.
 */
export function updateNodeAffBatch(
  descs: usize, count: i32, cpuToNode: usize, wordNodes: usize, nbits: i32, nodeWords: i32,
  H: usize, S: usize,
): i32 {
  let emptyH = 0;
  for (let k = 0; k < count; k++) {
    const d = descs + <usize>k * 24;
    emptyH += updateNodeAff(
      <usize>load<u32>(d), load<i32>(d, 4), <usize>load<u32>(d, 8), load<i32>(d, 12), <usize>load<u32>(d, 16),
      cpuToNode, wordNodes, nbits, <usize>load<u32>(d, 20), nodeWords, H, S,
    );
  }
  return emptyH;
}
