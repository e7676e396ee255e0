// Extension WebSockets (book "Extensions", "WebSockets server with reply type"): a process binds a
// WebSocket path with `extension: true`, a native side-car connects to it from this machine, and
// the two talk in MessagePack:
// - the process sends `{"WebSocketExtPushOutgoing": {channel_id, message_type, desired_reply_type}}`
//   with the payload as blob; the extension receives, as one frame,
//   rmp_serde::to_vec_named(HttpServerAction::WebSocketExtPushData {id, hyperware_message_type, blob})
//   = the map {"WebSocketExtPushData": {"id": <the Request's id>, "hyperware_message_type":
//   "Request"|"Response", "blob": [u8...]}};
// - the extension answers with the same shape; the process gets `{"WebSocketPush": {channel_id,
//   message_type}}` with the answer's blob, as a Response to its WebSocketExtPushOutgoing when the
//   type is "Response" (same id), else as a new Request. Frames that are not WebSocketExtPushData
//   reach the process as a plain WebSocketPush with the frame as blob, as in Hyperdrive.
// As in Hyperdrive, a successful WebSocketExtPushOutgoing gets no `{"Ok": null}`: the extension's
// reply is its Response.

import { Packr } from 'msgpackr';
import type { KernelApi } from '../../kernel/api.js';
import { jsonBytes, type KernelMessage, type ProcessId } from '../../../core/types.js';

const packr = new Packr({ useRecords: false, variableMapSize: true, int64AsType: 'bigint', mapsAsObjects: true });

export type ExtMessageType = 'Request' | 'Response';

export interface ExtPushData {
  id: bigint;
  type: ExtMessageType;
  blob: Uint8Array;
}

/** The frame sent to an extension for a WebSocketExtPushOutgoing (`rmp_serde::to_vec_named`). */
export function encodeExtPushData(data: ExtPushData): Uint8Array {
  // u64 ids that fit a double go out as plain integers, so the smallest MessagePack int is used
  // (rmp writes the smallest); larger ones as uint64. Vec<u8> is an array of integers in rmp_serde.
  const id = data.id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(data.id) : data.id;
  return packr.pack({ WebSocketExtPushData: { id, hyperware_message_type: data.type, blob: Array.from(data.blob) } });
}

/**
 * A frame from an extension read as WebSocketExtPushData, or undefined when it is something else.
 * Accepts the struct as a map (to_vec_named) or an array (to_vec), and the blob as an array of
 * integers or as MessagePack bin.
 */
export function decodeExtPushData(frame: Uint8Array): ExtPushData | undefined {
  let value: unknown;
  try {
    value = packr.unpack(frame);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const inner = (value as Record<string, unknown>).WebSocketExtPushData;
  let fields: [unknown, unknown, unknown];
  if (Array.isArray(inner) && inner.length === 3) fields = [inner[0], inner[1], inner[2]];
  else if (inner && typeof inner === 'object') {
    const o = inner as Record<string, unknown>;
    fields = [o.id, o.hyperware_message_type, o.blob];
  } else return undefined;
  const [id, type, blob] = fields;
  let bigId: bigint;
  if (typeof id === 'bigint' && id >= 0n) bigId = id;
  else if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) bigId = BigInt(id);
  else return undefined;
  if (type !== 'Request' && type !== 'Response') return undefined;
  let bytes: Uint8Array;
  if (blob instanceof Uint8Array) bytes = new Uint8Array(blob);
  else if (Array.isArray(blob) && blob.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255))
    bytes = Uint8Array.from(blob as number[]);
  else return undefined;
  return { id: bigId, type, blob: bytes };
}

/** Longest we keep a WebSocketExtPushOutgoing waiting for its extension's reply. */
const MAX_PENDING_SECS = 600;
/** Cap on unanswered pushes kept, so an extension that never answers cannot grow memory. */
const MAX_PENDING = 4096;

/**
 * The http-server's extension side: remembers each WebSocketExtPushOutgoing Request until its
 * extension answers (or the Request's own timeout passes), and turns extension frames into the
 * messages the process expects.
 */
export class ExtensionSockets {
  private readonly pending = new Map<bigint, { km: KernelMessage; channelId: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly kernel: KernelApi,
    private readonly self: ProcessId,
  ) {}

  /** The bytes to send on the socket for `km` (a WebSocketExtPushOutgoing), recording it for the reply. */
  outgoing(km: KernelMessage, channelId: number, replyType: ExtMessageType, payload: Uint8Array): Uint8Array {
    const timeout = km.message.tag === 'request' ? km.message.val.expectsResponse : undefined;
    // Only a Request that awaits a Response can be answered; others get the reply as a Request or nothing.
    if (replyType === 'Response' && (timeout !== undefined || km.rsvp !== undefined)) {
      if (this.pending.size >= MAX_PENDING) this.forget(this.pending.keys().next().value as bigint);
      this.forget(km.id);
      const secs = Math.min(Number(timeout ?? BigInt(MAX_PENDING_SECS)), MAX_PENDING_SECS);
      const timer = setTimeout(() => this.pending.delete(km.id), secs * 1000);
      timer.unref();
      this.pending.set(km.id, { km, channelId, timer });
    }
    return encodeExtPushData({ id: km.id, type: replyType, blob: payload });
  }

  /** A frame from the extension on `channelId`, opened to `app`: deliver it to the process. */
  incoming(channelId: number, app: ProcessId, frame: Uint8Array, messageType: 'Text' | 'Binary' | 'Ping' | 'Pong' | 'Close'): void {
    const to = { node: this.kernel.our, process: app };
    const push = jsonBytes({ WebSocketPush: { channel_id: channelId, message_type: messageType } });
    const data = decodeExtPushData(frame);
    if (!data) {
      this.kernel.tell(this.self, to, push, { blob: { bytes: frame } });
      return;
    }
    if (data.type === 'Request') {
      this.kernel.tell(this.self, to, push, { blob: { bytes: data.blob } });
      return;
    }
    const waiting = this.pending.get(data.id);
    if (!waiting || waiting.channelId !== channelId) {
      // Hyperdrive sends it anyway and the kernel drops a Response nobody awaits; so do we, visibly.
      this.kernel.print(2, `http-server: extension on channel ${channelId} answered ${data.id}, which no process is waiting for`);
      return;
    }
    this.forget(data.id);
    this.kernel.respond(this.self, waiting.km, push, { bytes: data.blob });
  }

  /** A channel closed: its unanswered pushes will never be answered. */
  closed(channelId: number): void {
    for (const [id, p] of this.pending) if (p.channelId === channelId) this.forget(id);
  }

  clear(): void {
    for (const id of [...this.pending.keys()]) this.forget(id);
  }

  private forget(id: bigint): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
  }
}
