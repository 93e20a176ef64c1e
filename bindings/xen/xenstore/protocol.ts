/**
 * One request in, one reply out (spec xen-hypervisor.md §10.2, xenstore-clients.md §4–§6):
 * parses a message's payload for its type, calls the store, and encodes the answer or the
 * `XS_ERROR` errno name. No sockets here: the server and the tests feed messages directly.
 */
import { isAffinityError, fail } from '../../errors.js';
import { formatPerm } from './perms.js';
import type { Session, XenstoreStore } from './store.js';
import { encodeMessage, nulJoin, PAYLOAD_MAX, splitNul, XsType, type XsMessage } from './wire.js';

const OK = nulJoin(['OK']);

/** The payload's NUL-terminated strings; anything after the last NUL is malformed (EINVAL). */
function args(payload: Buffer, count: number | 'any'): string[] {
  const { parts, rest } = splitNul(payload);
  if (rest.length > 0) fail('EINVAL', 'the request payload is not NUL-terminated');
  if (count !== 'any' && parts.length !== count) fail('EINVAL', `expected ${count} argument(s), got ${parts.length}`);
  return parts;
}

/** A domid argument: cx reads it with strtoul (junk is 0), ox with int_of_string (junk is EINVAL). */
function domidArg(text: string | undefined, lenient: boolean): number {
  if (text === undefined || text === '') fail('EINVAL', 'missing domid');
  if (/^\d+$/.test(text)) return Number(text);
  if (!lenient) fail('EINVAL', `domid ${JSON.stringify(text)} is not a number`);
  const m = /^\s*(\d*)/.exec(text)!;
  return m[1] === '' ? 0 : Number(m[1]);
}

function isLenient(store: XenstoreStore): boolean {
  return !store.flavour.introduce.strictNumbers;
}

