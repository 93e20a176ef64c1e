/**
 * Xenstore wire framing (spec xen-hypervisor.md §10.1–10.2): a 16-byte little-endian header
 * `type, req_id, tx_id, len` followed by `len` payload bytes, `len` ≤ 4096.
 *
 * Pure byte handling, no sockets: the server feeds whatever arrived into a {@link FrameReader}
 * and gets whole messages back, however the client fragmented them (libxenstore writes the
 * header and each payload part with separate `write()` calls, xenstore-clients.md §2).
 */

/** Message types, `xs_wire.h` `enum xsd_sockmsg_type` (spec §10.2). */
export const XsType = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
} as const;

export type XsTypeName = keyof typeof XsType;

/** `XENSTORE_PAYLOAD_MAX` (spec §10.1). */
export const PAYLOAD_MAX = 4096;
/** Size of `struct xsd_sockmsg`. */
export const HEADER_SIZE = 16;

export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

/** Encodes one message: header plus payload (the caller keeps payloads within the limit). */
export function encodeMessage(type: number, reqId: number, txId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  out.writeUInt32LE(type >>> 0, 0);
  out.writeUInt32LE(reqId >>> 0, 4);
  out.writeUInt32LE(txId >>> 0, 8);
  out.writeUInt32LE(payload.length, 12);
  payload.copy(out, HEADER_SIZE);
  return out;
}

/** Payload of NUL-terminated strings, e.g. `path\0token\0` (spec §10.2). */
export function nulJoin(parts: readonly string[]): Buffer {
  let text = '';
  for (const p of parts) text += `${p}\0`;
  return Buffer.from(text, 'latin1');
}

/**
 * Splits a payload at NULs. A trailing part without its terminating NUL is returned in
 * `rest` (WRITE's value is sent without a terminator; a path without one is EINVAL).
 */
export function splitNul(payload: Buffer): { parts: string[]; rest: Buffer } {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      parts.push(payload.toString('latin1', start, i));
      start = i + 1;
    }
  }
  return { parts, rest: payload.subarray(start) };
}

/** What the reader found in the byte stream. */
export type Frame = { kind: 'message'; message: XsMessage } | { kind: 'oversized'; header: Omit<XsMessage, 'payload'>; len: number };

/**
 * Incremental frame reader. `push` appends bytes; `next` returns one whole frame or undefined
 * when more bytes are needed. A header announcing more than the limit (default
 * {@link PAYLOAD_MAX}) yields an `oversized` frame without waiting for (or consuming) its
 * payload: what happens next is the flavour's choice (see server.ts).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.buffered += bytes.length;
  }

  /** Bytes received but not yet returned as a frame (bounded by header + PAYLOAD_MAX per call). */
  get pending(): number {
    return this.buffered;
  }

  /** The next frame; a header announcing more than `limit` payload bytes is `oversized` at once. */
  next(limit = PAYLOAD_MAX): Frame | undefined {
    if (this.buffered < HEADER_SIZE) return undefined;
    const head = this.peek(HEADER_SIZE);
    const header = { type: head.readUInt32LE(0), reqId: head.readUInt32LE(4), txId: head.readUInt32LE(8) };
    const len = head.readUInt32LE(12);
    if (len > limit) return { kind: 'oversized', header, len };
    if (this.buffered < HEADER_SIZE + len) return undefined;
    const whole = this.take(HEADER_SIZE + len);
    return { kind: 'message', message: { ...header, payload: whole.subarray(HEADER_SIZE) } };
  }

  /** Drops everything buffered (a desynchronised or closed connection). */
  clear(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    const head = this.peek(n);
    const first = this.chunks[0];
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return head;
  }
}
