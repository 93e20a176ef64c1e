/**
 * Xen's own conformance program, test-xenstore (xenstore-clients.md §7), against our server:
 * all 12 tests as dom0 and as a domU, for both flavours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlavourName } from '../../../bindings/xen/xenstore/flavour.js';
import { startXenstored, type XenstoreServer } from '../../../bindings/xen/xenstore/server.js';
import { createStore } from '../../../bindings/xen/xenstore/store.js';
import { XsType } from '../../../bindings/xen/xenstore/wire.js';
import { RawClient, requireKit, startOurs, testXenstore } from './helpers.js';

describe.each<FlavourName>(['cxenstored', 'oxenstored'])('test-xenstore against our %s', (flavour) => {
  let server: XenstoreServer;
  beforeAll(async () => {
    requireKit();
    server = await startOurs(flavour);
  });
  afterAll(() => server.close());

  it('passes all 12 tests as dom0', async () => {
    const r = await testXenstore(server.socket);
    expect(r.stderr + r.stdout).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /: \d+ ns/.test(l))).toHaveLength(12);
    // test-xenstore removes its own tree when done
    expect(server.store.directory(0, '/local/domain/0')).not.toContain('xenstore-test');
  });

  it('passes all 12 tests as domain 5 (relative paths under /local/domain/5)', async () => {
    const dom0 = await RawClient.open(server.socket);
    expect(await dom0.call(XsType.INTRODUCE, ['5', '4660', '7'])).toBe('INTRODUCE OK|');
    expect(await dom0.call(XsType.MKDIR, ['/local/domain/5'])).toBe('MKDIR OK|');
    expect(await dom0.call(XsType.SET_PERMS, ['/local/domain/5', 'n5'])).toBe('SET_PERMS OK|');
    dom0.close();
    const r = await testXenstore(server.domainSocket(5));
    expect(r.stderr + r.stdout).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    // it ran as dom5: its nodes were created (and removed) under dom5's home, owned by 5
    expect(server.store.getPerms(0, '/local/domain/5')[0].domid).toBe(5);
    expect(server.store.directory(0, '/local/domain/0')).not.toContain('xenstore-test');
  });

  it('serves a store the toolstack already filled, with sockets for the domains it introduced', async () => {
    const store = createStore({ flavour });
    store.introduce(7, 1, 9);
    store.mkdir(0, '/local/domain/7');
    store.setPerms(0, '/local/domain/7', ['n7']);
    const again = await startXenstored({ socket: `${server.socket}x`, store });
    try {
      const r = await testXenstore(again.domainSocket(7), ['-t', 'ta err']);
      expect(r.code).toBe(0);
      expect(store.directory(0, '/local/domain/7')).toEqual([]);
    } finally {
      await again.close();
    }
  });

  it('fails as a domU whose home it may not write (the test is a real check)', async () => {
    const dom0 = await RawClient.open(server.socket);
    expect(await dom0.call(XsType.INTRODUCE, ['6', '4661', '8'])).toBe('INTRODUCE OK|');
    dom0.close();
    const r = await testXenstore(server.domainSocket(6), ['-t', 'write 1']);
    expect(r.code).not.toBe(0);
  });
});
