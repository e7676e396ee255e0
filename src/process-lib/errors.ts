// Error classes of the process library. Each message says what went wrong and what to do; the
// fields carry the details for code that wants to branch on them.

import { type Address, addressToString, type SendErrorKind, type Message as WitMessage } from '../core/types.js';
import type { EthErrorValue } from './modules/eth.js';
import type { HttpClientErrorValue } from './modules/http-client.js';
import type { HttpServerErrorValue } from './modules/http-server.js';

export class ProcessLibError extends Error {
  override name = 'ProcessLibError';
}

/** A builder was sent without something it needs (a target, a body, a timeout). */
export class BuildError extends ProcessLibError {
  override name = 'BuildError';
}

/** The kernel handed a Request back: no Response in time, or the target node is offline. */
export class MessageSendError extends ProcessLibError {
  override name = 'MessageSendError';
  constructor(
    readonly kind: SendErrorKind,
    readonly target: Address,
    /** The Request that could not be delivered or answered. */
    readonly request: WitMessage,
    /** The context given when the Request was sent, if any. */
    readonly context?: Uint8Array,
  ) {
    super(
      kind === 'offline'
        ? `${target.node} is offline or does not exist: the request to ${addressToString(target)} was not delivered; check the node name`
        : `no response from ${addressToString(target)} in time: check that the process is running, that it answers requests, and that we may message it (public, or we hold its messaging capability)`,
    );
  }
}

/** A body could not be decoded as the expected JSON. */
export class JsonDecodeError extends ProcessLibError {
  override name = 'JsonDecodeError';
  constructor(
    readonly text: string,
    cause: unknown,
  ) {
    const shown = text.length > 200 ? `${text.slice(0, 200)}...` : text;
    super(`expected a JSON body but got ${JSON.stringify(shown)} (${cause instanceof Error ? cause.message : String(cause)})`);
  }
}

/** A process or runtime module answered with something other than the shape its API promises. */
export class UnexpectedResponseError extends ProcessLibError {
  override name = 'UnexpectedResponseError';
  constructor(
    readonly from: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${from} answered ${shortJson(got)} where ${expected} was expected`);
  }
}

/** `spawn` failed: 'no-file-at-path' (the wasm could not be read as us) or 'name-taken' (no answer). */
export class SpawnError extends ProcessLibError {
  override name = 'SpawnError';
  constructor(
    readonly kind: 'name-taken' | 'no-file-at-path',
    readonly wasmPath: string,
    readonly processName?: string,
  ) {
    super(
      kind === 'name-taken'
        ? `spawn: the kernel did not answer for '${processName ?? wasmPath}' (Hyperdrive calls that NameTaken; a name in use gives back its process instead)`
        : `spawn: could not read '${wasmPath}' through the VFS as this process: it must be a file we may read (our package's drives, or another's we hold a capability for), our manifest must request "vfs:distro:sys", and the node must be under its process limits`,
    );
  }
}

/**
 * A runtime module (vfs, kv, sqlite, http-server, http-client, eth) answered `{"Err": ...}`.
 * `module` names it, `error` is the error exactly as the module sent it.
 */
export class ModuleError extends ProcessLibError {
  override name = 'ModuleError';
  constructor(
    readonly module: string,
    readonly error: unknown,
    description: string,
  ) {
    super(`${module}: ${description}`);
  }

  /** The error variant's name, e.g. "NoCap" for {"NoCap": {...}} or "KeyNotFound". */
  get variant(): string {
    return variantName(this.error);
  }
}

export class VfsError extends ModuleError {
  override name = 'VfsError';
}
export class KvError extends ModuleError {
  override name = 'KvError';
}
export class SqliteError extends ModuleError {
  override name = 'SqliteError';
}
export class HttpServerError extends ModuleError {
  override name = 'HttpServerError';
  declare readonly error: HttpServerErrorValue;
}
export class HttpClientError extends ModuleError {
  override name = 'HttpClientError';
  declare readonly error: HttpClientErrorValue;
}
export class EthError extends ModuleError {
  override name = 'EthError';
  declare readonly error: EthErrorValue;
}

export function variantName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1) return keys[0];
  }
  return shortJson(value);
}

export function shortJson(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}
