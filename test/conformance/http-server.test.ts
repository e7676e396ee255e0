// http-server:distro:sys from inside a component, as hyperdrive/src/http/server.rs (Hyperdrive
// 1.9.2) serves it: WebSocketOpen paths without the process id (so process_lib's HttpServer finds
// its channels), the login page for authenticated paths, forwarded_for, control frames, headers,
// static content, the action errors, and the keyfile POST /login answers.

import assert from 'node:assert/strict';
import { createDecipheriv, createHmac, createPrivateKey, createPublicKey, pbkdf2Sync } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { bootConformanceNode, type ConformanceNode, type DriverHandle, PUBLISHER } from './harness.js';

const HTTP = 'http-server:distro:sys';
const APP = `driver:ws-conf:${PUBLISHER}`;

/** A WebSocket client at `path` (of the node), with every frame and the close it saw. */
interface Client {
  ws: WebSocket;
  texts: string[];
}

describe('conformance: http-server', { timeout: 180_000 }, () => {
  let c: ConformanceNode;
  let app: DriverHandle;
  let other: DriverHandle;
  const clients: WebSocket[] = [];

  const connect = (path: string, headers: Record<string, string> = {}) =>
    new Promise<Client>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${c.node.port}${path}`, { headers });
      clients.push(ws);
      const texts: string[] = [];
      ws.on('message', (d) => texts.push(d.toString()));
      ws.once('open', () => resolve({ ws, texts }));
      ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  /** Requests the driver got from http-server since the last call, as parsed bodies (+ blob text). */
  const fromServer = async (d: DriverHandle = app) =>
    (await d.inbox())
      .filter((e) => e.request?.source === `fake.dev@${HTTP}`)
      .map((e) => ({ body: JSON.parse(e.request!.body), blob: e.request!.blob ? Buffer.from(e.request!.blob.base64, 'base64').toString() : null }));
  async function until<T>(f: () => Promise<T | undefined>, what: string): Promise<T> {
    for (let i = 0; i < 200; i++) {
      const v = await f();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  /** Collect http-server Requests until `done` says the list is complete. */
  async function collect(d: DriverHandle, done: (all: Array<{ body: Record<string, unknown>; blob: string | null }>) => boolean, what: string) {
    const all: Array<{ body: Record<string, unknown>; blob: string | null }> = [];
    return until(async () => {
      all.push(...(await fromServer(d)));
      return done(all) ? all : undefined;
    }, what);
  }

  before(async () => {
    const proc = (name: string) => ({ name, request_capabilities: [HTTP], grant_capabilities: [HTTP] });
    c = await bootConformanceNode([{ name: 'ws-conf', processes: [proc('driver'), proc('other')] }]);
    app = c.driver('driver', 'ws-conf');
    other = c.driver('other', 'ws-conf');
  });
  after(async () => {
    for (const ws of clients) ws.terminate();
    await c?.stop();
  });

  it('WebSocketOpen names the bound path without the process id, so ws_push_all_channels("/") reaches its clients (server.rs ws_handler, process_lib handle_websocket_open)', async () => {
    assert.deepEqual(await app.json(HTTP, { WebSocketBind: { path: '/', authenticated: false, extension: false } }), { Ok: null });
    assert.deepEqual(await app.json(HTTP, { WebSocketBind: { path: '/ws', authenticated: false, extension: false } }), { Ok: null });
    await app.inbox();
    const root = await connect(`/${APP}`);
    const rootSlash = await connect(`/${APP}/`);
    const ws = await connect(`/${APP}/ws`);
    const opens = await collect(app, (all) => all.filter((e) => 'WebSocketOpen' in e.body).length === 3, 'three WebSocketOpens');
    const paths = opens.map((e) => (e.body.WebSocketOpen as { path: string }).path).sort();
    assert.deepEqual(paths, ['/', '/', '/ws']);

    // The component files them as process_lib does and pushes to all channels of a bound path.
    const channels = await app.wsChannels();
    assert.equal(channels['/']?.length, 2);
    assert.equal(channels['/ws']?.length, 1);
    assert.deepEqual((await app.wsPushAll('/', 'Text', 'to the root')).sort(), [...channels['/']].sort());
    assert.deepEqual(await app.wsPushAll('/ws', 'Text', 'to /ws'), channels['/ws']);
    await until(async () => (root.texts.length && rootSlash.texts.length && ws.texts.length ? true : undefined), 'the pushes');
    assert.deepEqual([root.texts, rootSlash.texts, ws.texts], [['to the root'], ['to the root'], ['to /ws']]);
    for (const cl of [root, rootSlash, ws]) cl.ws.close();
    await collect(app, (all) => all.filter((e) => 'WebSocketClose' in e.body).length === 3, 'three WebSocketCloses');
    assert.deepEqual(await app.wsChannels(), { '/': [], '/ws': [] });
  });

  it('forwarded_for is the first X-Forwarded-For entry, else X-Real-IP, else Cf-Connecting-Ip (server.rs get_forwarded_ip)', async () => {
    const cases: Array<[Record<string, string>, string | null]> = [
      [{ 'X-Forwarded-For': ' 203.0.113.7 , 10.0.0.1' }, '203.0.113.7'],
      [{ 'X-Real-IP': '198.51.100.2', 'Cf-Connecting-Ip': '192.0.2.9' }, '198.51.100.2'],
      [{ 'Cf-Connecting-Ip': '192.0.2.9' }, '192.0.2.9'],
      [{}, null],
    ];
    for (const [headers, expected] of cases) {
      await app.inbox();
      const cl = await connect(`/${APP}/ws`, headers);
      const open = (await collect(app, (all) => all.some((e) => 'WebSocketOpen' in e.body), 'WebSocketOpen')).find((e) => 'WebSocketOpen' in e.body)!;
      const o = open.body.WebSocketOpen as { forwarded_for: string | null; source_socket_addr: string };
      assert.equal(o.forwarded_for, expected, JSON.stringify(headers));
      assert.match(o.source_socket_addr, /^127\.0\.0\.1:\d+$/);
      cl.ws.terminate();
    }
  });

  it('client Ping, Pong and Close frames reach the process as WebSocketPush, then WebSocketClose (server.rs maintain_websocket)', async () => {
    await app.inbox();
    const cl = await connect(`/${APP}/ws`);
    const open = (await collect(app, (all) => all.some((e) => 'WebSocketOpen' in e.body), 'WebSocketOpen')).find((e) => 'WebSocketOpen' in e.body)!;
    const id = (open.body.WebSocketOpen as { channel_id: number }).channel_id;
    cl.ws.ping('are you there');
    cl.ws.pong('here');
    cl.ws.close(1000, 'done');
    const ours = (e: { body: Record<string, unknown> }) =>
      e.body.WebSocketClose === id || (e.body.WebSocketPush as { channel_id?: number } | undefined)?.channel_id === id;
    const got = (await collect(app, (all) => all.some((e) => e.body.WebSocketClose === id), 'WebSocketClose')).filter(ours);
    assert.deepEqual(
      got.map((e) => [e.body, e.blob]),
      [
        [{ WebSocketPush: { channel_id: id, message_type: 'Ping' } }, 'are you there'],
        [{ WebSocketPush: { channel_id: id, message_type: 'Pong' } }, 'here'],
        [{ WebSocketPush: { channel_id: id, message_type: 'Close' } }, 'done'],
        [{ WebSocketClose: id }, null],
      ],
    );
  });

  it('WebSocketPush errors: NoBlob, WsPingPongTooLong, WsChannelNotFound (another process\'s channel), MalformedRequest (server.rs send_push)', async () => {
    await app.inbox();
    const cl = await connect(`/${APP}/ws`);
    const open = (await collect(app, (all) => all.some((e) => 'WebSocketOpen' in e.body), 'WebSocketOpen')).find((e) => 'WebSocketOpen' in e.body)!;
    const id = (open.body.WebSocketOpen as { channel_id: number }).channel_id;
    const push = (type: string) => ({ WebSocketPush: { channel_id: id, message_type: type } });
    assert.deepEqual(await app.json(HTTP, push('Text')), { Err: 'NoBlob' });
    assert.deepEqual(await app.json(HTTP, push('Ping'), { blob: 'x'.repeat(126) }), { Err: 'WsPingPongTooLong' });
    assert.deepEqual(await other.json(HTTP, push('Text'), { blob: 'not yours' }), { Err: 'WsChannelNotFound' });
    assert.deepEqual(await other.json(HTTP, { WebSocketClose: id }), { Err: 'WsChannelNotFound' });
    assert.deepEqual(await app.json(HTTP, { WebSocketPush: { channel_id: id, message_type: 'Shout' } }), { Err: 'MalformedRequest' });
    assert.deepEqual(await app.json(HTTP, { WebSocketClose: 4242 }), { Ok: null }, 'closing an unknown channel is fine');
    // A Close push closes the socket like WebSocketClose.
    const closed = new Promise((r) => cl.ws.once('close', r));
    assert.deepEqual(await app.json(HTTP, push('Close'), { blob: '' }), { Ok: null });
    await closed;
  });

  it('an authenticated path without a login answers 200 with the login page; an authenticated WebSocket refuses (server.rs http_handler)', async () => {
    assert.deepEqual(await app.json(HTTP, { Bind: { path: '/private', authenticated: true, local_only: false, cache: false } }), { Ok: null });
    assert.deepEqual(await app.json(HTTP, { WebSocketBind: { path: '/private-ws', authenticated: true, extension: false } }), { Ok: null });
    await app.inbox();
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`${c.node.url}/${APP}/private`, { method, redirect: 'manual' });
      assert.equal(res.status, 200, method);
      assert.match(await res.text(), /<input[^>]+type="password"/);
    }
    await assert.rejects(connect(`/${APP}/private-ws`), /HTTP 4\d\d/);
    const heard = (await fromServer()).filter((e) => 'Http' in e.body || 'WebSocketOpen' in e.body);
    assert.deepEqual(heard, [], 'the process hears nothing without a login');
  });

  it('a SecureBind page on its localhost subdomain answers the login page, which logs in for that app (server.rs http_handler, login.html)', async () => {
    assert.deepEqual(await app.json(HTTP, { SecureBind: { path: '/secure', cache: false } }), { Ok: null });
    const host = `ws-conf-kit-tests-os.localhost:${c.node.port}`;
    const get = (path: string, headers: Record<string, string>, method = 'GET', body?: string) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: c.node.port, path, method, headers: { host, ...headers } }, (res) => {
          let text = '';
          res.on('data', (x) => {
            text += x;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const page = await get(`/${APP}/secure`, {});
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(`name="subdomain" value="${APP}"`), page.body);
    const form = `password=secret&subdomain=${encodeURIComponent(APP)}`;
    const login = await get(`/login?redirect=${encodeURIComponent(`/${APP}/secure`)}`, { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', form);
    assert.equal(login.status, 303);
    const cookie = String((login.headers['set-cookie'] as string[])[0]).split(';')[0];
    assert.ok(cookie.startsWith(`hyperware-auth_fake.dev@${APP}=`), cookie);
    assert.deepEqual(await get(`/${APP}/secure`, { cookie }).then((r) => [r.status, r.body]), [200, 'hello']);
  });

  it('headers: the last value of a repeated name; cached content for GET only (server.rs http_handler)', async () => {
    assert.deepEqual(await app.json(HTTP, { Bind: { path: '/page', authenticated: false, local_only: false, cache: true } }, { blob: 'cached page', mime: 'text/plain' }), {
      Ok: null,
    });
    assert.deepEqual(await app.json(HTTP, { Bind: { path: '/api', authenticated: false, local_only: false, cache: false } }), { Ok: null });
    await app.inbox();
    const http = async () => (await fromServer()).filter((e) => 'Http' in e.body);
    assert.equal(await (await fetch(`${c.node.url}/${APP}/page`)).text(), 'cached page');
    assert.deepEqual(await http(), []);
    assert.equal((await fetch(`${c.node.url}/${APP}/page`, { method: 'HEAD' })).status, 200);
    const [head] = await http();
    assert.equal((head.body.Http as { method: string }).method, 'HEAD');

    await new Promise<void>((resolve, reject) => {
      const headers = ['Host', `127.0.0.1:${c.node.port}`, 'X-Twice', 'one', 'X-Twice', 'two'];
      const req = httpRequest(`${c.node.url}/${APP}/api`, { headers }, (r) => r.resume().on('end', resolve));
      req.on('error', reject);
      req.end();
    });
    const [api] = await http();
    assert.equal((api.body.Http as { headers: Record<string, string> }).headers['x-twice'], 'two');
  });

  it('POST /login answers the keyfile, base64 in a JSON string, that opens with the password (server.rs login_handler, keygen.rs)', async () => {
    const res = await fetch(`${c.node.url}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('set-cookie') ?? '', /^hyperware-auth_fake\.dev=/);
    const encoded = (await res.json()) as string;
    const [username, routers, salt, netKey, jwt, fileKey] = JSON.parse(Buffer.from(encoded, 'base64').toString()) as [string, string[], number[], number[], number[], number[]];
    assert.equal(username, 'fake.dev');
    assert.deepEqual(routers, []);
    assert.equal(salt.length, 32);
    const key = pbkdf2Sync('secret', Buffer.from(salt), 1_000_000, 32, 'sha256');
    const open = (sealed: number[]) => {
      const b = Buffer.from(sealed);
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
      d.setAuthTag(b.subarray(b.length - 16));
      return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
    };
    // Ed25519 PKCS#8 v2 in ring's layout (the public key under [1] constructed), which its
    // Ed25519KeyPair::from_pkcs8 requires; the seed is the node's own networking key.
    const pkcs8 = open(netKey);
    assert.equal(pkcs8.length, 85);
    assert.equal(pkcs8.subarray(0, 16).toString('hex'), '3053020101300506032b657004220420');
    assert.equal(pkcs8.subarray(48, 53).toString('hex'), 'a123032100');
    assert.equal(pkcs8.subarray(53).toString('hex'), c.node.net.publicKeyHex);
    const v1 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), pkcs8.subarray(16, 48)]);
    const derived = createPublicKey(createPrivateKey({ key: v1, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
    assert.equal(Buffer.from(derived).subarray(-32).toString('hex'), c.node.net.publicKeyHex, 'the seed is the node\'s networking key');
    assert.equal(open(fileKey).length, 32);
    // The keyfile's JWT secret is the one the node signs logins with: a token made from it logs in.
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ username: 'fake.dev', subdomain: null, expiration: Math.floor(Date.now() / 1000) + 3600 })}`;
    const token = `${body}.${createHmac('sha256', open(jwt)).update(body).digest('base64url')}`;
    await app.inbox();
    const page = await fetch(`${c.node.url}/${APP}/private`, { headers: { Cookie: `hyperware-auth_fake.dev=${token}` } });
    assert.equal(await page.text(), 'hello', 'the driver answered: logged in');
  });
});
