// The kit RPC endpoint's wire format (interop §1.2-1.3): the RpcMessage JSON a client POSTs to
// `/rpc:distro:sys/message`, and the `{"body": [...], "lazy_load_blob": ...}` answer.

import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Reply } from '../../kernel/api.js';
import { type Address, IdParseError, type LazyLoadBlob, MAX_RPC_MESSAGE_BYTES, parseProcessId, utf8 } from '../../../core/types.js';
import { RpcFormatError } from './errors.js';

/**
 * The largest RPC body read: a MAX_RPC_MESSAGE_BYTES message whose blob travels as base64 (4/3 larger) plus
 * room for the JSON around it. Anything over is refused with 413 before it is buffered.
 */
export const RPC_BODY_LIMIT = Math.ceil(MAX_RPC_MESSAGE_BYTES / 3) * 4 + 256 * 1024;

export interface RpcMessage {
  target: Address;
  body: Uint8Array;
  /** Seconds; undefined for fire-and-forget. */
  expectsResponse?: number;
  metadata?: string;
  blob?: LazyLoadBlob;
  /** Set when `data` was present but not valid base64 (the real node then drops the blob). */
  droppedBlob?: boolean;
}

/**
 * Standard base64 with padding. Checked by a round trip, not a regex: a package zip is megabytes
 * of base64, and a backtracking regex over that overflows the stack.
 */
function decodeStandardBase64(data: string): Uint8Array | undefined {
  if (data.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(data, 'base64');
  return bytes.toString('base64') === data ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
}

function optionalString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new RpcFormatError(`\`${key}\` must be a string or null, got ${JSON.stringify(v)}`);
  return v;
}

/** Parse an RpcMessage; throws RpcFormatError naming what is wrong. */
export function parseRpcMessage(raw: Uint8Array, our: string): RpcMessage {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch (e) {
    throw new RpcFormatError(`request body is not JSON: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new RpcFormatError('request body must be a JSON object like {"process": "p:k:pub", "body": "...", "expects_response": 15}');
  const obj = value as Record<string, unknown>;
  if (typeof obj.process !== 'string') throw new RpcFormatError('`process` is missing: it must be a process ID string like "main:app-store:sys"');
  let process: Address['process'];
  try {
    process = parseProcessId(obj.process);
  } catch (e) {
    throw new RpcFormatError(e instanceof IdParseError ? e.message : String(e));
  }
  const node = optionalString(obj, 'node') ?? our;
  const body = optionalString(obj, 'body');
  const metadata = optionalString(obj, 'metadata');
  const mime = optionalString(obj, 'mime');
  const data = optionalString(obj, 'data');
  optionalString(obj, 'context'); // accepted and ignored, as by the real node
  if (obj.inherit !== undefined && obj.inherit !== null && typeof obj.inherit !== 'boolean')
    throw new RpcFormatError('`inherit` must be a boolean or null');
  const er = obj.expects_response;
  let expectsResponse: number | undefined;
  if (er !== undefined && er !== null) {
    if (typeof er !== 'number' || !Number.isInteger(er) || er < 0)
      throw new RpcFormatError(`\`expects_response\` must be a whole number of seconds or null, got ${JSON.stringify(er)}`);
    expectsResponse = er;
  }
  let blob: LazyLoadBlob | undefined;
  let droppedBlob = false;
  if (data !== undefined) {
    // The real node silently drops a blob that is not standard base64; so do we (the caller logs it).
    const bytes = decodeStandardBase64(data);
    if (bytes) blob = { mime, bytes };
    else droppedBlob = true;
  }
  return {
    target: { node, process },
    body: body === undefined ? new Uint8Array() : utf8(body),
    expectsResponse,
    metadata,
    blob,
    droppedBlob,
  };
}

/** "0" .. "255" as ASCII, for writing byte arrays as JSON number arrays without strings. */
const DECIMAL: Buffer[] = Array.from({ length: 256 }, (_, i) => Buffer.from(String(i), 'latin1'));

/**
 * Input bytes per piece of a streamed answer: a multiple of 3, so each piece's base64 stands alone,
 * and small enough (about 230 KB of JSON out) that encoding one piece never holds the thread long.
 */
export const RPC_PIECE_BYTES = 3 * 16 * 1024;

/** Append `bytes` to a JSON number array being written (`first`: nothing is in it yet). */
function numberArrayPiece(bytes: Uint8Array, first: boolean): Buffer {
  const out = Buffer.allocUnsafe(bytes.length * 4);
  let at = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0 || !first) out[at++] = 44; // ','
    const d = DECIMAL[bytes[i]];
    out[at++] = d[0];
    if (d.length > 1) out[at++] = d[1];
    if (d.length > 2) out[at++] = d[2];
  }
  return out.subarray(0, at);
}

