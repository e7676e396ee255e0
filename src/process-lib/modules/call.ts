// Shared plumbing for the runtime-module clients: send a JSON Request to `<our node>@<name>:distro:sys`,
// wait for the Response, turn `{"Err": ...}` into the module's error class.

import type { Address, LazyLoadBlob } from '../../core/types.js';
import { type ModuleError, shortJson, UnexpectedResponseError } from '../errors.js';
import { moduleAddress } from '../ids.js';
import { jsonBody } from '../json.js';
import { type Message, our, Request } from '../message.js';

export interface CallOptions {
  blob?: LazyLoadBlob;
  /** Seconds; default 5. */
  timeout?: number;
  /** Another node's module (http-server WebSocket pushes, net); default our node. */
  node?: string;
}

export interface CallResult {
  value: unknown;
  message: Message;
}

export function ourModule(name: string, node?: string): Address {
  return moduleAddress(node ?? our().node, name);
}

/**
 * Request `body` (JSON) from module `name` and return its JSON answer. An `{"Err": e}` answer
 * throws `toError(e)`.
 */
export function callModule(
  name: string,
  body: unknown,
  toError: (err: unknown) => ModuleError,
  options: CallOptions = {},
): CallResult {
  const r = Request.to(ourModule(name, options.node)).body(jsonBody(body));
  if (options.blob) r.blob(options.blob);
  const message = r.sendAndAwaitResponse(options.timeout ?? 5);
  const value = message.json();
  if (value !== null && typeof value === 'object' && 'Err' in value) throw toError((value as { Err: unknown }).Err);
  return { value, message };
}

/** Fire-and-forget JSON Request to a module. */
export function tellModule(name: string, body: unknown, options: CallOptions = {}): void {
  const r = Request.to(ourModule(name, options.node)).body(jsonBody(body));
  if (options.blob) r.blob(options.blob);
  r.send();
}

/** Throws UnexpectedResponseError unless `value` is the unit variant `name` (e.g. "Ok"). */
export function expectUnit(module: string, value: unknown, name: string): void {
  if (value !== name) throw new UnexpectedResponseError(module, JSON.stringify(name), value);
}

/** The payload of `{"<name>": payload}`; throws UnexpectedResponseError otherwise. */
export function expectVariant<T>(module: string, value: unknown, name: string): T {
  if (value !== null && typeof value === 'object' && name in value) return (value as Record<string, T>)[name];
  throw new UnexpectedResponseError(module, `{"${name}": ...}`, value);
}

/** Text for an error variant: `Variant` or `Variant: {fields}`. */
export function describeVariant(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err !== null && typeof err === 'object') {
    const keys = Object.keys(err);
    if (keys.length === 1) return `${keys[0]}: ${shortJson((err as Record<string, unknown>)[keys[0]])}`;
  }
  return shortJson(err);
}
