import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateScenario } from '../../bindings/cli/scenario.js';
import { runScenario, type Systems } from '../../bindings/cli/runner.js';
import { invariants } from '../../bindings/cli/stress.js';
import { cli, CLI, ensureBuilt } from './cli.js';

beforeAll(ensureBuilt);

describe('affinity-engine stress', () => {
  it('runs the xen profile with churn, invariants holding after every step, with both kernels', () => {
    const r = cli(['stress', 'xen', '--size', '120', '--cpus', '2048', '--kernels', 'wasm,ts']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.match(/invariants checked after each: all held/g)?.length).toBe(2);
    for (const phase of ['createVMs', 'setAffinity', 'cpupoolMove', 'cpuOffline', 'cpuOnline', 'destroyVMs']) expect(r.stdout).toMatch(new RegExp(`^  ${phase} `, 'm'));
    expect(r.stdout).toMatch(/^wasm: [\d.]+ s, ts: [\d.]+ s — wasm is [\d.]+× faster than ts$/m);
  });

  it('rejects an unknown profile and bad sizes', () => {
    expect(cli(['stress', 'bsd']).stderr).toMatch(/unknown stress profile "bsd"/);
    expect(cli(['stress', 'xen', '--cpus', '1000']).stderr).toMatch(/--cpus 1000: expected a multiple of 1024/);
  });
});

describe('invariant checks detect a broken state', () => {
  function boot(doc: object): Systems {
    const { scenario, topology } = validateScenario(doc, 'inline', process.cwd());
    let systems: Systems | undefined;
    runScenario(scenario, topology, { afterStep: (s) => ((systems = s), true) });
    return systems!;
  }

  it('Xen: node affinity, hard affinity outside the pool, Xenstore out of step', () => {
    const s = boot({
      name: 'i', host: 'pack:2 node:2(memory=16GiB) core:4 pu:2',
      system: { xen: { mode: 'latest' } },
      steps: [{ op: 'createVMs', name: 'a', count: 2, vcpus: 2, cpus: 'node:1' }],
    });
    expect(invariants(s)).toEqual([]);
    const hv = s.xen!.hv.state;
    const d1 = hv.domains.get(1)!;
    d1.nodeAffinity.clearAll().set(3);
    expect(invariants(s)).toEqual(['d1: node affinity 3 ≠ recomputed 1']);
    d1.nodeAffinity.clearAll().set(1);
    s.xen!.store.write('/local/domain/2/platform/vcpu/number', '7');
    s.xen!.store.write('/local/domain/9/name', 'ghost');
    expect(invariants(s)).toEqual([
      'd2: Xenstore vcpu/number 7 ≠ max_vcpus 2',
      'Xenstore has /local/domain/9 but Xen has no such domain',
    ]);
    // A hard mask outside the pool: the pool loses every CPU the mask holds.
    const pool = hv.pools.get(0)!;
    const e = hv.engine;
    const outside = e.cpumaskFrom([8, 9, 10, 11, 12, 13, 14, 15]);
    pool.cpuValid.andNot(outside);
    expect(invariants(s).filter((v) => v.includes('hard affinity outside pool 0')).length).toBeGreaterThan(0);
    outside.free();
  });

  it('Solaris: a strong affinity outside its processor set', () => {
    const s = boot({
      name: 'i', host: 'pack:2 node:2 core:4 pu:2', system: { solaris: {} },
      steps: [
        { op: 'spawn', count: 1, lwps: 2 },
        { op: 'processorAffinity', idtype: 'P_PID', id: 4, cpus: '0-3', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG'] },
      ],
    });
    expect(invariants(s)).toEqual([]);
    s.solaris!.sys.parts.get(0)!.active.clear(2);
    expect(invariants(s)).toEqual([
      'LWP 4/1: strong affinity 0-3 outside processor set 0',
      'LWP 4/2: strong affinity 0-3 outside processor set 0',
    ]);
  });
});

describe('affinity-engine xenstored', () => {
  it('serves real Xenstore clients on the socket until SIGTERM', async () => {
    const dirPath = mkdtempSync(join(tmpdir(), 'aexs'));
    const socket = join(dirPath, 's');
    const child = spawn(process.execPath, [CLI, 'xenstored', '--socket', socket, '--flavour', 'cxenstored'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(ready).toBe(`listening on ${socket} (cxenstored)\n`);
    const env = { XENSTORED_PATH: socket };
    const tool = (name: string, ...args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(`/usr/bin/xenstore-${name}`, args, { env: { ...process.env, ...env } });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.on('exit', (code) => resolve({ code, out }));
    });
    expect(await tool('write', '/vm/a', 'hello')).toEqual({ code: 0, out: '' });
    expect(await tool('read', '/vm/a')).toEqual({ code: 0, out: 'hello\n' });
    expect((await tool('read', '/vm/missing')).code).toBe(1);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  it('needs --socket', () => {
    const r = cli(['xenstored']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--socket PATH is required/);
  });
});
