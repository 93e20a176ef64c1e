/**
 * The store-level API (no socket), as the toolstack uses it: behaviour from
 * xen-hypervisor.md §10 and the cx/ox table of xenstore-clients.md §6, for both flavours.
 */
import { describe, expect, it } from 'vitest';
import { errnoOf } from '../../helpers.js';
import type { FlavourName } from '../../../bindings/xen/xenstore/flavour.js';
import { createStore, type XenstoreStore } from '../../../bindings/xen/xenstore/store.js';

const FLAVOURS: FlavourName[] = ['cxenstored', 'oxenstored'];


/** A store with domain 5 introduced and owning its home. */
function withDomU(flavour: FlavourName): XenstoreStore {
  const xs = createStore({ flavour });
  xs.introduce(5, 1, 7);
  xs.mkdir(0, '/local/domain/5');
  xs.setPerms(0, '/local/domain/5', ['n5']);
  return xs;
}

describe('createStore', () => {
  it('defaults to oxenstored and rejects unknown flavours with EINVAL', () => {
    expect(createStore().flavour.name).toBe('oxenstored');
    expect(errnoOf(() => createStore({ flavour: 'xenstored' as FlavourName }))).toBe('EINVAL');
  });

  it('starts with the flavour’s initial tree (§6 last row)', () => {
    expect(createStore({ flavour: 'cxenstored' }).directory(0, '/')).toEqual(['tool']);
    expect(createStore({ flavour: 'oxenstored' }).directory(0, '/')).toEqual(['@introduceDomain', '@releaseDomain', 'local', 'tool']);
  });
});

