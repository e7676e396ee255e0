// http-client:distro:sys — outgoing HTTP and WebSocket client connections for processes (book:
// HTTP Client API). `{"Http": OutgoingHttpRequest}` with the body in the blob answers
// `{"Ok":{"Http":{"status","headers"}}}` with the response body in the blob; the timeout is the
// Request's. WebSocketOpen/Push/Close answer `{"Ok":"WebSocketAck"}`; frames from the server
// arrive at the opener as `{"WebSocketPush":{"channel_id","message_type"}}` Requests (data in
// the blob) and `{"WebSocketClose":{"channel_id"}}` — the opener must grant us messaging.

import { request as undiciRequest } from 'undici';
import WebSocket from 'ws';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import {
  type Address,
  addressToString,
  fromUtf8,
  type KernelMessage,
  MAX_MESSAGE_BYTES,
  type ProcessId,
  systemProcess,
} from '../../../core/types.js';

export const HTTP_CLIENT_PROCESS: ProcessId = systemProcess('http-client');

const VERSIONS = new Set(['HTTP/0.9', 'HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/3.0']);
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const WS_TYPES = new Set(['Text', 'Binary', 'Ping', 'Pong', 'Close']);
/** Default wait for an HTTP answer when the Request gives none (fire-and-forget). */
const DEFAULT_TIMEOUT_SECS = 30;

type Answer = { Ok: unknown } | { Err: unknown };

export interface HttpClientModule extends NativeProcess {
  /** Open WebSocket client connections. */
  socketCount(): number;
}

