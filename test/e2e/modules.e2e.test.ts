// The runtime modules from inside a real component: a node booted in-process, a package with two
// processes (test/fixtures/processes/modules-driver.js) installed through the app store over RPC,
// and each process driven to send every Request of the book's KV, SQLite, HTTP Client, HTTP
// Server (WebSockets) and fd-manager APIs. Assertions are on what the component reports back,
// and on what real HTTP / WebSocket peers saw.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { startPackage } from '../../src/package/start.js';
import { zipDirectory } from '../../src/core/zip.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { parseJsonExact, stringifyJsonExact } from '../../src/core/json.js';
import { fromUtf8, systemProcess } from '../../src/core/types.js';
import { waitForEvent } from './helpers.js';
import { type PeerRequest, startTestPeer, type TestPeer } from './peer.js';

const PUBLISHER = 'kit-tests.os';
const PKG = 'modules-test';
const PKG_JSON = { package_name: PKG, publisher_node: PUBLISHER };

/** Build the driver against the repo's process WIT alone (wit/deps may hold other packages' WIT). */
export async function buildDriver(): Promise<Uint8Array> {
  const witOnly = mkdtempSync(join(tmpdir(), 'kit-wit-'));
  copyFileSync(join(repoRoot(), 'wit/hyperware.wit'), join(witOnly, 'hyperware.wit'));
  try {
    return await buildFixture(join(repoRoot(), 'test/fixtures/processes/modules-driver.js'), { witPath: witOnly });
  } finally {
    rmSync(witOnly, { recursive: true, force: true });
  }
}

/** A package dir with processes `driver` and `other` (same code), ready for startPackage. */
export async function writeDriverPackage(dir: string, wasm: Uint8Array): Promise<void> {
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  mkdirSync(join(dir, 'target'), { recursive: true });
  const modules = ['kv', 'sqlite', 'http-client', 'http-server', 'fd-manager', 'timer', 'vfs'].map((m) => `${m}:distro:sys`);
  const entry = (name: string) => ({
    process_name: name,
    process_wasm_path: '/driver.wasm',
    on_exit: 'Restart',
    request_networking: false,
    request_capabilities: modules,
    // every module that answers it (Responses are capability-checked, as on Hyperdrive)
    grant_capabilities: modules,
    public: false,
  });
  writeFileSync(join(dir, 'pkg/manifest.json'), JSON.stringify([entry('driver'), entry('other')], null, 2));
  writeFileSync(join(dir, 'pkg/driver.wasm'), wasm);
  writeFileSync(
    join(dir, 'metadata.json'),
    JSON.stringify({
      name: PKG,
      description: 'drives the runtime modules from a component',
      image: '',
      external_url: '',
      animation_url: '',
      properties: {
        package_name: PKG,
        publisher: PUBLISHER,
        current_version: '0.1.0',
        mirrors: [],
        code_hashes: { '0.1.0': '' },
        wit_version: 1,
        dependencies: [],
      },
    }),
  );
  writeFileSync(join(dir, `target/${PKG}:kit-tests.zip`), await zipDirectory(join(dir, 'pkg')));
}

interface CallResult {
  body?: unknown;
  blob?: string | null;
  error?: string;
}

export class Driver {
  constructor(
    readonly node: RunningNode,
    readonly name: string,
  ) {}
  get id(): string {
    return `${this.name}:${PKG}:${PUBLISHER}`;
  }
  private async ask(cmd: unknown): Promise<unknown> {
    // The RPC endpoint delivers as http-server too; going straight through the kernel skips HTTP.
    const r = await this.node.kernel.request(systemProcess('http-server'), this.id, JSON.stringify(cmd), { timeoutSecs: 60 });
    return JSON.parse(fromUtf8(r.response.body));
  }
  call(target: string, body: unknown, blob?: string, timeout?: number): Promise<CallResult> {
    return this.ask({ Call: { target, body, blob: blob ?? null, timeout } }) as Promise<CallResult>;
  }
  /** A call sent and answered as JSON text, parsed here exactly (u64 ids above 2^53 stay bigints). */
  async callExact(target: string, body: unknown, blob?: string): Promise<{ body: unknown; blob: string | null }> {
    const r = (await this.ask({ Call: { target, bodyText: stringifyJsonExact(body), blob: blob ?? null, raw: true } })) as { bodyText: string; blob: string | null };
    return { body: parseJsonExact(r.bodyText), blob: r.blob };
  }
  /** A call whose blob is binary (sent base64 to the driver, which decodes it). */
  callBytes(target: string, body: unknown, blob: Uint8Array): Promise<CallResult> {
    return this.ask({ Call: { target, body, blob: null, blob64: Buffer.from(blob).toString('base64') } }) as Promise<CallResult>;
  }
  tell(target: string, body: unknown, blob?: string): Promise<unknown> {
    return this.ask({ Tell: { target, body, blob: blob ?? null } });
  }
  events(): Promise<Array<{ from: string; body: unknown; blob: string | null }>> {
    return this.ask('Events') as Promise<Array<{ from: string; body: unknown; blob: string | null }>>;
  }
  /** Poll the recorded events until one matches. */
  waitEvent(match: (e: { from: string; body: unknown; blob: string | null }) => boolean, what: string) {
    return waitForEvent(this.id, () => this.events(), match, what);
  }
}

export async function bootWithDriver(home: string, work: string): Promise<{ node: RunningNode; driver: Driver; other: Driver }> {
  const wasm = await buildDriver();
  // A small static budget of descriptors (Hyperdrive's --soft-ulimit): kv's share stays under the 32
  // descriptors eight LevelDBs hold, sqlite's under the 24 of eight databases, however hits re-split it.
  const node = await bootNode({ home, port: 0, name: 'fake.dev', softUlimit: 24 });
  const dir = join(work, PKG);
  await writeDriverPackage(dir, wasm);
  await startPackage({ packageDir: dir, url: node.url });
  return { node, driver: new Driver(node, 'driver'), other: new Driver(node, 'other') };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), what);
}

const kvReq = (action: unknown, db = 'store', pkg: unknown = PKG_JSON) => ({ package_id: pkg, db, action });
const key = (s: string) => Array.from(Buffer.from(s));

