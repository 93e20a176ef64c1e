/**
 * `npm run bench [subject…]`: runs the benchmark files and prints one markdown table per
 * subject group, each variant against the group's baseline (the README keeps the latest).
 */
import { table, type Row } from './harness.js';
import { benchHypervisor } from './hypervisor.bench.js';
import { benchMasks } from './masks.bench.js';
import { benchSolaris } from './solaris.bench.js';
import { benchStress } from './stress.bench.js';
import { benchToolstack } from './toolstack.bench.js';
import { benchXenstore } from './xenstore.bench.js';

const groups: Record<string, { run: () => Promise<Row[]>; baseline: string }> = {
  masks: { run: benchMasks, baseline: 'wasm-simd' },
  hypervisor: { run: benchHypervisor, baseline: 'ts' },
  toolstack: { run: benchToolstack, baseline: '' },
  solaris: { run: benchSolaris, baseline: 'ts-reference' },
  stress: { run: benchStress, baseline: 'wasm-simd' },
  xenstore: { run: benchXenstore, baseline: 'real-oxenstored' },
};

const wanted = process.argv.slice(2);
for (const [name, g] of Object.entries(groups)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const t0 = performance.now();
  const rows = await g.run();
  console.log(`\n## ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  console.log(table(rows, g.baseline));
}
