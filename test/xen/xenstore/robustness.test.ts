/**
 * Malformed and hostile input (issue 5, "Robustness and security"): each case is sent to our
 * server and to the real daemon of the same flavour; the answers (or the closing of the
 * connection) must be the same, the server must keep serving other clients, and bad input
 * must not change the tree. Floods stay within the quotas.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FlavourName } from '../../../bindings/xen/xenstore/flavour.js';
import { encodeMessage, nulJoin, XsType } from '../../../bindings/xen/xenstore/wire.js';
import { bothDaemons, RawClient, render } from './helpers.js';

const header = (type: number, len: number) => encodeMessage(type, 7, 0, Buffer.alloc(0)).subarray(0, 12).toString('hex') + Buffer.from(Uint32Array.of(len).buffer).toString('hex');

/**
 * What a connection receives after `bytes`: up to `expected` replies (waiting long for each),
 * then whether it stays silent or is closed (a short wait: silence is the expected outcome).
 */
async function replies(socket: string, bytes: Buffer, expected: number): Promise<string[]> {
  const c = await RawClient.open(socket);
  const out: string[] = [];
  c.sendRaw(bytes);
  for (let i = 0; i <= expected; i++) {
    const r = render(await c.nextReply(i < expected ? 15_000 : 400));
    out.push(r);
    if (r === 'TIMEOUT' || r === 'CLOSED') break;
  }
  c.close();
  return out;
}

const CASES: [name: string, bytes: () => Buffer, expected: number][] = [
  ['short header, then nothing', () => Buffer.from('0200000000000000', 'hex'), 0],
  ['length over 4096', () => Buffer.concat([Buffer.from(header(XsType.READ, 5000), 'hex'), Buffer.alloc(5000, 0x41)]), 1],
  ['length over 4096, header only', () => Buffer.from(header(XsType.WRITE, 0xffffffff), 'hex'), 1],
  ['payload of exactly 4096', () => encodeMessage(XsType.WRITE, 1, 0, Buffer.concat([nulJoin(['/rb/max']), Buffer.alloc(4096 - 8, 0x62)])), 1],
  // (a READ whose path lacks its NUL is left out: C xenstored then reads past the payload, and
  // its answer depends on memory contents; ours is EINVAL, tested in protocol.test.ts)
  ['unknown types 20, 23, 99, 65535', () => Buffer.concat([20, 23, 99, 65535].map((t) => encodeMessage(t, 1, 0, nulJoin(['/rb'])))), 4],
  ['garbage after a valid message', () => Buffer.concat([encodeMessage(XsType.READ, 1, 0, nulJoin(['/rb'])), Buffer.from('garbage')]), 1],
  ['garbage that frames as a message', () => Buffer.concat([encodeMessage(XsType.READ, 1, 0, nulJoin(['/rb'])), Buffer.from('garbage-garbage-garbage!')]), 2],
  ['half a message, then nothing', () => Buffer.concat([Buffer.from(header(XsType.WRITE, 40), 'hex'), Buffer.from('/rb/half\0')]), 0],
  ['pipelined requests answered in order', () => Buffer.concat([encodeMessage(XsType.WRITE, 1, 0, Buffer.from('/rb/p\0one')), encodeMessage(XsType.READ, 2, 0, nulJoin(['/rb/p'])), encodeMessage(XsType.RM, 3, 0, nulJoin(['/rb/p'])), encodeMessage(XsType.READ, 4, 0, nulJoin(['/rb/p']))]), 4],
  ['TRANSACTION_END without a transaction, and with a bad argument', () => Buffer.concat([encodeMessage(XsType.TRANSACTION_END, 1, 0, nulJoin(['T'])), encodeMessage(XsType.TRANSACTION_END, 1, 0, nulJoin(['X']))]), 2],
  ['WRITE without a NUL', () => encodeMessage(XsType.WRITE, 1, 0, Buffer.from('/rb/x')), 1],
];

/** Value and path sizes at the limits (xenstore-clients.md §6). */
const SIZES: [string, string, number][] = [
  ['value 2048', '/rb/v', 2048],
  ['value 2049', '/rb/v', 2049],
  ['value 4000', '/rb/v', 4000],
  ['absolute path 1024', `/rb/${'p'.repeat(1020)}`, 0],
  ['absolute path 1025', `/rb/${'p'.repeat(1021)}`, 0],
  ['absolute path 2048', `/rb/${'p'.repeat(2044)}`, 0],
  ['absolute path 2049', `/rb/${'p'.repeat(2045)}`, 0],
  ['relative path 2048', 'q'.repeat(2048), 0],
  ['relative path 2049', 'q'.repeat(2049), 0],
];

