// Plain HTTP plumbing for the server: reading bodies and headers, writing text answers, the
// status a refused message maps to.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_MESSAGE_BYTES, MAX_RPC_MESSAGE_BYTES } from '../../../core/types.js';
import type { SendErrorException } from '../../kernel/api.js';
import { BodyTooLargeError } from './errors.js';

/** An answer to send instead of going on: its status, text and extra headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function statusForSendError(e: SendErrorException): number {
  switch (e.code) {
    case 'not-found':
      return 404;
    case 'no-capability':
      return 403;
    case 'offline':
      return 503;
    case 'too-large':
      return 413;
    case 'timeout':
      return 408;
    default:
      return 502;
  }
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  sendBody(res, status, 'text/plain; charset=utf-8', text.endsWith('\n') ? text : `${text}\n`, headers);
}

export function sendBody(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Read a request body up to `limit` bytes. Over the limit, reject with a 413 at once (by
 * Content-Length when given) and discard the rest of the upload unbuffered.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  // The rest of an oversized body is read and dropped rather than the socket closed, so that a
  // client still writing gets the 413 instead of a broken pipe.
  const tooLarge = () =>
    new HttpError(
      413,
      `${new BodyTooLargeError(limit).message}: a message and its blob may be at most ${MAX_RPC_MESSAGE_BYTES} bytes here (${MAX_MESSAGE_BYTES} to another node)`,
    );
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', (e) => reject(e));
  });
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Headers as Hyperdrive passes them (`utils::serialize_headers` into a HashMap): lowercase names,
 * one string value each; a name sent more than once keeps its last value.
 */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) if (v !== undefined && v.length > 0) out[k] = v[v.length - 1];
  return out;
}

/**
 * The client's address as a proxy reports it, as Hyperdrive's `get_forwarded_ip`: the first
 * entry of X-Forwarded-For, else X-Real-IP, else Cf-Connecting-Ip (each trimmed, empty skipped).
 */
export function forwardedIp(req: IncomingMessage): string | null {
  const first = (name: string) => req.headersDistinct[name]?.[0];
  const xff = first('x-forwarded-for')?.split(',')[0].trim();
  if (xff) return xff;
  for (const name of ['x-real-ip', 'cf-connecting-ip']) {
    const v = first(name)?.trim();
    if (v) return v;
  }
  return null;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return v4.startsWith('127.') || addr === '::1';
}

/** `ip:port` like Rust's SocketAddr (IPv6 in brackets). */
export function socketAddress(req: IncomingMessage): string | null {
  const { remoteAddress, remotePort } = req.socket;
  if (!remoteAddress) return null;
  const ip = remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
  return ip.includes(':') ? `[${ip}]:${remotePort}` : `${ip}:${remotePort}`;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
