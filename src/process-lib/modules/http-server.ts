// Client for `http-server:distro:sys` (book: HTTP Server API, WebSocket API; shapes of Hyperdrive's
// lib/src/http/server_types.rs). Bound paths are served under `/<process id>/<path>`. Incoming HTTP
// requests arrive as Requests whose body is `{"Http": IncomingHttpRequest}` with the HTTP body in
// the blob; answer them with sendResponse(). WebSocketOpen names the path as the process bound it
// ("/" or "/ws"); WebSockets keeps the open channels per path, as process_lib's HttpServer does.

import { HttpServerError } from '../errors.js';
import { jsonBody, toBytes } from '../json.js';
import { type Message, Response } from '../message.js';
import { callModule, describeVariant, tellModule } from './call.js';

export { mimeFor, serveFile, serveUi } from './serve-ui.js';

export type WsMessageType = 'Text' | 'Binary' | 'Ping' | 'Pong' | 'Close';

export type HttpServerAction =
  | { Bind: { path: string; authenticated: boolean; local_only: boolean; cache: boolean } }
  | { SecureBind: { path: string; cache: boolean } }
  | { Unbind: { path: string } }
  | { WebSocketBind: { path: string; authenticated: boolean; extension: boolean } }
  | { WebSocketSecureBind: { path: string; extension: boolean } }
  | { WebSocketUnbind: { path: string } }
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | {
      WebSocketExtPushOutgoing: { channel_id: number; message_type: WsMessageType; desired_reply_type: 'Request' | 'Response' };
    }
  | { WebSocketClose: number };

export interface IncomingHttpRequest {
  source_socket_addr: string | null;
  method: string;
  /** `http://<host><path>`, the full URL requested. */
  url: string;
  /** The bound path that matched, e.g. `/chat:chat:template.os/messages`. */
  bound_path: string;
  headers: Record<string, string>;
  url_params: Record<string, string>;
  query_params: Record<string, string>;
}

export type HttpServerRequest =
  | { Http: IncomingHttpRequest }
  | {
      WebSocketOpen: {
        /** The path as bound, without the process id: "/" for a socket bound at "/". */
        path: string;
        channel_id: number;
        source_socket_addr?: string | null;
        /** The client's address as a proxy reported it (X-Forwarded-For, X-Real-IP, Cf-Connecting-Ip). */
        forwarded_for?: string | null;
      };
    }
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | { WebSocketClose: number };

/** `HttpServerError` as the module sends it (`error` of an HttpServerError thrown here). */
export type HttpServerErrorValue = 'MalformedRequest' | 'NoBlob' | 'InvalidSourceProcess' | 'WsPingPongTooLong' | 'WsChannelNotFound';

export interface BindOptions {
  /** Require the node's login cookie. Default true. */
  authenticated?: boolean;
  /** Only answer requests from localhost. Default false. */
  localOnly?: boolean;
}

function serverError(err: unknown): HttpServerError {
  return new HttpServerError('http-server', err, describeVariant(err));
}

function act(action: HttpServerAction, blob?: Uint8Array, mime?: string): void {
  const { value } = callModule('http-server', action, serverError, {
    blob: blob === undefined ? undefined : { bytes: blob, mime },
  });
  // http-server answers Result<(), HttpServerError>: {"Ok": null}.
  if (value === null || typeof value !== 'object' || !('Ok' in value))
    throw new HttpServerError('http-server', value, `unexpected answer ${JSON.stringify(value)}`);
}

export function bindAction(path: string, options: BindOptions = {}, cache = false): HttpServerAction {
  return {
    Bind: { path, authenticated: options.authenticated ?? true, local_only: options.localOnly ?? false, cache },
  };
}

/** Route HTTP requests for `/<our process id><path>` to this process. */
export function bind(path: string, options: BindOptions = {}): void {
  act(bindAction(path, options));
}

/** Serve fixed bytes at a path (answered by http-server itself for GET). */
export function serveStatic(path: string, content: Uint8Array | string, mime: string, options: BindOptions = {}): void {
  act(bindAction(path, options, true), toBytes(content), mime);
}

/** Like bind, but only from this app's own subdomain (always authenticated). */
export function secureBind(path: string): void {
  act({ SecureBind: { path, cache: false } });
}

/** Like serveStatic, but only from this app's own subdomain (always authenticated). */
export function secureServeStatic(path: string, content: Uint8Array | string, mime: string): void {
  act({ SecureBind: { path, cache: true } }, toBytes(content), mime);
}

export function unbind(path: string): void {
  act({ Unbind: { path } });
}

/** Accept WebSocket connections at a path; events arrive as HttpServerRequest messages. */
export function bindWebSocket(path: string, options: { authenticated?: boolean; extension?: boolean } = {}): void {
  act({ WebSocketBind: { path, authenticated: options.authenticated ?? true, extension: options.extension ?? false } });
}

/** Like bindWebSocket, but only from this app's own subdomain (always authenticated). */
export function secureBindWebSocket(path: string, options: { extension?: boolean } = {}): void {
  act({ WebSocketSecureBind: { path, extension: options.extension ?? false } });
}