export function createHttpClient(): HttpClientModule {
  let kernel!: KernelApi;
  const sockets = new Map<string, { ws: WebSocket; owner: Address; channelId: number }>();
  const keyOf = (owner: Address, channelId: number) => `${addressToString(owner)}#${channelId}`;

  function tellOwner(owner: Address, body: unknown, blob?: Uint8Array): void {
    kernel.tell(HTTP_CLIENT_PROCESS, owner, JSON.stringify(body), blob ? { blob: { bytes: blob } } : undefined);
  }

  async function http(km: KernelMessage, req: Record<string, unknown>): Promise<{ answer: Answer; blob?: Uint8Array }> {
    const raw = fromUtf8(km.message.tag === 'request' ? km.message.val.body : new Uint8Array());
    const { method, url, version, headers } = req;
    if (typeof method !== 'string' || typeof url !== 'string' || (headers !== undefined && (typeof headers !== 'object' || headers === null)))
      return { answer: { Err: { BadRequest: { req: raw } } } };
    if (!METHOD.test(method)) return { answer: { Err: { BadMethod: { method } } } };
    if (version !== undefined && version !== null && (typeof version !== 'string' || !VERSIONS.has(version)))
      return { answer: { Err: { BadVersion: { version: String(version) } } } };
    let target: URL;
    try {
      target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('not http');
    } catch {
      return { answer: { Err: { BadUrl: { url } } } };
    }
    const expects = km.message.tag === 'request' ? km.message.val.expectsResponse : undefined;
    // Give up just before the caller's own deadline, so it learns why (RequestFailed) rather than
    // getting a bare timeout SendError from the kernel.
    const timeoutMs = Math.max(100, Number(expects ?? BigInt(DEFAULT_TIMEOUT_SECS)) * 1000 - 250);
    const hdrs: Record<string, string> = {};
    for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>)) if (typeof v === 'string') hdrs[k] = v;
    const body = km.lazyLoadBlob?.bytes;
    try {
      const res = await undiciRequest(target, {
        method: method.toUpperCase() as 'GET',
        headers: hdrs,
        body: body && body.length > 0 ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const bytes = new Uint8Array(await res.body.arrayBuffer());
      if (bytes.length > MAX_MESSAGE_BYTES) return { answer: { Err: { RequestFailed: { error: `response body of ${bytes.length} bytes is over the 10 MB message limit` } } } };
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
      return { answer: { Ok: { Http: { status: res.statusCode, headers: out } } }, blob: bytes };
    } catch (e) {
      return { answer: { Err: { RequestFailed: { error: (e as Error).message || String(e) } } } };
    }
  }

  function wsOpen(km: KernelMessage, a: Record<string, unknown>): Promise<Answer> {
    const { url, headers, channel_id: channelId } = a;
    if (typeof url !== 'string' || typeof channelId !== 'number' || !Number.isInteger(channelId))
      return Promise.resolve({ Err: { BadRequest: { req: JSON.stringify(a) } } });
    const owner = km.source;
    const key = keyOf(owner, channelId);
    const hdrs: Record<string, string> = {};
    for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>)) if (typeof v === 'string') hdrs[k] = v;
    return new Promise((resolve) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, { headers: hdrs, handshakeTimeout: 15_000 });
      } catch {
        resolve({ Err: { WsOpenFailed: { url } } });
        return;
      }
      let opened = false;
      ws.once('open', () => {
        opened = true;
        // A channel id reused by the same process replaces the old connection.
        sockets.get(key)?.ws.terminate();
        sockets.set(key, { ws, owner, channelId });
        resolve({ Ok: 'WebSocketAck' });
      });
      ws.on('message', (data, isBinary) => {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        tellOwner(owner, { WebSocketPush: { channel_id: channelId, message_type: isBinary ? 'Binary' : 'Text' } }, new Uint8Array(bytes));
      });
      ws.on('error', () => {
        if (!opened) resolve({ Err: { WsOpenFailed: { url } } });
      });
      ws.on('close', () => {
        if (!opened) {
          resolve({ Err: { WsOpenFailed: { url } } });
          return;
        }
        if (sockets.get(key)?.ws !== ws) return;
        sockets.delete(key);
        tellOwner(owner, { WebSocketClose: { channel_id: channelId } });
      });
    });
  }

  function wsPush(km: KernelMessage, a: Record<string, unknown>): Answer {
    const { channel_id: channelId, message_type: type } = a;
    const req = JSON.stringify({ WebSocketPush: a });
    if (typeof channelId !== 'number' || typeof type !== 'string' || !WS_TYPES.has(type)) return { Err: { BadRequest: { req } } };
    const s = sockets.get(keyOf(km.source, channelId));
    const data = km.lazyLoadBlob?.bytes ?? new Uint8Array();
    if (!s || s.ws.readyState !== WebSocket.OPEN) return { Err: { WsPushFailed: { req } } };
    try {
      if (type === 'Text') s.ws.send(fromUtf8(data));
      else if (type === 'Binary') s.ws.send(data);
      else if (type === 'Ping') s.ws.ping(data);
      else if (type === 'Pong') s.ws.pong(data);
      else s.ws.close();
    } catch {
      return { Err: { WsPushFailed: { req } } };
    }
    return { Ok: 'WebSocketAck' };
  }

  function wsClose(km: KernelMessage, a: Record<string, unknown>): Answer {
    const channelId = a.channel_id;
    if (typeof channelId !== 'number') return { Err: { BadRequest: { req: JSON.stringify({ WebSocketClose: a }) } } };
    const key = keyOf(km.source, channelId);
    const s = sockets.get(key);
    if (!s) return { Err: { WsCloseFailed: { channel_id: channelId } } };
    // Closed at our process's request: it is not told again with a WebSocketClose.
    sockets.delete(key);
    s.ws.close();
    return { Ok: 'WebSocketAck' };
  }

  async function serve(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request' || km.source.node !== kernel.our) return;
    const wants = km.message.val.expectsResponse !== undefined || km.rsvp !== undefined;
    const raw = fromUtf8(km.message.val.body);
    let out: { answer: Answer; blob?: Uint8Array };
    let action: unknown;
    try {
      action = JSON.parse(raw);
    } catch {
      action = undefined;
    }
    const entries = action && typeof action === 'object' && !Array.isArray(action) ? Object.entries(action) : [];
    const [name, arg] = entries.length === 1 ? entries[0] : [undefined, undefined];
    const a = (arg && typeof arg === 'object' ? arg : undefined) as Record<string, unknown> | undefined;
    if (!a) out = { answer: { Err: { BadRequest: { req: raw } } } };
    else if (name === 'Http') out = await http(km, a);
    else if (name === 'WebSocketOpen') out = { answer: await wsOpen(km, a) };
    else if (name === 'WebSocketPush') out = { answer: wsPush(km, a) };
    else if (name === 'WebSocketClose') out = { answer: wsClose(km, a) };
    else out = { answer: { Err: { BadRequest: { req: raw } } } };
    if (wants) kernel.respond(HTTP_CLIENT_PROCESS, km, JSON.stringify(out.answer), out.blob ? { bytes: out.blob } : undefined);
  }

  return {
    id: HTTP_CLIENT_PROCESS,
    start(k) {
      kernel = k;
    },
    handle(km) {
      // Requests run concurrently: a slow server must not hold up everyone else.
      serve(km).catch((e) => kernel.log.error(`http-client: ${(e as Error).message}`));
    },
    socketCount: () => sockets.size,
    stop() {
      for (const s of sockets.values()) s.ws.terminate();
      sockets.clear();
    },
  };
}
