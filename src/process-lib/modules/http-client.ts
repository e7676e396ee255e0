// Client for `http-client:distro:sys`: outgoing HTTP requests and WebSocket client connections,
// in the shapes of Hyperdrive's lib/src/http/client_types.rs (the book's HTTP Client page is out of
// date). The HTTP body travels in the blob; the timeout is the Request's: past it the node gives
// up the wait (a MessageSendError), as a real node does.

import type { HttpClientErrorJson } from '../../core/wire-enums.js';
import { HttpClientError } from '../errors.js';
import { toBytes } from '../json.js';
import type { Message } from '../message.js';
import { callModule, describeVariant, expectVariant } from './call.js';
import type { WsMessageType } from './http-server.js';

/** `HttpClientError` as the module sends it (`error` of an HttpClientError thrown here). */
export type HttpClientErrorValue = HttpClientErrorJson;

/** What http-client sends a process that opened a WebSocket (`HttpClientRequest`). */
export type HttpClientRequest =
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | { WebSocketClose: { channel_id: number } };

export interface OutgoingHttpRequest {
  method: string;
  version: string | null;
  url: string;
  headers: Record<string, string>;
}

export type HttpClientAction =
  | { Http: OutgoingHttpRequest }
  | { WebSocketOpen: { url: string; headers: Record<string, string>; channel_id: number } }
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | { WebSocketClose: { channel_id: number } };

export interface HttpResponse {
  status: number;
  /** As the module sends them: names in Pascal-Case (`Content-Type`), one value each. */
  headers: Record<string, string>;
  body: Uint8Array;
  /** A header by name, in any case. */
  header(name: string): string | undefined;
}

export interface FetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Seconds. Default 30. */
  timeout?: number;
}

const HINTS: Record<string, string> = {
  MalformedRequest: ': the body is not an HttpClientAction (Http needs method, url and headers)',
  WsPushUnknownChannel: ': no WebSocket is open on that channel for this process; open it with wsOpen first',
  WsPushNoBlob: ': Text and Binary pushes need the data',
  WsPushBadText: ': a Text push must be UTF-8; send bytes as Binary',
  WsCloseFailed: ': no WebSocket is open on that channel for this process',
};

function clientError(err: unknown): HttpClientError {
  const name = typeof err === 'string' ? err : err && typeof err === 'object' ? Object.keys(err)[0] : '';
  return new HttpClientError('http-client', err, `${describeVariant(err)}${HINTS[name ?? ''] ?? ''}`);
}

export function httpAction(url: string, method = 'GET', headers: Record<string, string> = {}): HttpClientAction {
  return { Http: { method, version: null, url, headers } };
}

/** Send an HTTP request from the node and return the response. */
export function fetch(url: string, options: FetchOptions = {}): HttpResponse {
  const { value, message } = callModule('http-client', httpAction(url, options.method, options.headers), clientError, {
    timeout: options.timeout ?? 30,
    blob: options.body === undefined ? undefined : { bytes: toBytes(options.body), mime: undefined },
  });
  const ok = expectVariant<unknown>('http-client', value, 'Ok');
  const http = expectVariant<{ status: number; headers: Record<string, string> }>('http-client', ok, 'Http');
  const headers = http.headers;
  return {
    status: http.status,
    headers,
    body: message.blob()?.bytes ?? new Uint8Array(0),
    header(name: string) {
      const lower = name.toLowerCase();
      return Object.entries(headers).find(([k]) => k.toLowerCase() === lower)?.[1];
    },
  };
}

function wsCall(action: HttpClientAction, data?: Uint8Array): void {
  const { value } = callModule('http-client', action, clientError, {
    blob: data === undefined ? undefined : { bytes: data, mime: undefined },
  });
  expectVariant('http-client', value, 'Ok');
}

/**
 * Open a WebSocket to `url`; incoming frames arrive as `{"WebSocketPush": ...}` Requests (Text and
 * Binary with the data in the blob, Ping and Pong without) and `{"WebSocketClose": ...}` at the end;
 * see parseRequest.
 */
export function wsOpen(url: string, channelId: number, headers: Record<string, string> = {}): void {
  wsCall({ WebSocketOpen: { url, headers, channel_id: channelId } });
}

/** Send a frame; Ping and Pong go out empty (the node sends no payload), Close closes the socket. */
export function wsPush(channelId: number, messageType: WsMessageType, data: Uint8Array | string = new Uint8Array(0)): void {
  wsCall({ WebSocketPush: { channel_id: channelId, message_type: messageType } }, toBytes(data));
}

export function wsClose(channelId: number): void {
  wsCall({ WebSocketClose: { channel_id: channelId } });
}

/** The http-client Request in a message (a WebSocket frame or close), or undefined if it is not one. */
export function parseRequest(message: Message): HttpClientRequest | undefined {
  if (!message.isRequest() || message.source.process.processName !== 'http-client') return undefined;
  const value = message.json<unknown>();
  if (value === null || typeof value !== 'object') return undefined;
  return 'WebSocketPush' in value || 'WebSocketClose' in value ? (value as HttpClientRequest) : undefined;
}