/** The reply payload for one request (throws AffinityError for an XS_ERROR reply). */
function answer(store: XenstoreStore, session: Session, msg: XsMessage): Buffer {
  const { type, txId: tx, payload } = msg;
  const lenient = isLenient(store);
  switch (type) {
    case XsType.READ:
      return store.read(session, args(payload, 1)[0], tx);
    case XsType.WRITE: {
      const nul = payload.indexOf(0);
      if (nul < 0) fail('EINVAL', 'XS_WRITE needs "path\\0value"');
      store.write(session, payload.toString('latin1', 0, nul), payload.subarray(nul + 1), tx);
      return OK;
    }
    case XsType.MKDIR:
      store.mkdir(session, args(payload, 1)[0], tx);
      return OK;
    case XsType.RM:
      store.rm(session, args(payload, 1)[0], tx);
      return OK;
    case XsType.DIRECTORY: {
      const reply = nulJoin(store.directory(session, args(payload, 1)[0], tx));
      if (reply.length > PAYLOAD_MAX && store.flavour.oversizedDirectory === 'E2BIG') fail('E2BIG', 'the directory listing is over 4096 bytes; use XS_DIRECTORY_PART');
      return reply;
    }
    case XsType.DIRECTORY_PART: {
      if (!store.flavour.directoryPart) fail('ENOSYS', `${store.flavour.name} has no XS_DIRECTORY_PART`);
      const [path, offsetText] = args(payload, 2);
      if (!/^\d+$/.test(offsetText)) fail('EINVAL', `offset ${JSON.stringify(offsetText)} is not a number`);
      const room = PAYLOAD_MAX - 1 - 8;
      const part = store.directoryPart(session, path, Number(offsetText), room, tx);
      const body = nulJoin([String(part.generation), ...part.names]);
      return part.complete ? Buffer.concat([body, Buffer.alloc(1)]) : body;
    }
    case XsType.GET_PERMS:
      return nulJoin(store.getPerms(session, args(payload, 1)[0], tx).map(formatPerm));
    case XsType.SET_PERMS: {
      const [path, ...perms] = args(payload, 'any');
      if (path === undefined) fail('EINVAL', 'XS_SET_PERMS needs a path');
      store.setPerms(session, path, perms, tx);
      return OK;
    }
    case XsType.WATCH: {
      const [path, token] = args(payload, 2);
      store.watch(session, path, token);
      return OK;
    }
    case XsType.UNWATCH: {
      const [path, token] = args(payload, 2);
      store.unwatch(session, path, token);
      return OK;
    }
    case XsType.TRANSACTION_START:
      return nulJoin([String(store.transactionStart(session, tx))]);
    case XsType.TRANSACTION_END: {
      const [flag] = args(payload, 'any');
      if (flag !== 'T' && flag !== 'F') fail('EINVAL', `XS_TRANSACTION_END takes T or F, not ${JSON.stringify(flag)}`);
      store.transactionEnd(session, tx, flag === 'T');
      return OK;
    }
    case XsType.INTRODUCE: {
      const a = args(payload, 'any');
      if (a.length < 3) fail('EINVAL', 'XS_INTRODUCE needs domid, gfn and event channel');
      const gfn = /^\d+$/.test(a[1]) ? BigInt(a[1]) : lenient ? 0n : fail('EINVAL', `gfn ${JSON.stringify(a[1])} is not a number`);
      store.introduce(domidArg(a[0], lenient), gfn, domidArg(a[2], lenient), session);
      return OK;
    }
    case XsType.RELEASE:
      store.release(domidArg(args(payload, 'any')[0], lenient), session);
      return OK;
    case XsType.RESUME:
      store.resume(domidArg(args(payload, 'any')[0], lenient), session);
      return OK;
    case XsType.SET_TARGET: {
      const a = args(payload, 'any');
      store.setTarget(domidArg(a[0], lenient), domidArg(a[1], lenient), session);
      return OK;
    }
    case XsType.IS_DOMAIN_INTRODUCED:
      // privileged only in both daemons (observed EACCES for a domU, spec §10.2)
      if (!session.caller().privileged) fail('EACCES', 'XS_IS_DOMAIN_INTRODUCED is for the privileged domain');
      return nulJoin([store.isIntroduced(domidArg(args(payload, 'any')[0], lenient)) ? 'T' : 'F']);
    case XsType.GET_DOMAIN_PATH:
      // Both daemons answer `x` with /local/domain/0 (§6): lenient parsing for this one.
      return nulJoin([store.getDomainPath(domidArg(args(payload, 'any')[0], true))]);
    case XsType.RESET_WATCHES:
      store.resetWatches(session);
      return OK;
    case XsType.CONTROL:
      return control(store, session, args(payload, 'any'));
    default:
      return fail('ENOSYS', `message type ${type} is not implemented`);
  }
}

/** XS_CONTROL: cx prints its help for `help`; ox acknowledges every command (§6). Privileged only. */
function control(store: XenstoreStore, session: Session, a: string[]): Buffer {
  if (!session.caller().privileged) fail('EACCES', 'XS_CONTROL is for the privileged domain');
  if (store.flavour.name === 'oxenstored') return OK;
  if (a[0] === 'help') return nulJoin(['Valid commands:\nhelp                  show this help\n']);
  return fail('EINVAL', `unknown control command ${JSON.stringify(a[0] ?? '')}`);
}

/**
 * Handles one request and returns the encoded reply: same type, req_id and tx_id, or
 * `XS_ERROR` with the errno name (an unexpected internal failure is `EIO`, like oxenstored).
 */
export function handleRequest(store: XenstoreStore, session: Session, msg: XsMessage): Buffer {
  try {
    return encodeMessage(msg.type, msg.reqId, msg.txId, answer(store, session, msg));
  } catch (e) {
    const name = isAffinityError(e) ? e.errno : 'EIO';
    return encodeMessage(XsType.ERROR, msg.reqId, msg.txId, nulJoin([name]));
  }
}

/** A WATCH_EVENT message (req_id and tx_id 0, §4). */
export function watchEventMessage(path: string, token: string): Buffer {
  return encodeMessage(XsType.WATCH_EVENT, 0, 0, nulJoin([path, token]));
}
