// Client for `http-client:distro:sys` (book: HTTP Client API): outgoing HTTP requests and
// WebSocket client connections. The HTTP body travels in the blob; the timeout is the Request's.

import { HttpClientError } from '../errors.js';
import { toBytes } from '../json.js';
import { callModule, describeVariant, expectVariant } from './call.js';
import type { WsMessageType } from './http-server.js';

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
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface FetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Seconds. Default 30. */
  timeout?: number;
}

function clientError(err: unknown): HttpClientError {
  return new HttpClientError('http-client', err, describeVariant(err));
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
  return { status: http.status, headers: http.headers, body: message.blob()?.bytes ?? new Uint8Array(0) };
}

function wsCall(action: HttpClientAction, data?: Uint8Array): void {
  const { value } = callModule('http-client', action, clientError, {
    blob: data === undefined ? undefined : { bytes: data, mime: undefined },
  });
  expectVariant('http-client', value, 'Ok');
}

/** Open a WebSocket to `url`; incoming frames arrive as `{"WebSocketPush": ...}` Requests with the data in the blob. */
export function wsOpen(url: string, channelId: number, headers: Record<string, string> = {}): void {
  wsCall({ WebSocketOpen: { url, headers, channel_id: channelId } });
}

export function wsPush(channelId: number, messageType: WsMessageType, data: Uint8Array | string): void {
  wsCall({ WebSocketPush: { channel_id: channelId, message_type: messageType } }, toBytes(data));
}

export function wsClose(channelId: number): void {
  wsCall({ WebSocketClose: { channel_id: channelId } });
}