describe.each(FLAVOURS)('store (%s)', (flavour) => {
  it('keeps values as bytes, NULs and high bytes included', () => {
    const xs = createStore({ flavour });
    const bytes = Uint8Array.of(0, 1, 255, 0, 65);
    xs.write(0, '/b', bytes);
    expect([...xs.read(0, '/b')]).toEqual([...bytes]);
    expect(xs.read(0, '/').length).toBe(0);
  });

  it('creates missing parents with empty values and the parent’s permissions', () => {
    const xs = createStore({ flavour });
    xs.write(0, '/p', 'x');
    xs.setPerms(0, '/p', ['n0', 'r5']);
    xs.write(0, '/p/q/r/s', 'leaf');
    expect(xs.read(0, '/p/q').toString()).toBe('');
    expect(xs.getPerms(0, '/p/q/r').map((p) => `${p.letter}${p.domid}`)).toEqual(['n0', 'r5']);
  });

  it('resolves relative paths under /local/domain/<caller>', () => {
    const xs = withDomU(flavour);
    xs.write(5, 'name', 'guest');
    expect(xs.read(0, '/local/domain/5/name').toString()).toBe('guest');
    xs.write(0, 'rel', 'zero');
    expect(xs.read(0, '/local/domain/0/rel').toString()).toBe('zero');
    expect(xs.getDomainPath(7)).toBe('/local/domain/7');
  });

  it.each(['', 'a b', '/a/', '//a', '/a//b', '/a.b', '/a,b', '/é', '/a$'])('refuses the path %j with EINVAL', (path) => {
    const xs = createStore({ flavour });
    expect(errnoOf(() => xs.write(0, path, 'v'))).toBe('EINVAL');
    expect(errnoOf(() => xs.read(0, path))).toBe('EINVAL');
  });

  it('accepts @ inside a path and 300-character components', () => {
    const xs = createStore({ flavour });
    xs.write(0, '/e/a@b', '1');
    xs.write(0, `/e/${'c'.repeat(300)}`, '2');
    expect(xs.directory(0, '/e').length).toBe(2);
  });

  it('removes subtrees; a missing leaf under an existing parent is fine, a missing parent is ENOENT', () => {
    const xs = createStore({ flavour });
    xs.write(0, '/r/a/b/c', '1');
    xs.write(0, '/r/d', '2');
    xs.rm(0, '/r/a');
    expect(xs.directory(0, '/r')).toEqual(['d']);
    expect(errnoOf(() => xs.read(0, '/r/a/b/c'))).toBe('ENOENT');
    expect(errnoOf(() => xs.rm(0, '/r/nope'))).toBe('ok');
    expect(errnoOf(() => xs.rm(0, '/r/nope/deeper'))).toBe('ENOENT');
  });

  it('MKDIR of an existing node keeps its value', () => {
    const xs = createStore({ flavour });
    xs.write(0, '/m', 'keep');
    xs.mkdir(0, '/m');
    expect(xs.read(0, '/m').toString()).toBe('keep');
  });

  it('permissions: owner has all, listed domains their letter, everyone else the owner entry’s letter', () => {
    const xs = withDomU(flavour);
    xs.introduce(6, 1, 8);
    xs.write(0, '/perm', 'v');
    xs.setPerms(0, '/perm', ['r0', 'n5']);
    expect(errnoOf(() => xs.read(5, '/perm'))).toBe('EACCES');
    expect(xs.read(6, '/perm').toString()).toBe('v');
    expect(errnoOf(() => xs.write(6, '/perm', 'w'))).toBe('EACCES');
    xs.setPerms(0, '/perm', ['n6']);
    xs.write(6, '/perm', 'mine');
    expect(xs.read(0, '/perm').toString()).toBe('mine');
    expect(errnoOf(() => xs.setPerms(5, '/perm', ['b5']))).toBe('EACCES');
    expect(xs.getPerms(0, '/perm').map((p) => `${p.letter}${p.domid}`)).toEqual(['n6']);
  });

  it('SET_PERMS needs at least one valid entry; wire letters other than n/r/w/b are EINVAL', () => {
    const xs = createStore({ flavour });
    xs.write(0, '/sp', '');
    expect(errnoOf(() => xs.setPerms(0, '/sp', []))).toBe('EINVAL');
    expect(errnoOf(() => xs.setPerms(0, '/sp', ['x5']))).toBe('EINVAL');
    expect(errnoOf(() => xs.setPerms(0, '/sp', ['r']))).toBe('EINVAL');
    expect(errnoOf(() => xs.setPerms(0, '/nope', ['r1']))).toBe('ENOENT');
    xs.setPerms(0, '/sp', ['n0', 'r5', 'b7', 'w9', 'r70000']);
    expect(xs.getPerms(0, '/sp').map((p) => `${p.letter}${p.domid}`)).toEqual(['n0', 'r5', 'b7', 'w9', 'r70000']);
  });

  it('SET_TARGET gives a domain the owner’s rights over its target’s nodes', () => {
    const xs = withDomU(flavour);
    xs.introduce(6, 1, 8);
    xs.write(5, 'secret', 's');
    xs.setPerms(5, 'secret', ['n5']);
    expect(errnoOf(() => xs.read(6, '/local/domain/5/secret'))).toBe('EACCES');
    xs.setTarget(6, 5);
    expect(xs.read(6, '/local/domain/5/secret').toString()).toBe('s');
    xs.write(6, '/local/domain/5/secret', 'by6');
    expect(errnoOf(() => xs.setTarget(99, 5))).toBe('ENOENT');
    expect(errnoOf(() => xs.setTarget(6, 5, 5))).toBe('EACCES');
  });

  it('domain requests: introduce, is_introduced, resume, release, and only dom0 may', () => {
    const xs = createStore({ flavour });
    expect(xs.isIntroduced(0)).toBe(true);
    expect(xs.isIntroduced(9)).toBe(false);
    xs.introduce(9, 1, 3);
    expect(xs.isIntroduced(9)).toBe(true);
    xs.resume(9);
    expect(errnoOf(() => xs.introduce(10, 1, 3, 9))).toBe('EACCES');
    xs.release(9);
    expect(xs.isIntroduced(9)).toBe(false);
    expect(errnoOf(() => xs.release(9))).toBe(flavour === 'cxenstored' ? 'ENOENT' : 'EINVAL');
    expect(errnoOf(() => xs.resume(9))).toBe(flavour === 'cxenstored' ? 'ENOENT' : 'EINVAL');
  });

  it('releasing a domain removes the nodes it owns and fires @releaseDomain for dom0 (and the nodes’ watches on cx)', () => {
    const xs = withDomU(flavour);
    xs.write(5, 'data/x', '1');
    xs.write(0, '/local/domain/5/by-dom0', 'kept?');
    const seen: string[] = [];
    const s = xs.connect(0, (path) => seen.push(path));
    xs.watch(s, '@releaseDomain', 'r');
    xs.watch(s, '/local/domain/5', 'w');
    seen.length = 0;
    xs.release(5);
    expect(errnoOf(() => xs.read(0, '/local/domain/5'))).toBe('ENOENT');
    expect(seen).toContain('@releaseDomain');
    expect(seen.includes('/local/domain/5')).toBe(flavour === 'cxenstored');
  });

  it('watches: initial event, child writes, removal, relative paths, duplicates, unwatch, reset', () => {
    const xs = withDomU(flavour);
    const events: string[] = [];
    const s = xs.connect(5, (path, token) => events.push(`${path} ${token}`));
    xs.watch(s, 'w', 'rel');
    expect(events).toEqual(['w rel']);
    xs.write(5, 'w/child', 'c');
    expect(events.at(-1)).toBe('w/child rel');
    expect(errnoOf(() => xs.watch(s, 'w', 'rel'))).toBe('EEXIST');
    xs.rm(5, 'w');
    expect(events.at(-1)).toBe('w rel');
    xs.unwatch(s, 'w', 'rel');
    expect(errnoOf(() => xs.unwatch(s, 'w', 'rel'))).toBe('ENOENT');
    xs.watch(s, '/local/domain/5', 'abs');
    xs.resetWatches(s);
    const n = events.length;
    xs.write(5, 'after', 'x');
    expect(events.length).toBe(n);
  });

  it('transactions: isolation, commit, abort, EAGAIN on a conflict, EBUSY when nested, unknown id', () => {
    const xs = createStore({ flavour });
    xs.write(0, '/t', 'old');
    const s = xs.connect(0);
    const tx = xs.transactionStart(s);
    expect(tx).toBeGreaterThan(0);
    expect(xs.read(s, '/t', tx).toString()).toBe('old');
    xs.write(s, '/t', 'new', tx);
    expect(xs.read(0, '/t').toString()).toBe('old');
    expect(xs.read(s, '/t', tx).toString()).toBe('new');
    expect(errnoOf(() => xs.transactionStart(s, tx))).toBe('EBUSY');
    xs.transactionEnd(s, tx, true);
    expect(xs.read(0, '/t').toString()).toBe('new');

    const aborted = xs.transactionStart(s);
    xs.write(s, '/t', 'dropped', aborted);
    xs.transactionEnd(s, aborted, false);
    expect(xs.read(0, '/t').toString()).toBe('new');

    // test-xenstore "ta err": read in tx, outside write, tx write, commit ⇒ EAGAIN, outside value stays
    const conflict = xs.transactionStart(s);
    xs.read(s, '/t', conflict);
    xs.write(0, '/t', 'outside');
    xs.write(s, '/t', 'inside', conflict);
    expect(errnoOf(() => xs.transactionEnd(s, conflict, true))).toBe('EAGAIN');
    expect(xs.read(0, '/t').toString()).toBe('outside');
    expect(errnoOf(() => xs.transactionEnd(s, conflict, true))).toBe(flavour === 'cxenstored' ? 'ENOENT' : 'EIO');
  });

  it('transaction() retries on EAGAIN and returns the body’s result', () => {
    const xs = createStore({ flavour });
    xs.write(0, '/counter', '0');
    let interfere = true;
    const result = xs.transaction(0, (tx) => {
      const n = Number(xs.read(0, '/counter', tx).toString());
      if (interfere) {
        interfere = false;
        xs.write(0, '/counter', '10'); // an outside write, not in the transaction
      }
      xs.write(0, '/counter', String(n + 1), tx);
      return n + 1;
    });
    expect(result).toBe(11);
    expect(xs.read(0, '/counter').toString()).toBe('11');
  });

  it('quotas: a domU’s transactions and watches stop at quota + 1 with the flavour’s errors', () => {
    const xs = withDomU(flavour);
    const s = xs.connect(5);
    const txs = Array.from({ length: xs.flavour.quota.transactions }, () => xs.transactionStart(s));
    expect(txs.length).toBe(10);
    expect(errnoOf(() => xs.transactionStart(s))).toBe(flavour === 'cxenstored' ? 'ENOSPC' : 'EQUOTA');
    for (let i = 0; i <= xs.flavour.quota.watches; i++) xs.watch(s, `q${i}`, 't');
    expect(errnoOf(() => xs.watch(s, 'one-more', 't'))).toBe(flavour === 'cxenstored' ? 'E2BIG' : 'EQUOTA');
    // dom0 has no such limits
    const d0 = xs.connect(0);
    for (let i = 0; i < 300; i++) xs.watch(d0, `/d0/${i}`, 't');
  });

  it('value size: cx lets dom0 store 4000 bytes, ox refuses above 2048 with E2BIG even for dom0', () => {
    const xs = createStore({ flavour });
    expect(errnoOf(() => xs.write(0, '/big', Buffer.alloc(2048)))).toBe('ok');
    expect(errnoOf(() => xs.write(0, '/big', Buffer.alloc(4000)))).toBe(flavour === 'cxenstored' ? 'ok' : 'E2BIG');
  });

  it('a failed operation changes nothing (quota hit half-way through creating parents)', () => {
    const xs = withDomU(flavour);
    const quota = xs.flavour.quota.entries;
    const owned = () => {
      let n = 0;
      for (let i = 0; ; i++) {
        try {
          xs.write(5, `n${i}`, '');
          n++;
        } catch {
          return n;
        }
      }
    };
    const made = owned();
    expect(made).toBeLessThanOrEqual(quota);
    const before = xs.nodeCount;
    // cx charges its creator, ox the inherited owner: either way the deep write must fail whole or succeed whole
    const r = errnoOf(() => xs.write(5, 'deep/a/b/c', 'x'));
    if (r !== 'ok') {
      expect(xs.nodeCount).toBe(before);
      expect(errnoOf(() => xs.read(0, '/local/domain/5/deep'))).toBe('ENOENT');
    } else expect(xs.nodeCount).toBe(before + 4);
  });
});

