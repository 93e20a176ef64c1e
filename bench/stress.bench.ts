/**
 * The stress profiles end to end (boot, every step, invariants after each step), with the
 * WASM SIMD engine against the TS reference engine in the same run. A profile takes seconds,
 * so each variant runs whole profiles (best of `STRESS_RUNS`, default 2) rather than a
 * benchmark.js loop; opsPerSec is profiles per second, the note gives seconds and the model's
 * operation throughput. Sizes: STRESS_VMS (default 10,000) and STRESS_LWPS (default 100,000).
 */
import type { KernelKind } from '../bindings/engine.js';
import { runStress } from '../bindings/cli/stress.js';
import type { Row } from './harness.js';

const KINDS: Record<string, KernelKind> = { 'wasm-simd': 'wasm', 'ts-reference': 'ts' };

function profileRows(profile: string, size: number, what: string): Row[] {
  const runs = Number(process.env.STRESS_RUNS ?? 2);
  const rows: Row[] = [];
  for (const [variant, kernels] of Object.entries(KINDS)) {
    let best = Infinity;
    let operations = 0;
    for (let i = 0; i < runs; i++) {
      const r = runStress(profile, { size }, kernels);
      if (r.violations.length) throw new Error(`${profile} ${variant}: ${r.violations[0]}`);
      best = Math.min(best, r.ms);
      operations = r.operations;
    }
    rows.push({
      subject: `stress ${profile}: 16384 CPUs / 64 nodes / ${size.toLocaleString('en-US')} ${what}`,
      variant,
      opsPerSec: 1000 / best,
      note: `${(best / 1000).toFixed(2)} s end to end, ${Math.round(operations / (best / 1000)).toLocaleString('en-US')} operations/s`,
    });
  }
  return rows;
}

export async function benchStress(): Promise<Row[]> {
  return [
    ...profileRows('xen', Number(process.env.STRESS_VMS ?? 10_000), 'VMs'),
    ...profileRows('solaris', Number(process.env.STRESS_LWPS ?? 100_000), 'LWPs'),
  ];
}
