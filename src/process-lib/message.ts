// Messages: receiving (`awaitMessage`), sending Requests (the `Request` builder or the plain
// functions below) and answering them (`Response`, `respond`). Timeouts are seconds, as in the
// book; every call blocks only where the host function blocks (receive, send-and-await-response).

import type {
  Address,
  Capability,
  LazyLoadBlob,
  SendError,
  Message as WitMessage,
  Request as WitRequest,
  Response as WitResponse,
} from '../core/types.js';
import { BuildError, MessageSendError, ProcessLibError } from './errors.js';
import { host, payloadOf } from './host.js';
import { toAddress } from './ids.js';
import { fromUtf8, jsonBody, parseJson, toBytes, utf8 } from './json.js';

let cachedOur: Address | undefined;

/** This process's Address. */
export function our(): Address {
  if (cachedOur === undefined) cachedOur = host.our();
  return cachedOur;
}

/** A line on the node's terminal, shown as `<package>:<publisher>: <text>`. */
export function println(text: string): void {
  host.printToTerminal(0, text);
}

/** A line shown only at `verbosity` or above (0 always, 1 debug, 2 super-debug, 3 event loop). */
export function print(verbosity: number, text: string): void {
  host.printToTerminal(verbosity, text);
}

/** A message this process received. */
export class Message {
  constructor(
    readonly kind: 'request' | 'response',
    readonly source: Address,
    readonly body: Uint8Array,
    readonly capabilities: Capability[],
    readonly metadata: string | undefined,
    readonly inherit: boolean,
    /** Request only: seconds the sender waits for our Response; undefined if it waits for none. */
    readonly expectsResponse: number | undefined,
    /** Response only: the context we gave when sending the Request. */
    readonly context: Uint8Array | undefined,
  ) {}

  static fromWit(source: Address, message: WitMessage): Message {
    if (message.tag === 'request') {
      const r = message.val;
      const expects = r.expectsResponse === undefined ? undefined : Number(r.expectsResponse);
      return new Message('request', source, r.body, r.capabilities, r.metadata, r.inherit, expects, undefined);
    }
    const [r, context] = message.val;
    return new Message('response', source, r.body, r.capabilities, r.metadata, r.inherit, undefined, context);
  }

  isRequest(): boolean {
    return this.kind === 'request';
  }

  isResponse(): boolean {
    return this.kind === 'response';
  }

  /** The body as UTF-8 text. */
  text(): string {
    return fromUtf8(this.body);
  }

  /** The body parsed as JSON; throws JsonDecodeError (with the text) if it is not JSON. */
  json<T = unknown>(): T {
    return parseJson<T>(this.body);
  }

  /** The context as UTF-8 text (Responses to Requests sent with a context). */
  contextText(): string | undefined {
    return this.context === undefined ? undefined : fromUtf8(this.context);
  }

  /**
   * The blob that came with this message. Only valid while it is the latest message received:
   * the host keeps one blob, the last one.
   */
  blob(): LazyLoadBlob | undefined {
    return host.getBlob();
  }

  /** True if the message came from a process on our own node. */
  isLocal(): boolean {
    return this.source.node === our().node;
  }
}

/**
 * Wait for the next message. Throws MessageSendError when a Request we sent with a timeout
 * came back (timeout) or could not be delivered (offline); its `context` is the one we sent.
 */
export function awaitMessage(): Message {
  let received: [Address, WitMessage];
  try {
    received = host.receive();
  } catch (e) {
    const payload = payloadOf(e) as [SendError, Uint8Array | undefined] | undefined;
    if (Array.isArray(payload) && payload[0]?.kind !== undefined) throw sendErrorToException(payload[0], payload[1]);
    throw e;
  }
  return Message.fromWit(received[0], received[1]);
}

function sendErrorToException(se: SendError, context?: Uint8Array): MessageSendError {
  return new MessageSendError(se.kind, se.target, se.message, context);
}

