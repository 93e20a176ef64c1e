import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from './cli.js';

beforeAll(ensureBuilt);

const HOST = 'pack:2 node:2 core:8 pu:2';

/** hwloc-calc on the same synthetic host: the oracle for formats and CPU→node. */
function hwlocCalc(...args: string[]): string {
  const r = spawnSync('hwloc-calc', ['-i', HOST, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

function mask(...args: string[]): string {
  const r = cli(['mask', ...args]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

/** The ids of a cpulist ("0-2,5" → 0,1,2,5), written out plainly as hwloc-calc lists them. */
function expand(list: string): string {
  return list.split(',').flatMap((r) => {
    const [a, b = a] = r.split('-').map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }).join(',');
}

/** A seeded random CPU list of the 64-CPU host. */
function randomCpus(seed: number): number[] {
  let x = seed;
  const ids: number[] = [];
  for (let c = 0; c < 64; c++) {
    x = (x * 1103515245 + 12345) >>> 0;
    if (x >>> 28 < 3) ids.push(c);
  }
  return ids.length ? ids : [seed % 64];
}

describe('affinity-engine mask', () => {
  it('prints the issue example in every format as hwloc and xl do', () => {
    expect(expand(mask('node:1,^8', '--host', HOST, '--to', 'cpulist'))).toBe(hwlocCalc('--pulist', 'node:1'));
    expect(mask('node:1,^8', '--host', HOST, '--to', 'hwloc')).toBe(hwlocCalc('node:1'));
    expect(mask('node:1,^20', '--host', HOST, '--to', 'taskset')).toBe(hwlocCalc('--taskset', 'node:1', '~pu:20'));
    expect(mask('node:1,^8', '--host', HOST, '--to', 'hex')).toBe('00000000,ffff0000');
    expect(mask('node:1', '--host', HOST, '--to', 'xl')).toBe('16-31');
    expect(mask('all', '--host', HOST, '--to', 'xl')).toBe('all');
  });

  it('agrees with hwloc-calc on random CPU sets: hwloc bitmap and the nodes touched', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const ids = randomCpus(seed);
      const pus = ids.map((c) => `pu:${c}`);
      expect(mask(ids.join(','), '--host', HOST, '--to', 'hwloc')).toBe(hwlocCalc(...pus));
      expect(expand(mask(ids.join(','), '--host', HOST, '--nodes'))).toBe(hwlocCalc('--intersect', 'NUMAnode', ...pus));
    }
  });

  it('reads every format it prints (round trip through the CLI)', () => {
    const expr = '3-9,17,40-47,63';
    for (const f of ['cpulist', 'hex', 'hwloc', 'taskset', 'xl', 'bits']) {
      const printed = mask(expr, '--host', HOST, '--to', f);
      const from = f === 'taskset' ? 'hwloc' : f;
      expect(mask(printed, '--host', HOST, '--from', from, '--to', 'cpulist')).toBe(expr);
    }
  });

  it('applies --and/--or/--xor/--andnot left to right', () => {
    expect(mask('node:0', '--host', HOST, '--and', '8-23', '--or', '40', '--andnot', '9', '--xor', '40-41')).toBe('8,10-15,41');
    expect(mask('node:0,node:3', '--host', HOST, '--weight')).toBe('32');
  });

  it('reports bad input with the errno and exit status 2, and nothing on stdout', () => {
    for (const args of [['^all'], ['1', '--to', 'octal'], ['1', '--bogus'], ['0-64', '--host', HOST, '--from', 'cpulist'], []]) {
      const r = cli(['mask', ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^affinity-engine mask: E[A-Z]+: /);
    }
    expect(cli(['mask', '0-64', '--host', HOST, '--from', 'cpulist']).stderr).toMatch(/ERANGE/);
  });
});
