// http-client:distro:sys — outgoing HTTP and WebSocket client connections for processes, answering
// as Hyperdrive's hyperdrive/src/http/client.rs with the types of lib/src/http/client_types.rs
// (the book's HTTP Client page is out of date):
// - `{"Http": OutgoingHttpRequest}` with the body in the blob answers `{"Ok":{"Http":{"status",
//   "headers"}}}` (header names in Pascal-Case) with the response body in the blob, or
//   `{"Err": HttpClientError}`; the wait is the Request's own timeout.
// - WebSocketOpen/Push/Close answer `{"Ok":"WebSocketAck"}` or `{"Err": …}`; frames from the server
//   arrive at the opener as `{"WebSocketPush":{"channel_id","message_type"}}` Requests (Text and
//   Binary with the data in a blob, Ping and Pong without) and `{"WebSocketClose":{"channel_id"}}`,
//   all with the id of the WebSocketOpen Request. The opener must grant us messaging.
// Answers go to the Request's rsvp, else its source, as Hyperdrive's; a connection belongs to that
// process and the channel id it chose.

import { request as undiciRequest } from 'undici';
import WebSocket from 'ws';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { type Address, fromUtf8, type KernelMessage, type LazyLoadBlob, MAX_MESSAGE_BYTES, type ProcessId, processIdToString, systemProcess } from '../../../core/types.js';
import { type HttpClientAction, type HttpClientError, parseHttpClientAction, toPascalCase, usableHeaders } from './types.js';

export type { HttpClientAction, HttpClientError } from './types.js';
export { toPascalCase } from './types.js';

export const HTTP_CLIENT_PROCESS: ProcessId = systemProcess('http-client');

const VERSIONS = new Set(['HTTP/0.9', 'HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/3.0']);
/** An RFC 9110 token: what `http::Method::from_bytes` accepts. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** How long a fire-and-forget HTTP request may take before it is abandoned. */
const DEFAULT_TIMEOUT_SECS = 30;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

type Answer = { Ok: unknown } | { Err: HttpClientError };

export interface HttpClientModule extends NativeProcess {
  /** Open WebSocket client connections. */
  socketCount(): number;
}

interface Socket {
  ws: WebSocket;
}