export interface SendOptions {
  blob?: LazyLoadBlob;
  metadata?: string;
  capabilities?: Capability[];
  inherit?: boolean;
}

/** What Requests and Responses are built from alike: body, metadata, inherit, blob, capabilities. */
abstract class MessageBuilder {
  protected bodyBytes?: Uint8Array;
  protected meta?: string;
  protected inheriting = false;
  protected attachedBlob?: LazyLoadBlob;
  protected caps: Capability[] = [];

  /** Raw body: bytes, or a string sent as UTF-8. */
  body(body: Uint8Array | string): this {
    this.bodyBytes = toBytes(body);
    return this;
  }

  /** A JSON body (bigint written as integers, Uint8Array as number arrays). */
  json(value: unknown): this {
    this.bodyBytes = jsonBody(value);
    return this;
  }

  metadata(metadata: string): this {
    this.meta = metadata;
    return this;
  }

  /** Inherit the blob (and, for a Request we answer nothing to, the Response path) of the message we are handling. */
  inherit(inherit = true): this {
    this.inheriting = inherit;
    return this;
  }

  blob(blob: LazyLoadBlob): this {
    this.attachedBlob = blob;
    return this;
  }

  blobBytes(bytes: Uint8Array | string, mime?: string): this {
    this.attachedBlob = { bytes: toBytes(bytes), mime };
    return this;
  }

  capabilities(caps: Capability[]): this {
    this.caps = [...caps];
    return this;
  }

  attachCapability(cap: Capability): this {
    this.caps.push(cap);
    return this;
  }
}

/** Fluent builder: `Request.to(addr).json({...}).expectsResponse(5).send()`. */
export class Request extends MessageBuilder {
  #target?: Address;
  #expectsResponse?: number;
  #context?: Uint8Array;

  static to(target: Address | string): Request {
    return new Request().target(target);
  }

  target(target: Address | string): this {
    this.#target = toAddress(target);
    return this;
  }

  /** Wait at most `seconds` for a Response; without this the Request is fire-and-forget. */
  expectsResponse(seconds: number): this {
    if (!(Number.isInteger(seconds) && seconds >= 0))
      throw new BuildError(`expectsResponse takes whole seconds >= 0, got ${seconds}`);
    this.#expectsResponse = seconds;
    return this;
  }

  /** Bytes handed back with the Response (or SendError), to tell apart Requests in flight. */
  context(context: Uint8Array | string): this {
    this.#context = toBytes(context);
    return this;
  }

  #build(method: string): [Address, WitRequest] {
    if (this.#target === undefined)
      throw new BuildError(`Request.${method}(): no target; call .target(address) first`);
    if (this.bodyBytes === undefined)
      throw new BuildError(`Request.${method}(): no body; call .body(bytes) or .json(value) first`);
    return [
      this.#target,
      {
        inherit: this.inheriting,
        expectsResponse: this.#expectsResponse === undefined ? undefined : BigInt(this.#expectsResponse),
        body: this.bodyBytes,
        metadata: this.meta,
        capabilities: this.caps,
      },
    ];
  }

