// The HTTP RPC kit uses to talk to a node: `POST <url>/rpc:distro:sys/message` with one JSON
// message (interop §1). The same client drives our embedded fake node and a real Hyperdrive.

import { request } from 'undici';
import { KitError } from '../cli/errors.js';
import { noNodeMessage } from '../cli/messages.js';

export const RPC_PATH = '/rpc:distro:sys/message';

/** Seconds kit asks the target to answer within for blocking messages. */
export const DEFAULT_EXPECTS_RESPONSE_SECS = 15;

/** kit always labels a blob this way, whatever it holds. */
export const RPC_BLOB_MIME = 'application/octet-stream';

/** The node kit talks to on this machine. */
export function nodeUrl(port: number): string {
  return `http://localhost:${port}`;
}

/** `url` as given when it already names the RPC path, else with one trailing `/` dropped and the path appended. */
export function rpcEndpoint(url: string): string {
  if (url.endsWith(RPC_PATH)) return url;
  return `${url.endsWith('/') ? url.slice(0, -1) : url}${RPC_PATH}`;
}

/** The exact JSON object kit sends (field names as the node's `RpcMessage`). */
export interface RpcMessage {
  node: string | null;
  process: string;
  inherit: false;
  expects_response: number | null;
  /** The body as text; its UTF-8 bytes become the Request body. */
  body: string;
  metadata: string | null;
  context: null;
  mime: string;
  /** Standard base64 (padded) of the blob, or null. */
  data: string | null;
}

export interface MessageOptions {
  /** Target ProcessId string, e.g. `main:app-store:sys`. */
  process: string;
  body: string;
  /** Target another node through ours (`inject-message --node`); default: our node. */
  node?: string | null;
  /** Seconds to wait for a Response; `null` sends fire-and-forget. Default 15. */
  expectsResponse?: number | null;
  blob?: Uint8Array;
  /** The Request's metadata (e.g. the kernel's "no-revoke" for KillProcess). */
  metadata?: string;
}

export function makeMessage(opts: MessageOptions): RpcMessage {
  return {
    node: opts.node ?? null,
    process: opts.process,
    inherit: false,
    expects_response: opts.expectsResponse === undefined ? DEFAULT_EXPECTS_RESPONSE_SECS : opts.expectsResponse,
    body: opts.body,
    metadata: opts.metadata ?? null,
    context: null,
    mime: RPC_BLOB_MIME,
    data: opts.blob ? Buffer.from(opts.blob).toString('base64') : null,
  };
}

/** A target's Response as the node hands it back. */
export interface RpcResponse {
  /** The Response body, which kit requires to be UTF-8 (usually JSON). */
  body: string;
  blob?: Uint8Array;
  /** The responder's blob mime, when the node says. */
  blobMime?: string | null;
}

/** The node answered with a status other than 200; `reason` is its body (our node says why). */
export class RpcStatusError extends KitError {
  override name = 'RpcStatusError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly reason: string,
  ) {
    // A web page is not a node's reason: something else listens on that port.
    const page = /^\s*<(!doctype|html)/i.test(reason);
    super(`Failed with status code: ${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`, {
      details: page ? `${url} answered with a web page, not a Hyperware node's RPC answer` : reason ? `node says: ${reason}` : undefined,
      hint: page ? `is a Hyperware node listening there? \`kit boot-fake-node -p <port>\` starts one; pass its port with --port` : statusHint(status, url, reason),
    });
  }
}

/** Nothing listens at the node URL (or the connection broke before an answer). */
export class NodeUnreachableError extends KitError {
  override name = 'NodeUnreachableError';
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super(
      code === 'ECONNREFUSED' ? noNodeMessage(url) : `could not reach a node at ${url}: ${(cause as Error)?.message ?? cause}`,
      {
        cause,
        hint: code === 'ECONNREFUSED' ? 'if your node listens on another port, pass it with --port' : 'is Hyperdrive running?',
      },
    );
  }
}

