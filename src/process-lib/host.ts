// The component boundary: the only module that touches the WIT imports. Everything else in the
// process library goes through `host`, typed with jco's JS representation of hyperware.wit
// (camelCase records, undefined for none, {tag, val} variants, bigint u64). A failing `result`
// arrives as a thrown ComponentError whose `payload` is the WIT error value.

import {
  clearState,
  dropCapabilities,
  getBlob,
  getOnExit,
  getState,
  hasBlob,
  lastBlob,
  our,
  ourCapabilities,
  printToTerminal,
  receive,
  saveCapabilities,
  sendAndAwaitResponse,
  sendRequest,
  sendRequests,
  sendResponse,
  setOnExit,
  setState,
  spawn,
} from 'hyperware:process/standard@1.0.0';
import type {
  Address,
  Capability,
  LazyLoadBlob,
  OnExit,
  ProcessId,
  Message as WitMessage,
  Request as WitRequest,
  Response as WitResponse,
} from '../core/types.js';

export interface Standard {
  printToTerminal(verbosity: number, message: string): void;
  our(): Address;
  getOnExit(): OnExit;
  setOnExit(onExit: OnExit): void;
  getState(): Uint8Array | undefined;
  setState(bytes: Uint8Array): void;
  clearState(): void;
  /** Throws with payload 'name-taken' | 'no-file-at-path'. */
  spawn(
    name: string | undefined,
    wasmPath: string,
    onExit: OnExit,
    requestCapabilities: Capability[],
    grantCapabilities: Array<[ProcessId, string]>,
    isPublic: boolean,
  ): ProcessId;
  saveCapabilities(caps: Capability[]): void;
  dropCapabilities(caps: Capability[]): void;
  ourCapabilities(): Capability[];
  /** Throws with payload [SendError, context | undefined]. */
  receive(): [Address, WitMessage];
  hasBlob(): boolean;
  getBlob(): LazyLoadBlob | undefined;
  lastBlob(): LazyLoadBlob | undefined;
  sendRequest(
    target: Address,
    request: WitRequest,
    context: Uint8Array | undefined,
    blob: LazyLoadBlob | undefined,
  ): void;
  sendRequests(
    requests: Array<[Address, WitRequest, Uint8Array | undefined, LazyLoadBlob | undefined]>,
  ): void;
  sendResponse(response: WitResponse, blob: LazyLoadBlob | undefined): void;
  /** Throws with payload SendError. */
  sendAndAwaitResponse(target: Address, request: WitRequest, blob: LazyLoadBlob | undefined): [Address, WitMessage];
}

export const host: Standard = {
  printToTerminal,
  our,
  getOnExit,
  setOnExit,
  getState,
  setState,
  clearState,
  spawn,
  saveCapabilities,
  dropCapabilities,
  ourCapabilities,
  receive,
  hasBlob,
  getBlob,
  lastBlob,
  sendRequest,
  sendRequests,
  sendResponse,
  sendAndAwaitResponse,
};

/** The WIT error value a host import threw, if it is one (componentize-js puts it in `payload`). */
export function payloadOf(e: unknown): unknown {
  return e !== null && typeof e === 'object' && 'payload' in e ? (e as { payload: unknown }).payload : undefined;
}
