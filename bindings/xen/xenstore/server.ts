/**
 * The Xenstore daemon on a unix socket (spec xen-hypervisor.md §10.1, §10.9;
 * xenstore-clients.md §2–§6). Real clients reach it with `XENSTORED_PATH=<socket>`.
 *
 * - The main socket: every connection is domain 0 (privileged), like the real daemons'
 *   socket connections.
 * - Acting as domain N: after `XS_INTRODUCE` of N (over the wire or `store.introduce`), the
 *   server also listens on `<socket>-<N>`; each connection there is domain N, with its
 *   relative paths, permissions and quotas. This stands in for the guest's xenbus ring (the
 *   reference kit's ringproxy.py). `XS_RELEASE` closes that socket and its connections.
 * - Requests are answered in order; a connection's own watch events come before (cx) or after
 *   (ox) the reply of the request that caused them, WATCH's initial event always after; events
 *   to other connections go out at once. A client that disconnects loses its watches and open
 *   transactions.
 * - Malformed input never disturbs others: a header announcing more than 4096 bytes closes the
 *   connection (cx) or is read, answered, and followed by silence (ox), like the real daemons
 *   (§6, see Flavour.oversizedRequest). A client that stops mid-message just holds its own
 *   connection; the input buffered per connection is bounded by one message.
 */
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { fail } from '../../errors.js';
import type { FlavourName } from './flavour.js';
import { handleRequest, watchEventMessage } from './protocol.js';
import { createStore, PRIV_DOMID, type XenstoreStore } from './store.js';
import { FrameReader, PAYLOAD_MAX, XsType, type XsMessage } from './wire.js';

export interface XenstoredOptions {
  /** Path of the dom0 unix socket (keep it under 108 bytes). */
  socket: string;
  flavour?: FlavourName;
  /** Serve an existing store instead of a new one (e.g. the toolstack's). */
  store?: XenstoreStore;
}

export interface XenstoreServer {
  readonly socket: string;
  readonly store: XenstoreStore;
  /** The socket that connects as domain `domid` (bound while the domain is introduced). */
  domainSocket(domid: number): string;
  /** Open client connections. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Output a slow reader may leave queued before its connection stops being read (requests) or is dropped (events). */
const PAUSE_OUTPUT = 1 << 20;
const DROP_OUTPUT = 16 << 20;

function removeStaleSocket(path: string): void {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) fail('EEXIST', `${path} exists and is not a socket`);
  unlinkSync(path);
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** ox: the largest oversized message read whole to answer it (a larger one silences the connection unread). */
const OVERSIZED_READ_MAX = 64 * 1024;

/** Serves one connection as domain `domid`. */
function serveConnection(store: XenstoreStore, sock: Socket, domid: number, sockets: Set<Socket>): void {
  sockets.add(sock);
  const flavour = store.flavour;
  const reader = new FrameReader();
  /** Output of the input being processed: written when the batch is done (or lost, if cx drops the connection). */
  let batch: Buffer[] | undefined;
  /** A request's own watch events, held to follow its reply. */
  let held: Buffer[] | undefined;
  let silent = false;
  const write = (buf: Buffer) => {
    if (sock.destroyed) return;
    sock.write(buf);
    if (sock.writableLength > DROP_OUTPUT) sock.destroy();
  };
  const session = store.connect(domid, (path, token) => {
    const ev = watchEventMessage(path, token);
    if (held) held.push(ev);
    else if (batch) batch.push(ev);
    else write(ev);
  });

  /** Handles one request; the reply and its held events join the batch. */
  const answer = (msg: XsMessage) => {
    held = msg.type === XsType.WATCH || !flavour.ownEventsBeforeReply ? [] : undefined;
    const reply = handleRequest(store, session, msg);
    const events = held ?? [];
    held = undefined;
    batch!.push(reply, ...events);
  };

  const process = () => {
    batch = [];
    try {
      while (!silent && !sock.destroyed) {
        if (sock.writableLength > PAUSE_OUTPUT) {
          sock.pause();
          sock.once('drain', () => {
            sock.resume();
            process();
          });
          return;
        }
        const frame = reader.next(flavour.oversizedRequest === 'close' ? PAYLOAD_MAX : OVERSIZED_READ_MAX);
        if (!frame) return;
        if (frame.kind === 'oversized') {
          reader.clear();
          if (flavour.oversizedRequest === 'close') {
            batch = [];
            sock.destroy();
            return;
          }
          silent = true;
          return;
        }
        answer(frame.message);
        if (frame.message.payload.length > PAYLOAD_MAX) {
          reader.clear();
          silent = true;
        }
      }
    } finally {
      const out = batch;
      batch = undefined;
      if (out.length > 0) write(out.length === 1 ? out[0] : Buffer.concat(out));
    }
  };

  sock.on('data', (chunk: Buffer) => {
    if (silent) return;
    reader.push(chunk);
    process();
  });
  sock.on('error', () => sock.destroy());
  sock.on('close', () => {
    sockets.delete(sock);
    store.disconnect(session);
    reader.clear();
  });
}

/**
 * Starts the daemon: `affinity-engine xenstored --socket PATH [--flavour cxenstored|oxenstored]`.
 * Resolves once the dom0 socket accepts connections.
 */
export async function startXenstored(options: XenstoredOptions): Promise<XenstoreServer> {
  const store = options.store ?? createStore({ flavour: options.flavour });
  const sockets = new Set<Socket>();
  const domainServers = new Map<number, { server: Server; sockets: Set<Socket> }>();
  const domainSocket = (domid: number) => `${options.socket}-${domid}`;

  removeStaleSocket(options.socket);
  const main = createServer((sock) => serveConnection(store, sock, PRIV_DOMID, sockets));
  await listen(main, options.socket);

  const openDomain = (domid: number) => {
    const own = new Set<Socket>();
    const server = createServer((sock) => serveConnection(store, sock, domid, own));
    domainServers.set(domid, { server, sockets: own });
    removeStaleSocket(domainSocket(domid));
    server.on('error', () => {});
    server.listen(domainSocket(domid));
  };
  const closeDomain = (domid: number) => {
    const d = domainServers.get(domid);
    if (!d) return;
    domainServers.delete(domid);
    d.server.close();
    for (const s of d.sockets) s.destroy();
  };
  const unsubscribe = store.onDomain((event, domid) => (event === 'introduce' ? openDomain(domid) : closeDomain(domid)));
  for (const domid of store.introducedDomains()) openDomain(domid);

  return {
    socket: options.socket,
    store,
    domainSocket,
    get connections() {
      let n = sockets.size;
      for (const d of domainServers.values()) n += d.sockets.size;
      return n;
    },
    async close() {
      unsubscribe();
      for (const domid of [...domainServers.keys()]) closeDomain(domid);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => main.close(() => resolve()));
    },
  };
}