describe('runtime modules from a component', { timeout: 240_000 }, () => {
  let work: string;
  let node: RunningNode;
  let driver: Driver;
  let other: Driver;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-modules-e2e-'));
    ({ node, driver, other } = await bootWithDriver(join(work, 'home'), work));
  });
  after(async () => {
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  describe('kv', () => {
    const kv = (d: Driver, action: unknown, blob?: string, db?: string) => d.call('kv:distro:sys', kvReq(action, db), blob);

    it('Open, Set, Get, Delete', async () => {
      assert.deepEqual(await kv(driver, 'Open'), { body: 'Ok', blob: null });
      assert.deepEqual((await kv(driver, { Set: { key: key('hello'), tx_id: null } }, 'world')).body, 'Ok');
      assert.deepEqual(await kv(driver, { Get: key('hello') }), { body: { Get: key('hello') }, blob: 'world' });
      assert.deepEqual((await kv(driver, { Delete: { key: key('hello'), tx_id: null } })).body, 'Ok');
      assert.deepEqual((await kv(driver, { Get: key('hello') })).body, { Err: 'KeyNotFound' });
    });

    it('BeginTx and Commit apply a transaction atomically (tx ids are u64s, exact past 2^53)', async () => {
      const kvx = (action: unknown, blob?: string) => driver.callExact('kv:distro:sys', kvReq(action), blob);
      const tx = ((await kvx('BeginTx')).body as { BeginTx: { tx_id: number | bigint } }).BeginTx.tx_id;
      assert.deepEqual((await kvx({ Set: { key: key('a'), tx_id: tx } }, '1')).body, 'Ok');
      assert.deepEqual((await kvx({ Set: { key: key('b'), tx_id: tx } }, '2')).body, 'Ok');
      assert.deepEqual((await kv(driver, { Get: key('a') })).body, { Err: 'KeyNotFound' });
      assert.deepEqual((await kvx({ Commit: { tx_id: tx } })).body, 'Ok');
      assert.equal((await kv(driver, { Get: key('a') })).blob, '1');
      assert.equal((await kv(driver, { Get: key('b') })).blob, '2');
      assert.deepEqual((await kvx({ Commit: { tx_id: tx } })).body, { Err: { NoTx: tx } });
    });

    it('capabilities: another process needs them, and gets them by opening', async () => {
      assert.deepEqual((await kv(other, { Get: key('a') })).body, { Err: 'NoReadCap' });
      assert.deepEqual((await kv(other, { Set: { key: key('a'), tx_id: null } }, 'x')).body, { Err: 'NoWriteCap' });
      assert.deepEqual((await kv(other, 'Open')).body, 'Ok');
      assert.equal((await kv(other, { Get: key('a') })).blob, '1');
    });

    it('errors: MismatchingPackageId, MalformedRequest; RemoveDb empties the db (no NoDb: kv.rs opens it again)', async () => {
      const foreign = { package_name: 'someone', publisher_node: 'else.os' };
      assert.deepEqual((await driver.call('kv:distro:sys', kvReq('Open', 'store', foreign))).body, { Err: 'MismatchingPackageId' });
      assert.deepEqual((await driver.call('kv:distro:sys', { nonsense: true })).body, { Err: 'MalformedRequest' });
      assert.deepEqual((await kv(driver, 'RemoveDb')).body, 'Ok');
      assert.deepEqual((await kv(driver, { Get: key('a') })).body, { Err: 'KeyNotFound' });
    });
  });

  describe('sqlite', () => {
    const sql = (d: Driver, action: unknown, params?: unknown[], db = 'users') =>
      d.call('sqlite:distro:sys', kvReq(action, db), params === undefined ? undefined : JSON.stringify(params));

    it('Open, Write, Query (rows as JSON in the blob)', async () => {
      assert.deepEqual((await sql(driver, 'Open')).body, 'Ok');
      assert.deepEqual((await sql(driver, { Write: { statement: 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)', tx_id: null } })).body, 'Ok');
      const ins = { Write: { statement: 'INSERT INTO users (name) VALUES (?), (?)', tx_id: null } };
      assert.deepEqual((await sql(driver, ins, ['Bob', 'Charlie'])).body, 'Ok');
      const r = await sql(driver, { Query: 'SELECT * FROM users WHERE name != ? ORDER BY id' }, ['nobody']);
      assert.equal(r.body, 'Read');
      assert.deepEqual(JSON.parse(r.blob ?? 'null'), [
        { id: 1, name: 'Bob' },
        { id: 2, name: 'Charlie' },
      ]);
    });

    it('BeginTx, Write in the tx, Commit', async () => {
      const sqlx = (action: unknown, params?: unknown[]) =>
        driver.callExact('sqlite:distro:sys', kvReq(action, 'users'), params === undefined ? undefined : JSON.stringify(params));
      const tx = ((await sqlx('BeginTx')).body as { BeginTx: { tx_id: number | bigint } }).BeginTx.tx_id;
      assert.deepEqual((await sqlx({ Write: { statement: 'INSERT INTO users (name) VALUES (?)', tx_id: tx } }, ['Eve'])).body, 'Ok');
      assert.deepEqual(JSON.parse((await sql(driver, { Query: 'SELECT count(*) AS n FROM users' })).blob ?? ''), [{ n: 2 }]);
      assert.deepEqual((await sqlx({ Commit: { tx_id: tx } })).body, 'Ok');
      assert.deepEqual(JSON.parse((await sql(driver, { Query: 'SELECT count(*) AS n FROM users' })).blob ?? ''), [{ n: 3 }]);
    });

    it('errors: NoTx, NotAReadKeyword, NotAWriteKeyword, InvalidParameters, NoReadCap; RemoveDb empties the db', async () => {
      assert.deepEqual((await sql(driver, { Commit: { tx_id: 5 } })).body, { Err: { NoTx: 5 } });
      assert.deepEqual((await sql(driver, { Query: 'DROP TABLE users' })).body, { Err: 'NotAReadKeyword' });
      assert.deepEqual((await sql(driver, { Write: { statement: 'SELECT 1', tx_id: null } })).body, { Err: 'NotAWriteKeyword' });
      assert.deepEqual((await sql(driver, { Query: 'SELECT ?' }, [{ a: 1 }])).body, { Err: 'InvalidParameters' });
      assert.deepEqual((await sql(other, { Query: 'SELECT 1' })).body, { Err: 'NoReadCap' });
      assert.deepEqual((await sql(driver, 'RemoveDb')).body, 'Ok');
      assert.deepEqual(JSON.parse((await sql(driver, { Query: "SELECT count(*) AS n FROM sqlite_master WHERE name = 'users'" })).blob ?? ''), [{ n: 0 }]);
    });
  });

  describe('http-client', () => {
    let peer: TestPeer;
    let base: string;
    let seen: PeerRequest[];
    let wsSeen: string[];

    before(async () => {
      peer = await startTestPeer({ replyHeaders: { 'x-reply': 'yes', 'content-type': 'text/plain' }, binary: (d) => d.toString() });
      ({ base, seen, wsSeen } = peer);
    });
    after(() => peer.close());

    it('Http sends method, headers and the blob body, and returns status, headers and the body blob', async () => {
      const r = await driver.call(
        'http-client:distro:sys',
        { Http: { method: 'POST', version: null, url: `${base}/path?q=1`, headers: { 'x-test': 'abc' } } },
        'payload',
      );
      const ok = (r.body as { Ok: { Http: { status: number; headers: Record<string, string> } } }).Ok.Http;
      assert.equal(ok.status, 201);
      assert.equal(ok.headers['X-Reply'], 'yes', 'header names in Pascal-Case, as Hyperdrive sends them');
      assert.equal(r.blob, 'got payload');
      assert.deepEqual(seen.at(-1), { method: 'POST', url: '/path?q=1', body: 'payload', header: 'abc' });
    });

    it('errors: BadUrl, BadMethod, BadVersion, ExecuteRequestFailed, MalformedRequest', async () => {
      const http = (o: object) => driver.call('http-client:distro:sys', { Http: { method: 'GET', version: null, url: base, headers: {}, ...o } });
      assert.deepEqual((await http({ url: 'not a url' })).body, { Err: { BadUrl: { url: 'not a url' } } });
      assert.deepEqual((await http({ method: 'GE T' })).body, { Err: { BadMethod: { method: 'GE T' } } });
      assert.deepEqual((await http({ version: 'HTTP/9' })).body, { Err: { BadVersion: { version: 'HTTP/9' } } });
      const refused = (await http({ url: 'http://127.0.0.1:1/' })).body as { Err: { ExecuteRequestFailed: string } };
      assert.match(refused.Err.ExecuteRequestFailed, /^error sending request for url/);
      assert.deepEqual((await driver.call('http-client:distro:sys', { Nope: 1 })).body, { Err: 'MalformedRequest' });
    });

    it('WebSocketOpen, WebSocketPush both ways, server close and WebSocketClose', async () => {
      const wsUrl = base.replace('http', 'ws');
      const open = await driver.call('http-client:distro:sys', { WebSocketOpen: { url: wsUrl, headers: { 'x-ws': 'hi' }, channel_id: 7 } });
      assert.deepEqual(open.body, { Ok: 'WebSocketAck' });
      assert.equal(wsSeen.at(-1), 'open hi');
      assert.deepEqual(
        (await driver.call('http-client:distro:sys', { WebSocketPush: { channel_id: 7, message_type: 'Text' } }, 'from component')).body,
        { Ok: 'WebSocketAck' },
      );
      await driver.events(); // forget earlier events
      peer.socket?.send('from server');
      const push = await driver.waitEvent((e) => e.from === 'http-client' && 'WebSocketPush' in (e.body as object), 'a WebSocketPush');
      assert.deepEqual(push.body, { WebSocketPush: { channel_id: 7, message_type: 'Text' } });
      assert.equal(push.blob, 'from server');
      assert.ok(wsSeen.includes('text from component'));
      assert.deepEqual((await driver.call('http-client:distro:sys', { WebSocketPush: { channel_id: 99, message_type: 'Text' } }, 'x')).body, {
        Err: { WsPushUnknownChannel: { channel_id: 99 } },
      });
      peer.socket?.close();
      const closed = await driver.waitEvent((e) => e.from === 'http-client' && 'WebSocketClose' in (e.body as object), 'a WebSocketClose');
      assert.deepEqual(closed.body, { WebSocketClose: { channel_id: 7 } });
      // open again and close from the component's side
      await driver.call('http-client:distro:sys', { WebSocketOpen: { url: wsUrl, headers: {}, channel_id: 8 } });
      assert.deepEqual((await driver.call('http-client:distro:sys', { WebSocketClose: { channel_id: 8 } })).body, { Ok: 'WebSocketAck' });
      assert.deepEqual((await driver.call('http-client:distro:sys', { WebSocketClose: { channel_id: 8 } })).body, {
        Err: { WsCloseFailed: { channel_id: 8 } },
      });
      assert.deepEqual((await driver.call('http-client:distro:sys', { WebSocketOpen: { url: 'ws://127.0.0.1:1/', headers: {}, channel_id: 9 } })).body, {
        Err: { WsOpenFailed: { url: 'ws://127.0.0.1:1/' } },
      });
    });
  });

  describe('http-client, the rest of the API', () => {
    let peer: TestPeer;
    let base: string;
    let wsSeen: string[];

    before(async () => {
      peer = await startTestPeer({ replyHeaders: { 'content-type': 'text/plain' }, binary: (d) => d.toString() });
      ({ base, wsSeen } = peer);
    });
    after(() => peer.close());

    it('Http with version HTTP/1.1 is sent; a server slower than the Request timeout leaves the caller a Timeout', async () => {
      const ok = await driver.call('http-client:distro:sys', { Http: { method: 'GET', version: 'HTTP/1.1', url: `${base}/v`, headers: {} } });
      assert.equal((ok.body as { Ok: { Http: { status: number } } }).Ok.Http.status, 201);
      // The timeout is the Request's expects_response (1 s); as on a real node, the kernel gives up.
      const slow = await driver.call('http-client:distro:sys', { Http: { method: 'GET', version: null, url: `${base}/slow`, headers: {} } }, undefined, 1);
      assert.deepEqual(slow, { error: 'timeout' });
    });

    it('WebSocketPush Ping, Pong (sent empty, as Hyperdrive) and Close from the component; a Binary frame from the server arrives as Binary', async () => {
      const push = (type: string, data: string) => driver.call('http-client:distro:sys', { WebSocketPush: { channel_id: 10, message_type: type } }, data);
      assert.deepEqual((await driver.call('http-client:distro:sys', { WebSocketOpen: { url: base.replace('http', 'ws'), headers: {}, channel_id: 10 } })).body, {
        Ok: 'WebSocketAck',
      });
      assert.deepEqual((await push('Ping', 'p1')).body, { Ok: 'WebSocketAck' });
      assert.deepEqual((await push('Pong', 'p2')).body, { Ok: 'WebSocketAck' });
      await until(() => wsSeen.includes('ping ') && wsSeen.includes('pong '), `the server saw the control frames: ${JSON.stringify(wsSeen)}`);
      await driver.events();
      peer.socket?.send(Buffer.from('bytes from server'), { binary: true });
      const bin = await driver.waitEvent((e) => e.from === 'http-client' && 'WebSocketPush' in (e.body as object), 'a Binary WebSocketPush');
      assert.deepEqual(bin.body, { WebSocketPush: { channel_id: 10, message_type: 'Binary' } });
      assert.equal(bin.blob, 'bytes from server');
      assert.deepEqual((await push('Close', '')).body, { Ok: 'WebSocketAck' });
      await until(() => wsSeen.includes('close'), 'the server saw the close');
      const closed = await driver.waitEvent((e) => e.from === 'http-client' && 'WebSocketClose' in (e.body as object), 'a WebSocketClose');
      assert.deepEqual(closed.body, { WebSocketClose: { channel_id: 10 } });
    });
  });

  describe('http-server WebSockets', () => {
    const wsBase = () => `ws://localhost:${node.port}/driver:${PKG}:${PUBLISHER}`;
    const connect = (path: string, headers: Record<string, string> = {}) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${wsBase()}${path}`, { headers });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      });
    const nextMessage = (ws: WebSocket) =>
      new Promise<{ data: string; binary: boolean }>((r) => ws.once('message', (d, binary) => r({ data: d.toString(), binary })));

    it('WebSocketBind serves the path: WebSocketOpen, WebSocketPush both ways, client close', async () => {
      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketBind: { path: '/ws', authenticated: false, extension: false } })).body, {
        Ok: null,
      });
      await driver.events();
      const ws = await connect('/ws');
      const opened = await driver.waitEvent((e) => e.from === 'http-server' && 'WebSocketOpen' in (e.body as object), 'WebSocketOpen');
      const o = (opened.body as { WebSocketOpen: { path: string; channel_id: number; source_socket_addr: string } }).WebSocketOpen;
      assert.equal(o.path, '/ws', 'the bound path without the process id, as Hyperdrive');
      assert.match(o.source_socket_addr, /^(127\.0\.0\.1|\[::1\]):\d+$/);
      const reply = nextMessage(ws);
      ws.send('hi there');
      assert.deepEqual(await reply, { data: 'echo: hi there', binary: false });
      const pushed = await driver.waitEvent((e) => 'WebSocketPush' in (e.body as object), 'the WebSocketPush');
      assert.deepEqual(pushed.body, { WebSocketPush: { channel_id: o.channel_id, message_type: 'Text' } });
      // a Binary push from the component
      const bin = nextMessage(ws);
      await driver.tell('http-server:distro:sys', { WebSocketPush: { channel_id: o.channel_id, message_type: 'Binary' } }, 'raw');
      assert.deepEqual(await bin, { data: 'raw', binary: true });
      ws.close();
      const closed = await driver.waitEvent((e) => 'WebSocketClose' in (e.body as object), 'WebSocketClose');
      assert.deepEqual(closed.body, { WebSocketClose: o.channel_id });
    });

    it('WebSocketClose from the component closes the client; other processes cannot push on the channel', async () => {
      await driver.events();
      const ws = await connect('/ws');
      const opened = await driver.waitEvent((e) => 'WebSocketOpen' in (e.body as object), 'WebSocketOpen');
      const id = (opened.body as { WebSocketOpen: { channel_id: number } }).WebSocketOpen.channel_id;
      assert.deepEqual(
        (await other.call('http-server:distro:sys', { WebSocketPush: { channel_id: id, message_type: 'Text' } }, 'intruder')).body,
        { Err: 'WsChannelNotFound' },
      );
      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketPush: { channel_id: id, message_type: 'Text' } })).body, {
        Err: 'NoBlob',
      });
      const closed = new Promise((r) => ws.once('close', r));
      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketClose: id })).body, { Ok: null });
      await closed;
    });

    it('WebSocketPush Ping and Pong reach the client as control frames (at most 125 bytes); Close closes it', async () => {
      await driver.events();
      const ws = await connect('/ws');
      const opened = await driver.waitEvent((e) => 'WebSocketOpen' in (e.body as object), 'WebSocketOpen');
      const id = (opened.body as { WebSocketOpen: { channel_id: number } }).WebSocketOpen.channel_id;
      const push = (type: string, data: string) => driver.call('http-server:distro:sys', { WebSocketPush: { channel_id: id, message_type: type } }, data);
      const ping = new Promise<string>((r) => ws.once('ping', (d) => r(d.toString())));
      assert.deepEqual((await push('Ping', 'are you there')).body, { Ok: null });
      assert.equal(await ping, 'are you there');
      const pong = new Promise<string>((r) => ws.once('pong', (d) => r(d.toString())));
      assert.deepEqual((await push('Pong', 'still here')).body, { Ok: null });
      assert.equal(await pong, 'still here');
      assert.deepEqual((await push('Ping', 'x'.repeat(126))).body, { Err: 'WsPingPongTooLong' });
      const closed = new Promise((r) => ws.once('close', r));
      assert.deepEqual((await push('Close', '')).body, { Ok: null });
      await closed;
    });

    it('authenticated WebSocketBind refuses a client without the login cookie; WebSocketUnbind stops serving', async () => {
      await driver.call('http-server:distro:sys', { WebSocketBind: { path: '/private', authenticated: true, extension: false } });
      await assert.rejects(connect('/private'), /HTTP 401/);
      await assert.rejects(connect('/private', { cookie: 'hyperware-auth_fake.dev=forged' }), /HTTP 401/);
      const login = await fetch(`${node.url}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
      (await connect('/private', { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] })).close();
      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketUnbind: { path: '/ws' } })).body, { Ok: null });
      await assert.rejects(connect('/ws'), /HTTP 404/);
    });

    it('extension WebSockets: WebSocketExtPushOutgoing reaches the extension as MessagePack WebSocketExtPushData, its reply comes back', async () => {
      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketBind: { path: '/ext', authenticated: false, extension: true } })).body, {
        Ok: null,
      });
      await driver.events();
      const ext = await connect('/ext');
      const opened = await driver.waitEvent((e) => 'WebSocketOpen' in (e.body as object), 'WebSocketOpen');
      const channel = (opened.body as { WebSocketOpen: { channel_id: number } }).WebSocketOpen.channel_id;
      // The extension: answer every WebSocketExtPushData with the same id and type, and "done: <payload>".
      const received: Array<{ id: unknown; type: unknown; blob: string; binary: boolean }> = [];
      ext.on('message', (data, binary) => {
        const frame = unpack(data as Buffer) as { WebSocketExtPushData: { id: number; hyperware_message_type: string; blob: number[] } };
        const d = frame.WebSocketExtPushData;
        const blob = Buffer.from(d.blob).toString();
        received.push({ id: d.id, type: d.hyperware_message_type, blob, binary });
        ext.send(pack({ WebSocketExtPushData: { id: d.id, hyperware_message_type: d.hyperware_message_type, blob: [...Buffer.from(`done: ${blob}`)] } }));
      });
      const out = (reply: string) => ({ WebSocketExtPushOutgoing: { channel_id: channel, message_type: 'Binary', desired_reply_type: reply } });

      // desired_reply_type Response: the extension's reply is the Response to the push.
      const answered = await driver.call('http-server:distro:sys', out('Response'), 'compute 2+2');
      assert.deepEqual(answered, { body: { WebSocketPush: { channel_id: channel, message_type: 'Binary' } }, blob: 'done: compute 2+2' });
      assert.equal(received.length, 1);
      assert.equal(received[0].type, 'Response');
      assert.equal(received[0].blob, 'compute 2+2');
      assert.equal(received[0].binary, true);
      assert.ok(typeof received[0].id === 'number' || typeof received[0].id === 'bigint');

      // desired_reply_type Request: the reply arrives as a new WebSocketPush Request.
      await driver.tell('http-server:distro:sys', out('Request'), 'in the background');
      const pushed = await driver.waitEvent((e) => 'WebSocketPush' in (e.body as object), 'the extension WebSocketPush Request');
      assert.deepEqual(pushed.body, { WebSocketPush: { channel_id: channel, message_type: 'Binary' } });
      assert.equal(pushed.blob, 'done: in the background');
      assert.equal(received[1].type, 'Request');

      // A frame that is not WebSocketExtPushData is passed on as it is.
      ext.removeAllListeners('message');
      ext.send(Buffer.from('raw frame'));
      const raw = await driver.waitEvent((e) => 'WebSocketPush' in (e.body as object), 'the raw WebSocketPush');
      assert.equal(raw.blob, 'raw frame');

      // Errors: no blob or a Text type (NoBlob, as Hyperdrive), an unknown channel, another process's channel.
      assert.deepEqual((await driver.call('http-server:distro:sys', out('Response'))).body, { Err: 'NoBlob' });
      const text = { WebSocketExtPushOutgoing: { channel_id: channel, message_type: 'Text', desired_reply_type: 'Response' } };
      assert.deepEqual((await driver.call('http-server:distro:sys', text, 'x')).body, { Err: 'NoBlob' });
      const unknown = { WebSocketExtPushOutgoing: { channel_id: channel + 1, message_type: 'Binary', desired_reply_type: 'Response' } };
      assert.deepEqual((await driver.call('http-server:distro:sys', unknown, 'x')).body, { Err: 'WsChannelNotFound' });
      assert.deepEqual((await other.call('http-server:distro:sys', out('Response'), 'x')).body, { Err: 'WsChannelNotFound' });
      const bad = { WebSocketExtPushOutgoing: { channel_id: channel, message_type: 'Binary', desired_reply_type: 'Maybe' } };
      assert.deepEqual((await driver.call('http-server:distro:sys', bad, 'x')).body, { Err: 'MalformedRequest' });
      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketExtPushData: { id: 1, hyperware_message_type: 'Request', blob: [] } })).body, {
        Err: 'MalformedRequest',
      });
      ext.close();
    });

    it('WsRegister at / (book "WebSocket API"): a logged-in client registers with a process and talks to it; a forged token is refused', async () => {
      const login = await fetch(`${node.url}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
      const token = (login.headers.get('set-cookie') ?? '').split(';')[0].split('=').slice(1).join('=');
      const register = async (authToken: string) => {
        const ws = new WebSocket(`ws://localhost:${node.port}/`);
        await new Promise((r) => ws.once('open', r));
        ws.send(JSON.stringify({ auth_token: authToken, target_process: `driver:${PKG}:${PUBLISHER}`, encrypted: false }));
        return ws;
      };
      await driver.events();
      const ws = await register(token);
      const opened = await driver.waitEvent((e) => 'WebSocketOpen' in (e.body as object), 'WebSocketOpen after WsRegister');
      assert.equal((opened.body as { WebSocketOpen: { path: string } }).WebSocketOpen.path, '/');
      const reply = nextMessage(ws);
      ws.send('hi after registering');
      assert.deepEqual(await reply, { data: 'echo: hi after registering', binary: false });
      ws.close();
      await driver.waitEvent((e) => 'WebSocketClose' in (e.body as object), 'WebSocketClose');

      const forged = await register('forged');
      const closed = await new Promise<{ code: number; reason: string }>((r) => forged.once('close', (code, reason) => r({ code, reason: reason.toString() })));
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, /auth_token is not a valid login for fake\.dev/);
      assert.deepEqual(
        (await driver.events()).filter((e) => 'WebSocketOpen' in (e.body as object)),
        [],
        'the refused client never reached the process',
      );
    });

    it('WebSocketSecureBind is accepted; malformed actions are refused', async () => {
      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketSecureBind: { path: '/secure', extension: false } })).body, {
        Ok: null,
      });
      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketBind: { path: 1 } })).body, { Err: 'MalformedRequest' });
    });
  });

  describe('vfs', () => {
    const DRIVE = `/${PKG}:${PUBLISHER}/files`;
    const vfs = (d: Driver, path: string, action: unknown, blob?: string) => d.call('vfs:distro:sys', { path, action }, blob);
    const at = (rest: string) => `${DRIVE}/${rest}`;

    it('every VfsAction on a drive of its own package', async () => {
      assert.deepEqual((await vfs(driver, DRIVE, 'CreateDrive')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('a/b/c'), 'CreateDirAll')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('d'), 'CreateDir')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('d/empty.txt'), 'CreateFile')).body, 'Ok');
      assert.deepEqual(await vfs(driver, at('d/empty.txt'), 'Read'), { body: 'Read', blob: '' });

      assert.deepEqual((await vfs(driver, at('hello.txt'), 'Write', 'hello world')).body, 'Ok');
      assert.deepEqual(await vfs(driver, at('hello.txt'), 'Read'), { body: 'Read', blob: 'hello world' });
      assert.deepEqual((await vfs(driver, at('hello.txt'), 'ReadToString')).body, { ReadToString: 'hello world' });
      assert.deepEqual((await vfs(driver, at('hello.txt'), 'Append', ' again')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('hello.txt'), { OpenFile: { create: false } })).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('hello.txt'), { Seek: { Start: 6 } })).body, { SeekFrom: { new_offset: 6 } });
      assert.deepEqual(await vfs(driver, at('hello.txt'), { ReadExact: { length: 5 } }), { body: 'Read', blob: 'world' });
      assert.deepEqual(await vfs(driver, at('hello.txt'), 'ReadToEnd'), { body: 'Read', blob: ' again' });
      assert.deepEqual((await vfs(driver, at('hello.txt'), { Seek: { End: -5 } })).body, { SeekFrom: { new_offset: 12 } });
      assert.deepEqual((await vfs(driver, at('hello.txt'), { Seek: { Current: -12 } })).body, { SeekFrom: { new_offset: 0 } });
      assert.deepEqual((await vfs(driver, at('hello.txt'), 'WriteAll', 'HELLO')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('hello.txt'), 'SyncAll')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('hello.txt'), 'CloseFile')).body, 'Ok');
      assert.equal((await vfs(driver, at('hello.txt'), 'Read')).blob, 'HELLO world again');
      assert.deepEqual((await vfs(driver, at('hello.txt'), 'Len')).body, { Len: 17 });
      assert.deepEqual((await vfs(driver, at('hello.txt'), { SetLen: 5 })).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('hello.txt'), 'Metadata')).body, { Metadata: { file_type: 'File', len: 5 } });
      assert.deepEqual((await vfs(driver, at('hello.txt'), 'Hash')).body, { Hash: Array.from(createHash('sha256').update('HELLO').digest()) });

      assert.deepEqual((await vfs(driver, at('hello.txt'), { CopyFile: { new_path: at('copy.txt') } })).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('copy.txt'), { Rename: { new_path: at('d/moved.txt') } })).body, 'Ok');
      assert.equal((await vfs(driver, at('d/moved.txt'), 'Read')).blob, 'HELLO');

      // AddZip: the zip in the blob is unpacked under the path.
      const src = mkdtempSync(join(tmpdir(), 'kit-vfs-zip-'));
      mkdirSync(join(src, 'inner'));
      writeFileSync(join(src, 'inner/z.txt'), 'from the zip');
      const zip = await zipDirectory(src);
      rmSync(src, { recursive: true, force: true });
      assert.deepEqual((await driver.callBytes('vfs:distro:sys', { path: at('unzipped'), action: 'AddZip' }, zip)).body, 'Ok');
      assert.equal((await vfs(driver, at('unzipped/inner/z.txt'), 'Read')).blob, 'from the zip');

      const listing = (await vfs(driver, DRIVE, 'ReadDir')).body as { ReadDir: Array<{ path: string; file_type: string }> };
      assert.deepEqual(
        listing.ReadDir.map((e) => [e.path, e.file_type]),
        [
          [`${PKG}:${PUBLISHER}/files/a`, 'Directory'],
          [`${PKG}:${PUBLISHER}/files/d`, 'Directory'],
          [`${PKG}:${PUBLISHER}/files/hello.txt`, 'File'],
          [`${PKG}:${PUBLISHER}/files/unzipped`, 'Directory'],
        ],
      );
      assert.deepEqual((await vfs(driver, at('d/moved.txt'), 'RemoveFile')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('d/empty.txt'), 'RemoveFile')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('d'), 'RemoveDir')).body, 'Ok');
      assert.deepEqual((await vfs(driver, at('a'), 'RemoveDirAll')).body, 'Ok');
      const after = (await vfs(driver, DRIVE, 'ReadDir')).body as { ReadDir: Array<{ path: string }> };
      assert.deepEqual(
        after.ReadDir.map((e) => e.path),
        [`${PKG}:${PUBLISHER}/files/hello.txt`, `${PKG}:${PUBLISHER}/files/unzipped`],
      );
    });

    it('errors: a missing file, a path out of the drive, a malformed request, another package without a capability', async () => {
      assert.deepEqual((await vfs(driver, at('nope.txt'), 'Read')).body, { Err: { IOError: 'No such file or directory (os error 2)' } });
      const outside = (await vfs(driver, at('../../../../etc/passwd'), 'Read')).body as { Err?: unknown };
      assert.ok(outside.Err, `a path out of the drive is refused: ${JSON.stringify(outside)}`);
      assert.ok(!JSON.stringify(outside).includes('root:'), 'nothing of /etc/passwd came back');
      assert.deepEqual((await driver.call('vfs:distro:sys', { path: DRIVE, action: { Frobnicate: 1 } })).body, { Err: 'MalformedRequest' });
      assert.deepEqual((await vfs(driver, '/app-store:sys/pkg/manifest.json', 'Read')).body, { Err: 'NoReadCap' });
      assert.deepEqual((await vfs(driver, '/someone:else.os/files/x.txt', 'Write', 'x')).body, { Err: 'NoWriteCap' });
    });

    it('errors: IOError with the OS text (a directory read as a file, no parent), MalformedRequest (unknown action, not a VfsRequest)', async () => {
      assert.deepEqual((await vfs(driver, DRIVE, 'Read')).body, { Err: { IOError: 'Is a directory (os error 21)' } });
      assert.deepEqual((await vfs(driver, at('no/such/parent'), 'CreateDir')).body, { Err: { IOError: 'No such file or directory (os error 2)' } });
      assert.deepEqual((await vfs(driver, DRIVE, { Frobnicate: 1 })).body, { Err: 'MalformedRequest' });
      assert.deepEqual((await driver.call('vfs:distro:sys', 'just a string')).body, { Err: 'MalformedRequest' });
      assert.deepEqual((await vfs(driver, at('no'), 'Metadata')).body, { Err: { IOError: 'No such file or directory (os error 2)' } }, 'the refused CreateDir made nothing');
    });

    it('FileType Symlink and Other as the component sees them; a symlink out of the drive is not followed', async () => {
      const onDisk = join(node.home, 'vfs', `${PKG}:${PUBLISHER}`, 'files');
      const outside = join(work, 'outside.txt');
      writeFileSync(outside, 'outside secret');
      writeFileSync(join(onDisk, 'target.txt'), 'inside');
      symlinkSync('target.txt', join(onDisk, 'link'));
      symlinkSync(outside, join(onDisk, 'escape'));
      execFileSync('mkfifo', [join(onDisk, 'pipe')]);
      try {
        const listing = (await vfs(driver, DRIVE, 'ReadDir')).body as { ReadDir: Array<{ path: string; file_type: string }> };
        const types = Object.fromEntries(listing.ReadDir.map((e) => [e.path.split('/').pop(), e.file_type]));
        assert.deepEqual([types.link, types.escape, types.pipe, types['target.txt']], ['Symlink', 'Symlink', 'Other', 'File'], JSON.stringify(listing));
        // Metadata follows a symlink (std::fs::metadata), ReadDir does not (DirEntry::metadata)
        assert.deepEqual((await vfs(driver, at('link'), 'Metadata')).body, { Metadata: { file_type: 'File', len: 'inside'.length } });
        const escaped = await vfs(driver, at('escape'), 'Read');
        assert.ok((escaped.body as { Err?: unknown }).Err, JSON.stringify(escaped));
        assert.ok(!JSON.stringify(escaped).includes('outside secret'));
      } finally {
        for (const f of ['link', 'escape', 'pipe', 'target.txt']) rmSync(join(onDisk, f), { force: true });
      }
    });
  });

  describe('timer', () => {
    it('SetTimer answers after the duration; 0 answers at once', async () => {
      assert.deepEqual(await driver.call('timer:distro:sys', { SetTimer: 50 }), { body: '', blob: null });
      assert.deepEqual(await driver.call('timer:distro:sys', { SetTimer: 0 }), { body: '', blob: null });
      // A negative duration is not a u64: no timer is set and, as on Hyperdrive, no answer comes.
      assert.deepEqual(await driver.call('timer:distro:sys', { SetTimer: -5 }, undefined, 1), { error: 'timeout' });
    });
  });

  describe('http-server bindings', () => {
    const base = () => `http://localhost:${node.port}/driver:${PKG}:${PUBLISHER}`;
    const bind = (action: unknown, blob?: string) => driver.call('http-server:distro:sys', action, blob);

    it('Bind serves the path from the component; cache serves the blob; local_only; authenticated; Unbind', async () => {
      assert.deepEqual((await bind({ Bind: { path: '/api', authenticated: false, local_only: false, cache: false } })).body, { Ok: null });
      let r = await fetch(`${base()}/api?x=1`, { method: 'POST', body: 'ping' });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), `hello from driver:${PKG}:${PUBLISHER}`);
      assert.equal(r.headers.get('x-bound-path'), `/driver:${PKG}:${PUBLISHER}/api`);
      const seen = await driver.waitEvent((e) => 'Http' in (e.body as object), 'the Http request');
      const http = (seen.body as { Http: { method: string; query_params: Record<string, string> } }).Http;
      assert.equal(http.method, 'POST');
      assert.deepEqual(http.query_params, { x: '1' });
      assert.equal(seen.blob, 'ping');

      assert.deepEqual((await bind({ Bind: { path: '/static', authenticated: false, local_only: false, cache: true } }, 'cached page')).body, { Ok: null });
      r = await fetch(`${base()}/static`);
      assert.equal(await r.text(), 'cached page');
      assert.deepEqual((await bind({ Bind: { path: '/nocache', authenticated: false, local_only: false, cache: true } })).body, { Err: 'NoBlob' });

      assert.deepEqual((await bind({ Bind: { path: '/local', authenticated: false, local_only: true, cache: false } })).body, { Ok: null });
      assert.equal((await fetch(`${base()}/local`)).status, 200);
      assert.equal((await fetch(`${base()}/local`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 403);

      assert.deepEqual((await bind({ Bind: { path: '/private', authenticated: true, local_only: false, cache: false } })).body, { Ok: null });
      // No login: Hyperdrive answers 200 with its login page, and the process is not asked.
      r = await fetch(`${base()}/private`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /type="password"/, 'no login cookie, no page from the process');
      assert.match(await (await fetch(`${base()}/private`, { headers: { cookie: 'hyperware-auth_fake.dev=forged' } })).text(), /type="password"/);
      const login = await fetch(`${node.url}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
      assert.equal((await fetch(`${base()}/private`, { headers: { cookie } })).status, 200);

      assert.deepEqual((await bind({ Unbind: { path: '/api' } })).body, { Ok: null });
      r = await fetch(`${base()}/api`);
      assert.notEqual(await r.text(), `hello from driver:${PKG}:${PUBLISHER}`);
      assert.deepEqual((await bind({ Bind: { path: 1 } })).body, { Err: 'MalformedRequest' });
    });

    it('an incoming request carries its url, source address, headers and the url_params of a :param route', async () => {
      assert.deepEqual((await bind({ Bind: { path: '/item/:id', authenticated: false, local_only: false, cache: false } })).body, { Ok: null });
      await driver.events();
      const r = await fetch(`${base()}/item/42`, { headers: { 'x-custom': 'yes' } });
      assert.equal(r.status, 200);
      const seen = await driver.waitEvent((e) => 'Http' in (e.body as object), 'the Http request');
      const http = (
        seen.body as {
          Http: { bound_path: string; url: string; source_socket_addr: string; url_params: Record<string, string>; headers: Record<string, string> };
        }
      ).Http;
      assert.equal(http.bound_path, `/driver:${PKG}:${PUBLISHER}/item/:id`);
      assert.equal(http.url, `http://localhost/driver:${PKG}:${PUBLISHER}/item/42`);
      assert.match(http.source_socket_addr, /^(127\.0\.0\.1|\[::1\]):\d+$/);
      assert.deepEqual(http.url_params, { id: '42' });
      assert.equal(http.headers['x-custom'], 'yes');
    });

    it('SecureBind serves only on the package subdomain: elsewhere a redirect there', async () => {
      assert.deepEqual((await bind({ SecureBind: { path: '/secure', cache: false } })).body, { Ok: null });
      const r = await fetch(`${base()}/secure`, { redirect: 'manual' });
      assert.equal(r.status, 307);
      assert.match(r.headers.get('location') ?? '', new RegExp(`^http://modules-test-kit-tests-os\\.localhost:${node.port}/driver:${PKG}:${PUBLISHER}/secure$`));
    });

    it('on the package subdomain with its own login, SecureBind and WebSocketSecureBind reach the component', async () => {
      const host = `modules-test-kit-tests-os.localhost:${node.port}`;
      const path = `/driver:${PKG}:${PUBLISHER}`;
      // A subdomain needs its own login: the node cookie is not enough.
      const login = await fetch(`${node.url}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: `driver:${PKG}:${PUBLISHER}` }) });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
      assert.ok(cookie.startsWith(`hyperware-auth_fake.dev@driver:${PKG}:${PUBLISHER}=`), cookie);
      const get = (headers: Record<string, string>) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: node.port, path: `${path}/secure`, headers: { host, ...headers } }, (res) => {
            let body = '';
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      assert.match((await get({})).body, /type="password"/, 'no login, the login page instead of the component');
      assert.deepEqual(await get({ cookie }), { status: 200, body: `hello from driver:${PKG}:${PUBLISHER}` });

      assert.deepEqual((await driver.call('http-server:distro:sys', { WebSocketSecureBind: { path: '/wss', extension: false } })).body, { Ok: null });
      await driver.events();
      const ws = await new Promise<WebSocket>((resolve, reject) => {
        const w = new WebSocket(`ws://127.0.0.1:${node.port}${path}/wss`, { headers: { host, cookie } });
        w.once('open', () => resolve(w));
        w.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        w.once('error', reject);
      });
      const opened = await driver.waitEvent((e) => 'WebSocketOpen' in (e.body as object), 'WebSocketOpen on the subdomain');
      assert.equal((opened.body as { WebSocketOpen: { path: string } }).WebSocketOpen.path, '/wss');
      ws.close();
    });
  });

  describe('fd-manager', () => {
    it('RequestFdsLimit gets an FdsLimit Request; GetState and GetProcessFdLimit report it', async () => {
      await driver.events();
      assert.deepEqual(await driver.tell('fd-manager:distro:sys', 'RequestFdsLimit'), { sent: true });
      const limit = await driver.waitEvent((e) => e.from === 'fd-manager', 'FdsLimit');
      const n = (limit.body as { FdsLimit: number }).FdsLimit;
      assert.ok(Number.isInteger(n) && n > 0);
      await driver.tell('fd-manager:distro:sys', 'FdsLimitHit');
      const state = (await driver.call('fd-manager:distro:sys', 'GetState')).body as { GetState: Record<string, { limit: number; hit_count: number }> };
      // registering counts one hit; half the budget is split by hits, so the share grew
      const mine = state.GetState[driver.id];
      assert.equal(mine.hit_count, 2);
      assert.ok(mine.limit > n, JSON.stringify(state));
      assert.deepEqual((await driver.call('fd-manager:distro:sys', { GetProcessFdLimit: driver.id })).body, { GetProcessFdLimit: mine.limit });
    });

    it('kv and sqlite keep their open dbs within their share: over it they close the least used, report FdsLimitHit, and reopen on use', async () => {
      const kv = (action: unknown, db: string, blob?: string) => driver.call('kv:distro:sys', kvReq(action, db), blob);
      const sql = (action: unknown, db: string) => driver.call('sqlite:distro:sys', kvReq(action, db));
      const state = async () =>
        ((await driver.call('fd-manager:distro:sys', 'GetState')).body as { GetState: Record<string, { limit: number; hit_count: number }> }).GetState;
      const dbs = ['fd0', 'fd1', 'fd2', 'fd3', 'fd4', 'fd5', 'fd6', 'fd7'];
      for (const db of dbs) {
        assert.deepEqual((await kv('Open', db)).body, 'Ok');
        assert.deepEqual((await kv({ Set: { key: key('k'), tx_id: null } }, db, `value of ${db}`)).body, 'Ok');
        assert.deepEqual((await sql('Open', db)).body, 'Ok');
        assert.deepEqual((await sql({ Write: { statement: 'CREATE TABLE IF NOT EXISTS t (v TEXT)', tx_id: null } }, db)).body, 'Ok');
      }
      const s = await state();
      for (const [m, fdsPerDb] of [
        ['kv:distro:sys', 4],
        ['sqlite:distro:sys', 3],
      ] as const) {
        assert.ok(s[m], `${m} registered with fd-manager: ${JSON.stringify(s)}`);
        assert.ok(s[m].limit < dbs.length * fdsPerDb, `${m}'s share (${s[m].limit}) is below the descriptors of ${dbs.length} dbs`);
        assert.ok(s[m].hit_count > 1, `${m} reported FdsLimitHit: ${JSON.stringify(s[m])}`);
      }
      // Every db still answers: closed ones reopen transparently.
      for (const db of dbs) {
        assert.equal((await kv({ Get: key('k') }, db)).blob, `value of ${db}`);
        assert.equal((await sql({ Query: 'SELECT count(*) AS n FROM t' }, db)).body, 'Read');
      }
    });
  });
});