/** The node answered 200 with something kit cannot read as a Response. */
export class RpcResponseError extends KitError {
  override name = 'RpcResponseError';
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function statusHint(status: number, url: string, reason: string): string | undefined {
  switch (status) {
    case 400:
      return 'the node could not read the message: check the process ID (process:package:publisher)';
    case 403:
      // Our node names a missing capability; a real node answers an empty 403 without --expose-local.
      return reason
        ? 'make the process public, or grant http-server:distro:sys a messaging capability in pkg/manifest.json'
        : `is Hyperdrive running with \`--expose-local\` at url ${url}?`;
    case 404:
      // Our node answers 404 with a reason when the target process does not exist.
      return reason
        ? 'is the package installed (`kit start-package`) and the process name right?'
        : `${url} does not serve ${RPC_PATH}: is that a Hyperware node?`;
    case 408:
      return "the target did not answer in time: is the body one it answers (the node's terminal shows what the process printed, e.g. an error about the body), and may the node message it (public or granted http-server)?";
    default:
      return undefined;
  }
}

export interface SendOptions {
  /** Give up after this many milliseconds (default: wait as long as the node does). */
  timeoutMs?: number;
}

/**
 * Send one message. Resolves with the target's Response for a blocking message, or `null` for a
 * fire-and-forget one once the node has taken it (200, empty body).
 */
export async function sendMessage(url: string, msg: RpcMessage, opts: SendOptions = {}): Promise<RpcResponse | null> {
  const endpoint = rpcEndpoint(url);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(msg),
      // A fake node waits up to 600 s for a Response; do not cut it short unless asked to.
      headersTimeout: opts.timeoutMs ?? 0,
      bodyTimeout: opts.timeoutMs ?? 0,
      // One request per command: no keep-alive socket to hold the process open afterwards.
      reset: true,
      signal: opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined,
    });
  } catch (e) {
    const name = (e as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError' || name === 'HeadersTimeoutError') {
      throw new KitError(`no answer from the node at ${url} within ${opts.timeoutMs} ms`, { cause: e });
    }
    throw new NodeUnreachableError(url, e);
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new RpcStatusError(url, res.statusCode, text.trim());
  if (msg.expects_response === null) return null;
  return parseRpcResponse(text);
}

/** Read a 200 answer to a blocking message, as kit's `parse_response` does. */
export function parseRpcResponse(text: string): RpcResponse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new RpcResponseError(`the node's answer is not JSON: ${(e as Error).message}`, { details: text.slice(0, 500) });
  }
  if (typeof data !== 'object' || data === null || !('body' in data)) {
    throw new RpcResponseError('Response did not contain `body` field.');
  }
  const record = data as { body: unknown; lazy_load_blob?: unknown };
  const bodyBytes = byteArray(record.body);
  if (!bodyBytes) throw new RpcResponseError('Response `body` was not bytes.');
  let body: string;
  try {
    body = new TextDecoder('utf-8', { fatal: true }).decode(bodyBytes);
  } catch {
    throw new RpcResponseError('Response `body` is not valid UTF-8.', { hint: 'kit prints bodies as text; send this process a message whose Response is JSON or text' });
  }

  // The blob comes double-encoded: its bytes as base64 text, that text as a byte array.
  const raw = record.lazy_load_blob;
  let base64Bytes: Uint8Array | undefined;
  let blobMime: string | null | undefined;
  if (raw === undefined || raw === null) {
    base64Bytes = undefined;
  } else if (Array.isArray(raw)) {
    base64Bytes = byteArray(raw);
    if (!base64Bytes) throw new RpcResponseError('Response did not contain `lazy_load_blob` bytes field.');
  } else if (typeof raw === 'object') {
    const obj = raw as { bytes?: unknown; mime?: unknown };
    blobMime = typeof obj.mime === 'string' ? obj.mime : null;
    if (obj.bytes !== undefined) {
      base64Bytes = byteArray(obj.bytes);
      if (!base64Bytes) throw new RpcResponseError(`Unexpected \`lazy_load_blob\` format: ${JSON.stringify(raw).slice(0, 200)}.`);
    }
  } else {
    throw new RpcResponseError('Response did not contain `lazy_load_blob` bytes field.');
  }
  const blob = base64Bytes ? decodeBase64Strict(base64Bytes) : undefined;
  const out: RpcResponse = { body };
  if (blob) {
    out.blob = blob;
    if (blobMime !== undefined) out.blobMime = blobMime;
  }
  return out;
}

/** A JSON array of integers 0-255 as bytes, or undefined if it is anything else. */
function byteArray(value: unknown): Uint8Array | undefined {
  if (!Array.isArray(value)) return undefined;
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const n = value[i];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard padded base64 only; like kit, a blob that does not decode counts as no blob. */
function decodeBase64Strict(asciiBytes: Uint8Array): Uint8Array | undefined {
  const text = Buffer.from(asciiBytes).toString('latin1');
  if (!BASE64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}
