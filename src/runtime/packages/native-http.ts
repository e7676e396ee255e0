// HTTP for the system processes written natively here (homepage, the App Store page, settings):
// they bind paths and answer requests with the same http-server:distro:sys messages a process
// built with process_lib sends (Bind / SecureBind / WebSocketBind, `{"status", "headers"}` + blob),
// so http-server treats them exactly like any package.

import { type KernelApi, SendErrorException } from '../kernel/api.js';
import { fromUtf8, type KernelMessage, type ProcessId, parseJsonBytes, processIdToString, systemProcess } from '../../core/types.js';

/** http-server's IncomingHttpRequest (the value of `{"Http": …}`). */
export interface IncomingHttp {
  method: string;
  url: string;
  bound_path: string;
  headers: Record<string, string>;
  url_params: Record<string, string>;
  query_params: Record<string, string>;
}

export type ServerRequest =
  | { Http: IncomingHttp }
  | { WebSocketOpen: { path: string; channel_id: number } }
  | { WebSocketClose: number }
  | { WebSocketPush: { channel_id: number; message_type: string } };

export interface BindOptions {
  /** Default true. */
  authenticated?: boolean;
  localOnly?: boolean;
  /** SecureBind: served only on the process's own subdomain. */
  secure?: boolean;
  /** Static content: http-server answers GETs with it without asking the process. */
  content?: { bytes: Uint8Array; mime: string };
}

const HTTP_SERVER = systemProcess('http-server');

export class NativeHttp {
  /** Open WebSocket channels, by the path they were opened on. */
  private readonly channels = new Map<number, string>();

  constructor(
    private readonly kernel: KernelApi,
    private readonly id: ProcessId,
  ) {}

  private server() {
    return { node: this.kernel.our, process: HTTP_SERVER };
  }

  private async act(action: unknown, blob?: { bytes: Uint8Array; mime: string }): Promise<void> {
    const what = Object.keys(action as object)[0];
    let body: unknown;
    try {
      const r = await this.kernel.request(this.id, this.server(), JSON.stringify(action), { blob, timeoutSecs: 10 });
      body = parseJsonBytes(r.response.body);
    } catch (e) {
      const why = e instanceof SendErrorException ? (e.reason ?? e.code) : (e as Error).message;
      throw new Error(`${processIdToString(this.id)}: http-server ${what} failed: ${why}`);
    }
    if (!body || typeof body !== 'object' || !('Ok' in body))
      throw new Error(`${processIdToString(this.id)}: http-server refused ${what}: ${JSON.stringify(body)}`);
  }

  /** Bind `path` (under the process's prefix, except for the homepage). */
  bind(path: string, opts: BindOptions = {}): Promise<void> {
    const cache = opts.content !== undefined;
    const action = opts.secure
      ? { SecureBind: { path, cache } }
      : { Bind: { path, authenticated: opts.authenticated ?? true, local_only: opts.localOnly ?? false, cache } };
    return this.act(action, opts.content);
  }

  bindWebSocket(path: string, opts: { authenticated?: boolean; secure?: boolean } = {}): Promise<void> {
    const action = opts.secure
      ? { WebSocketSecureBind: { path, extension: false } }
      : { WebSocketBind: { path, authenticated: opts.authenticated ?? true, extension: false } };
    return this.act(action);
  }

  /** The http-server request in `km`, if it is one (only http-server on our node may send them). */
  parse(km: KernelMessage): ServerRequest | undefined {
    if (km.message.tag !== 'request' || km.source.node !== this.kernel.our) return undefined;
    if (processIdToString(km.source.process) !== 'http-server:distro:sys') return undefined;
    try {
      const r = parseJsonBytes(km.message.val.body) as ServerRequest | null;
      return r && typeof r === 'object' ? r : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keep track of WebSocket channels; true when `req` was an open or a close. */
  track(req: ServerRequest): boolean {
    if ('WebSocketOpen' in req) {
      this.channels.set(req.WebSocketOpen.channel_id, req.WebSocketOpen.path);
      return true;
    }
    if ('WebSocketClose' in req) {
      this.channels.delete(req.WebSocketClose);
      return true;
    }
    return false;
  }

  /** Push a text frame to every open channel (on `path` only, when given). */
  pushAll(text: string, path?: string): void {
    for (const [channel, p] of this.channels) {
      if (path !== undefined && p !== path) continue;
      this.kernel.tell(this.id, this.server(), JSON.stringify({ WebSocketPush: { channel_id: channel, message_type: 'Text' } }), {
        blob: { bytes: new TextEncoder().encode(text), mime: 'application/json' },
      });
    }
  }

  /** Answer an `{"Http": …}` Request. */
  respond(km: KernelMessage, status: number, body?: unknown, mime?: string): void {
    let bytes: Uint8Array;
    if (body === undefined) bytes = new Uint8Array();
    else if (body instanceof Uint8Array) bytes = body;
    else if (typeof body === 'string') bytes = new TextEncoder().encode(body);
    else bytes = new TextEncoder().encode(JSON.stringify(body));
    const type = mime ?? (body === undefined || typeof body === 'string' || body instanceof Uint8Array ? 'text/plain' : 'application/json');
    this.kernel.respond(this.id, km, JSON.stringify({ status, headers: { 'Content-Type': type } }), { bytes, mime: type });
  }
}

/** The HTTP body a request carried (in its blob), as JSON; undefined when absent or not JSON. */
export function jsonBlob(km: KernelMessage): unknown {
  const bytes = km.lazyLoadBlob?.bytes;
  if (!bytes) return undefined;
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch {
    return undefined;
  }
}