export function createHttpClient(): HttpClientModule {
  let kernel!: KernelApi;
  let stopped = false;
  /** Connections by `<process id>#<channel id>`, as Hyperdrive's (ProcessId, u32) map. */
  const sockets = new Map<string, Socket>();
  const keyOf = (owner: Address, channelId: number) => `${processIdToString(owner.process)}#${channelId}`;
  const answerTo = (km: KernelMessage) => km.rsvp ?? km.source;

  /** A Request from us to `target` carrying `id` (the WebSocketOpen's). */
  function sendFrame(id: bigint, target: Address, body: unknown, blob?: LazyLoadBlob): void {
    if (stopped) return;
    kernel.send({
      id,
      source: { node: kernel.our, process: HTTP_CLIENT_PROCESS },
      target,
      message: {
        tag: 'request',
        val: { inherit: false, expectsResponse: undefined, body: new TextEncoder().encode(JSON.stringify(body)), metadata: undefined, capabilities: [] },
      },
      lazyLoadBlob: blob,
    });
  }

  /** Returns the answer, or undefined when the Request's own wait ran out (the kernel told the caller). */
  async function http(km: KernelMessage, req: Extract<HttpClientAction, { Http: unknown }>['Http']): Promise<{ answer: Answer; blob?: Uint8Array } | undefined> {
    const { method, url, version, headers } = req;
    if (!METHOD.test(method)) return { answer: { Err: { BadMethod: { method } } } };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { answer: { Err: { BadUrl: { url } } } };
    }
    if (version !== null && version !== undefined && !VERSIONS.has(version)) return { answer: { Err: { BadVersion: { version } } } };
    // reqwest refuses to build a request for a URL without a host (mailto:, data:, …) and to send
    // one whose scheme is not http(s); its error text names the URL.
    if (!target.host) return { answer: { Err: { BuildRequestFailed: `builder error for url (${target.href})` } } };
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      return { answer: { Err: { ExecuteRequestFailed: `builder error for url (${target.href}): URL scheme is not allowed` } } };

    const expects = km.message.tag === 'request' ? km.message.val.expectsResponse : undefined;
    const timeoutMs = Number(expects ?? BigInt(DEFAULT_TIMEOUT_SECS)) * 1000;
    const body = km.lazyLoadBlob?.bytes;
    const abort = AbortSignal.timeout(Math.max(1, timeoutMs));
    try {
      const res = await undiciRequest(target, {
        method: method as 'GET',
        headers: usableHeaders(headers),
        body: body && body.length > 0 ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined,
        headersTimeout: 0,
        bodyTimeout: 0,
        signal: abort,
      });
      const bytes = new Uint8Array(await res.body.arrayBuffer());
      if (bytes.length > MAX_MESSAGE_BYTES)
        return { answer: { Err: { ExecuteRequestFailed: `response body of ${bytes.length} bytes from ${target.href} is over the ${MAX_MESSAGE_BYTES}-byte message limit` } } };
      // Hyperdrive's serialize_headers: Pascal-Case names; a repeated header keeps its last value.
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[toPascalCase(k)] = Array.isArray(v) ? v[v.length - 1] : v;
      return { answer: { Ok: { Http: { status: res.statusCode, headers: out } } }, blob: bytes };
    } catch (e) {
      // The caller's wait is over and the kernel has told it so (a Timeout SendError, as on a real
      // node, whose client has no timeout of its own): nothing more to answer.
      if (abort.aborted) return undefined;
      const cause = (e as Error).message || String(e);
      return { answer: { Err: { ExecuteRequestFailed: `error sending request for url (${target.href}): ${cause}` } } };
    }
  }

  function wsOpen(km: KernelMessage, a: Extract<HttpClientAction, { WebSocketOpen: unknown }>['WebSocketOpen']): Promise<Answer> {
    const { url, headers, channel_id: channelId } = a;
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ Err: { BadUrl: { url } } });
    }
    const failed: Answer = { Err: { WsOpenFailed: { url: target.href } } };
    if (target.protocol !== 'ws:' && target.protocol !== 'wss:') return Promise.resolve(failed);
    const owner = answerTo(km);
    const key = keyOf(owner, channelId);
    return new Promise((resolve) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(target, { headers: usableHeaders(headers), handshakeTimeout: 15_000 });
      } catch {
        resolve(failed);
        return;
      }
      let opened = false;
      const live = () => sockets.get(key)?.ws === ws;
      ws.once('open', () => {
        opened = true;
        // A channel id the same process uses again replaces the old connection.
        sockets.get(key)?.ws.close();
        sockets.set(key, { ws });
        resolve({ Ok: 'WebSocketAck' });
      });
      ws.on('message', (data, isBinary) => {
        if (!live()) return;
        const bytes = new Uint8Array(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
        const message_type = isBinary ? 'Binary' : 'Text';
        sendFrame(km.id, owner, { WebSocketPush: { channel_id: channelId, message_type } }, { mime: isBinary ? 'application/octet-stream' : 'text/plain', bytes });
      });
      ws.on('ping', () => {
        if (live()) sendFrame(km.id, owner, { WebSocketPush: { channel_id: channelId, message_type: 'Ping' } });
      });
      ws.on('pong', () => {
        if (live()) sendFrame(km.id, owner, { WebSocketPush: { channel_id: channelId, message_type: 'Pong' } });
      });
      ws.on('error', () => {
        if (!opened) resolve(failed);
      });
      ws.on('close', () => {
        if (!opened) {
          resolve(failed);
          return;
        }
        // The server's Close, a reset, or the answer to our own close: Hyperdrive tells the
        // process in every case.
        if (live()) sockets.delete(key);
        sendFrame(km.id, owner, { WebSocketClose: { channel_id: channelId } });
      });
    });
  }

  function wsPush(km: KernelMessage, a: Extract<HttpClientAction, { WebSocketPush: unknown }>['WebSocketPush']): Answer {
    const { channel_id: channelId, message_type: type } = a;
    const s = sockets.get(keyOf(answerTo(km), channelId));
    if (!s) return { Err: { WsPushUnknownChannel: { channel_id: channelId } } };
    const blob = km.lazyLoadBlob;
    try {
      if (type === 'Text' || type === 'Binary') {
        if (!blob) return { Err: 'WsPushNoBlob' };
        if (type === 'Text') {
          let text: string;
          try {
            text = strictUtf8.decode(blob.bytes);
          } catch {
            return { Err: 'WsPushBadText' };
          }
          s.ws.send(text);
        } else s.ws.send(blob.bytes);
      }
      // Hyperdrive sends Ping and Pong with an empty payload and Close without a code.
      else if (type === 'Ping') s.ws.ping();
      else if (type === 'Pong') s.ws.pong();
      else s.ws.close();
    } catch {
      // A send that fails (the connection is closing) is not reported, as in Hyperdrive.
    }
    return { Ok: 'WebSocketAck' };
  }

  function wsClose(km: KernelMessage, channelId: number): Answer {
    const key = keyOf(answerTo(km), channelId);
    const s = sockets.get(key);
    if (!s) return { Err: { WsCloseFailed: { channel_id: channelId } } };
    sockets.delete(key);
    s.ws.close();
    return { Ok: 'WebSocketAck' };
  }

  async function serve(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request' || km.source.node !== kernel.our) return;
    const expects = km.message.val.expectsResponse !== undefined;
    const respond = (answer: Answer, blob?: Uint8Array) =>
      kernel.respond(HTTP_CLIENT_PROCESS, km, JSON.stringify(answer), blob ? { bytes: blob } : undefined);
    let raw: unknown;
    try {
      raw = JSON.parse(fromUtf8(km.message.val.body));
    } catch {
      raw = undefined;
    }
    const action = parseHttpClientAction(raw);
    // As Hyperdrive: errors of Http and unparseable Requests are answered only when a Response is
    // expected; an Http result and every WebSocket answer are sent regardless.
    if (!action) {
      if (expects) respond({ Err: 'MalformedRequest' });
      return;
    }
    if ('Http' in action) {
      const out = await http(km, action.Http);
      if (out && ('Ok' in out.answer || expects)) respond(out.answer, out.blob);
      return;
    }
    if ('WebSocketOpen' in action) respond(await wsOpen(km, action.WebSocketOpen));
    else if ('WebSocketPush' in action) respond(wsPush(km, action.WebSocketPush));
    else respond(wsClose(km, action.WebSocketClose.channel_id));
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
      stopped = true;
      for (const s of sockets.values()) s.ws.terminate();
      sockets.clear();
    },
  };
}
