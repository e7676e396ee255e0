// http-server:distro:sys over real HTTP, with the real kernel routing to small native
// processes: the kit RPC endpoint (interop §1), /our, and process bindings (interop §10.6).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import { Kernel, type ProcessRunner, type StateStore } from '../../src/runtime/kernel/kernel.js';
import { createLogger } from '../../src/core/log.js';
import { RouteTable } from '../../src/runtime/modules/http-server/bindings.js';
import { createHttpServer, type HttpServerModule, PortInUseError, RPC_BODY_LIMIT } from '../../src/runtime/modules/http-server/index.js';
import {
  fromUtf8,
  type KernelMessage,
  MAX_MESSAGE_BYTES,
  messagingCap,
  NETWORK_PARAMS,
  type ProcessId,
  parseProcessId,
  systemProcess,
  utf8,
} from '../../src/core/types.js';

const OUR = 'fake.dev';
const log = createLogger({ terminal: null, file: null });
const HTTP = systemProcess('http-server');

const noRunner: ProcessRunner = {
  start: async () => {
    throw new Error('these tests run no wasm');
  },
};

class MemoryState implements StateStore {
  private readonly m = new Map<string, Uint8Array>();
  get(id: string) {
    return this.m.get(id);
  }
  set(id: string, b: Uint8Array) {
    this.m.set(id, b);
  }
  delete(id: string) {
    this.m.delete(id);
  }
}

/** A native process that records what it receives and answers with `answer` (if given). */
function recorder(id: string, opts: { isPublic?: boolean; answer?: (km: KernelMessage, k: Kernel) => void } = {}) {
  const received: KernelMessage[] = [];
  let kernel: Kernel;
  const proc: NativeProcess & { received: KernelMessage[] } = {
    id: parseProcessId(id),
    isPublic: opts.isPublic ?? true,
    received,
    start(k) {
      kernel = k as Kernel;
    },
    handle(km) {
      received.push(km);
      opts.answer?.(km, kernel);
    },
  };
  return proc;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`gave up waiting for ${what}`);
}

function bytesOf(arr: number[]): Uint8Array {
  return Uint8Array.from(arr);
}

