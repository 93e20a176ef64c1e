import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../bindings/cli/scenario.js';
import { cli, ensureBuilt, ROOT } from './cli.js';

beforeAll(ensureBuilt);

const dir = mkdtempSync(join(tmpdir(), 'ae-run-'));
let n = 0;
/** Writes a scenario document to a fresh file; returns its path. */
function scenarioFile(doc: unknown): string {
  const f = join(dir, `s${n++}.json`);
  writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return f;
}

const HOST = 'pack:2 node:2 core:8 pu:2';

describe('run --default (npm start)', () => {
  it('runs the embedded scenario and prints the report with every section', () => {
    const r = cli(['run', '--default']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/host: 4096 CPUs \(4096 online\), 64 NUMA nodes/);
    for (const section of ['Node affinity (domains per node set)', 'Node × node', 'Time per phase']) expect(r.stdout).toContain(section);
    expect(r.stdout).not.toMatch(/\bFAIL\b/);
  });

  it('is what `npm start` runs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBe('node dist/cli/main.js run --default');
    expect(pkg.bin['affinity-engine']).toBe('./dist/cli/main.js');
    expect(readFileSync(join(ROOT, 'dist/cli/main.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

describe('scenario errors are reported with the file and the JSON path, before anything runs', () => {
  const ok = { op: 'mask', expr: '0-3' };
  const cases: [string, unknown, string][] = [
    ['unknown step', { name: 'x', host: HOST, steps: [ok, { op: 'frobnicate' }] }, '$.steps[1].op: unknown step "frobnicate"'],
    ['bad field type', { name: 'x', host: HOST, steps: [ok, ok, { op: 'nodeAffinity', hard: '0-3' }] }, '$.steps[2].hard: expected an array'],
    ['bad CPU set', { name: 'x', host: HOST, steps: [{ op: 'nodeAffinity', hard: ['0-3', 'node:1,^all'] }] }, '$.steps[0].hard[1]: '],
    ['CPU set beyond the host, strict cpulist', { name: 'x', host: HOST, steps: [{ op: 'mask', expr: '0', and: 'x-y' }] }, '$.steps[0].and: '],
    ['unknown field', { name: 'x', host: HOST, steps: [{ op: 'mask', expr: '1', exp: '2' }] }, '$.steps[0].exp: unknown field'],
    ['missing field', { name: 'x', host: HOST, steps: [{ op: 'mask' }] }, '$.steps[0].expr: missing'],
    ['impossible host', { name: 'x', host: 'pack:2 node:2 core:0 pu:2', steps: [ok] }, '$.host: '],
    ['host file that is not a topology', { name: 'x', host: 'package.json', steps: [ok] }, '$.host: '],
    ['no steps', { name: 'x', host: HOST, steps: [] }, '$.steps: expected at least 1'],
    ['bad seed', { name: 'x', seed: -1, host: HOST, steps: [ok] }, '$.seed: expected an integer in 0..4294967295'],
    ['duplicate label', { name: 'x', host: HOST, steps: [{ ...ok, label: 'a' }, { ...ok, label: 'a' }] }, '$.steps[1].label: label "a" is used by an earlier step'],
    ['not JSON', '{"name": ', '$: not JSON'],
    ['bad vCPU count', { name: 'x', host: HOST, system: { xen: {} }, steps: [ok, ok, ok, { op: 'createVMs', vcpus: 0 }] }, '$.steps[3].vcpus: expected an integer ≥ 1'],
    ['bad size distribution', { name: 'x', host: HOST, system: { xen: {} }, steps: [{ op: 'createVMs', vcpus: { uniform: [1, 0] } }] }, '$.steps[0].vcpus.uniform[1]: expected an integer ≥ 1'],
    ['Xen step without a Xen system', { name: 'x', host: HOST, system: { solaris: {} }, steps: [{ op: 'createVMs', vcpus: 1 }] }, '$.steps[0].op: step createVMs needs a xen system'],
    ['unknown xen mode', { name: 'x', host: HOST, system: { xen: { mode: 'newest' } }, steps: [ok] }, '$.system.xen.mode: expected one of "reference", "latest"'],
    ['group used before it is defined', { name: 'x', host: HOST, system: { xen: {} }, steps: [{ op: 'destroyVMs', vms: 'web' }, { op: 'createVMs', name: 'web', vcpus: 1 }] }, '$.steps[0].vms: no VM group named "web" is defined by an earlier step'],
    ['unknown processor set', { name: 'x', host: HOST, system: { solaris: {} }, steps: [{ op: 'psetAssign', pset: 'b', cpus: '0' }] }, '$.steps[0].pset: no processor set named "b"'],
    ['unknown procset idtype', { name: 'x', host: HOST, system: { solaris: {} }, steps: [{ op: 'processorBind', idtype: 'P_FOO', id: 1, cpu: 0 }] }, '$.steps[0].idtype: expected one of "P_PID"'],
  ];
  // Every case through the validator in-process (fast); the first three also through the CLI,
  // which must print the same message, exit 2, and run nothing (no results file).
  for (const [i, [what, doc, message]] of cases.entries()) {
    it(what, () => {
      const file = scenarioFile(doc);
      expect(() => loadScenario(file)).toThrow(`${file}: ${message}`);
      if (i >= 3) return;
      const out = join(dir, `never-${n}.json`);
      const r = cli(['run', file, '--out', out]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${file}: ${message}`);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('a missing scenario file is ENOENT', () => {
    const r = cli(['run', join(dir, 'nope.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ENOENT: .*nope\.json/);
  });
});

describe('hosts in every topology form', () => {
  it('hwloc XML written by lstopo (a path relative to the scenario), a JSON topology inline', () => {
    const sub = join(dir, 'hosts');
    mkdirSync(sub, { recursive: true });
    const xml = spawnSync('lstopo', ['-i', HOST, '--of', 'xml', join(sub, 'host.xml')]);
    expect(xml.status).toBe(0);
    const steps = [{ op: 'mask', expr: 'node:3', expect: { cpus: '48-63', nodes: '3' } }];
    const viaXml = join(sub, 'xml.json');
    writeFileSync(viaXml, JSON.stringify({ name: 'xml', host: 'host.xml', steps }));
    const inline = {
      format: 'affinity-engine/topology', version: 1,
      cpus: Array.from({ length: 64 }, (_, id) => ({ id, socket: id >> 5, core: id >> 1, node: id >> 4, state: 'online' })),
      nodes: [0, 1, 2, 3].map((id) => ({ id, memsize: 2 ** 30, memfree: 2 ** 30 })),
    };
    for (const [file, cwd] of [[viaXml, tmpdir()], [scenarioFile({ name: 'json', host: inline, steps }), ROOT]]) {
      const out = join(dir, `h${n++}.json`);
      const r = cli(['run', file, '--out', out, '--quiet'], { cwd });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8')).host).toEqual({ cpus: 64, nodes: 4, online: 64 });
    }
  });
});

describe('results', () => {
  it('errno failures are results; unmet expectations fail the run (exit 1) but every step runs', () => {
    const file = scenarioFile({
      name: 'r', host: HOST, steps: [
        { op: 'mask', expr: 'node:1', expect: { cpus: '16-31', nodes: '1' } },
        { op: 'nodeAffinity', hard: ['node:0'], valid: 'node:1', expect: { nodes: '0' } },
        { op: 'mask', expr: 'nodes:2-3', formats: ['xl'], expect: { xl: '32-63' } },
      ],
    });
    const out = join(dir, 'r.json');
    const r = cli(['run', file, '--out', out, '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const res = JSON.parse(readFileSync(out, 'utf8'));
    expect(res.steps.map((s: { ok: boolean }) => s.ok)).toEqual([true, false, true]);
    expect(res.steps[1].unmet).toEqual({ nodes: { expected: '0', got: '' } });
    expect(res.host).toEqual({ cpus: 64, nodes: 4, online: 64 });
  });

  it('same scenario and seed → byte-identical results file', () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    expect(cli(['run', '--default', '--out', a, '--quiet']).status).toBe(0);
    expect(cli(['run', '--default', '--out', b, '--quiet', '--kernels', 'ts']).status).toBe(0);
    const ra = readFileSync(a, 'utf8');
    const rb = readFileSync(b, 'utf8');
    // The kernels are recorded; everything else is the same whatever the kernels.
    expect(rb.replace('"kernels": "ts"', '"kernels": "wasm"')).toBe(ra);
    expect(cli(['run', '--default', '--out', b, '--quiet']).status).toBe(0);
    expect(readFileSync(b, 'utf8')).toBe(ra);
  });
});

describe('--html', () => {
  it('writes a self-contained page whose five SVG charts render in headless Chromium', () => {
    const html = join(dir, 'report.html');
    const out = join(dir, 'report.json');
    expect(cli(['run', '--default', '--html', html, '--out', out, '--quiet']).status).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/<script|<link|src=|href=/);
    const res = JSON.parse(readFileSync(out, 'utf8'));
    const nodes = res.metrics.nodeLoad.length;
    const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${join(dir, 'chrome')}`, '--dump-dom', `file://${html}`], {
      encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20,
    });
    expect(r.status).toBe(0);
    const dom = r.stdout;
    const charts = [...dom.matchAll(/<svg class="chart" data-chart="([\w-]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual(['node-load', 'node-pairs', 'node-affinity', 'failures', 'phases']);
    const section = (name: string) => dom.slice(dom.indexOf(`data-chart="${name}"`), dom.indexOf('</svg>', dom.indexOf(`data-chart="${name}"`)));
    expect(section('node-load').match(/<rect class="bar"/g)?.length).toBe(nodes);
    expect(section('node-pairs').match(/<rect class="cell"/g)?.length).toBe(nodes * nodes);
    expect(section('node-affinity').match(/<rect class="bar"/g)?.length).toBe(Object.keys(res.metrics.nodeAffinity).length);
    expect(section('phases').match(/<rect class="bar"/g)?.length).toBe(new Set(res.steps.map((s: { op: string }) => s.op)).size);
  });
});
