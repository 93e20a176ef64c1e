/**
 * Differential test: generated operation sequences — reads, writes, mkdir, rm, directory,
 * permissions, watches, transactions with conflicts, domain requests — sent as raw wire
 * messages by two dom0 connections and one domU to our server and to the real daemon of the
 * same flavour. Each sequence has a domU of its own (100 + seed): oxenstored slows down a
 * domain blamed for other transactions' conflicts, which would otherwise build up across
 * sequences. After every step each connection's events are collected; replies and events must be
 * the same after the normalisation of xenstore-clients.md §6 (transaction ids ignored,
 * DIRECTORY sorted, events of one step compared as a set).
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FlavourName } from '../../../bindings/xen/xenstore/flavour.js';
import { nulJoin, XsType, type XsMessage } from '../../../bindings/xen/xenstore/wire.js';
import { bothDaemons, RawClient, render } from './helpers.js';

/** Small deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Conn = 'A' | 'B' | 'U';
interface Op {
  conn: Conn;
  type: number;
  parts: string[];
  /** Index of the transaction (per connection) to run in, or undefined. */
  inTx: boolean;
  /** WRITE value (no terminating NUL). */
  value?: string;
}

/** Two mixes: `broad` touches every request type; `conflict` crowds transactions onto few nodes. */
type Mix = 'broad' | 'conflict';

function generate(seed: number, steps: number, mix: Mix, dom: number): Op[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const d = `/d${seed}${mix[0]}`;
  const paths =
    mix === 'broad'
      ? [d, `${d}/a`, `${d}/b`, `${d}/a/x`, `${d}/a/y`, `${d}/c/z`, `${d}/b/q`, `/local/domain/${dom}/h`, `/local/domain/${dom}/h/i`, 'r', 'r/s', 'h', `${d}/bad.name`, `${d}/`, '', '@introduceDomain']
      : [d, `${d}/a`, `${d}/b`, `${d}/a/x`, 'h', 'h/k'];
  const perms = [['n0'], ['n0', `r${dom}`], ['n0', `b${dom}`], ['r0'], [`n${dom}`], ['b0', `w${dom}`], ['n0', `r${dom}`, 'w7'], [`n${dom}`, 'r0'], ['q1']];
  const txRate = mix === 'conflict' ? 0.25 : 0.08;
  const ops: Op[] = [];
  const open: Record<Conn, boolean> = { A: false, B: false, U: false };
  for (let i = 0; i < steps; i++) {
    const conn = pick<Conn>(['A', 'A', 'B', 'U']);
    const r = rnd();
    const inTx = open[conn] && rnd() < 0.7;
    const p = pick(paths);
    if (r < txRate && !open[conn]) {
      ops.push({ conn, type: XsType.TRANSACTION_START, parts: [''], inTx: false });
      open[conn] = true;
    } else if (r < 2 * txRate && open[conn]) {
      ops.push({ conn, type: XsType.TRANSACTION_END, parts: [rnd() < 0.8 ? 'T' : 'F'], inTx: true });
      open[conn] = false;
    } else if (r < 0.36) ops.push({ conn, type: XsType.WRITE, parts: [p], value: pick(['', 'v', 'value', `${i}`, 'x'.repeat(300)]), inTx });
    else if (r < 0.48) ops.push({ conn, type: XsType.READ, parts: [p], inTx });
    else if (r < 0.53) ops.push({ conn, type: XsType.MKDIR, parts: [p], inTx });
    else if (r < 0.60) ops.push({ conn, type: XsType.RM, parts: [p], inTx });
    else if (r < 0.67) ops.push({ conn, type: XsType.DIRECTORY, parts: [p], inTx });
    else if (r < 0.71) ops.push({ conn, type: XsType.GET_PERMS, parts: [p], inTx });
    // (a domU's SET_PERMS on @introduceDomain can crash the real C xenstored 4.17: not sent)
    else if (r < 0.79) ops.push({ conn, type: XsType.SET_PERMS, parts: [conn === 'U' && p.startsWith('@') ? 'h' : p, ...pick(perms)], inTx });
    else if (r < 0.88) ops.push({ conn, type: XsType.WATCH, parts: [pick([...paths, '@releaseDomain']), pick(['t1', 't2'])], inTx: false });
    else if (r < 0.93) ops.push({ conn, type: XsType.UNWATCH, parts: [pick(paths), pick(['t1', 't2'])], inTx: false });
    else if (mix === 'broad') {
      // domain requests: domains 8 and 9 come and go (dom0 only; a domU gets EACCES)
      const dom = pick(['8', '9']);
      const q = rnd();
      if (q < 0.3) ops.push({ conn, type: XsType.INTRODUCE, parts: [dom, '99', '3'], inTx: false });
      else if (q < 0.55) ops.push({ conn, type: XsType.RELEASE, parts: [dom], inTx: false });
      else if (q < 0.7) ops.push({ conn, type: XsType.IS_DOMAIN_INTRODUCED, parts: [dom], inTx: false });
      else if (q < 0.8) ops.push({ conn, type: XsType.GET_DOMAIN_PATH, parts: [dom], inTx: false });
      else if (q < 0.9) ops.push({ conn, type: XsType.RESUME, parts: [dom], inTx: false });
      else ops.push({ conn, type: XsType.WRITE, parts: [`/local/domain/${dom}/owned`], value: 'x', inTx: false });
    } else ops.push({ conn, type: XsType.READ, parts: [p], inTx });
  }
  for (const conn of ['A', 'B', 'U'] as Conn[]) if (open[conn]) ops.push({ conn, type: XsType.TRANSACTION_END, parts: ['T'], inTx: true });
  return ops;
}