describe('flavour differences (§6)', () => {
  it('DIRECTORY order: creation order on cx, sorted on ox', () => {
    for (const [flavour, order] of [['cxenstored', ['b', 'a', 'c']], ['oxenstored', ['a', 'b', 'c']]] as const) {
      const xs = createStore({ flavour });
      for (const n of ['b', 'a', 'c']) xs.write(0, `/o/${n}`, '');
      expect(xs.directory(0, '/o')).toEqual(order);
    }
  });

  it('RM / is EINVAL on cx and empties the tree on ox', () => {
    const cx = createStore({ flavour: 'cxenstored' });
    expect(errnoOf(() => cx.rm(0, '/'))).toBe('EINVAL');
    const ox = createStore({ flavour: 'oxenstored' });
    ox.rm(0, '/');
    expect(ox.directory(0, '/')).toEqual([]);
  });

  it('@foo is EINVAL on cx and a node under / on ox', () => {
    expect(errnoOf(() => createStore({ flavour: 'cxenstored' }).mkdir(0, '@foo'))).toBe('EINVAL');
    const ox = createStore({ flavour: 'oxenstored' });
    ox.mkdir(0, '@foo');
    expect(ox.directory(0, '/')).toContain('@foo');
  });

  it('path length: cx allows 2048 after /local/domain/<n>/, ox 1024 in all', () => {
    const cx = createStore({ flavour: 'cxenstored' });
    const ox = createStore({ flavour: 'oxenstored' });
    expect(errnoOf(() => cx.write(0, 'r'.repeat(2048), ''))).toBe('ok');
    expect(errnoOf(() => cx.write(0, 'r'.repeat(2049), ''))).toBe('EINVAL');
    expect(errnoOf(() => ox.write(0, `/${'r'.repeat(1023)}`, ''))).toBe('ok');
    expect(errnoOf(() => ox.write(0, `/${'r'.repeat(1024)}`, ''))).toBe('EINVAL');
  });

  it('cx reads see the live store in a transaction, ox the snapshot taken at its start', () => {
    for (const [flavour, seen] of [['cxenstored', 'new'], ['oxenstored', 'old']] as const) {
      const xs = createStore({ flavour });
      xs.write(0, '/s', 'old');
      const tx = xs.transactionStart(0);
      xs.write(0, '/s', 'new');
      expect(xs.read(0, '/s', tx).toString()).toBe(seen);
      xs.transactionEnd(0, tx, false);
    }
  });

  it('DIRECTORY_PART pages a long list on cx (extra NUL on the last part) and is ENOSYS on ox', () => {
    const cx = createStore({ flavour: 'cxenstored' });
    const names = Array.from({ length: 300 }, (_, i) => `child-with-a-long-name-${String(i).padStart(3, '0')}`);
    for (const n of names) cx.mkdir(0, `/big/${n}`);
    const got: string[] = [];
    let offset = 0;
    for (;;) {
      const part = cx.directoryPart(0, '/big', offset, 4000);
      got.push(...part.names);
      offset += part.names.reduce((n, s) => n + s.length + 1, 0);
      if (part.complete) break;
    }
    expect(got).toEqual(names);
    expect(errnoOf(() => createStore({ flavour: 'oxenstored' }).directoryPart(0, '/', 0, 4000))).toBe('ENOSYS');
  });
});

