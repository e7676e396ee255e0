// The http-client's JSON vocabulary, as hyperdrive/lib/src/http/client_types.rs defines it, and
// the strict reading of a Request that serde_json gives it there: a body that is not exactly an
// HttpClientAction is MalformedRequest.

import type { HttpClientErrorJson } from '../../../core/wire-enums.js';

export type WsMessageType = 'Text' | 'Binary' | 'Ping' | 'Pong' | 'Close';

export type HttpClientAction =
  | { Http: { method: string; version?: string | null; url: string; headers: Record<string, string> } }
  | { WebSocketOpen: { url: string; headers: Record<string, string>; channel_id: number } }
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | { WebSocketClose: { channel_id: number } };

/** `HttpClientError` as serde_json writes it. */
export type HttpClientError = HttpClientErrorJson;

const WS_TYPES = new Set<string>(['Text', 'Binary', 'Ping', 'Pong', 'Close']);

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => v !== null && typeof v === 'object' && !Array.isArray(v);
const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
const isStringMap = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');

/** The HttpClientAction in `value` (parsed JSON), or undefined where serde would refuse it. */
export function parseHttpClientAction(value: unknown): HttpClientAction | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const name = keys[0];
  const v = value[name];
  if (!isObject(v)) return undefined;
  switch (name) {
    case 'Http':
      if (typeof v.method !== 'string' || typeof v.url !== 'string' || !isStringMap(v.headers)) return undefined;
      if (v.version !== undefined && v.version !== null && typeof v.version !== 'string') return undefined;
      return { Http: { method: v.method, version: (v.version as string | null | undefined) ?? null, url: v.url, headers: v.headers } };
    case 'WebSocketOpen':
      if (typeof v.url !== 'string' || !isStringMap(v.headers) || !isU32(v.channel_id)) return undefined;
      return { WebSocketOpen: { url: v.url, headers: v.headers, channel_id: v.channel_id } };
    case 'WebSocketPush':
      if (!isU32(v.channel_id) || typeof v.message_type !== 'string' || !WS_TYPES.has(v.message_type)) return undefined;
      return { WebSocketPush: { channel_id: v.channel_id, message_type: v.message_type as WsMessageType } };
    case 'WebSocketClose':
      if (!isU32(v.channel_id)) return undefined;
      return { WebSocketClose: { channel_id: v.channel_id } };
    default:
      return undefined;
  }
}

/** Hyperdrive's to_pascal_case for response header names: `content-type` -> `Content-Type`. */
export function toPascalCase(name: string): string {
  return name
    .split('-')
    .map((w) => (w.length === 0 ? '' : w[0].toUpperCase() + w.slice(1)))
    .join('-');
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What `http::HeaderValue::from_str` accepts: visible ASCII, space and tab. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** The headers a process gave, without those Hyperdrive's deserialize_headers silently drops. */
export function usableHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (TOKEN.test(k) && HEADER_VALUE.test(v)) out[k] = v;
  return out;
}