describe('http-server', () => {
  let home: string;
  let kernel: Kernel;
  let http: HttpServerModule;
  let base: string;

  // A process answers http-server only holding its capability (every Response is checked).
  const answersHttp = () => [messagingCap({ node: OUR, process: systemProcess('http-server') })];
  const systemCaps = () => [
    ...['kernel', 'http-server', 'vfs'].map((m) => messagingCap({ node: OUR, process: systemProcess(m) })),
    { issuer: { node: OUR, process: systemProcess('kernel') }, params: NETWORK_PARAMS },
  ];

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-http-'));
    kernel = new Kernel({ our: OUR, home, log, runner: noRunner, state: new MemoryState(), readWasm: async () => undefined });
    http = await createHttpServer({ port: 0, host: '127.0.0.1', kernel, fakeNode: true });
    await kernel.addNative(http, systemCaps());
    base = `http://127.0.0.1:${http.port}`;
    // Until the node says it has booted, everything answers 503.
    assert.equal((await fetch(`${base}/our`)).status, 503);
    http.ready();
  });

  afterEach(async () => {
    await http.close();
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  /** Log in with the fake node's default password; the cookie to send back. */
  async function login(): Promise<string> {
    const res = await fetch(`${base}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
    assert.equal(res.status, 200, await res.text());
    return (res.headers.get('set-cookie') ?? '').split(';')[0];
  }

  function rpc(message: Record<string, unknown>, headers: Record<string, string> = {}) {
    return fetch(`${base}/rpc:distro:sys/message`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Hyperware-Http-Server-Timeout': '30', ...headers },
      body: JSON.stringify({ node: null, inherit: false, metadata: null, context: null, mime: 'application/octet-stream', data: null, ...message }),
    });
  }

  describe('RPC endpoint', () => {
    it('delivers a blocking request and answers with the body and the double-encoded blob', async () => {
      const echo = recorder('echo:test:sys', {
        answer: (km, k) => {
          const body = km.message.tag === 'request' ? fromUtf8(km.message.val.body) : '';
          k.respond(echo.id, km, JSON.stringify({ got: body }), { mime: 'application/json', bytes: utf8('{"blob":true}') });
        },
      });
      await kernel.addNative(echo, answersHttp());

      const res = await rpc({
        process: 'echo:test:sys',
        expects_response: 15,
        body: '{"Hello":1}',
        metadata: 'meta',
        mime: 'text/plain',
        data: Buffer.from('blob in').toString('base64'),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/html');
      const json = (await res.json()) as { body: number[]; lazy_load_blob: { mime: string; bytes: number[] } };
      assert.equal(fromUtf8(bytesOf(json.body)), '{"got":"{\\"Hello\\":1}"}');
      assert.equal(json.lazy_load_blob.mime, 'application/json');
      // bytes are the ASCII of the base64 text, not the blob itself
      const b64 = fromUtf8(bytesOf(json.lazy_load_blob.bytes));
      assert.equal(b64, Buffer.from('{"blob":true}').toString('base64'));

      const km = echo.received[0];
      assert.equal(km.source.process.processName, 'http-server');
      assert.equal(km.message.tag, 'request');
      if (km.message.tag === 'request') {
        assert.equal(km.message.val.expectsResponse, 15n);
        assert.equal(km.message.val.metadata, 'meta');
      }
      assert.equal(km.lazyLoadBlob?.mime, 'text/plain');
      assert.equal(fromUtf8(km.lazyLoadBlob?.bytes ?? new Uint8Array()), 'blob in');
    });

    it('answers a blocking request whose response has no blob with lazy_load_blob null', async () => {
      const p = recorder('plain:test:sys', { answer: (km, k) => k.respond(p.id, km, 'ok') });
      await kernel.addNative(p, answersHttp());
      const res = await rpc({ process: 'plain:test:sys', expects_response: 5, body: 'x' });
      assert.deepEqual(await res.json(), { body: [...utf8('ok')], lazy_load_blob: null });
    });

    it('fires and forgets when expects_response is null: 200 with an empty body', async () => {
      const sink = recorder('sink:test:sys');
      await kernel.addNative(sink, answersHttp());
      const res = await rpc({ process: 'sink:test:sys', expects_response: null, body: 'note' });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '');
      await until(() => sink.received.length === 1, 'the message to arrive');
      const km = sink.received[0];
      assert.equal(km.message.tag === 'request' && km.message.val.expectsResponse, undefined);
      assert.equal(km.message.tag === 'request' && fromUtf8(km.message.val.body), 'note');
    });

    it('answers 400 naming the problem for malformed JSON and for a bad process ID', async () => {
      const bad = await fetch(`${base}/rpc:distro:sys/message`, { method: 'POST', body: '{not json' });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /not JSON/);

      const badId = await rpc({ process: 'just-a-name', expects_response: 5 });
      assert.equal(badId.status, 400);
      assert.match(await badId.text(), /not a process ID/);

      const objectBody = await rpc({ process: 'a:b:c', body: { Hello: 1 } });
      assert.equal(objectBody.status, 400);
      assert.match(await objectBody.text(), /`body` must be a string/);
    });

    it('answers 403 when the request came through a proxy', async () => {
      const res = await rpc({ process: 'echo:test:sys', expects_response: 5 }, { 'X-Forwarded-For': '10.0.0.1' });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /x-forwarded-for/);
    });

    it('carries a blob over 10 MB to a local process, and refuses it for another node with 413', async () => {
      const big = Buffer.alloc(MAX_MESSAGE_BYTES + 1024, 'z').toString('base64');
      const sink = recorder('sink:test:sys', { answer: (km, k) => k.respond(sink.id, km, String(km.lazyLoadBlob?.bytes.length)) });
      await kernel.addNative(sink, answersHttp());
      const local = await rpc({ process: 'sink:test:sys', expects_response: 15, body: '"x"', data: big });
      assert.equal(local.status, 200);
      assert.equal(fromUtf8(Uint8Array.from(((await local.json()) as { body: number[] }).body)), String(MAX_MESSAGE_BYTES + 1024));
      const remote = await rpc({ node: 'other.dev', process: 'sink:test:sys', expects_response: 15, body: '"x"', data: big });
      assert.equal(remote.status, 413);
      assert.match(await remote.text(), /network limit/);
    });

    it('answers 413 for a body over the RPC limit, by Content-Length and by streamed size', async () => {
      const huge = Buffer.alloc(RPC_BODY_LIMIT + 1, 'a');
      const res = await fetch(`${base}/rpc:distro:sys/message`, { method: 'POST', body: huge });
      assert.equal(res.status, 413);
      assert.match(await res.text(), /larger than/);

      // Chunked upload: no Content-Length, so the limit is found while reading.
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${base}/rpc:distro:sys/message`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
        req.on('error', reject);
        const chunk = Buffer.alloc(1024 * 1024, 'b');
        let sent = 0;
        const pump = () => {
          while (sent < Math.ceil(RPC_BODY_LIMIT / chunk.length) + 2) {
            sent++;
            if (!req.write(chunk)) return req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      assert.equal(status, 413);
    });

    it('answers 404 at once, naming the process, when the target does not exist', async () => {
      const res = await rpc({ process: 'nope:nope:sys', expects_response: 15 });
      assert.equal(res.status, 404);
      assert.match(await res.text(), /nope:nope:sys not found/);
    });

    it('answers 403 at once when http-server may not message a non-public process', async () => {
      await kernel.addNative(recorder('private:test:sys', { isPublic: false }));
      const res = await rpc({ process: 'private:test:sys', expects_response: 15 });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /capability/);
    });

    it('answers 503 for a remote target when this node has no networking', async () => {
      const res = await rpc({ node: 'other.dev', process: 'echo:test:sys', expects_response: 15 });
      assert.equal(res.status, 503);
      assert.match(await res.text(), /other\.dev/);
    });

    it('answers 408 when no response comes within the HTTP wait or within expects_response', async () => {
      await kernel.addNative(recorder('silent:test:sys'), answersHttp());
      const byHeader = await rpc({ process: 'silent:test:sys', expects_response: 60 }, { 'X-Hyperware-Http-Server-Timeout': '1' });
      assert.equal(byHeader.status, 408);
      const byExpects = await rpc({ process: 'silent:test:sys', expects_response: 1 });
      assert.equal(byExpects.status, 408);
    });
  });

  it('serves /our, /our.js and /amionline', async () => {
    const our = await fetch(`${base}/our`);
    assert.equal(our.headers.get('content-type'), 'text/html');
    assert.equal(await our.text(), OUR);
    const js = await fetch(`${base}/our.js`);
    assert.equal(js.headers.get('content-type'), 'application/javascript');
    assert.equal(await js.text(), `window.our = {}; window.our.node = '${OUR}';`);
    assert.equal(await (await fetch(`${base}/amionline`)).text(), 'yes');
  });

  it('refuses a taken port with PortInUseError naming the port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await assert.rejects(createHttpServer({ port, host: '127.0.0.1', kernel, fakeNode: true }), (e: unknown) => {
        assert.ok(e instanceof PortInUseError);
        assert.match(e.message, new RegExp(`port ${port}`));
        return true;
      });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  describe('process bindings', () => {
    const APP = 'app:test:sys';
    const appId: ProcessId = parseProcessId(APP);
    let app: ReturnType<typeof recorder>;
    let answer: (km: KernelMessage, k: Kernel) => void;

    beforeEach(async () => {
      answer = (km, k) => k.respond(appId, km, JSON.stringify({ status: 200, headers: {} }), { bytes: utf8('default') });
      app = recorder(APP, { isPublic: false, answer: (km, k) => answer(km, k) });
      // Like an app whose manifest grants http-server:distro:sys a messaging capability.
      await kernel.addNative(app, [messagingCap({ node: OUR, process: HTTP })]);
      kernel.grant(HTTP, [messagingCap({ node: OUR, process: appId })]);
    });

    async function act(action: unknown, blob?: Uint8Array): Promise<unknown> {
      const reply = await kernel.request(appId, `our@http-server:distro:sys`, JSON.stringify(action), {
        timeoutSecs: 5,
        blob: blob ? { mime: 'text/html', bytes: blob } : undefined,
      });
      return JSON.parse(fromUtf8(reply.response.body));
    }

    it('routes an HTTP request to the binder and its Response back to the client', async () => {
      assert.deepEqual(await act({ Bind: { path: '/hello', authenticated: false, local_only: false, cache: false } }), { Ok: null });
      answer = (km, k) =>
        k.respond(appId, km, JSON.stringify({ status: 201, headers: { 'X-Answer': 'yes', 'Content-Type': 'text/plain' } }), {
          bytes: utf8('made it'),
        });

      const res = await fetch(`${base}/${APP}/hello?x=1&y=two`, { method: 'POST', body: 'request body' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('x-answer'), 'yes');
      assert.equal(await res.text(), 'made it');

      const km = app.received.at(-1)!;
      assert.equal(km.source.process.processName, 'http-server');
      const req = km.message.tag === 'request' ? JSON.parse(fromUtf8(km.message.val.body)) : undefined;
      assert.equal(req.Http.method, 'POST');
      assert.equal(req.Http.bound_path, `/${APP}/hello`);
      assert.equal(req.Http.url, `http://127.0.0.1/${APP}/hello`);
      assert.deepEqual(req.Http.query_params, { x: '1', y: 'two' });
      assert.deepEqual(req.Http.url_params, {});
      assert.match(req.Http.source_socket_addr, /^127\.0\.0\.1:\d+$/);
      assert.equal(req.Http.headers['content-type'], 'text/plain;charset=UTF-8');
      assert.equal(fromUtf8(km.lazyLoadBlob?.bytes ?? new Uint8Array()), 'request body');
    });

    it('passes :params as url_params and falls back to the root binding for unbound subpaths', async () => {
      await act({ Bind: { path: '/items/:id', authenticated: false, local_only: false, cache: false } });
      await act({ Bind: { path: '/', authenticated: false, local_only: false, cache: false } });
      await fetch(`${base}/${APP}/items/42`);
      let req = JSON.parse(fromUtf8((app.received.at(-1)!.message as { val: { body: Uint8Array } }).val.body));
      assert.deepEqual(req.Http.url_params, { id: '42' });

      const res = await fetch(`${base}/${APP}/some/where/else`);
      assert.equal(res.status, 200);
      req = JSON.parse(fromUtf8((app.received.at(-1)!.message as { val: { body: Uint8Array } }).val.body));
      assert.equal(req.Http.bound_path, `/${APP}`);
    });

    it('serves a cached binding statically and refuses a cache bind without a blob', async () => {
      assert.deepEqual(await act({ Bind: { path: '/ui', authenticated: false, local_only: false, cache: true } }), { Err: 'NoBlob' });
      assert.deepEqual(await act({ Bind: { path: '/ui', authenticated: false, local_only: false, cache: true } }, utf8('<h1>ui</h1>')), {
        Ok: null,
      });
      const before = app.received.length;
      const res = await fetch(`${base}/${APP}/ui`);
      assert.equal(res.headers.get('content-type'), 'text/html');
      assert.equal(await res.text(), '<h1>ui</h1>');
      assert.equal(app.received.length, before, 'the process is not asked for a cached path');
    });

    it('needs the auth cookie on authenticated paths and a local client on local-only ones', async () => {
      await act({ Bind: { path: '/private', authenticated: true, local_only: false, cache: false } });
      const before = app.received.length;
      // hyperdrive/src/http/server.rs http_handler: no valid login is a 200 with the login page.
      const anon = await fetch(`${base}/${APP}/private`);
      assert.equal(anon.status, 200);
      assert.match(await anon.text(), /<input[^>]+name="password"/);
      const forged = await fetch(`${base}/${APP}/private`, { headers: { Cookie: `hyperware-auth_${OUR}=token` } });
      assert.match(await forged.text(), /<input[^>]+name="password"/, 'a cookie the node did not sign is no login');
      assert.equal(app.received.length, before, 'the process never sees a request without a login');
      const authed = await fetch(`${base}/${APP}/private`, { headers: { Cookie: `other=1; ${await login()}` } });
      assert.equal(authed.status, 200);

      await act({ Bind: { path: '/local', authenticated: false, local_only: true, cache: false } });
      assert.equal((await fetch(`${base}/${APP}/local`)).status, 200);
      const proxied = await fetch(`${base}/${APP}/local`, { headers: { 'X-Real-IP': '1.2.3.4' } });
      assert.equal(proxied.status, 403);
    });

    it('logs in at /login: the page, a wrong password, the form post and the JSON post', async () => {
      await act({ Bind: { path: '/private', authenticated: true, local_only: false, cache: false } });
      const page = await fetch(`${base}/login?redirect=/x`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /<input[^>]+name="password"[^>]+type="password"/);

      const wrong = await fetch(`${base}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'nope', subdomain: null }) });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get('set-cookie'), null);
      const wrongForm = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ password: 'nope' }), redirect: 'manual' });
      assert.equal(wrongForm.status, 401);
      assert.match(await wrongForm.text(), /Wrong password/);

      // The page's form: a 303 back to where the browser was going, with the cookie.
      const form = await fetch(`${base}/login?redirect=${encodeURIComponent(`/${APP}/private?q=1`)}`, {
        method: 'POST',
        body: new URLSearchParams({ password: 'secret' }),
        redirect: 'manual',
      });
      assert.equal(form.status, 303);
      assert.equal(form.headers.get('location'), `/${APP}/private?q=1`);
      const cookie = form.headers.get('set-cookie') ?? '';
      assert.match(cookie, new RegExp(`^hyperware-auth_${OUR.replace('.', '\\.')}=[\\w-]+\\.[\\w-]+\\.[\\w-]+;.*HttpOnly`));
      const ok = await fetch(`${base}/${APP}/private`, { headers: { Cookie: cookie.split(';')[0] } });
      assert.equal(ok.status, 200);
      // The JWT carries Hyperdrive's claims.
      const claims = JSON.parse(Buffer.from(cookie.split(';')[0].split('=')[1].split('.')[1], 'base64url').toString());
      assert.equal(claims.username, OUR);
      assert.equal(claims.subdomain, null);
      assert.ok(claims.expiration > Date.now() / 1000 + 180 * 24 * 3600);

      // An open redirect is not followed.
      const away = await fetch(`${base}/login?redirect=//evil.example/`, { method: 'POST', body: new URLSearchParams({ password: 'secret' }), redirect: 'manual' });
      assert.equal(away.headers.get('location'), '/');
    });

    it('answers an authenticated page without a login with the login page, which comes back to it', async () => {
      await act({ Bind: { path: '/', authenticated: true, local_only: false, cache: false } });
      for (const headers of [{ Accept: 'text/html,*/*', 'Sec-Fetch-Dest': 'document' }, { Accept: 'application/json', 'Sec-Fetch-Dest': 'empty' }]) {
        const res = await fetch(`${base}/${APP}/?tab=2`, { headers, redirect: 'manual' });
        assert.equal(res.status, 200);
        const html = await res.text();
        assert.ok(html.includes(`action="/login?redirect=${encodeURIComponent(`/${APP}/?tab=2`)}"`), html);
      }
    });

    it('passes the last value of a repeated header, and a HEAD on a cached path to the process', async () => {
      await act({ Bind: { path: '/twice', authenticated: false, local_only: false, cache: false } });
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${base}/${APP}/twice`, { headers: ['Host', '127.0.0.1', 'X-Dup', 'first', 'X-Dup', 'second'] }, (r) => {
          r.resume();
          r.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
      const req = JSON.parse(fromUtf8((app.received.at(-1)!.message as { val: { body: Uint8Array } }).val.body));
      assert.equal(req.Http.headers['x-dup'], 'second');

      await act({ Bind: { path: '/cached', authenticated: false, local_only: false, cache: true } }, utf8('static'));
      const before = app.received.length;
      assert.equal(await (await fetch(`${base}/${APP}/cached`)).text(), 'static');
      assert.equal(app.received.length, before);
      assert.equal((await fetch(`${base}/${APP}/cached`, { method: 'HEAD' })).status, 200);
      assert.equal(app.received.length, before + 1, 'Hyperdrive serves static content for GET only');
      assert.equal(JSON.parse(fromUtf8((app.received.at(-1)!.message as { val: { body: Uint8Array } }).val.body)).Http.method, 'HEAD');
    });

    it('redirects a SecureBind path to its subdomain', async () => {
      assert.deepEqual(await act({ SecureBind: { path: '/secure', cache: false } }), { Ok: null });
      const res = await fetch(`${base}/${APP}/secure?a=1`, { redirect: 'manual' });
      assert.equal(res.status, 307);
      assert.equal(res.headers.get('location'), `http://test-sys.127.0.0.1:${http.port}/${APP}/secure?a=1`);
    });

    it('answers 404 after Unbind and for paths nobody bound', async () => {
      await act({ Bind: { path: '/gone', authenticated: false, local_only: false, cache: false } });
      assert.equal((await fetch(`${base}/${APP}/gone`)).status, 200);
      assert.deepEqual(await act({ Unbind: { path: '/gone' } }), { Ok: null });
      assert.equal((await fetch(`${base}/${APP}/gone`)).status, 404);
      assert.equal((await fetch(`${base}/nobody:home:sys/x`)).status, 404);
    });

    it('answers 500 naming the process when its Response is not an HTTP response', async () => {
      await act({ Bind: { path: '/broken', authenticated: false, local_only: false, cache: false } });
      answer = (km, k) => k.respond(appId, km, 'not json');
      const res = await fetch(`${base}/${APP}/broken`);
      assert.equal(res.status, 500);
      assert.match(await res.text(), /app:test:sys answered with a body that is not an HTTP response/);
    });

    it('answers MalformedRequest to actions it cannot parse, and acknowledges WebSocketBind', async () => {
      assert.deepEqual(await act({ Bind: { path: 5 } }), { Err: 'MalformedRequest' });
      assert.deepEqual(await act('Nonsense'), { Err: 'MalformedRequest' });
      assert.deepEqual(await act({ WebSocketBind: { path: '/ws', authenticated: false, extension: false } }), { Ok: null });
      assert.deepEqual(await act({ WebSocketPush: { channel_id: 1, message_type: 'Text' } }, utf8('x')), { Err: 'WsChannelNotFound' });
    });
  });
});

describe('RouteTable', () => {
  it('prefers literal segments over params over globs', () => {
    const t = new RouteTable<string>();
    t.set('/a:b:c/files/*rest', 'glob');
    t.set('/a:b:c/files/:name', 'param');
    t.set('/a:b:c/files/readme', 'literal');
    assert.equal(t.recognize('/a:b:c/files/readme')?.binding, 'literal');
    assert.deepEqual(t.recognize('/a:b:c/files/x'), { binding: 'param', params: { name: 'x' } });
    assert.deepEqual(t.recognize('/a:b:c/files/x/y'), { binding: 'glob', params: { rest: 'x/y' } });
    assert.equal(t.recognize('/a:b:c'), undefined);
  });
});
