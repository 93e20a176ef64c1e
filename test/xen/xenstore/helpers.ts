/**
 * Test plumbing for the Xenstore area: the reference kit (real clients, real C xenstored and
 * oxenstored, test-xenstore — ../shared/xenstore-reference), our server, and a raw wire client.
 * The kit must be installed (CI runs setup.sh): a missing kit fails loudly, it is never skipped.
 * bench/xenstore.bench.ts starts the real daemons with the same code.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlavourName } from '../../../bindings/xen/xenstore/flavour.js';
import { startXenstored, type XenstoreServer } from '../../../bindings/xen/xenstore/server.js';
import { encodeMessage, FrameReader, nulJoin, XsType, type XsMessage } from '../../../bindings/xen/xenstore/wire.js';

/** The kit's scripts: `shared/xenstore-reference` beside the checkout, found from here upwards (tests run from test/, the bench from dist-bench/). */
export const KIT_SCRIPTS = ((): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const kit = resolve(dir, '../shared/xenstore-reference');
    if (existsSync(kit)) return kit;
  }
  return resolve('../shared/xenstore-reference');
})();
export const XS_REF_ROOT = process.env.XS_REF_ROOT ?? '/tmp/xenstore-reference';
export const TEST_XENSTORE = join(XS_REF_ROOT, 'root/usr/lib/xen-4.17/bin/test-xenstore');

/** The kit's files that are missing (none when it is installed). */
export function missingKit(): string[] {
  return [TEST_XENSTORE, join(XS_REF_ROOT, 'fakexen.so'), join(XS_REF_ROOT, 'root/usr/lib/xen-4.17/bin/xenstored'), join(XS_REF_ROOT, 'root/usr/lib/xen-4.17/bin/oxenstored'), '/usr/bin/xenstore-read'].filter((p) => !existsSync(p));
}

/** Throws (failing the suite) when the reference kit is not installed. */
export function requireKit(): void {
  const missing = missingKit();
  if (missing.length > 0) throw new Error(`Xenstore reference kit missing (${missing.join(', ')}): run ../shared/xenstore-reference/setup.sh and export XS_REF_ROOT`);
}

let seq = 0;
/** A short unique directory under /tmp (unix socket paths must stay under 108 bytes). */
export function shortDir(tag: string): string {
  const d = `/tmp/xs${process.pid % 100000}${tag}${seq++}`;
  mkdirSync(d, { recursive: true });
  return d;
}

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 30_000, encoding: 'latin1' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** Runs a real client tool (`xenstore-read` …) against a socket; never blocks the event loop (our server lives in it). */
export function tool(name: string, socket: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(`/usr/bin/xenstore-${name}`, args, { XENSTORED_PATH: socket });
}

export function testXenstore(socket: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(TEST_XENSTORE, args, { XENSTORED_PATH: socket });
}

/** A real daemon started with the kit's start script. */
export interface RealDaemon {
  flavour: FlavourName;
  socket: string;
  stateDir: string;
  /** A unix socket that is domain `domid`'s ring (INTRODUCE first), via ringproxy.py. */
  domainSocket(domid: number): Promise<string>;
  /** Stops the ring proxy behind a domain socket (each one polls the ring continuously). */
  closeDomainSocket(path: string): void;
  stop(): Promise<void>;
}

export async function startReal(flavour: FlavourName): Promise<RealDaemon> {
  requireKit();
  const stateDir = shortDir(flavour === 'cxenstored' ? 'c' : 'o');
  const script = join(KIT_SCRIPTS, flavour === 'cxenstored' ? 'start-cxenstored.sh' : 'start-oxenstored.sh');
  const started = await run(script, [stateDir], { XS_REF: XS_REF_ROOT });
  const pid = Number(started.stdout.trim());
  if (!(pid > 0) || !existsSync(join(stateDir, 'run/socket'))) throw new Error(`${flavour} did not start: ${started.stdout} ${started.stderr} ${existsSync(join(stateDir, 'out')) ? readFileSync(join(stateDir, 'out'), 'utf8') : ''}`);
  const proxies = new Map<string, ChildProcess>();
  return {
    flavour,
    socket: join(stateDir, 'run/socket'),
    stateDir,
    async domainSocket(domid: number) {
      const path = join(stateDir, `d${domid}`);
      const proxy = spawn('python3', [join(KIT_SCRIPTS, 'ringproxy.py'), join(stateDir, 'fx'), String(domid), path], { stdio: ['ignore', 'pipe', 'inherit'] });
      proxies.set(path, proxy);
      await new Promise<void>((ok, ko) => {
        proxy.stdout!.once('data', () => ok());
        proxy.once('exit', (c) => ko(new Error(`ringproxy exited ${c}`)));
      });
      return path;
    },
    closeDomainSocket(path: string) {
      proxies.get(path)?.kill('SIGKILL');
      proxies.delete(path);
    },
    async stop() {
      for (const p of proxies.values()) p.kill('SIGKILL');
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 100));
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
      }
      process.kill(pid, 'SIGKILL');
    },
  };
}

