/**
 * hwloc is the oracle: the synthetic string given to hwloc's own tools must describe the same
 * host as Topology.fromSynthetic, and the XML lstopo writes for it must import to the same topology.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAffinityError } from '../../bindings/errors.js';
import { Topology } from '../../bindings/topology/topology.js';

const dir = mkdtempSync(join(tmpdir(), 'topology-hwloc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lstopoXml(spec: string): string {
  const out = join(dir, 'out.xml');
  execFileSync('lstopo-no-graphics', ['-f', '-i', spec, '--of', 'xml', out], { stdio: 'pipe' });
  return readFileSync(out, 'utf8');
}

function hwlocCalc(spec: string, ...args: string[]): string {
  return execFileSync('hwloc-calc', ['-i', spec, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** hwloc's `-H a.b.c --po` listing: for each c os index, the os indexes of its a and b ancestors. */
function hierarchy(spec: string, levels: string[]): Map<number, number[]> {
  const out = hwlocCalc(spec, '-H', levels.join('.'), '--po', 'all');
  const map = new Map<number, number[]>();
  for (const item of out.split(/\s+/)) {
    const ids = item.split('.').map((part) => Number(part.split(':')[1]));
    map.set(ids[ids.length - 1], ids.slice(0, -1));
  }
  return map;
}

function rejectsLikeHwloc(spec: string): boolean {
  try {
    execFileSync('lstopo-no-graphics', ['-i', spec, '--of', 'synthetic', '-'], { stdio: 'pipe' });
    return false;
  } catch {
    return true;
  }
}

/**
 * `levels`: hwloc's package.core.pu listing is checked against each CPU's socket and core.
 * `big`: for 16384 PUs that listing takes hwloc over a minute, so the host checks package.core
 * (and the PU→core link through the XML lstopo wrote) and queries three nodes with node:K.
 */
const specs: { spec: string; levels: string[]; big?: boolean; nodeQueries?: number[] }[] = [
  { spec: 'pack:2 node:2 core:2 pu:2', levels: ['package', 'core'] },
  { spec: 'node:3 pack:2 core:3 pu:1', levels: ['package', 'core'] },
  { spec: 'pack:3 core:5 pu:3', levels: ['package', 'core'] },
  { spec: 'socket:2 numa:3(memory=3GiB) core:7 pu:3', levels: ['package', 'core'] },
  { spec: 'pack:2 [numa(memory=512MB)] core:3 pu:2', levels: ['package', 'core'] },
  { spec: 'node:2 5', levels: [] },
  { spec: '[numa(memory=5GB)] pack:2 core:2 pu:1', levels: ['package', 'core'] },
  { spec: 'Package:5 NUMA:3(memory=7kB) core:1 PU:4', levels: ['package', 'core'] },
  { spec: 'pack:2(indexes=1,0) core:2 pu:2(indexes=0,4,1,5,2,6,3,7)', levels: ['package', 'core'] },
  { spec: 'numa:2(indexes=3,1 memory=2GiB) pu:2', levels: [] },
  { spec: 'pack:2 core:2 pu:2(indexes=0,1,2,3,10,11,12,13)', levels: ['package', 'core'] },
  { spec: 'pack:4 node:2 core:3 pu:2(indexes=core:pack)', levels: ['package', 'core'] },
  { spec: 'pack:2 core:3(indexes=pack) pu:2(indexes=2*6:1*2)', levels: ['package', 'core'] },
  { spec: 'pack:16 node:4 core:128 pu:2', levels: [], big: true, nodeQueries: [0, 17, 63] },
];

