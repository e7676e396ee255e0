// The kit RPC endpoint's wire format (interop §1.2-1.3): the RpcMessage JSON a client POSTs to
// `/rpc:distro:sys/message`, and the `{"body": [...], "lazy_load_blob": ...}` answer.

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

function byteArray(b: Uint8Array): string {
  return `[${b.join(',')}]`;
}

/**
 * The 200 answer to a blocking RPC. The blob is double-encoded as the real node does it:
 * bytes -> standard base64 text -> the ASCII bytes of that text as a number array.
 */
export function encodeRpcResponse(reply: Reply): string {
  let blob = 'null';
  if (reply.blob) {
    const b64 = Buffer.from(reply.blob.bytes.buffer, reply.blob.bytes.byteOffset, reply.blob.bytes.byteLength).toString('base64');
    blob = `{"mime":${JSON.stringify(reply.blob.mime ?? null)},"bytes":${byteArray(Buffer.from(b64, 'latin1'))}}`;
  }
  return `{"body":${byteArray(reply.response.body)},"lazy_load_blob":${blob}}`;
}