describe.each(FLAVOURS)('readOrNull (%s)', (flavour) => {
  it('is read, with null exactly where read answers ENOENT, for dom0 and a domU, in and out of transactions', () => {
    const xs = createStore({ flavour });
    xs.introduce(7, 0, 1);
    xs.write(0, '/a/b', 'v');
    xs.write(0, '/local/domain/7/mine', 'm');
    xs.setPerms(0, '/local/domain/7', ['n7']);
    xs.setPerms(0, '/local/domain/7/mine', ['n7']);
    xs.write(0, '/secret', 's');
    const outcome = (f: () => unknown) => {
      let v: unknown;
      const errno = errnoOf(() => (v = f()));
      return errno !== 'ok' ? errno : v === null ? 'null' : String(v);
    };
    for (const who of [0, 7]) {
      for (const path of ['/a/b', '/a/missing', '/nope/deeper', '/secret', 'mine', 'absent', '/local/domain/7/mine/x', 'bad path']) {
        const viaRead = outcome(() => xs.read(who, path));
        const viaOrNull = outcome(() => xs.readOrNull(who, path));
        expect(viaOrNull, `${who} ${path}`).toBe(viaRead === 'ENOENT' ? 'null' : viaRead);
      }
    }
    const tx = xs.transactionStart(0);
    expect(xs.readOrNull(0, '/a/missing', tx)).toBeNull();
    expect(xs.readOrNull(0, '/a/b', tx)?.toString()).toBe('v');
  });
});