/** Accept the WebSocket of a runtime extension at a path (book: Extensions); see wsExtPush. */
export function bindExtWebSocket(path: string, options: { authenticated?: boolean } = {}): void {
  bindWebSocket(path, { authenticated: options.authenticated ?? false, extension: true });
}

export function unbindWebSocket(path: string): void {
  act({ WebSocketUnbind: { path } });
}

/** Send a WebSocket message to a connected client (fire-and-forget); `node`: another node's http-server. */
export function wsPush(channelId: number, messageType: WsMessageType, data: Uint8Array | string, node?: string): void {
  const push: HttpServerAction = { WebSocketPush: { channel_id: channelId, message_type: messageType } };
  tellModule('http-server', push, { blob: { bytes: toBytes(data), mime: undefined }, node });
}

/**
 * Send bytes to the extension on `channelId` (MessagePack `WebSocketExtPushData` on the wire) and
 * wait for its reply, which comes back as the Response: `{ channelId, messageType, data }`.
 */
export function wsExtRequest(
  channelId: number,
  data: Uint8Array | string,
  timeout = 5,
): { channelId: number; messageType: WsMessageType; data: Uint8Array } {
  const action: HttpServerAction = {
    WebSocketExtPushOutgoing: { channel_id: channelId, message_type: 'Binary', desired_reply_type: 'Response' },
  };
  const { value, message } = callModule('http-server', action, serverError, {
    timeout,
    blob: { bytes: toBytes(data), mime: undefined },
  });
  const push = (value as { WebSocketPush?: { channel_id: number; message_type: WsMessageType } } | null)?.WebSocketPush;
  if (!push) throw new HttpServerError('http-server', value, `unexpected answer ${JSON.stringify(value)}`);
  return { channelId: push.channel_id, messageType: push.message_type, data: message.blob()?.bytes ?? new Uint8Array(0) };
}

/** Send bytes to the extension on `channelId`; its reply arrives later as a WebSocketPush Request. */
export function wsExtPush(channelId: number, data: Uint8Array | string): void {
  const action: HttpServerAction = {
    WebSocketExtPushOutgoing: { channel_id: channelId, message_type: 'Binary', desired_reply_type: 'Request' },
  };
  tellModule('http-server', action, { blob: { bytes: toBytes(data), mime: undefined } });
}

export function wsClose(channelId: number): void {
  tellModule('http-server', { WebSocketClose: channelId } satisfies HttpServerAction);
}

/** The http-server Request in a message, or undefined if it is not one. */
export function parseRequest(message: Message): HttpServerRequest | undefined {
  if (!message.isRequest() || message.source.process.processName !== 'http-server') return undefined;
  const value = message.json<unknown>();
  if (value === null || typeof value !== 'object') return undefined;
  const key = Object.keys(value)[0];
  return ['Http', 'WebSocketOpen', 'WebSocketPush', 'WebSocketClose'].includes(key)
    ? (value as HttpServerRequest)
    : undefined;
}

/** The path part of an incoming request's URL, without the query string. */
export function requestPath(req: IncomingHttpRequest): string {
  const afterScheme = req.url.replace(/^[a-z]+:\/\/[^/]*/i, '');
  const q = afterScheme.indexOf('?');
  return q === -1 ? afterScheme : afterScheme.slice(0, q);
}

/** Answer the HTTP request being handled: status, headers, body (sent as the blob). */
export function sendResponse(status: number, headers: Record<string, string> = {}, body: Uint8Array | string = ''): void {
  new Response().body(jsonBody({ status, headers })).blob({ bytes: toBytes(body), mime: undefined }).send();
}

/** Answer with a JSON body and content-type. */
export function sendJsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendResponse(status, { 'Content-Type': 'application/json', ...headers }, jsonBody(value));
}

/**
 * The open WebSocket channels of this process by the path they opened on, kept up to date from
 * WebSocketOpen / WebSocketClose (process_lib's HttpServer::handle_websocket_open/close), so a
 * message can go to every client of a path: `sockets.pushAll('/', 'Text', json)`.
 */
export class WebSockets {
  private readonly byPath = new Map<string, Set<number>>();

  /** Note an http-server Request; returns true if it was a WebSocketOpen or WebSocketClose. */
  track(request: HttpServerRequest): boolean {
    if ('WebSocketOpen' in request) {
      const { path, channel_id } = request.WebSocketOpen;
      const set = this.byPath.get(path) ?? new Set<number>();
      this.byPath.set(path, set.add(channel_id));
      return true;
    }
    if ('WebSocketClose' in request) {
      for (const set of this.byPath.values()) set.delete(request.WebSocketClose);
      return true;
    }
    return false;
  }

  /** Channels open on `path`. */
  channels(path: string): number[] {
    return [...(this.byPath.get(path) ?? [])];
  }

  /** Push to every channel open on `path` (process_lib's ws_push_all_channels). */
  pushAll(path: string, messageType: WsMessageType, data: Uint8Array | string): void {
    for (const channel of this.channels(path)) wsPush(channel, messageType, data);
  }
}
