/**
 * Xenstore throughput (issue 5): requests per second over the unix socket for READ, WRITE and
 * DIRECTORY, with 1 and 16 concurrent clients, against our server (both flavours, in a worker
 * thread so it does not share the clients' event loop) and the real C xenstored and
 * oxenstored of the reference kit (../shared/xenstore-reference, started with its scripts),
 * all in the same run; plus the store-level API (no socket) with benchmark.js.
 *
 * The socket figures come from a fixed-count timed loop, not benchmark.js: each client sends
 * a request, waits for its reply, sends the next (what libxenstore does: one outstanding
 * request per connection), for a fixed number of requests after a warm-up; best of two
 * interleaved rounds. The rows' note says how each compares with the real daemon of the same
 * flavour.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FlavourName } from '../bindings/xen/xenstore/flavour.js';
import { createStore } from '../bindings/xen/xenstore/store.js';
import { encodeMessage, FrameReader, nulJoin, XsType } from '../bindings/xen/xenstore/wire.js';
import { missingKit, startReal } from '../test/xen/xenstore/helpers.js';
import { measure, type Row } from './harness.js';

const FLAVOURS: FlavourName[] = ['cxenstored', 'oxenstored'];
/** Requests per configuration (split across the clients), after WARMUP per client. */
const REQUESTS = 4000;
const WARMUP = 100;
const KEYS = 64;

interface Target {
  name: string;
  flavour: FlavourName;
  socket: string;
  stop(): Promise<void>;
}

/** Our server in a worker thread (it inherits the loader flags the bench runs with). */
async function startOurs(flavour: FlavourName, dir: string): Promise<Target> {
  const socket = join(dir, `ours-${flavour[0]}`);
  const serverUrl = new URL('../bindings/xen/xenstore/server.js', import.meta.url).href;
  const code = `import { parentPort } from 'node:worker_threads';
const { startXenstored } = await import(${JSON.stringify(serverUrl)});
const server = await startXenstored({ socket: ${JSON.stringify(socket)}, flavour: ${JSON.stringify(flavour)} });
parentPort.on('message', async () => { await server.close(); parentPort.postMessage('closed'); });
parentPort.postMessage('ready');`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
  await new Promise<void>((ok, ko) => {
    worker.once('message', () => ok());
    worker.once('error', ko);
  });
  return {
    name: `ours-${flavour}`,
    flavour,
    socket,
    async stop() {
      worker.postMessage('close');
      await new Promise((ok) => worker.once('message', ok));
      await worker.terminate();
    },
  };
}

/** A real daemon via the kit's start script (the tests' helper); undefined when the kit is not installed. */
async function startRealTarget(flavour: FlavourName): Promise<Target | undefined> {
  if (missingKit().length > 0) return undefined;
  const real = await startReal(flavour);
  return { name: `real-${flavour}`, flavour, socket: real.socket, stop: () => real.stop() };
}

/** One connection doing request/reply round trips. */
class Client {
  private readonly reader = new FrameReader();
  private waiting?: () => void;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d) => {
      this.reader.push(d);
      for (let f = this.reader.next(); f; f = this.reader.next()) if (f.kind === 'message' && f.message.type !== XsType.WATCH_EVENT) this.waiting?.();
    });
  }
  static open(path: string): Promise<Client> {
    return new Promise((ok, ko) => {
      const s = connect(path, () => ok(new Client(s)));
      s.once('error', ko);
    });
  }
  roundTrip(msg: Buffer): Promise<void> {
    return new Promise((ok) => {
      this.waiting = ok;
      this.sock.write(msg);
    });
  }
  close(): void {
    this.sock.destroy();
  }
}

const OPS: Record<string, (i: number) => Buffer> = {
  read: (i) => encodeMessage(XsType.READ, 0, 0, nulJoin([`/bench/k${i % KEYS}`])),
  write: (i) => encodeMessage(XsType.WRITE, 0, 0, Buffer.concat([nulJoin([`/bench/k${i % KEYS}`]), Buffer.from(`value-${i}`)])),
  directory: () => encodeMessage(XsType.DIRECTORY, 0, 0, nulJoin(['/bench'])),
};