function normalise(m: XsMessage | 'TIMEOUT' | 'CLOSED'): string {
  if (typeof m === 'string') return m;
  if (m.type === XsType.TRANSACTION_START) return 'TRANSACTION_START <id>';
  if (m.type === XsType.DIRECTORY) {
    const names = m.payload.toString('latin1').split('\0').filter(Boolean).sort();
    return `DIRECTORY ${names.join('|')}`;
  }
  return render(m);
}

interface Target {
  socket: string;
  domU: string;
}

/** Runs one sequence against one daemon; returns its normalised transcript. */
async function transcript(target: Target, ops: Op[]): Promise<string[]> {
  const clients: Record<Conn, RawClient> = {
    A: await RawClient.open(target.socket),
    B: await RawClient.open(target.socket),
    U: await RawClient.open(target.domU),
  };
  const txOf: Record<Conn, number> = { A: 0, B: 0, U: 0 };
  const lines: string[] = [];
  try {
    for (const op of ops) {
      const c = clients[op.conn];
      const payload = op.type === XsType.WRITE ? Buffer.concat([nulJoin(op.parts), Buffer.from(op.value ?? '', 'latin1')]) : nulJoin(op.parts);
      const reply = await c.request(op.type, payload, op.inTx ? txOf[op.conn] : 0);
      if (op.type === XsType.TRANSACTION_START && typeof reply !== 'string' && reply.type === XsType.TRANSACTION_START) txOf[op.conn] = Number(reply.payload.toString('latin1').replace(/\0$/, ''));
      if (op.type === XsType.TRANSACTION_END) txOf[op.conn] = 0;
      // a GET_DOMAIN_PATH round trip on every connection flushes the events this step caused
      const events: string[] = [];
      for (const name of ['A', 'B', 'U'] as Conn[]) {
        await clients[name].call(XsType.GET_DOMAIN_PATH, ['0']);
        for (const e of clients[name].events.splice(0).sort()) events.push(`${name}:${e.replace(/\0/g, '|')}`);
      }
      lines.push(`${op.conn}${op.inTx ? '(tx)' : ''} ${render({ type: op.type, reqId: 0, txId: 0, payload })} -> ${normalise(reply)}${events.length ? `  events ${events.join(' ')}` : ''}`);
    }
  } finally {
    for (const c of Object.values(clients)) c.close();
  }
  return lines;
}

/** Introduces domain `dom` with a home it owns. */
async function prepare(socket: string, dom: number): Promise<void> {
  const c = await RawClient.open(socket);
  expect(await c.call(XsType.INTRODUCE, [String(dom), '4660', '7'])).toBe('INTRODUCE OK|');
  expect(await c.call(XsType.MKDIR, [`/local/domain/${dom}`])).toBe('MKDIR OK|');
  expect(await c.call(XsType.SET_PERMS, [`/local/domain/${dom}`, `n${dom}`])).toBe('SET_PERMS OK|');
  c.close();
}

// XS_DIFF_FIRST / XS_DIFF_SEEDS widen the sweep for an investigation (CI runs seeds 1–48;
// seeds 1–260 were run once: see the two known divergences in the area's README notes)
const FIRST = Number(process.env.XS_DIFF_FIRST ?? 1);
const CASES: [number, Mix][] = Array.from({ length: Number(process.env.XS_DIFF_SEEDS ?? 48) }, (_, i) => FIRST + i).map((seed) => [seed, seed % 3 === 0 ? 'conflict' : 'broad']);

describe.each<FlavourName>(['cxenstored', 'oxenstored'])('differential: raw wire sequences, our %s vs the real one', (flavour) => {
  const both = bothDaemons(flavour);
  it.each(CASES)('seed %i (%s mix): same replies and events', async (seed, mix) => {
    const dom = 100 + seed;
    await prepare(both.real.socket, dom);
    await prepare(both.ours.socket, dom);
    const ops = generate(seed, 80, mix, dom);
    const realDomU = await both.real.domainSocket(dom);
    const expected = await transcript({ socket: both.real.socket, domU: realDomU }, ops);
    both.real.closeDomainSocket(realDomU);
    const got = await transcript({ socket: both.ours.socket, domU: both.ours.domainSocket(dom) }, ops);
    // XS_DIFF_DUMP=dir keeps both transcripts for a failing seed's investigation
    if (process.env.XS_DIFF_DUMP) writeFileSync(`${process.env.XS_DIFF_DUMP}/${flavour}-${seed}-${mix}.txt`, `${expected.join('\n')}\n----- ours -----\n${got.join('\n')}\n`);
    expect(got).toEqual(expected);
    // the sequence exercised both successes and errors
    expect(expected.some((l) => / -> ERROR /.test(l))).toBe(true);
    expect(expected.some((l) => /-> (WRITE|MKDIR|RM|SET_PERMS) OK/.test(l))).toBe(true);
  });
});