  /** Send and return at once. A Response, if expected, arrives later through awaitMessage(). */
  send(): void {
    const [target, request] = this.#build('send');
    host.sendRequest(target, request, this.#context, this.attachedBlob);
  }

  /**
   * Send and block until the Response comes. Uses `timeoutSeconds`, else the expectsResponse
   * already set. Throws MessageSendError on timeout or when the node is offline.
   */
  sendAndAwaitResponse(timeoutSeconds?: number): Message {
    if (timeoutSeconds !== undefined) this.expectsResponse(timeoutSeconds);
    if (this.#expectsResponse === undefined)
      throw new BuildError('Request.sendAndAwaitResponse(): give a timeout in seconds, e.g. sendAndAwaitResponse(5)');
    const [target, request] = this.#build('sendAndAwaitResponse');
    let got: [Address, WitMessage];
    try {
      got = host.sendAndAwaitResponse(target, request, this.attachedBlob);
    } catch (e) {
      const payload = payloadOf(e) as SendError | undefined;
      if (payload !== undefined && typeof payload === 'object' && 'kind' in payload) throw sendErrorToException(payload);
      throw e;
    }
    const message = Message.fromWit(got[0], got[1]);
    if (!message.isResponse())
      throw new ProcessLibError(`sendAndAwaitResponse: the host returned a Request from ${got[0].node}, not a Response`);
    return message;
  }
}

/** Fluent builder for the Response to the Request being handled: `new Response().json(v).send()`. */
export class Response extends MessageBuilder {
  /** Answers the last Request received that expects a Response (or carries an rsvp). */
  send(): void {
    if (this.bodyBytes === undefined && !this.inheriting)
      throw new BuildError('Response.send(): no body; call .body(bytes) or .json(value) first');
    const response: WitResponse = {
      inherit: this.inheriting,
      body: this.bodyBytes ?? new Uint8Array(0),
      metadata: this.meta,
      capabilities: this.caps,
    };
    host.sendResponse(response, this.attachedBlob);
  }
}

/** Send a Request and block for its Response (raw body: bytes or UTF-8 text). */
export function sendAndAwaitResponse(
  target: Address | string,
  body: Uint8Array | string,
  timeoutSeconds = 5,
  options: SendOptions = {},
): Message {
  return withOptions(Request.to(target).body(body), options).sendAndAwaitResponse(timeoutSeconds);
}

/** Send a JSON Request, block for the Response and return it parsed as JSON. */
export function requestJson<T = unknown>(
  target: Address | string,
  value: unknown,
  timeoutSeconds = 5,
  options: SendOptions = {},
): T {
  return withOptions(Request.to(target).json(value), options).sendAndAwaitResponse(timeoutSeconds).json<T>();
}

/** Fire-and-forget Request (raw body). */
export function sendRequest(target: Address | string, body: Uint8Array | string, options: SendOptions = {}): void {
  withOptions(Request.to(target).body(body), options).send();
}

/** Fire-and-forget JSON Request. */
export function sendJson(target: Address | string, value: unknown, options: SendOptions = {}): void {
  withOptions(Request.to(target).json(value), options).send();
}

/** Answer the Request being handled (raw body: bytes or UTF-8 text). */
export function respond(body: Uint8Array | string, options: SendOptions = {}): void {
  const r = new Response().body(body);
  if (options.blob) r.blob(options.blob);
  if (options.metadata !== undefined) r.metadata(options.metadata);
  if (options.capabilities) r.capabilities(options.capabilities);
  if (options.inherit) r.inherit(true);
  r.send();
}

/** Answer the Request being handled with JSON. */
export function respondJson(value: unknown, options: SendOptions = {}): void {
  respond(jsonBody(value), options);
}

function withOptions(r: Request, o: SendOptions): Request {
  if (o.blob) r.blob(o.blob);
  if (o.metadata !== undefined) r.metadata(o.metadata);
  if (o.capabilities) r.capabilities(o.capabilities);
  if (o.inherit) r.inherit(true);
  return r;
}

// ---------------------------------------------------------------------------
// Blobs

/** Whether the latest message received came with a blob. */
export function hasBlob(): boolean {
  return host.hasBlob();
}

/** The blob of the latest message received, if any. */
export function getBlob(): LazyLoadBlob | undefined {
  return host.getBlob();
}

/** The blob of the latest message we sent, if any. */
export function lastBlob(): LazyLoadBlob | undefined {
  return host.lastBlob();
}

/** A blob from bytes or text. */
export function blob(bytes: Uint8Array | string, mime?: string): LazyLoadBlob {
  return { bytes: typeof bytes === 'string' ? utf8(bytes) : bytes, mime };
}

/** The latest blob's bytes parsed as JSON, or undefined if there is no blob. */
export function getBlobJson<T = unknown>(): T | undefined {
  const b = host.getBlob();
  return b === undefined ? undefined : parseJson<T>(b.bytes);
}
