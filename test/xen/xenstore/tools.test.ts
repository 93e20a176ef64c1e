/**
 * The real client tools (xenstore-utils 4.17) against our server and against the real daemon
 * of the same flavour: the same commands, in the same order, must print the same output and
 * exit with the same code (xenstore-clients.md §4–§5). Also as a domU, where every denied
 * read, write, list and chmod must be denied the same way.
 */
import { describe, expect, it } from 'vitest';
import type { FlavourName } from '../../../bindings/xen/xenstore/flavour.js';
import { XsType } from '../../../bindings/xen/xenstore/wire.js';
import { bothDaemons, RawClient, tool } from './helpers.js';

type Step = [tool: string, ...args: string[]];

/** dom0 session: every tool and option the issue lists. */
const DOM0_STEPS: Step[] = [
  ['write', '/t/a', 'hello'],
  ['read', '/t/a'],
  ['read', '/t/missing'],
  ['read', '/t/a', '/t/missing'],
  ['write', '/t/b/c', 'x\\x01y\\\\', '/t/b/d', ''],
  ['read', '/t/b/c'],
  ['read', '-R', '/t/b/c'],
  ['read', '-p', '/t/a'],
  ['ls', '/t'],
  ['ls', '-p', '/t'],
  ['ls', '-f', '/t'],
  ['list', '/t'],
  ['list', '-p', '/t/b'],
  ['list', '/t/nope'],
  ['exists', '/t/a'],
  ['exists', '/t/nope'],
  ['chmod', '/t/a', 'n0', 'r5', 'b7', 'w9'],
  ['ls', '-p', '/t'],
  ['chmod', '/t/a', 'x5'],
  ['chmod', '/t/nope', 'r1'],
  ['chmod', '-u', '/t/b/c', 'r1'],
  ['ls', '-p', '/t'],
  ['chmod', '-r', '/t', 'b0'],
  ['ls', '-p', '/t'],
  ['write', '/t/e/f/g', 'deep'],
  ['rm', '-t', '/t/e/f/g'],
  ['ls', '/t'],
  ['rm', '/t/b'],
  ['read', '/t/b/c'],
  ['rm', '/t/nope/deeper'],
  ['write', '/t/bad.name', 'v'],
  ['read', 'rel'],
  ['write', 'rel', 'relative'],
  ['read', '/local/domain/0/rel'],
  ['rm', '/t'],
  ['ls', '/t'],
];

/** dom5 session, after dom0 prepared nodes with various permissions. */
const DOM0_SETUP: Step[] = [
  ['write', '/t/secret', 's'],
  ['write', '/t/pub', 'p'],
  ['chmod', '/t/pub', 'n0', 'r5'],
  ['write', '/t/open', 'o'],
  ['chmod', '/t/open', 'n0', 'b5'],
  ['write', '/t/wo', 'w'],
  ['chmod', '/t/wo', 'w0'],
  ['write', '/local/domain/5/name', 'guest'],
  ['chmod', '/local/domain/5', 'n5'],
  ['chmod', '/local/domain/5/name', 'n5'],
];
const DOMU_STEPS: Step[] = [
  ['read', '/t/secret'],
  ['read', '/t/pub'],
  ['read', '/t/nope'],
  ['read', '/t/secret/child'],
  ['write', '/t/secret', 'x'],
  ['write', '/t/pub', 'x'],
  ['write', '/t/open', 'mine'],
  ['read', '/t/open'],
  ['write', '/t/wo', 'w5'],
  ['read', '/t/wo'],
  ['write', '/t/new', 'x'],
  ['ls', '/t/secret'],
  ['ls', '/t/pub'],
  ['list', '/t'],
  ['list', '/t/pub'],
  ['ls', '-p', '/local/domain/5'],
  ['chmod', '/t/pub', 'b5'],
  ['chmod', '/t/open', 'b5'],
  ['chmod', '/t/secret', 'n0'],
  ['rm', '/t/secret'],
  ['rm', '/t/open'],
  ['read', 'name'],
  ['write', 'sub/leaf', 'v'],
  ['ls', '-p', '/local/domain/5'],
  ['chmod', 'sub/leaf', 'n5', 'r0'],
  ['chmod', 'sub/leaf', 'n0'],
  ['exists', '/t/secret'],
  ['exists', '/t/pub'],
];

