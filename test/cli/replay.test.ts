import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, CLI, ensureBuilt } from './cli.js';

beforeAll(ensureBuilt);

const dir = mkdtempSync(join(tmpdir(), 'ae-replay-'));

/** Random sizes everywhere, both systems, refusals included: what determinism and replay must survive. */
const SCENARIO = {
  name: 'replay', seed: 11, host: 'pack:2 node:4(memory=32GiB) core:8 pu:2',
  system: { xen: { mode: 'latest', policy: 'best_effort' }, solaris: {} },
  steps: [
    { op: 'createVMs', name: 'a', count: 12, vcpus: { uniform: [1, 6] }, memoryMib: { choice: [1024, 4096, 16384], weights: [3, 2, 1] } },
    { op: 'createVMs', name: 'big', count: 3, vcpus: 4, memoryMib: 65536 },
    { op: 'setAffinity', vms: 'a', hard: 'node:1,^17', soft: '16-19' },
    { op: 'cpupoolCreate', name: 'p', cpus: 'node:7' },
    { op: 'cpupoolMove', vms: 'a', pool: 'p' },
    { op: 'cpuOffline', cpus: '0-3,112' },
    { op: 'xenstore', ops: [{ write: '/local/domain/1/x', value: 'y' }, { read: '/local/domain/1/x' }, { rm: '/nope' }] },
    { op: 'destroyVMs', vms: 'big' },
    { op: 'spawn', name: 'p', count: 20, lwps: { uniform: [1, 16] } },
    { op: 'processorAffinity', idtype: 'P_PID', id: 'p', cpus: 'nodes:2-3', flags: ['PA_TYPE_CPU', 'PA_AFF_WEAK'] },
    { op: 'pOnline', cpus: '32-35', state: 'offline' },
    { op: 'tick', count: 4 },
    { op: 'nodeAffinity', hard: ['node:1'], soft: ['node:2'] },
  ],
};

const file = join(dir, 'scenario.json');
writeFileSync(file, JSON.stringify(SCENARIO));

function runTo(out: string, ...extra: string[]): void {
  const r = cli(['run', file, '--out', out, '--quiet', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

describe('determinism and replay', () => {
  it('the same seed gives a byte-identical results file; another seed gives other results', () => {
    runTo(join(dir, 'a.json'));
    runTo(join(dir, 'b.json'));
    runTo(join(dir, 'c.json'), '--seed', '12');
    const a = readFileSync(join(dir, 'a.json'), 'utf8');
    expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe(a);
    const c = readFileSync(join(dir, 'c.json'), 'utf8');
    expect(c).not.toBe(a);
    expect(JSON.parse(c).seed).toBe(12);
  });

  it('the TS reference kernels give the same results as WASM', () => {
    runTo(join(dir, 'w.json'), '--kernels', 'wasm');
    runTo(join(dir, 't.json'), '--kernels', 'ts');
    expect(readFileSync(join(dir, 't.json'), 'utf8')).toBe(readFileSync(join(dir, 'w.json'), 'utf8'));
  });

  it('replay TRACE.json gives byte-identical results, without the scenario file', () => {
    const trace = join(dir, 'trace.json');
    runTo(join(dir, 'run.json'), '--trace', trace);
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    // Every level is recorded: domctls, Xenstore requests and Solaris system calls.
    const calls = new Set(t.steps.flatMap((s: { ops: { call: string }[] }) => s.ops.map((o) => o.call)));
    for (const c of ['xen.xc.domainCreate', 'xen.xc.vcpuSetAffinity', 'xen.xs.write', 'xen.xc_vcpu_setaffinity', 'xen.xc_cpupool_movedomain', 'xen.cpu_down', 'solaris.spawn', 'solaris.processor_affinity', 'solaris.p_online', 'solaris.tick']) {
      expect(calls).toContain(c);
    }
    const moved = join(dir, 'elsewhere.json');
    writeFileSync(moved, readFileSync(trace));
    const r = cli(['replay', moved, '--out', join(dir, 'replayed.json'), '--quiet'], { cwd: tmpdir() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'replayed.json'), 'utf8')).toBe(readFileSync(join(dir, 'run.json'), 'utf8'));
  });

  it('a trace whose recorded outcome differs from what the systems do is reported (exit 3)', () => {
    const trace = join(dir, 'trace2.json');
    runTo(join(dir, 'run2.json'), '--trace', trace);
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    const op = t.steps[0].ops.find((o: { call: string }) => o.call === 'xen.xc.domainCreate');
    op.ret = 999;
    writeFileSync(trace, JSON.stringify(t));
    const r = cli(['replay', trace, '--quiet']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/diverged at step 0 op \d+: xen\.xc\.domainCreate: returned 1, recorded 999/);
  });

  it('a damaged trace is refused with its path and the JSON path', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'affinity-engine/trace', version: 1, scenario: SCENARIO, steps: [] }));
    const r = cli(['replay', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}: $.steps: expected one recorded entry per scenario step`);
  });
});

describe('progress bar', () => {
  // The full Solaris profile on the TS reference kernels: several seconds, well over the bar's one-second delay.
  const long = ['stress', 'solaris', '--kernels', 'ts'];

  it('is not drawn when stderr is not a terminal', () => {
    const r = cli(long);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('invariants checked after each: all held');
  });

  it('is drawn on a terminal for a run over a second, and not with --quiet', () => {
    // script(1) gives the CLI a pseudo-terminal.
    const tty = (args: string[]) => spawnSync('script', ['-qec', [process.execPath, CLI, ...args].join(' '), '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    const shown = tty(long);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/\r\[#*\.*\] \d+\/\d+ \d+\.\ds solaris ts/);
    const quiet = tty([...long, '--quiet']);
    expect(quiet.status).toBe(0);
    expect(quiet.stdout).toBe('');
  });
});