describe('fromSynthetic agrees with hwloc', () => {
  for (const { spec, levels, big, nodeQueries } of specs) {
    it(spec, () => {
      const synthetic = Topology.fromSynthetic(spec);
      const xml = Topology.fromHwlocXml(lstopoXml(spec), `lstopo of "${spec}"`);
      // Compared as text: toEqual on 16384-element arrays takes tens of seconds.
      expect(JSON.stringify(xml)).toBe(JSON.stringify(synthetic));

      const present = synthetic.cpus.filter((c) => c.state !== 'not-present');
      const numa = hierarchy(spec, ['numa', 'pu']);
      expect([...numa.keys()].sort((a, b) => a - b)).toEqual(present.map((c) => c.id));
      expect(present.map((c) => c.node).join()).toBe(present.map((c) => numa.get(c.id)![0]).join());
      if (levels.length > 0) {
        const pc = hierarchy(spec, [...levels, 'pu']);
        expect(present.map((c) => `${c.socket}.${c.core}`).join()).toBe(present.map((c) => pc.get(c.id)!.join('.')).join());
      } else if (big) {
        const coreToPackage = hierarchy(spec, ['package', 'core']);
        expect(coreToPackage.size).toBe(new Set(synthetic.cpus.map((c) => c.core)).size);
        for (const c of synthetic.cpus) if (coreToPackage.get(c.core)![0] !== c.socket) expect.fail(`CPU ${c.id}: core ${c.core} is in package ${coreToPackage.get(c.core)}, not ${c.socket}`);
      }
      const queried = nodeQueries ?? synthetic.nodes.filter((n) => n.online).map((n) => n.id);
      for (const k of queried) {
        const cpus = hwlocCalc(spec, '--pi', `node:${k}`, '-I', 'pu', '--po').split(',').map(Number).sort((a, b) => a - b);
        expect(synthetic.nodeCpus(k)).toEqual(cpus);
      }
    });
  }

  it('memory sizes are the bytes hwloc gives each NUMA node', () => {
    for (const [attr, bytes] of [['(memory=3GB)', 3e9], ['(memory=2MiB)', 2 ** 21], ['(memory=0)', 2 ** 30], ['', 2 ** 30]] as const) {
      const spec = `numa:2${attr} pu:1`;
      const local = [...lstopoXml(spec).matchAll(/local_memory="(\d+)"/g)].map((m) => Number(m[1]));
      expect(local).toEqual([bytes, bytes]);
      expect(Topology.fromSynthetic(spec).nodes.map((n) => n.memsize)).toEqual(local);
    }
  });
});

describe('several NUMA nodes local to the same CPUs (memory tiers)', () => {
  it('the first attached node owns the CPUs, the others are memory-only', () => {
    const spec = 'pack:2 [numa(memory=1GiB)] [numa(memory=2GiB)] core:2 pu:1';
    const t = Topology.fromHwlocXml(lstopoXml(spec));
    // hwloc gives nodes 0 and 1 the same locality (package 0's PUs); the model gives each CPU one node.
    expect(hwlocCalc(spec, 'node:1', '-I', 'pu', '--po')).toBe(hwlocCalc(spec, 'node:0', '-I', 'pu', '--po'));
    expect([0, 1, 2, 3].map((k) => t.nodeCpus(k))).toEqual([[0, 1], [], [2, 3], []]);
    expect(t.nodes.map((n) => n.memsize)).toEqual([1, 2, 1, 2].map((g) => g * 2 ** 30));
    expect(() => Topology.fromSynthetic(spec)).toThrow(/two nodes/);
  });
});

describe('distances', () => {
  it('a package-hops SLIT written into the XML by hwloc-annotate reads back as fromSynthetic builds it', () => {
    const spec = 'pack:4 node:2 core:2 pu:1';
    // Independent statement of the rule: 8 nodes, 2 per package, packages on a ring of 4.
    const nodePkg = [0, 0, 1, 1, 2, 2, 3, 3];
    const ring = (a: number, b: number) => Math.min(Math.abs(a - b), 4 - Math.abs(a - b));
    const want = nodePkg.map((pa, a) => nodePkg.map((pb, b) => (a === b ? 10 : pa === pb ? 12 : 10 + 10 * ring(pa, pb))));
    const base = join(dir, 'base.xml');
    const annotated = join(dir, 'annotated.xml');
    const distFile = join(dir, 'dist.txt');
    writeFileSync(base, lstopoXml(spec));
    // kind 5 = HWLOC_DISTANCES_KIND_FROM_OS | MEANS_LATENCY
    writeFileSync(distFile, ['name=NUMALatency', '5', '8', ...nodePkg.map((_, i) => `NUMANode:${i}`), ...want.flat().map(String)].join('\n') + '\n');
    execFileSync('hwloc-annotate', [base, annotated, '--', 'none', '--', 'distances', distFile], { stdio: 'pipe' });
    const fromXml = Topology.fromHwlocXml(readFileSync(annotated, 'utf8'));
    expect(fromXml.distances).toEqual(want);
    expect(Topology.fromSynthetic(spec, { distance: 'package-hops' }).toJSON()).toEqual(fromXml.toJSON());
  });

  it('flat is no SLIT: 10 local, 20 remote', () => {
    const t = Topology.fromSynthetic('node:3 pu:1');
    expect(t.distances).toEqual([[10, 20, 20], [20, 10, 20], [20, 20, 10]]);
  });
});