async function runSteps(socket: string, steps: Step[]): Promise<string[]> {
  const out: string[] = [];
  for (const [name, ...args] of steps) {
    const r = await tool(name, socket, args);
    out.push(`$ xenstore-${name} ${args.join(' ')}\n${r.stdout}${r.stderr}rc=${r.code}`);
  }
  return out;
}

async function watchEvents(socket: string, writer: () => Promise<unknown>): Promise<string> {
  const watching = tool('watch', socket, ['-n', '3', '/w']);
  // xenstore-watch gives no sign that its watch is registered: leave it ample time on a busy machine.
  await new Promise((r) => setTimeout(r, 1000));
  await writer();
  const r = await watching;
  return `${r.stdout}rc=${r.code}`;
}

describe.each<FlavourName>(['cxenstored', 'oxenstored'])('real client tools: our %s vs the real one', (flavour) => {
  const both = bothDaemons(flavour);
  it('read, write, ls -p, list, rm -t, chmod -u/-r, exists as dom0: same output and exit codes', async () => {
    const expected = await runSteps(both.real.socket, DOM0_STEPS);
    const got = await runSteps(both.ours.socket, DOM0_STEPS);
    expect(got).toEqual(expected);
    // the comparison is not vacuous: the tools did see data and errors
    expect(expected.join('\n')).toMatch(/hello/);
    expect(expected.join('\n')).toMatch(/rc=1/);
  });

  it('list of a 300-child node: cx pages it with DIRECTORY_PART, ox sends it whole and the client gives up', async () => {
    const fill = async (socket: string) => {
      const c = await RawClient.open(socket);
      for (let i = 0; i < 300; i++) expect(await c.call(XsType.MKDIR, [`/big/child-name-number-${String(i).padStart(3, '0')}`])).toBe('MKDIR OK|');
      c.close();
    };
    await fill(both.real.socket);
    await fill(both.ours.socket);
    const expected = await runSteps(both.real.socket, [['list', '/big'], ['ls', '/big']]);
    const got = await runSteps(both.ours.socket, [['list', '/big'], ['ls', '/big']]);
    expect(got).toEqual(expected);
    expect(expected[0].endsWith(flavour === 'cxenstored' ? 'rc=0' : 'rc=1')).toBe(true);
  });

  it('watch -n prints the initial event and the changes', async () => {
    const go = async (socket: string) =>
      watchEvents(socket, async () => {
        await tool('write', socket, ['/w/x', '1']);
        await tool('rm', socket, ['/w']);
      });
    const expected = await go(both.real.socket);
    const got = await go(both.ours.socket);
    expect(got).toBe(expected);
    expect(expected.split('\n').filter(Boolean)).toHaveLength(4);
  });

  it('as domain 5 every denied read, write, list and chmod is denied the same way', async () => {
    const introduce = async (socket: string) => {
      const c = await RawClient.open(socket);
      expect(await c.call(XsType.INTRODUCE, ['5', '4660', '7'])).toBe('INTRODUCE OK|');
      c.close();
    };
    await introduce(both.real.socket);
    await introduce(both.ours.socket);
    await runSteps(both.real.socket, DOM0_SETUP);
    await runSteps(both.ours.socket, DOM0_SETUP);
    const realDom5 = await both.real.domainSocket(5);
    const expected = await runSteps(realDom5, DOMU_STEPS);
    const got = await runSteps(both.ours.domainSocket(5), DOMU_STEPS);
    expect(got).toEqual(expected);
    const denied = expected.filter((s) => s.endsWith('rc=1'));
    expect(denied.length).toBeGreaterThan(8);
    // and nothing a denial touched changed
    expect(both.ours.store.read(0, '/t/secret').toString()).toBe('s');
    expect(both.ours.store.read(0, '/t/pub').toString()).toBe('p');
    expect(both.ours.store.getPerms(0, '/t/pub').map((p) => `${p.letter}${p.domid}`)).toEqual(['n0', 'r5']);
  });
});