describe.each<FlavourName>(['cxenstored', 'oxenstored'])('robustness: our %s vs the real one', (flavour) => {
  const both = bothDaemons(flavour);
  let realDom5: string;
  beforeAll(async () => {
    for (const socket of [both.ours.socket, both.real.socket]) {
      const c = await RawClient.open(socket);
      expect(await c.call(XsType.WRITE, ['/rb'])).toBe('WRITE OK|');
      expect(await c.call(XsType.INTRODUCE, ['5', '4660', '7'])).toBe('INTRODUCE OK|');
      expect(await c.call(XsType.MKDIR, ['/local/domain/5'])).toBe('MKDIR OK|');
      expect(await c.call(XsType.SET_PERMS, ['/local/domain/5', 'n5'])).toBe('SET_PERMS OK|');
      c.close();
    }
    realDom5 = await both.real.domainSocket(5);
  });

  it.each(CASES)('%s: same answers, others unaffected, tree unchanged by bad input', async (_name, bytes, expected) => {
    // a bystander with a half-finished request of its own must not block anyone either
    const bystander = await RawClient.open(both.ours.socket);
    bystander.sendRaw(Buffer.from(header(XsType.READ, 100), 'hex'));
    const nodesBefore = both.ours.store.nodeCount;
    const want = await replies(both.real.socket, bytes(), expected);
    const got = await replies(both.ours.socket, bytes(), expected);
    expect(got).toEqual(want);
    const other = await RawClient.open(both.ours.socket);
    expect(await other.call(XsType.WRITE, ['/rb/alive'])).toBe('WRITE OK|');
    expect(await other.call(XsType.RM, ['/rb/alive'])).toBe('RM OK|');
    other.close();
    bystander.close();
    const wrote = want.some((r) => r.startsWith('WRITE OK'));
    if (!wrote) expect(both.ours.store.nodeCount).toBe(nodesBefore);
  });

  it.each(SIZES)('%s: same answer as the real daemon', async (_name, path, size) => {
    const run = async (socket: string) => {
      const c = await RawClient.open(socket);
      const r = await c.request(XsType.WRITE, Buffer.concat([nulJoin([path]), Buffer.alloc(size, 0x76)]));
      c.close();
      return render(r);
    };
    expect(await run(both.ours.socket)).toBe(await run(both.real.socket));
  });

  it('10,000 watches from a domU: the same number accepted, then the flavour quota error', async () => {
    const flood = async (socket: string) => {
      const c = await RawClient.open(socket);
      const answers = new Map<string, number>();
      for (let i = 0; i < 10_000; i++) {
        const r = await c.call(XsType.WATCH, [`w/${i}`, 't']);
        answers.set(r, (answers.get(r) ?? 0) + 1);
        if (answers.size > 1 && i > 300) break; // the quota has spoken; the rest would only repeat it
      }
      c.close();
      return [...answers.entries()];
    };
    const want = await flood(realDom5);
    const got = await flood(both.ours.domainSocket(5));
    expect(got).toEqual(want);
    expect(got[1][0]).toBe(`ERROR ${flavour === 'cxenstored' ? 'E2BIG' : 'EQUOTA'}|`);
  });

  it('10,000 watches from dom0 are all accepted and the server keeps answering others', async () => {
    const c = await RawClient.open(both.ours.socket);
    const all = await Promise.all(Array.from({ length: 10_000 }, (_, i) => c.call(XsType.WATCH, [`/rb/w${i}`, 't'])));
    expect(new Set(all)).toEqual(new Set(['WATCH OK|']));
    const other = await RawClient.open(both.ours.socket);
    expect(await other.call(XsType.WRITE, ['/rb/w5000', 'x'])).toBe('WRITE OK|');
    other.close();
    c.close();
  });

  it('a domU flooding node creations stops at its entry quota like the real daemon (memory stays bounded)', async () => {
    const flood = async (socket: string) => {
      const c = await RawClient.open(socket);
      let ok = 0;
      let last = '';
      for (let i = 0; i < 1500; i++) {
        last = await c.call(XsType.WRITE, [`f/${i}`, 'x']);
        if (!last.startsWith('WRITE OK')) break;
        ok++;
      }
      c.close();
      return { ok, last };
    };
    const want = await flood(realDom5);
    const before = both.ours.store.nodeCount;
    const got = await flood(both.ours.domainSocket(5));
    expect(got).toEqual(want);
    expect(got.ok).toBeLessThan(1000);
    expect(both.ours.store.nodeCount - before).toBe(got.ok + 1);
  });

  it('releasing a domain removes the nodes it owns and fires watches like the real daemon', async () => {
    const run = async (socket: string) => {
      const c = await RawClient.open(socket);
      const w = await RawClient.open(socket);
      const out = [
        await c.call(XsType.INTRODUCE, ['12', '99', '3']),
        await c.call(XsType.WRITE, ['/local/domain/12/owned/sub', 'x']),
        await c.call(XsType.SET_PERMS, ['/local/domain/12/owned', 'n12']),
        await c.call(XsType.SET_PERMS, ['/local/domain/12/owned/sub', 'n12']),
        await c.call(XsType.WRITE, ['/local/domain/12/other', 'y']),
        await c.call(XsType.WRITE, ['/rb/dead', 'v']),
        await c.call(XsType.SET_PERMS, ['/rb/dead', 'n12', 'r0']),
        await c.call(XsType.WRITE, ['/rb/keep', 'v']),
        await c.call(XsType.SET_PERMS, ['/rb/keep', 'n0', 'r12']),
        await w.call(XsType.WATCH, ['@releaseDomain', 'rel']),
        await w.call(XsType.WATCH, ['/local/domain/12', 'home']),
        await w.call(XsType.WATCH, ['/rb/dead', 'dead']),
      ];
      // The initial event of each WATCH follows its reply; one more round trip makes sure they
      // have all arrived before they are cleared (else the last one can land after the clear).
      await w.call(XsType.GET_DOMAIN_PATH, ['0']);
      w.events.splice(0);
      out.push(await c.call(XsType.RELEASE, ['12']));
      for (const p of ['/local/domain/12/owned', '/local/domain/12/owned/sub', '/local/domain/12/other', '/rb/dead', '/rb/keep']) {
        out.push(`${p}: ${await c.call(XsType.READ, [p])} ${await c.call(XsType.GET_PERMS, [p])}`);
      }
      await w.call(XsType.GET_DOMAIN_PATH, ['0']);
      out.push(`events: ${w.events.map((e) => e.replace(/\0/g, '|')).sort().join(' ')}`);
      c.close();
      w.close();
      return out;
    };
    const want = await run(both.real.socket);
    const got = await run(both.ours.socket);
    expect(got).toEqual(want);
    expect(want.join('\n')).toMatch(/owned: ERROR ENOENT/);
  });

  it('a client that disconnects loses its watches and open transactions', async () => {
    // earlier tests' clients are closed; wait until the server has seen them go
    for (let i = 0; i < 500 && both.ours.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const before = both.ours.connections;
    expect(before).toBe(0);
    const watches = both.ours.store.watchCount;
    const a = await RawClient.open(both.ours.socket);
    expect(await a.call(XsType.WATCH, ['/rb/gone', 'tok'])).toBe('WATCH OK|');
    const tx = (await a.call(XsType.TRANSACTION_START, [''])).replace(/\D/g, '');
    expect(await a.call(XsType.WRITE, ['/rb/gone', 'in-tx'], Number(tx))).toBe('WRITE OK|');
    expect(both.ours.connections).toBe(before + 1);
    expect(both.ours.store.watchCount).toBe(watches + 1);
    a.close();
    for (let i = 0; i < 500 && both.ours.connections > before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(both.ours.connections).toBe(before);
    const b = await RawClient.open(both.ours.socket);
    expect(await b.call(XsType.READ, ['/rb/gone'])).toBe('ERROR ENOENT|');
    expect(await b.call(XsType.WATCH, ['/rb', 'mine'])).toBe('WATCH OK|');
    expect(await b.call(XsType.WRITE, ['/rb/gone', 'x'])).toBe('WRITE OK|');
    // a's watch went with a; b's is the one added
    expect(both.ours.store.watchCount).toBe(watches + 1);
    b.close();
  });
});
