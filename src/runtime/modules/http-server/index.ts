// http-server:distro:sys — the node's HTTP server (book "HTTP Server", interop §1 and §10.6):
// the kit RPC endpoint `POST /rpc:distro:sys/message`, `/our`, `/our.js`, `/amionline`, and the
// paths processes bind with Bind / SecureBind, whose requests go to the binder as
// `{"Http": IncomingHttpRequest}` with the body in the blob, and WebSockets on WebSocketBind
// paths (upgrades on the same server, at most 128 open), delivered as WebSocketOpen /
// WebSocketPush (+blob) / WebSocketClose. A WebSocket at `/` with no binding there takes the
// book's WebSocket API registration (`WsRegister`: auth token + target process) instead.
//
// One deliberate difference from Hyperdrive: when the kernel refuses the message at once
// (target missing, no capability, offline, too large) we answer immediately with a status that
// names why (404, 403, 503, 413) instead of hanging until the HTTP timeout's 408, because the
// real node's http-server never hears about SendErrors.

import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { type KernelApi, type NativeProcess, type Reply, SendErrorException } from '../../kernel/api.js';
import {
  addressToString,
  fromUtf8,
  isSafeProcessId,
  jsonBytes,
  type KernelMessage,
  type LazyLoadBlob,
  MAX_MESSAGE_BYTES,
  type ProcessId,
  parseProcessId,
  processIdToString,
  systemProcess,
} from '../../../core/types.js';
import type { NetKey } from '../../../core/net-key.js';
import { authCookie, createNodeAuth, LOGIN_BODY_LIMIT, LoginThrottle, loginPage, parseLogin, safeRedirect } from './auth.js';
import { type Binding, formatPathWithProcess, normalizePath, RouteTable, secureSubdomain } from './bindings.js';
import { HttpListenError, PortInUseError, RpcFormatError } from './errors.js';
import { ExtensionSockets } from './ext-ws.js';
import { encodeKeyfile } from './keyfile.js';
import { parseRpcMessage, RPC_BODY_LIMIT, rpcCallerProblem, sendRpcResponse } from './rpc.js';

import {
  cookieValue,
  errorText,
  flatHeaders,
  forwardedIp,
  HttpError,
  headerValue,
  isLoopback,
  readBody,
  sendBody,
  sendText,
  socketAddress,
  statusForSendError,
} from './http-io.js';

export { BodyTooLargeError, HttpListenError, PortInUseError, RpcFormatError } from './errors.js';
export { encodeRpcResponse, parseRpcMessage, RPC_BODY_LIMIT } from './rpc.js';

export const HTTP_SERVER_ID: ProcessId = systemProcess('http-server');
const RPC_PATH = '/rpc:distro:sys/message';
const LOOPBACK = '127.0.0.1';
/** Hyperdrive's HTTP wait for a Response: 15 s, or 600 s in a fake-node (simulation-mode) build. */
const HTTP_TIMEOUT_SECS = 15;
const FAKE_NODE_HTTP_TIMEOUT_SECS = 600;
/** setTimeout cannot wait longer than 2^31-1 ms; longer waits are clamped to this. */
const MAX_WAIT_SECS = 2_000_000;
/** Hyperdrive serves at most this many WebSockets at once. */
const MAX_WEBSOCKETS = 128;
/** How long a refused upgrade's answer may take to leave before its socket is destroyed. */
const UPGRADE_REFUSAL_GRACE_MS = 2_000;
/** Shutdown waits at most this long for connections to finish before it stops waiting. */
const CLOSE_GRACE_MS = 2_000;
const WS_TYPES = new Set(['Text', 'Binary', 'Ping', 'Pong', 'Close']);
const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 503: 'Service Unavailable' };
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip'];

export interface HttpServerOptions {
  port: number;
  /** Interface to listen on; default 127.0.0.1, this machine only (Hyperdrive listens on 0.0.0.0). */
  host?: string;
  kernel: KernelApi;
  /** Fake nodes wait 600 s for a Response by default, real ones 15 s. */
  fakeNode: boolean;
  /** The node password `POST /login` takes; default "secret", as a fake node's. */
  password?: string;
  /**
   * Whether `token`, the value of the cookie named `label` (`hyperware-auth_<node>` or
   * `hyperware-auth_<node>@<process>` for secure subdomains), is a valid login. Default: a JWT
   * that this server signed at `/login` (auth.ts).
   */
  authenticate?: (token: string, label: string) => boolean;
  /** What goes into the keyfile `POST /login` answers with (Hyperdrive's format, keyfile.ts). */
  keyfile?: { netKey: NetKey; routers: string[] };
}

