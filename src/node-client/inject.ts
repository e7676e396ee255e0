// `kit inject-message`: send one message to a process on a running node and show its Response
// the way the real kit prints it (interop §1.7).

import { readFile } from 'node:fs/promises';
import { describeFsError, KitError } from '../cli/errors.js';
import { IdParseError, parseProcessId } from '../core/types.js';
import { DEFAULT_EXPECTS_RESPONSE_SECS, makeMessage, type RpcMessage, type RpcResponse, sendMessage } from './rpc.js';

export interface InjectOptions {
  /** Node URL, e.g. http://localhost:8080 */
  url: string;
  /** Target ProcessId string `process:package:publisher`. */
  process: string;
  /** Body as JSON text; sent verbatim (not re-serialized). */
  body: string;
  /** Node name to forward to (the node part of the target address); default: the node at `url`. */
  node?: string;
  /** File whose bytes become the blob. */
  blobPath?: string;
  /** Fire and forget: do not wait for the Response. */
  nonBlock?: boolean;
}

export type InjectResult = { kind: 'response'; response: RpcResponse } | { kind: 'sent' };

/**
 * Check the arguments, send, and return the Response (or `sent` for --non-block).
 *
 * Unlike the real kit, BODY_JSON must parse as JSON: kit passes it through verbatim, and a
 * process that cannot parse its body usually never answers, so a shell-quoting typo would
 * otherwise look like a hang until the node's timeout. It is still sent byte for byte as typed.
 */
export async function injectMessage(opts: InjectOptions): Promise<InjectResult> {
  const msg = await buildInjectMessage(opts);
  const response = await sendMessage(opts.url, msg);
  return response ? { kind: 'response', response } : { kind: 'sent' };
}

export async function buildInjectMessage(opts: InjectOptions): Promise<RpcMessage> {
  const at = opts.process.indexOf('@');
  if (at >= 0) {
    // The terminal's `m` takes node@process; here the node is a flag.
    const [node, pid] = [opts.process.slice(0, at), opts.process.slice(at + 1)];
    throw new KitError(`PROCESS '${opts.process}' is an address (node@process), not a process ID`, {
      hint: node === 'our' ? `pass the process ID alone: ${pid}` : `pass the process ID and the node as a flag: ${pid} --node ${node}`,
    });
  }
  try {
    parseProcessId(opts.process);
  } catch (e) {
    if (!(e instanceof IdParseError)) throw e;
    throw new KitError(`PROCESS ${e.message}`, { hint: 'name the target as process:package:publisher, e.g. main:app-store:sys' });
  }
  checkBodyJson(opts.body);
  let blob: Uint8Array | undefined;
  if (opts.blobPath !== undefined) {
    try {
      blob = new Uint8Array(await readFile(opts.blobPath));
    } catch (e) {
      throw new KitError(`cannot read --blob file ${opts.blobPath}: ${describeFsError(e)}`, { cause: e });
    }
  }
  return makeMessage({
    process: opts.process,
    body: opts.body,
    node: opts.node ?? null,
    expectsResponse: opts.nonBlock ? null : DEFAULT_EXPECTS_RESPONSE_SECS,
    blob,
  });
}

export function checkBodyJson(body: string): void {
  try {
    JSON.parse(body);
  } catch (e) {
    throw new KitError(`BODY_JSON is not valid JSON: ${(e as Error).message}`, {
      details: `got: ${body}`,
      hint: `quote the whole body for your shell, e.g. '{"Send": {"message": "hi"}}'; a JSON string needs its own quotes: '"Apis"'. (The real kit sends any text; kit checks first because a body the process cannot parse usually gets no answer.)`,
    });
  }
}

/** kit's `Response:\nbody: <body>\nblob: <text | None | Some([..])>`. */
export function formatResponse(r: RpcResponse): string {
  return `Response:\nbody: ${r.body}\nblob: ${formatBlob(r.blob)}`;
}

/** The blob as UTF-8 text when it is valid UTF-8; else its bytes as Rust prints an Option<Vec<u8>>. */
export function formatBlob(blob: Uint8Array | undefined): string {
  if (!blob) return 'None';
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(blob);
  } catch {
    return `Some([${Array.from(blob).join(', ')}])`;
  }
}

/** What kit prints after a fire-and-forget message was taken. */
export const NON_BLOCK_SENT = '200 OK';