/** Our server on a fresh short socket. */
export async function startOurs(flavour: FlavourName): Promise<XenstoreServer> {
  return startXenstored({ socket: join(shortDir('s'), 'sock'), flavour });
}

/** A raw wire client: sends messages and collects what comes back, replies and events apart. */
export class RawClient {
  private readonly reader = new FrameReader();
  private readonly waiting: ((m: XsMessage | 'CLOSED') => void)[] = [];
  readonly events: string[] = [];
  /** Replies that arrived while nobody waited. */
  private readonly unclaimed: XsMessage[] = [];
  closed = false;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d) => {
      this.reader.push(d);
      for (let f = this.reader.next(); f; f = this.reader.next()) {
        if (f.kind !== 'message') throw new Error('oversized reply');
        const m = f.message;
        if (m.type === XsType.WATCH_EVENT) this.events.push(m.payload.toString('latin1'));
        else {
          const w = this.waiting.shift();
          if (w) w(m);
          else this.unclaimed.push(m);
        }
      }
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w('CLOSED');
    });
    sock.on('error', () => {});
  }

  static open(path: string): Promise<RawClient> {
    return new Promise((ok, ko) => {
      const s = connect(path, () => ok(new RawClient(s)));
      s.once('error', ko);
    });
  }

  /** Sends raw bytes (for malformed-input tests). */
  sendRaw(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  /** The next reply, or 'TIMEOUT' / 'CLOSED' (the default wait is generous: CI machines are busy, and C xenstored rate-limits a domU's writes). */
  nextReply(timeoutMs = 15_000): Promise<XsMessage | 'TIMEOUT' | 'CLOSED'> {
    return new Promise((ok) => {
      const early = this.unclaimed.shift();
      if (early) return ok(early);
      if (this.closed) return ok('CLOSED');
      const take = (m: XsMessage | 'CLOSED') => {
        clearTimeout(timer);
        ok(m);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        ok(this.closed ? 'CLOSED' : 'TIMEOUT');
      }, timeoutMs);
      this.waiting.push(take);
    });
  }

  async request(type: number, payload: Buffer | string, tx = 0, reqId = 0): Promise<XsMessage | 'TIMEOUT' | 'CLOSED'> {
    const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
    const reply = this.nextReply();
    this.sendRaw(encodeMessage(type, reqId, tx, p));
    return reply;
  }

  /** A request with NUL-terminated string arguments; the reply rendered as text (`ERROR ENOENT`, `OK`, …). */
  async call(type: number, parts: string[], tx = 0): Promise<string> {
    return render(await this.request(type, nulJoin(parts), tx));
  }

  close(): void {
    this.sock.destroy();
  }
}

/** `TYPE payload` with NULs shown as `|`. */
export function render(m: XsMessage | 'TIMEOUT' | 'CLOSED'): string {
  if (typeof m === 'string') return m;
  const name = Object.entries(XsType).find(([, v]) => v === m.type)?.[0] ?? `T${m.type}`;
  return `${name} ${m.payload.toString('latin1').replace(/\0/g, '|')}`;
}

/** Our server and the real daemon of one flavour, started before a describe block's tests and stopped after them. */
export interface BothDaemons {
  ours: XenstoreServer;
  real: RealDaemon;
}

export function bothDaemons(flavour: FlavourName): BothDaemons {
  const both = {} as BothDaemons;
  beforeAll(async () => {
    requireKit();
    [both.ours, both.real] = await Promise.all([startOurs(flavour), startReal(flavour)]);
  });
  afterAll(async () => {
    await both.ours?.close();
    await both.real?.stop();
  });
  return both;
}