/** Requests per second of `op` with `clients` concurrent connections (fixed-count timed loop). */
async function throughput(target: Target, op: string, clients: number): Promise<number> {
  // one at a time, each answered once: C xenstored's listen backlog is tiny, and a unix
  // connect beyond it fails EAGAIN
  const conns: Client[] = [];
  for (let k = 0; k < clients; k++) {
    const c = await Client.open(target.socket);
    await c.roundTrip(encodeMessage(XsType.GET_DOMAIN_PATH, 0, 0, nulJoin(['0'])));
    conns.push(c);
  }
  const make = OPS[op];
  const perClient = Math.ceil(REQUESTS / clients);
  const loop = async (c: Client, n: number, base: number) => {
    for (let i = 0; i < n; i++) await c.roundTrip(make(base + i));
  };
  await Promise.all(conns.map((c, k) => loop(c, WARMUP, k * 1000)));
  const t0 = process.hrtime.bigint();
  await Promise.all(conns.map((c, k) => loop(c, perClient, k * 1000)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of conns) c.close();
  return (perClient * clients) / seconds;
}

async function seed(target: Target): Promise<void> {
  const c = await Client.open(target.socket);
  for (let i = 0; i < KEYS; i++) await c.roundTrip(OPS.write(i));
  c.close();
}

/** Store-level ops/s (benchmark.js): the typed API the toolstack calls, no socket. */
function storeRows(): Row[] {
  const rows: Row[] = [];
  for (const flavour of FLAVOURS) {
    const xs = createStore({ flavour });
    for (let i = 0; i < KEYS; i++) xs.write(0, `/bench/k${i}`, `v${i}`);
    let i = 0;
    rows.push(
      ...measure(`xenstore store-level (${flavour})`, {
        read: () => xs.read(0, `/bench/k${i++ % KEYS}`),
        write: () => xs.write(0, `/bench/k${i++ % KEYS}`, 'value'),
        directory: () => xs.directory(0, '/bench'),
        'transaction (read+write+commit)': () => {
          const tx = xs.transactionStart(0);
          const k = `/bench/k${i++ % KEYS}`;
          xs.write(0, k, xs.read(0, k, tx), tx);
          xs.transactionEnd(0, tx, true);
        },
      }),
    );
  }
  return rows;
}

export async function benchXenstore(): Promise<Row[]> {
  const rows = storeRows();
  const dir = mkdtempSync('/tmp/xsb');
  const targets: Target[] = [];
  try {
    for (const flavour of FLAVOURS) {
      targets.push(await startOurs(flavour, dir));
      const real = await startRealTarget(flavour);
      if (real) targets.push(real);
    }
    for (const t of targets) await seed(t);
    for (const op of Object.keys(OPS)) {
      for (const clients of [1, 16]) {
        const subject = `xenstore socket ${op}, ${clients} client${clients > 1 ? 's' : ''}`;
        // two rounds, targets interleaved, best of each: the machine is shared and noisy
        const measured = new Map<string, number>();
        for (let round = 0; round < 2; round++) {
          for (const t of targets) measured.set(t.name, Math.max(measured.get(t.name) ?? 0, await throughput(t, op, clients)));
        }
        for (const t of targets) {
          const real = measured.get(`real-${t.flavour}`);
          const mine = measured.get(t.name)!;
          const note = t.name.startsWith('ours') && real ? `${(mine / real).toFixed(2)}× real ${t.flavour}` : undefined;
          rows.push({ subject, variant: t.name, opsPerSec: mine, ...(note ? { note } : {}) });
        }
      }
    }
    if (!targets.some((t) => t.name.startsWith('real'))) rows.push({ subject: 'xenstore socket', variant: 'real daemons', opsPerSec: 0, note: 'reference kit not installed: run ../shared/xenstore-reference/setup.sh' });
  } finally {
    for (const t of targets) await t.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
