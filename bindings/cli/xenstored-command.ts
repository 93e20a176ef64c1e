/**
 * `affinity-engine xenstored --socket PATH [--flavour cxenstored|oxenstored]`: the Xenstore
 * daemon of bindings/xen/xenstore/server.ts on a unix socket, until SIGINT or SIGTERM.
 * Prints `listening on PATH` on stdout once clients can connect (XENSTORED_PATH=PATH).
 */
import { fail } from '../errors.js';
import type { FlavourName } from '../xen/xenstore/flavour.js';
import { startXenstored } from '../xen/xenstore/server.js';
import { lastValue, parseArgs } from './args.js';

const FLAVOURS: readonly FlavourName[] = ['cxenstored', 'oxenstored'];

export async function xenstoredCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { values: ['socket', 'flavour'], flags: [] });
  if (args.positionals.length) fail('EINVAL', `xenstored: unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const socket = lastValue(args, 'socket');
  if (!socket) fail('EINVAL', 'xenstored: --socket PATH is required');
  const flavour = lastValue(args, 'flavour') ?? 'oxenstored';
  if (!(FLAVOURS as readonly string[]).includes(flavour)) fail('EINVAL', `xenstored: --flavour ${flavour}: expected ${FLAVOURS.join(' or ')}`);
  const server = await startXenstored({ socket, flavour: flavour as FlavourName });
  process.stdout.write(`listening on ${socket} (${flavour})\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