/** Pieces of `[n,n,...]` for `bytes`, RPC_PIECE_BYTES of input at a time. */
function* numberArray(bytes: Uint8Array, map: (piece: Uint8Array) => Uint8Array = (p) => p): Generator<Buffer> {
  yield Buffer.from('[');
  for (let at = 0; at < bytes.length; at += RPC_PIECE_BYTES) yield numberArrayPiece(map(bytes.subarray(at, at + RPC_PIECE_BYTES)), at === 0);
  yield Buffer.from(']');
}

/** The ASCII bytes of `piece` in standard base64 (whole only when piece.length is a multiple of 3 or it is the last). */
function base64Ascii(piece: Uint8Array): Uint8Array {
  return Buffer.from(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString('base64'), 'latin1');
}

/**
 * The 200 answer to a blocking RPC, as pieces of at most about 1 MB: the real node's
 * `{"body": [..], "lazy_load_blob": {"mime", "bytes": [..]}}`, the blob double-encoded as it does
 * it (bytes -> standard base64 text -> the ASCII bytes of that text as a number array). Written
 * piece by piece, a big answer never becomes one giant string (V8 cannot hold ~400 MB of it) and
 * never holds the thread that routes messages for long.
 */
export function* rpcResponsePieces(reply: Reply): Generator<Buffer> {
  yield Buffer.from('{"body":');
  yield* numberArray(reply.response.body);
  yield Buffer.from(',"lazy_load_blob":');
  if (!reply.blob) yield Buffer.from('null');
  else {
    yield Buffer.from(`{"mime":${JSON.stringify(reply.blob.mime ?? null)},"bytes":`);
    yield* numberArray(reply.blob.bytes, base64Ascii);
    yield Buffer.from('}');
  }
  yield Buffer.from('}');
}

/** Input bytes of an answer (body and blob) from which it is streamed rather than built at once. */
export const RPC_STREAM_FROM_BYTES = 256 * 1024;

/** The whole answer at once (small answers; tests). */
export function encodeRpcResponse(reply: Reply): string {
  return Buffer.concat([...rpcResponsePieces(reply)]).toString('latin1');
}

/**
 * Send the answer: at once when small, else streamed (chunked) piece by piece, waiting for the
 * client to take each piece and for a turn of the event loop before encoding the next, so other
 * messages keep moving while a big answer goes out. A client that leaves stops the encoding.
 */
export async function sendRpcResponse(res: ServerResponse, reply: Reply): Promise<void> {
  const size = reply.response.body.length + (reply.blob?.bytes.length ?? 0);
  if (size < RPC_STREAM_FROM_BYTES) {
    const whole = Buffer.concat([...rpcResponsePieces(reply)]);
    res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': whole.length });
    res.end(whole);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html' });
  for (const piece of rpcResponsePieces(reply)) {
    if (res.destroyed) return;
    if (!res.write(piece)) await drainedOrClosed(res);
    // Always a turn of the event loop too: a socket that takes each write at once emits 'drain'
    // from process.nextTick, and awaiting only that would never let other I/O in.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  res.end();
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** `localhost`, `*.localhost`, 127.0.0.0/8 or [::1], with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  const lower = name.toLowerCase();
  return lower === 'localhost' || lower.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(lower) || lower === '[::1]';
}

/**
 * Why the RPC refuses this caller, or undefined. The RPC drives the whole node (kill, grant,
 * install), so only a program on this machine may call it, never a web page: a page on any
 * origin can POST text/plain without a preflight, and a DNS-rebinding page even reaches
 * localhost under its own name. So the Host must name this machine, and there must be no
 * Origin (browsers add one to every POST; kit, curl and scripts send none). Hyperdrive checks
 * neither; the real kit sends neither, so it is unaffected.
 */
export function rpcCallerProblem(headers: IncomingHttpHeaders): string | undefined {
  const host = headers.host;
  if (host !== undefined && !isLoopbackHost(host))
    return `the RPC answers only requests addressed to this machine (localhost, 127.0.0.1 or [::1]), not to Host ${JSON.stringify(host.slice(0, 100))}`;
  const origin = headers.origin;
  const fetchSite = headers['sec-fetch-site'];
  if (origin !== undefined || (fetchSite !== undefined && fetchSite !== 'none'))
    return `the RPC does not answer web pages (this request came from ${origin ? `Origin ${JSON.stringify(origin.slice(0, 100))}` : 'a browser'}); send it from a program on this machine, e.g. kit inject-message`;
  return undefined;
}