describe('bad synthetic strings', () => {
  const rejectedByHwlocToo = ['pack:2 core:2', 'pu:2 core:2', 'pack:0 pu:1', 'pack:2 numa:2 numa:2 pu:1',
    'pack:x pu:1', 'numa:1(memory=1.5GB) pu:1', 'numa:1(foo=1) pu:1', 'numa:1(memory=1PB) pu:1', 'nodes:2 pu:1', 'numa:2(memory=1GB pu:2'];
  for (const spec of rejectedByHwlocToo) {
    it(`rejects "${spec}" as hwloc does`, () => {
      expect(rejectsLikeHwloc(spec)).toBe(true);
      expect(() => Topology.fromSynthetic(spec)).toThrow(/EINVAL: synthetic topology/);
    });
  }
  const unsupported: [string, RegExp][] = [
    ['', /empty description/],
    ['pack:2 l3:2 pu:1', /unsupported level type "l3"/],
    ['pack:2 [numa] [numa] pu:2', /two nodes/],
    ['core:2 numa:2 pu:1', /before the core level/],
    ['pack:129 core:128 pu:1', /more than 16384/],
    ['node:65 pu:1', /65 NUMA nodes, more than 64/],
    ['core:2(colour=red) pu:1', /unsupported attribute "colour=red"/],
    ['pack:2(memory=1GB) pu:1', /unsupported attribute "memory=1GB"/],
    ['pu:4(indexes=0,1,2)', /lists 3 ids for 4 objects/],
    ['pack:2 core:2 pu:1(indexes=0,0,1,2)', /repeats an id/],
    ['pack:2 pu:2(indexes=numa:pack)', /"numa" is not a level above/],
    ['pack:2 pu:2(indexes=pu)', /"pu" is not a level above/],
    ['pu:4(indexes=3*4)', /repeats an id/],
    ['pu:4(indexes=1*3)', /the loops cover 3 objects, not 4/],
    ['pu:2(indexes=20000,1)', /CPU id 20000 is not an integer in 0\.\.16383/],
  ];
  for (const [spec, why] of unsupported) {
    it(`refuses "${spec}" with a reason`, () => {
      expect(() => Topology.fromSynthetic(spec)).toThrow(why);
    });
  }
  it('throws AffinityError EINVAL', () => {
    try {
      Topology.fromSynthetic('pack:2');
      expect.unreachable();
    } catch (e) {
      expect(isAffinityError(e) && e.errno).toBe('EINVAL');
    }
  });
});

describe('bad hwloc XML', () => {
  const good = lstopoXml('pack:2 node:2 core:2 pu:2');
  const cases: [string, string, RegExp][] = [
    ['not XML', 'hello', /text outside the root element|no root element/],
    ['not hwloc', '<?xml version="1.0"?><svg></svg>', /root element is <svg>, not hwloc's <topology>/],
    ['hwloc 1.x', good.replace('<topology version="2.0">', '<topology>'), /only 2\.x/],
    ['unclosed', good.replace('</topology>', ''), /<topology> is never closed/],
    ['duplicate PU', good.replace('type="PU" os_index="1"', 'type="PU" os_index="0"'), /duplicate CPU id 0/],
    ['duplicate node', good.replace('type="NUMANode" os_index="1"', 'type="NUMANode" os_index="0"'), /duplicate node id 0/],
    ['bad memory', good.replace('local_memory="1073741824"', 'local_memory="lots"'), /local_memory "lots"/],
    ['mismatched tags', good.replace('</object>\n  </object>\n  <support', '</objekt>\n  </object>\n  <support'), /<\/objekt> closes <object>/],
  ];
  for (const [what, xml, why] of cases) {
    it(what, () => {
      expect(() => Topology.fromHwlocXml(xml, 'machine.xml')).toThrow(why);
    });
  }
});