export interface HttpServerModule extends NativeProcess {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Number of live path bindings (not counting unbound ones). */
  bindingCount(): number;
  /** Open WebSocket channels. */
  websocketCount(): number;
  /** Start answering requests (until then: 503 "still booting"). */
  ready(): void;
  close(): Promise<void>;
}

interface WsBinding {
  app?: ProcessId;
  path?: string;
  authenticated: boolean;
  extension: boolean;
  secureSubdomain?: string;
}

/** perform() sent a WebSocketExtPushOutgoing on: no `{"Ok": null}` (the extension answers). */
const EXT_SENT = Symbol('ext-sent');

type ActionError = 'MalformedRequest' | 'NoBlob' | 'InvalidSourceProcess' | 'WsPingPongTooLong' | 'WsChannelNotFound';

export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServerModule> {
  const kernel = opts.kernel;
  const our = kernel.our;
  const defaultWait = opts.fakeNode ? FAKE_NODE_HTTP_TIMEOUT_SECS : HTTP_TIMEOUT_SECS;
  const jwtSecret = randomBytes(32);
  const auth = createNodeAuth({ our, password: opts.password ?? 'secret', secret: jwtSecret });
  // Made on the first login that asks for it, then kept: encoding takes a second of PBKDF2.
  let keyfile: Promise<Uint8Array> | undefined;
  const encodedKeyfile = (parts: NonNullable<HttpServerOptions['keyfile']>) => {
    keyfile ??= encodeKeyfile({ username: our, routers: parts.routers, netKey: parts.netKey, jwtSecret, fileKey: randomBytes(32), password: opts.password ?? 'secret' });
    return keyfile;
  };
  const loginThrottle = new LoginThrottle();
  const authenticate = opts.authenticate ?? ((token: string, label: string) => auth.verify(token, label));
  const bindings = new RouteTable<Binding>();
  const wsBindings = new RouteTable<WsBinding>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const channels = new Map<number, { ws: WebSocket; app: ProcessId }>();
  const extensions = new ExtensionSockets(kernel, HTTP_SERVER_ID);
  const secureSubdomains = new Set<string>();
  const waits = new Set<NodeJS.Timeout>();
  /** Upgraded sockets not yet closed (refused ones included): shutdown destroys any left. */
  const upgrading = new Set<Duplex>();
  let started = false;
  let closed = false;

  // ---- HTTP side ------------------------------------------------------------------------------

  const server: Server = createServer((req, res) => {
    serve(req, res).catch((e) => {
      if (e instanceof HttpError) return sendText(res, e.status, e.message, e.headers);
      // A client that went away mid-request (slowloris, a closed tab) is no error of ours.
      if (res.destroyed || req.socket.destroyed || (e as NodeJS.ErrnoException)?.code === 'ECONNRESET') {
        kernel.print(2, `http-server: ${req.method} ${req.url} abandoned by the client: ${errorText(e)}`);
        return;
      }
      kernel.log.error(`http-server: ${req.method} ${req.url} failed: ${errorText(e)}`);
      if (!res.headersSent) sendText(res, 500, `internal error: ${errorText(e)}`);
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    // Node hands an upgraded socket over with no 'error' listener: attach one before anything can
    // arrive on it, or a reset (or any socket error) is an unhandled error that ends the node.
    socket.on('error', () => socket.destroy());
    upgrading.add(socket);
    socket.once('close', () => upgrading.delete(socket));
    try {
      upgrade(req, socket, head);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      refuseUpgrade(socket, status, errorText(e));
    }
  });

  /**
   * Answer a refused upgrade and let the socket go. Nothing reads an upgraded socket, so a client
   * that keeps it open (or sends more bytes) would hold it, and server.close(), for good: it is
   * destroyed once the answer is written, or after UPGRADE_REFUSAL_GRACE_MS at the latest.
   */
  function refuseUpgrade(socket: Duplex, status: number, text: string): void {
    const body = `${text}\n`;
    socket.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), UPGRADE_REFUSAL_GRACE_MS).unref();
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  /**
   * A frame ws refuses (too large, bad UTF-8, RSV bits, unknown opcode...) arrives as 'error' after
   * ws has already sent the close frame with the RFC 6455 code (1009, 1007, 1002): the socket then
   * closes on its own. Every WebSocket gets this listener before it can receive a byte.
   */
  function onWebSocketError(ws: WebSocket, path: string): void {
    ws.on('error', (e) => kernel.print(2, `http-server: WebSocket at ${path} closed: ${errorText(e)}`));
  }

  /** Accept a WebSocket on a WebSocketBind path and open a channel to the bound process. */
  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = normalizePath(q < 0 ? raw : raw.slice(0, q));
    const route = wsBindings.recognize(path);
    const b = route?.binding;
    // The book's WebSocket API: a client connects to `/` and registers with a WsRegister message.
    if ((!route || !b?.app) && (path === '' || path === '/')) {
      registerAtRoot(req, socket, head);
      return;
    }
    if (!route || !b?.app) throw new HttpError(404, `no WebSocket is bound at ${path || '/'} on ${our}`);
    const app = b.app;
    if (b.authenticated) {
      const host = req.headers.host ?? 'localhost';
      const label =
        b.secureSubdomain && host.includes('localhost') ? `hyperware-auth_${our}@${processIdToString(app)}` : `hyperware-auth_${our}`;
      if (!loggedIn(req, label)) throw new HttpError(401, `${path} needs a login: ${loginHint(req, label)}`);
    }
    // Extensions are side-cars on this machine; Hyperdrive refuses them from anywhere else.
    if (b.extension && !isLoopback(req.socket.remoteAddress))
      throw new HttpError(403, `${path} is an extension WebSocket: only a client on this machine (localhost) may connect`);
    if (!started) throw new HttpError(503, 'the node is still booting: try again in a moment');
    if (wss.clients.size >= MAX_WEBSOCKETS) throw new HttpError(503, `this node already has ${MAX_WEBSOCKETS} WebSockets open; try again later`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      onWebSocketError(ws, path);
      openChannel(ws, req, app, pathWithoutProcess(path, app), !!b.extension);
    });
  }

  /**
   * The path a WebSocketOpen carries: the request path with the app's process id taken off, as
   * Hyperdrive's ws_handler "stripping ProcessId from path" does, so that a socket bound at "/"
   * opens with "/" and one bound at "/ws" with "/ws": the keys process_lib's HttpServer files its
   * channels under (handle_websocket_open) and ws_push_all_channels looks them up by.
   */
  function pathWithoutProcess(path: string, app: ProcessId): string {
    const rest = path.replace(/^\/+/, '');
    const id = processIdToString(app);
    return `/${rest.startsWith(id) ? rest.slice(id.length).replace(/^\/+/, '') : ''}`;
  }

  /**
   * A new channel from `ws` to `app`: WebSocketOpen now, WebSocketPush per frame (Text, Binary,
   * and, as Hyperdrive's maintain_websocket, Ping, Pong and the client's Close with its reason as
   * the blob), WebSocketClose at the end, also after the app closed it.
   */
  function openChannel(ws: WebSocket, req: IncomingMessage, app: ProcessId, path: string, extension: boolean): void {
    let channelId: number;
    do channelId = randomInt(1, 2 ** 32 - 1);
    while (channels.has(channelId));
    channels.set(channelId, { ws, app });
    const to = { node: our, process: app };
    kernel.tell(
      HTTP_SERVER_ID,
      to,
      jsonBytes({
        WebSocketOpen: {
          path,
          channel_id: channelId,
          source_socket_addr: socketAddress(req),
          forwarded_for: forwardedIp(req),
        },
      }),
    );
    const push = (type: 'Text' | 'Binary' | 'Ping' | 'Pong' | 'Close', bytes: Uint8Array) => {
      if (closed) return;
      if (extension) return extensions.incoming(channelId, app, bytes, type);
      kernel.tell(HTTP_SERVER_ID, to, jsonBytes({ WebSocketPush: { channel_id: channelId, message_type: type } }), { blob: { bytes } });
    };
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      push(isBinary ? 'Binary' : 'Text', new Uint8Array(bytes));
    });
    ws.on('ping', (data) => push('Ping', new Uint8Array(data)));
    ws.on('pong', (data) => push('Pong', new Uint8Array(data)));
    ws.on('close', (code, reason) => {
      // 1006: the connection ended without a Close frame; otherwise the client sent one.
      if (code !== 1006) push('Close', new Uint8Array(reason));
      if (channels.get(channelId)?.ws === ws) channels.delete(channelId);
      extensions.closed(channelId);
      if (!closed) kernel.tell(HTTP_SERVER_ID, to, jsonBytes({ WebSocketClose: channelId }));
    });
  }

  /**
   * Book "WebSocket API": a client opens a WebSocket at `/` and sends, as text or bytes,
   * `{"auth_token": <the node's login cookie value>, "target_process": "p:k:pub", "encrypted": false}`.
   * With a valid login the socket becomes a channel to that process (WebSocketOpen with path "/");
   * otherwise it is closed with code 1008 and the reason. Encrypted channels are not supported.
   */
  function registerAtRoot(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!started) throw new HttpError(503, 'the node is still booting: try again in a moment');
    if (wss.clients.size >= MAX_WEBSOCKETS) throw new HttpError(503, `this node already has ${MAX_WEBSOCKETS} WebSockets open; try again later`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      onWebSocketError(ws, '/');
      const refuse = (why: string) => {
        kernel.print(1, `http-server: WsRegister refused: ${why}`);
        ws.close(1008, why.slice(0, 120)); // a close reason is at most 123 bytes
      };
      // Nothing but the registration is accepted until it arrives.
      const timer = setTimeout(() => refuse('no WsRegister message within 10 s'), 10_000);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
      ws.once('message', (data) => {
        clearTimeout(timer);
        const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString('utf8');
        let reg: { auth_token?: unknown; target_process?: unknown; encrypted?: unknown };
        try {
          reg = JSON.parse(text) ?? {};
        } catch {
          return refuse('expected {"auth_token", "target_process", "encrypted"} as JSON');
        }
        if (typeof reg.auth_token !== 'string' || typeof reg.target_process !== 'string')
          return refuse('expected {"auth_token", "target_process", "encrypted"} as JSON');
        if (!authenticate(reg.auth_token, `hyperware-auth_${our}`)) return refuse(`auth_token is not a valid login for ${our}: log in at /login`);
        if (reg.encrypted === true) return refuse('encrypted WebSockets are not supported: send "encrypted": false');
        let app: ProcessId;
        try {
          app = parseProcessId(reg.target_process);
        } catch {
          return refuse(`target_process ${reg.target_process.slice(0, 60)} is not a process ID`);
        }
        openChannel(ws, req, app, '/', false);
      });
    });
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Split by hand: `new URL` would read a path starting with '//' as a host.
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const url = { pathname: q < 0 ? raw : raw.slice(0, q), search: q < 0 ? '' : raw.slice(q) };
    const path = normalizePath(url.pathname);
    kernel.print(2, `http-server: request for ${path || '/'}`);
    if (path === RPC_PATH) return serveRpc(req, res);
    if (path === '/login') return serveLogin(req, res, url.search);
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (!started) throw new HttpError(503, 'the node is still booting: try again in a moment');
      if (path === '/our') return sendBody(res, 200, 'text/html', our);
      if (path === '/our.js') return sendBody(res, 200, 'application/javascript', `window.our = {}; window.our.node = '${our}';`);
      if (path === '/amionline') return sendBody(res, 200, 'text/plain', 'yes');
    }
    return serveBound(req, res, url, path);
  }

  async function serveRpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, `${RPC_PATH} takes POST requests only`, { Allow: 'POST' });
    checkLocal(req, RPC_PATH);
    const refused = rpcCallerProblem(req.headers);
    if (refused) {
      kernel.print(1, `http-server: refused an RPC: ${refused}`);
      throw new HttpError(403, refused);
    }
    if (!started) throw new HttpError(503, 'the node is still booting: try again in a moment');
    const raw = await readBody(req, RPC_BODY_LIMIT);
    let msg: ReturnType<typeof parseRpcMessage>;
    try {
      msg = parseRpcMessage(raw, our);
    } catch (e) {
      if (e instanceof RpcFormatError) throw new HttpError(400, `bad RPC message: ${e.message}`);
      throw e;
    }
    if (msg.droppedBlob) kernel.log.warning('http-server: RPC `data` is not standard base64; the blob was dropped');
    kernel.print(2, `http-server: passing on RPC message to ${addressToString(msg.target)}`);
    const sendOpts = { blob: msg.blob, metadata: msg.metadata };
    if (msg.expectsResponse === undefined) {
      kernel.tell(HTTP_SERVER_ID, msg.target, msg.body, sendOpts);
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    const reply = await awaitReply(
      kernel.request(HTTP_SERVER_ID, msg.target, msg.body, { ...sendOpts, timeoutSecs: Math.min(msg.expectsResponse, MAX_WAIT_SECS) }),
      httpWaitSecs(req),
    );
    await sendRpcResponse(res, reply);
  }

  async function serveBound(req: IncomingMessage, res: ServerResponse, url: { pathname: string; search: string }, path: string): Promise<void> {
    const first = path.split('/').find((s) => s.length > 0) ?? '';
    // A path a process did not bind falls back to that process's root binding, as in Hyperdrive.
    const route = bindings.recognize(path) ?? bindings.recognize(`/${first}`);
    const b = route?.binding;
    if (!route || !b?.app) throw new HttpError(404, `nothing is bound at ${path || '/'} on ${our}`);
    const app = b.app;

    const host = req.headers.host ?? 'localhost';
    const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
    const requestSubdomain = hostname.split('.')[0] ?? '';
    if (b.authenticated) {
      if (b.secureSubdomain) {
        if (!requestSubdomain) throw new HttpError(401, 'attempted to access secure subdomain without host');
        if (requestSubdomain !== b.secureSubdomain) {
          const proto = headerValue(req, 'x-forwarded-proto') ?? 'http';
          res.writeHead(307, { Location: `${proto}://${b.secureSubdomain}.${host}${path}${url.search}`, 'Content-Length': 0 });
          res.end();
          return;
        }
        const subdomainLogin = host.includes('localhost') ? processIdToString(app) : null;
        const label = subdomainLogin ? `hyperware-auth_${our}@${subdomainLogin}` : `hyperware-auth_${our}`;
        if (!loggedIn(req, label)) return serveLoginInstead(res, req, label, `${url.pathname}${url.search}`, subdomainLogin);
      } else {
        if (requestSubdomain && secureSubdomains.has(requestSubdomain) && requestSubdomain !== secureSubdomain(app))
          throw new HttpError(403, 'secure subdomain can only serve its associated package');
        const label = `hyperware-auth_${our}`;
        if (!loggedIn(req, label)) return serveLoginInstead(res, req, label, `${url.pathname}${url.search}`);
      }
    }
    if (b.localOnly) checkLocal(req, path);

    // Hyperdrive serves cached content for GET only; a HEAD goes to the process like any request.
    if (req.method === 'GET' && b.staticContent) {
      const blob = b.staticContent;
      res.writeHead(200, { 'Content-Type': blob.mime ?? 'text/plain', 'Content-Length': blob.bytes.byteLength });
      res.end(blob.bytes);
      return;
    }
    if (!started) throw new HttpError(503, 'the node is still booting: try again in a moment');

    const body = await readBody(req, MAX_MESSAGE_BYTES);
    const wait = httpWaitSecs(req);
    const incoming = {
      Http: {
        source_socket_addr: socketAddress(req),
        method: req.method ?? 'GET',
        // Hyperdrive drops the port, the scheme and the query here; query_params carries the query.
        url: `http://${hostname}${path}`,
        bound_path: b.path,
        headers: flatHeaders(req),
        url_params: route.params,
        query_params: Object.fromEntries(new URLSearchParams(url.search)),
      },
    };
    const reply = await awaitReply(
      kernel.request(HTTP_SERVER_ID, { node: our, process: app }, jsonBytes(incoming), {
        timeoutSecs: wait,
        blob: { bytes: body },
      }),
      wait,
    );
    writeProcessResponse(res, app, reply);
  }

  function writeProcessResponse(res: ServerResponse, app: ProcessId, reply: Reply): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fromUtf8(reply.response.body));
    } catch {
      parsed = undefined;
    }
    const r = parsed as { status?: unknown; headers?: unknown } | undefined;
    const status = r?.status;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999)
      throw new HttpError(
        500,
        `${processIdToString(app)} answered with a body that is not an HTTP response: expected {"status": <100-999>, "headers": {...}} with the HTTP body in the blob`,
      );
    const headers = r?.headers && typeof r.headers === 'object' ? (r.headers as Record<string, unknown>) : {};
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      // Node computes the framing itself; a process-supplied length could corrupt the response.
      if (typeof value !== 'string' || lower === 'content-length' || lower === 'transfer-encoding') continue;
      try {
        res.setHeader(name, value);
      } catch {
        // Hyperdrive skips headers it cannot encode; so do we.
      }
    }
    const bytes = reply.blob?.bytes ?? new Uint8Array();
    res.setHeader('Content-Length', bytes.byteLength);
    res.writeHead(status);
    res.end(bytes);
  }

  /** Whether the request carries a valid login cookie named `label`. */
  function loggedIn(req: IncomingMessage, label: string): boolean {
    const token = cookieValue(req.headers.cookie, label);
    return token !== undefined && authenticate(token, label);
  }

  function loginHint(req: IncomingMessage, label: string): string {
    const why = cookieValue(req.headers.cookie, label) === undefined ? `send the ${label} cookie` : `the ${label} cookie is not a valid login for ${our}`;
    return `${why}; log in at /login with the node's password`;
  }

  /**
   * An authenticated path without a valid login answers, as Hyperdrive's http_handler, 200 with
   * the login page (whatever the method or client), which logs in and comes back to this path;
   * on a localhost secure subdomain it logs in for that process, as Hyperdrive's login page does.
   */
  function serveLoginInstead(res: ServerResponse, req: IncomingMessage, label: string, pathAndQuery: string, subdomain: string | null = null): void {
    kernel.print(2, `http-server: ${pathAndQuery || '/'} needs a login (${loginHint(req, label)}); serving the login page`);
    sendBody(res, 200, 'text/html; charset=utf-8', loginPage(our, safeRedirect(pathAndQuery), undefined, subdomain));
  }

  /** GET /login: the page; POST /login: check the password and set the cookie. */
  async function serveLogin(req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
    const redirectParam = new URLSearchParams(search).get('redirect');
    const redirect = safeRedirect(redirectParam);
    if (req.method === 'GET' || req.method === 'HEAD') return sendBody(res, 200, 'text/html; charset=utf-8', loginPage(our, redirect));
    if (req.method !== 'POST') throw new HttpError(405, '/login takes GET (the page) or POST (the password)', { Allow: 'GET, POST' });
    const client = req.socket.remoteAddress ?? '?';
    const wait = loginThrottle.retryAfterSecs(client);
    if (wait > 0) {
      req.resume();
      throw new HttpError(429, `too many wrong passwords from ${client}: try again in ${wait} s`, { 'Retry-After': String(wait) });
    }
    const raw = fromUtf8(await readBody(req, LOGIN_BODY_LIMIT));
    const attempt = parseLogin(headerValue(req, 'content-type'), raw);
    if (!attempt || attempt.password === undefined)
      throw new HttpError(400, 'POST /login takes JSON {"password_hash": "<password>", "subdomain": null} or the form field password');
    if (!auth.checkPassword(attempt.password)) {
      loginThrottle.failed(client);
      kernel.print(1, 'http-server: failed login (wrong password)');
      if (attempt.form) return sendBody(res, 401, 'text/html; charset=utf-8', loginPage(our, redirect, 'Wrong password; try again.', attempt.subdomain));
      throw new HttpError(401, `wrong password for ${our}`);
    }
    const cookie = authCookie(auth.cookieName(attempt.subdomain), auth.sign(attempt.subdomain));
    if (attempt.form || redirectParam !== null) {
      res.writeHead(303, { Location: redirect, 'Set-Cookie': cookie, 'Content-Length': 0 });
      res.end();
      return;
    }
    // Hyperdrive answers with the node's keyfile, base64, as a JSON string (its login page only
    // looks at the status). Without keys to put in it (a bare module in a unit test): "".
    const encoded = opts.keyfile ? Buffer.from(await encodedKeyfile(opts.keyfile)).toString('base64') : '';
    sendBody(res, 200, 'application/json', JSON.stringify(encoded), { 'Set-Cookie': cookie });
  }

  function checkLocal(req: IncomingMessage, path: string): void {
    const proxy = PROXY_HEADERS.find((h) => req.headers[h] !== undefined);
    if (proxy) throw new HttpError(403, `${path} only answers local requests, and this one came through a proxy (${proxy} header)`);
    if (!isLoopback(req.socket.remoteAddress)) throw new HttpError(403, `${path} only answers requests from this machine (localhost)`);
  }

  /** Race the kernel's answer against the HTTP wait; turn refusals into statuses that say why. */
  function awaitReply(pending: Promise<Reply>, waitSecs: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        waits.delete(timer);
        reject(new HttpError(408, `no response within ${waitSecs} s (set header X-Hyperware-Http-Server-Timeout to wait longer)`));
      }, Math.min(waitSecs, MAX_WAIT_SECS) * 1000);
      waits.add(timer);
      pending.then(
        (reply) => {
          clearTimeout(timer);
          waits.delete(timer);
          resolve(reply);
        },
        (e) => {
          clearTimeout(timer);
          waits.delete(timer);
          reject(e instanceof SendErrorException ? new HttpError(statusForSendError(e), e.reason ?? e.message) : e);
        },
      );
    });
  }

  function httpWaitSecs(req: IncomingMessage): number {
    const raw = headerValue(req, 'x-hyperware-http-server-timeout');
    if (raw !== undefined && /^\d+$/.test(raw.trim())) return Number(raw.trim());
    return defaultWait;
  }

  // ---- process side ---------------------------------------------------------------------------

  function handle(km: KernelMessage): void {
    if (km.message.tag !== 'request') return; // Responses to our requests resolve kernel.request directly
    const request = km.message.val;
    const wantsReply = request.expectsResponse !== undefined || km.rsvp !== undefined;
    // Hyperdrive also sends errors to Requests that expect no Response, but its kernel hands a
    // process only Responses it awaits, so answering only those is the same to the process.
    const reply = (result: { Ok: null } | { Err: ActionError }) => {
      if (wantsReply) kernel.respond(HTTP_SERVER_ID, km, jsonBytes(result));
    };
    let action: unknown;
    try {
      action = JSON.parse(fromUtf8(request.body));
    } catch {
      action = undefined;
    }
    const result = perform(km, action);
    if (result === EXT_SENT) return; // the extension's reply is the Response
    if (result === 'MalformedRequest')
      kernel.print(1, `http-server: got malformed request from ${addressToString(km.source)}: ${fromUtf8(request.body).slice(0, 200)}`);
    reply(result === undefined ? { Ok: null } : { Err: result });
  }

  /** Carry out one HttpServerAction; undefined on success, else the error to answer. */
  function perform(km: KernelMessage, action: unknown): ActionError | typeof EXT_SENT | undefined {
    if (!action || typeof action !== 'object' || Array.isArray(action)) return 'MalformedRequest';
    const [kind, value] = Object.entries(action as Record<string, unknown>)[0] ?? [];
    const v = (value ?? {}) as Record<string, unknown>;
    const source = km.source.process;
    const mayBind = () => km.source.node === our && isSafeProcessId(source);
    const isStr = (x: unknown): x is string => typeof x === 'string';
    const isBool = (x: unknown): x is boolean => typeof x === 'boolean';

    switch (kind) {
      case 'Bind':
      case 'SecureBind': {
        const secure = kind === 'SecureBind';
        if (!isStr(v.path) || !isBool(v.cache) || (!secure && (!isBool(v.authenticated) || !isBool(v.local_only))))
          return 'MalformedRequest';
        if (!mayBind()) return 'InvalidSourceProcess';
        if (v.cache && !km.lazyLoadBlob) return 'NoBlob';
        const path = formatPathWithProcess(source, v.path);
        const subdomain = secure ? secureSubdomain(source) : undefined;
        if (subdomain) secureSubdomains.add(subdomain);
        const staticContent: LazyLoadBlob | undefined = v.cache ? km.lazyLoadBlob : undefined;
        bindings.set(path, {
          app: source,
          path,
          authenticated: secure ? true : (v.authenticated as boolean),
          localOnly: secure ? false : (v.local_only as boolean),
          secureSubdomain: subdomain,
          staticContent,
        });
        kernel.print(
          2,
          `http-server: binding ${path}${subdomain ? ` (subdomain ${subdomain})` : ''}, ${secure || v.authenticated ? 'authenticated' : 'unauthenticated'}, ${!secure && v.local_only ? 'local only' : 'open'}, ${v.cache ? 'cached' : 'dynamic'}`,
        );
        return undefined;
      }
      case 'Unbind': {
        if (!isStr(v.path)) return 'MalformedRequest';
        const path = formatPathWithProcess(source, v.path);
        bindings.set(path, { path, authenticated: false, localOnly: false });
        return undefined;
      }
      case 'WebSocketBind':
      case 'WebSocketSecureBind': {
        const secure = kind === 'WebSocketSecureBind';
        if (!isStr(v.path) || !isBool(v.extension) || (!secure && !isBool(v.authenticated))) return 'MalformedRequest';
        if (!mayBind()) return 'InvalidSourceProcess';
        // Recorded (and acknowledged, so apps that unwrap the result keep running) but not served yet.
        const subdomain = secure ? secureSubdomain(source) : undefined;
        if (subdomain) secureSubdomains.add(subdomain);
        const wsPath = formatPathWithProcess(source, v.path);
        wsBindings.set(wsPath, {
          app: source,
          path: wsPath,
          authenticated: secure ? true : (v.authenticated as boolean),
          extension: v.extension,
          secureSubdomain: subdomain,
        });
        return undefined;
      }
      case 'WebSocketUnbind':
        if (!isStr(v.path)) return 'MalformedRequest';
        wsBindings.set(formatPathWithProcess(source, v.path), { authenticated: false, extension: false });
        return undefined;
      case 'WebSocketPush': {
        // In Hyperdrive's send_push order: the blob, Ping/Pong size, Close (as WebSocketClose),
        // then the channel, which only the process it was opened to may push on.
        const type = v.message_type;
        if (typeof v.channel_id !== 'number' || !isStr(type) || !WS_TYPES.has(type)) return 'MalformedRequest';
        if (!km.lazyLoadBlob) return 'NoBlob';
        const data = km.lazyLoadBlob.bytes;
        if ((type === 'Ping' || type === 'Pong') && data.length > 125) return 'WsPingPongTooLong';
        if (type === 'Close') return closeChannel(km, v.channel_id);
        const ch = channels.get(v.channel_id);
        if (!ch || km.source.node !== our || processIdToString(ch.app) !== processIdToString(source)) return 'WsChannelNotFound';
        if (type === 'Text') ch.ws.send(fromUtf8(data));
        else if (type === 'Binary') ch.ws.send(data);
        else if (type === 'Ping') ch.ws.ping(data);
        else ch.ws.pong(data);
        return undefined;
      }
      case 'WebSocketExtPushOutgoing': {
        const type = v.message_type;
        const reply = v.desired_reply_type;
        if (typeof v.channel_id !== 'number' || !isStr(type) || !WS_TYPES.has(type) || (reply !== 'Request' && reply !== 'Response'))
          return 'MalformedRequest';
        // Hyperdrive answers NoBlob also for a message_type other than Binary (the frame is MessagePack).
        if (!km.lazyLoadBlob || type !== 'Binary') return 'NoBlob';
        const ch = channels.get(v.channel_id);
        if (!ch || km.source.node !== our || processIdToString(ch.app) !== processIdToString(source)) return 'WsChannelNotFound';
        ch.ws.send(extensions.outgoing(km, v.channel_id, reply, km.lazyLoadBlob.bytes));
        return EXT_SENT;
      }
      case 'WebSocketClose':
        if (typeof value !== 'number') return 'MalformedRequest';
        return closeChannel(km, value);
      default:
        // WebSocketOpen / WebSocketExtPushData are only ever sent by the server, never to it.
        return 'MalformedRequest';
    }
  }

  /**
   * Close `channelId` for the process that sent `km`, as Hyperdrive's handle_close_websocket: an
   * unknown channel is fine, another process's channel is WsChannelNotFound. The client's answering
   * Close and then WebSocketClose still reach the process (see openChannel).
   */
  function closeChannel(km: KernelMessage, channelId: number): ActionError | undefined {
    const ch = channels.get(channelId);
    if (!ch) return undefined;
    if (km.source.node !== our || processIdToString(ch.app) !== processIdToString(km.source.process)) return 'WsChannelNotFound';
    channels.delete(channelId);
    extensions.closed(channelId);
    ch.ws.close();
    return undefined;
  }

  // ---- listen ---------------------------------------------------------------------------------

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (e.code === 'EADDRINUSE') reject(new PortInUseError(opts.port, opts.host));
      else reject(new HttpListenError(opts.port, e.code, e.message));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts.port, opts.host ?? LOOPBACK);
  });
  server.on('error', (e) => kernel.log.error(`http-server: ${errorText(e)}`));
  const port = (server.address() as AddressInfo).port;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const t of waits) clearTimeout(t);
    waits.clear();
    for (const ch of channels.values()) ch.ws.terminate();
    channels.clear();
    extensions.clear();
    // Sockets still registering at `/`, or half closed, count as connections too: end them all.
    for (const ws of wss.clients) ws.terminate();
    for (const socket of upgrading) socket.destroy();
    upgrading.clear();
    wss.close();
    await new Promise<void>((resolve) => {
      const grace = setTimeout(resolve, CLOSE_GRACE_MS);
      grace.unref();
      server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      server.closeAllConnections();
    });
  };

  return {
    id: HTTP_SERVER_ID,
    isPublic: false,
    port,
    // Serving waits for `ready()`, which the node calls once its processes are restored, so that
    // /our answering means the node's packages answer too.
    ready() {
      started = true;
    },
    handle,
    stop: close,
    close,
    websocketCount: () => channels.size,
    bindingCount() {
      let n = 0;
      for (const b of bindings.values()) if (b.app) n++;
      return n;
    },
  };
}
