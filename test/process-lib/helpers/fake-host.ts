// The test double behind `hyperware:process/standard@1.0.0` in unit tests: every import forwards
// to the FakeHost installed with installHost(), which records what the library sent and plays
// back scripted answers. The WIT shapes are jco's, as in src/runtime/types.ts.
import type {
  Address,
  Capability,
  LazyLoadBlob,
  OnExit,
  ProcessId,
  SendError,
  Message as WitMessage,
  Request as WitRequest,
  Response as WitResponse,
} from '../../../src/core/types.js';

export interface SentRequest {
  target: Address;
  request: WitRequest;
  context?: Uint8Array;
  blob?: LazyLoadBlob;
}

export interface SentResponse {
  response: WitResponse;
  blob?: LazyLoadBlob;
}

/** An error the way componentize-js hands a WIT `result` error to the guest. */
export function componentError(payload: unknown): Error {
  return Object.assign(new Error('component error'), { payload });
}

export type Answer = { source?: Address; response: WitResponse; blob?: LazyLoadBlob } | { sendError: SendError };

export class FakeHost {
  our: Address = { node: 'fake.dev', process: { processName: 'proc', packageName: 'pkg', publisherNode: 'pub.os' } };
  requests: SentRequest[] = [];
  awaited: SentRequest[] = [];
  responses: SentResponse[] = [];
  prints: Array<[number, string]> = [];
  incoming: Array<{ source: Address; message: WitMessage; blob?: LazyLoadBlob } | { error: [SendError, Uint8Array | undefined] }> = [];
  capabilities: Capability[] = [];
  saved: Capability[][] = [];
  state?: Uint8Array;
  onExit: OnExit = { tag: 'restart' };
  currentBlob?: LazyLoadBlob;
  spawned: unknown[][] = [];
  spawnResult: ProcessId | { error: string } = { processName: '123', packageName: 'pkg', publisherNode: 'pub.os' };
  /** Answers sendAndAwaitResponse; by default every request gets an empty Response. */
  answer: (sent: SentRequest) => Answer = () => ({ response: response(new Uint8Array()) });

  printToTerminal(verbosity: number, text: string): void {
    this.prints.push([verbosity, text]);
  }
  ourFn(): Address {
    return this.our;
  }
  receive(): [Address, WitMessage] {
    const next = this.incoming.shift();
    if (next === undefined) throw new Error('FakeHost: no more incoming messages (test over)');
    if ('error' in next) throw componentError(next.error);
    this.currentBlob = next.blob;
    return [next.source, next.message];
  }
  sendRequest(target: Address, request: WitRequest, context?: Uint8Array, blob?: LazyLoadBlob): void {
    this.requests.push({ target, request, context, blob });
  }
  sendAndAwaitResponse(target: Address, request: WitRequest, blob?: LazyLoadBlob): [Address, WitMessage] {
    const sent = { target, request, blob };
    this.awaited.push(sent);
    const a = this.answer(sent);
    if ('sendError' in a) throw componentError(a.sendError);
    this.currentBlob = a.blob;
    return [a.source ?? target, { tag: 'response', val: [a.response, undefined] }];
  }
  sendResponse(response: WitResponse, blob?: LazyLoadBlob): void {
    this.responses.push({ response, blob });
  }
}

export function response(body: Uint8Array | string, extra: Partial<WitResponse> = {}): WitResponse {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return { inherit: false, body: bytes, metadata: undefined, capabilities: [], ...extra };
}

export function request(body: Uint8Array | string, extra: Partial<WitRequest> = {}): WitRequest {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return { inherit: false, expectsResponse: undefined, body: bytes, metadata: undefined, capabilities: [], ...extra };
}

let host = new FakeHost();

/** A fresh FakeHost for the next test. */
export function installHost(h = new FakeHost()): FakeHost {
  host = h;
  return h;
}

export const printToTerminal = (v: number, s: string) => host.printToTerminal(v, s);
export const our = () => host.ourFn();
export const getOnExit = () => host.onExit;
export const setOnExit = (o: OnExit) => {
  host.onExit = o;
};
export const getState = () => host.state;
export const setState = (b: Uint8Array) => {
  host.state = b;
};
export const clearState = () => {
  host.state = undefined;
};
export const spawn = (...args: unknown[]) => {
  host.spawned.push(args);
  const r = host.spawnResult;
  if ('error' in r) throw componentError(r.error);
  return r;
};
export const saveCapabilities = (caps: Capability[]) => {
  host.saved.push(caps);
};
export const dropCapabilities = (_caps: Capability[]) => {};
export const ourCapabilities = () => host.capabilities;
export const receive = () => host.receive();
export const hasBlob = () => host.currentBlob !== undefined;
export const getBlob = () => host.currentBlob;
export const lastBlob = () => host.requests.at(-1)?.blob;
export const sendRequest = (t: Address, r: WitRequest, c?: Uint8Array, b?: LazyLoadBlob) => host.sendRequest(t, r, c, b);
export const sendRequests = (list: Array<[Address, WitRequest, Uint8Array | undefined, LazyLoadBlob | undefined]>) => {
  for (const [t, r, c, b] of list) host.sendRequest(t, r, c, b);
};
export const sendResponse = (r: WitResponse, b?: LazyLoadBlob) => host.sendResponse(r, b);
export const sendAndAwaitResponse = (t: Address, r: WitRequest, b?: LazyLoadBlob) => host.sendAndAwaitResponse(t, r, b);
