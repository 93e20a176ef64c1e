/**
 * Framing (spec §10.1) and request parsing (§10.2) without a socket: fragmented input, limits,
 * and the replies' shape as xenstore-clients.md §4–§5 require it.
 */
import { describe, expect, it } from 'vitest';
import { handleRequest } from '../../../bindings/xen/xenstore/protocol.js';
import { createStore } from '../../../bindings/xen/xenstore/store.js';
import { encodeMessage, FrameReader, nulJoin, splitNul, XsType } from '../../../bindings/xen/xenstore/wire.js';

describe('FrameReader', () => {
  it('reassembles messages however the bytes are split (libxenstore writes header and parts separately)', () => {
    const msgs = [encodeMessage(XsType.WRITE, 1, 0, Buffer.from('/a\0b')), encodeMessage(XsType.READ, 2, 3, nulJoin(['/a'])), encodeMessage(XsType.RM, 0xdeadbeef, 0, nulJoin(['/a']))];
    const all = Buffer.concat(msgs);
    for (let cut = 1; cut < all.length; cut++) {
      const r = new FrameReader();
      const out: string[] = [];
      for (const piece of [all.subarray(0, cut), all.subarray(cut)]) {
        r.push(piece);
        for (let f = r.next(); f; f = r.next()) if (f.kind === 'message') out.push(`${f.message.type}/${f.message.reqId}/${f.message.txId}/${f.message.payload.toString('latin1')}`);
      }
      expect(out).toEqual(['11/1/0//a\0b', '2/2/3//a\0', `13/${0xdeadbeef}/0//a\0`]);
      expect(r.pending).toBe(0);
    }
  });

  it('reports a header over 4096 bytes at once, without waiting for its payload', () => {
    const r = new FrameReader();
    const head = encodeMessage(XsType.READ, 1, 0, Buffer.alloc(0));
    head.writeUInt32LE(4097, 12);
    r.push(head);
    expect(r.next()).toEqual({ kind: 'oversized', header: { type: XsType.READ, reqId: 1, txId: 0 }, len: 4097 });
    head.writeUInt32LE(4096, 12);
    const ok = new FrameReader();
    ok.push(head);
    expect(ok.next()).toBeUndefined();
    ok.push(Buffer.alloc(4096));
    expect(ok.next()?.kind).toBe('message');
  });

  it('splitNul keeps a trailing unterminated part apart', () => {
    expect(splitNul(Buffer.from('a\0b\0c'))).toEqual({ parts: ['a', 'b'], rest: Buffer.from('c') });
  });
});

describe('handleRequest', () => {
  const xs = createStore({ flavour: 'cxenstored' });
  const s = xs.connect(0);
  const ask = (type: number, payload: Buffer | string, tx = 0, reqId = 9) => {
    const out = handleRequest(xs, s, { type, reqId, txId: tx, payload: typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload });
    return { type: out.readUInt32LE(0), reqId: out.readUInt32LE(4), tx: out.readUInt32LE(8), len: out.readUInt32LE(12), body: out.subarray(16).toString('latin1') };
  };

  it('answers with the request’s type, req_id and tx_id, or XS_ERROR with the errno name and a NUL', () => {
    expect(ask(XsType.WRITE, '/a\0b')).toEqual({ type: XsType.WRITE, reqId: 9, tx: 0, len: 3, body: 'OK\0' });
    expect(ask(XsType.READ, '/a\0')).toMatchObject({ type: XsType.READ, body: 'b' });
    expect(ask(XsType.READ, '/missing\0')).toMatchObject({ type: XsType.ERROR, reqId: 9, body: 'ENOENT\0' });
  });

  it('malformed payloads are EINVAL: path without NUL, two paths to READ, WRITE without NUL', () => {
    expect(ask(XsType.READ, '/a').body).toBe('EINVAL\0');
    expect(ask(XsType.READ, '/a\0/b\0').body).toBe('EINVAL\0');
    expect(ask(XsType.WRITE, '/x').body).toBe('EINVAL\0');
    expect(ask(XsType.WATCH, '/a\0tok\0extra\0').body).toBe('EINVAL\0');
  });

  it('unknown and removed types are ENOSYS', () => {
    for (const t of [20, 23, 99, 65535]) expect(ask(t, '/a\0').body).toBe('ENOSYS\0');
  });

  it('DIRECTORY and GET_PERMS entries are each NUL-terminated; TRANSACTION_START is a decimal id', () => {
    ask(XsType.WRITE, '/d/x\0');
    ask(XsType.WRITE, '/d/y\0');
    expect(ask(XsType.DIRECTORY, '/d\0').body).toBe('x\0y\0');
    expect(ask(XsType.GET_PERMS, '/d\0').body).toBe('n0\0');
    expect(ask(XsType.TRANSACTION_START, '\0').body).toMatch(/^[1-9]\d*\0$/);
    expect(ask(XsType.TRANSACTION_END, 'X\0', 0).body).toBe('EINVAL\0');
  });

  it('a DIRECTORY reply over 4096 bytes is E2BIG on cx (the client pages with DIRECTORY_PART)', () => {
    for (let i = 0; i < 300; i++) ask(XsType.MKDIR, `/big/name-long-enough-${i}\0`);
    expect(ask(XsType.DIRECTORY, '/big\0').body).toBe('E2BIG\0');
    const first = ask(XsType.DIRECTORY_PART, '/big\x000\0');
    expect(first.len).toBeLessThanOrEqual(4096);
    expect(first.body.endsWith('\0\0')).toBe(false);
  });

  it('domain requests from a domU are EACCES', () => {
    xs.introduce(5, 1, 7);
    const u = xs.connect(5);
    const out = handleRequest(xs, u, { type: XsType.INTRODUCE, reqId: 0, txId: 0, payload: nulJoin(['6', '1', '2']) });
    expect(out.subarray(16).toString()).toBe('EACCES\0');
  });
});
