// The exports of the engine module, nothing else.
export {
  fill, copy, and, or, xor, andNot, complement, equal, intersects, subset, empty, full, weight,
} from './words';
export {
  setBit, clearBit, testBit, testAndSet, testAndClear, first, next, last, cycle, testOrCycle, nth, any,
  forEach, hash, clearTail, orMany, andMany, batchOp,
} from './masks';
export { buildWordNodes, updateNodeAff, updateNodeAffBatch } from './nodeaff';

/** 1 when this build uses v128 SIMD. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

/** First byte of linear memory free for the host's allocator. */
export function heapBase(): usize {
  return __heap_base;
}
