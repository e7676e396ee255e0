// Every runtime module driven from a TypeScript package written against the process library
// (`kit/process`), as a developer writes one: test/fixtures/packages/modules-ts is built by the real
// `kit build` and installed with `kit start-package` on a node booted in-process. A second package
// (modules-peer, the same code) shows capabilities both ways: refused without them, served once the
// owner hands them over. Assertions are on what the component observed and reports back, on what
// real HTTP / WebSocket peers saw, and on the node's terminal.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { zipDirectory } from '../../src/core/zip.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { fromUtf8, systemProcess } from '../../src/core/types.js';
import { REPO, runKit } from '../helpers/kit.js';
import { waitForEvent } from './helpers.js';
import { type PeerRequest, startTestPeer, type TestPeer } from './peer.js';

const PUB = 'kit-tests.os';
const DRIVER = `driver:modules-ts:${PUB}`;
const PEER = `peer:modules-peer:${PUB}`;
const OWNER_PKG = { package_name: 'modules-ts', publisher_node: PUB };

type Event = { from: string; body: unknown; blob: string | null; context?: string };

class Component {
  constructor(
    readonly node: RunningNode,
    readonly id: string,
  ) {}
  private async ask(cmd: unknown): Promise<unknown> {
    const r = await this.node.kernel.request(systemProcess('http-server'), this.id, JSON.stringify(cmd), { timeoutSecs: 60 });
    return JSON.parse(fromUtf8(r.response.body));
  }
  /** Run a check inside the component; its observations, or a failure naming its error. */
  async run(check: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const r = (await this.ask({ Run: { check, args } })) as { Ok?: Record<string, unknown>; Err?: string };
    if (r.Err !== undefined) throw new Error(`${this.id} check ${check} failed inside the component: ${r.Err}`);
    return r.Ok as Record<string, unknown>;
  }
  events(): Promise<Event[]> {
    return this.ask('Events') as Promise<Event[]>;
  }
  waitEvent(match: (e: Event) => boolean, what: string): Promise<Event> {
    return waitForEvent(this.id, () => this.events(), match, what);
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), what);
}

const has = (key: string) => (e: Event) => e.body !== null && typeof e.body === 'object' && key in e.body;

/** The fixture package, and a copy of it as another package (modules-peer, process peer). */
function writePackages(work: string): { owner: string; peer: string } {
  const owner = join(work, 'modules-ts');
  cpSync(join(REPO, 'test/fixtures/packages/modules-ts'), owner, { recursive: true });
  const peer = join(work, 'modules-peer');
  mkdirSync(join(peer, 'peer/src'), { recursive: true });
  mkdirSync(join(peer, 'pkg'), { recursive: true });
  cpSync(join(owner, 'driver/src/lib.ts'), join(peer, 'peer/src/lib.ts'));
  const manifest = JSON.parse(readFileSync(join(owner, 'pkg/manifest.json'), 'utf8')) as Array<Record<string, unknown>>;
  // The peer may not use the Terminal API: it does not ask for terminal:terminal:sys.
  const peerCaps = (manifest[0].request_capabilities as string[]).filter((c) => c !== 'terminal:terminal:sys');
  writeFileSync(
    join(peer, 'pkg/manifest.json'),
    JSON.stringify([{ ...manifest[0], process_name: 'peer', process_wasm_path: '/peer.wasm', request_capabilities: peerCaps }], null, 2),
  );
  const meta = JSON.parse(readFileSync(join(owner, 'metadata.json'), 'utf8'));
  meta.name = 'modules-peer';
  meta.properties.package_name = 'modules-peer';
  writeFileSync(join(peer, 'metadata.json'), JSON.stringify(meta, null, 2));
  return { owner, peer };
}

describe('runtime modules from a TypeScript package (kit/process)', { timeout: 20 * 60_000 }, () => {
  let work: string;
  let node: RunningNode;
  let driver: Component;
  let peer: Component;
  let terminal = '';

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-modules-ts-'));
    const out = new Writable({
      write(chunk, _enc, cb) {
        terminal += chunk.toString();
        cb();
      },
    });
    node = await bootNode({ home: join(work, 'home'), port: 0, name: 'fake.dev', verbosity: 1, terminal: { input: null, output: out } });
    const { owner, peer: peerDir } = writePackages(work);
    for (const dir of [owner, peerDir]) {
      let r = await runKit(['build', dir], { cwd: work, timeoutMs: 15 * 60_000 });
      assert.equal(r.code, 0, r.output);
      r = await runKit(['start-package', dir, '-p', String(node.port)], { cwd: work });
      assert.equal(r.code, 0, r.output);
    }
    driver = new Component(node, DRIVER);
    peer = new Component(node, PEER);
  });
  after(async () => {
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('kv: every action and its errors', async () => {
    const r = await driver.run('kv');
    assert.equal(r.get, 'world');
    assert.deepEqual(r.getJson, { a: [1, 2] });
    assert.deepEqual(r.binary, [1, 2, 3]);
    assert.equal(r.afterDelete, 'undefined');
    assert.equal(r.keyNotFound, 'KeyNotFound');
    assert.deepEqual(r.beforeCommit, ['undefined', { a: [1, 2] }], 'a transaction changes nothing before its commit');
    assert.deepEqual(r.afterCommit, ['1', '2', 'undefined'], 'the commit applied every set and delete');
    assert.ok('NoTx' in (r.commitAgain as object), JSON.stringify(r.commitAgain));
    assert.ok('NoTx' in (r.setUnknownTx as object));
    assert.equal(r.mismatch, 'MismatchingPackageId');
    assert.deepEqual(r.malformed, { Err: 'MalformedRequest' });
    assert.deepEqual(r.setWithoutBlob, { Err: 'MalformedRequest' });
    // RemoveDb deletes the db, and kv opens it again on the next request (kv.rs): empty, no NoDb
    assert.equal(r.noDb, 'no error');
    assert.equal(r.afterCommitWrites, 'no error');
  });

  it('kv capabilities both ways: another package is refused, then served once given read, then write', async () => {
    const pkg = OWNER_PKG;
    await driver.run('kv_share', { peer: `fake.dev@${PEER}`, kind: 'none' }); // creates the db, shares nothing
    let p = await peer.run('kv_peer', { pkg });
    assert.deepEqual(p, { set: 'NoWriteCap', get: 'NoReadCap', open: 'MismatchingPackageId', remove: 'MismatchingPackageId' });
    assert.deepEqual(await driver.run('kv_share', { peer: `fake.dev@${PEER}`, kind: 'read' }), { sent: 1, peerSaved: 1 });
    p = await peer.run('kv_peer', { pkg });
    assert.equal(p.get, 'from the owner');
    assert.equal(p.set, 'NoWriteCap', 'read does not imply write');
    await driver.run('kv_share', { peer: `fake.dev@${PEER}`, kind: 'write' });
    p = await peer.run('kv_peer', { pkg });
    assert.equal(p.set, 'no error');
    assert.equal(p.get, 'from the peer');
  });

  it('sqlite: every action, parameter types, and its errors', async () => {
    const r = await driver.run('sqlite');
    assert.deepEqual(r.rows, [
      { id: 1, name: 'Bob', score: 1.5, flag: 1 },
      { id: 2, name: 'Charlie', score: null, flag: null },
      { id: 3, name: 'Dave', score: 2, flag: null },
    ]);
    assert.deepEqual(r.blob, [{ data: 'AQID' }], 'a BLOB comes back base64, as Hyperdrive writes it');
    assert.deepEqual(r.where, [{ name: 'Bob' }, { name: 'Dave' }]);
    assert.deepEqual(r.inTx, [{ n: 3 }], 'not visible before the commit');
    assert.deepEqual(r.afterCommit, [{ name: 'Robert' }, { name: 'Charlie' }, { name: 'Dave' }, { name: 'Eve' }]);
    assert.ok('NoTx' in (r.commitAgain as object));
    assert.equal(r.writeUnknownTx, 'no error', 'a Write with an unknown tx_id starts that transaction (sqlite.rs)');
    assert.equal(r.notARead, 'NotAReadKeyword');
    assert.equal(r.notAWrite, 'NotAWriteKeyword');
    assert.equal(r.invalidParams, 'InvalidParameters');
    assert.deepEqual(r.badSql, ['RusqliteError']);
    assert.equal(r.mismatch, 'MismatchingPackageId');
    assert.deepEqual(r.malformed, { Err: 'MalformedRequest' });
    assert.equal(r.noDb, 'no error', 'RemoveDb empties the db; the next request opens it again');
  });

  it('sqlite capabilities both ways', async () => {
    const pkg = OWNER_PKG;
    await driver.run('sqlite_share', { peer: `fake.dev@${PEER}`, kind: 'none' });
    let p = await peer.run('sqlite_peer', { pkg });
    assert.deepEqual(p, { read: 'NoReadCap', write: 'NoWriteCap', open: 'MismatchingPackageId' });
    await driver.run('sqlite_share', { peer: `fake.dev@${PEER}`, kind: 'read' });
    p = await peer.run('sqlite_peer', { pkg });
    assert.deepEqual(p.read, [{ body: 'from the owner' }]);
    assert.equal(p.write, 'NoWriteCap');
    await driver.run('sqlite_share', { peer: `fake.dev@${PEER}`, kind: 'write' });
    p = await peer.run('sqlite_peer', { pkg });
    assert.equal(p.write, 'no error');
  });

  it('vfs: every VfsAction through the client, the pkg/ and tmp/ drives, and its errors', async () => {
    const src = mkdtempSync(join(tmpdir(), 'kit-vfs-zip-'));
    mkdirSync(join(src, 'inner'));
    writeFileSync(join(src, 'inner/z.txt'), 'from the zip');
    const zip = await zipDirectory(src);
    rmSync(src, { recursive: true, force: true });
    const r = await driver.run('vfs', { zip: Array.from(zip) });
    const d = `modules-ts:${PUB}/files`;
    assert.equal(r.drive, `/${d}`);
    assert.equal(r.emptyFile, 0);
    assert.equal(r.read, 'hello world');
    assert.equal(r.readToString, 'hello world');
    assert.equal(r.seekStart, 6);
    assert.equal(r.readExact, 'world');
    assert.equal(r.readToEnd, ' again');
    assert.equal(r.seekEnd, 12);
    assert.equal(r.seekCurrent, 0);
    assert.equal(r.afterWriteAll, 'HELLO world again');
    assert.equal(r.len, 17);
    assert.deepEqual(r.metadata, { file_type: 'File', len: 5 });
    assert.equal(r.hash, createHash('sha256').update('HELLO').digest('hex'));
    assert.deepEqual(r.grown, [72, 69, 76, 76, 79, 0, 0, 0], 'SetLen past the end fills with zeros');
    assert.equal(r.created, 0);
    assert.equal(r.moved, 'HELLO');
    assert.equal(r.copyGone, false);
    assert.equal(r.fromZip, 'from the zip');
    assert.equal(r.dirMeta, 'Directory');
    assert.deepEqual(r.listing, [
      [`${d}/a`, 'Directory'],
      [`${d}/d`, 'Directory'],
      [`${d}/hello.txt`, 'File'],
      [`${d}/new.txt`, 'File'],
      [`${d}/unzipped`, 'Directory'],
    ]);
    assert.deepEqual(r.openDirOfFile, { IOError: 'entry at path is not a directory' }, "process_lib's open_dir");
    assert.deepEqual(r.after, [`${d}/hello.txt`, `${d}/new.txt`, `${d}/unzipped`]);
    assert.deepEqual(r.manifest, ['driver']);
    assert.equal(r.tmp, 'scratch');
    assert.deepEqual(r.notFound, { IOError: 'No such file or directory (os error 2)' });
    assert.equal(r.traversal, 'MalformedRequest');
    assert.equal(r.otherPackage, 'NoReadCap');
    assert.equal(r.otherPackageWrite, 'NoWriteCap');
    assert.equal(r.badPath, 'MalformedRequest');
    assert.deepEqual(r.writeWithoutBlob, { Err: 'NoBlob' });
    assert.deepEqual(r.malformed, { Err: 'MalformedRequest' });
    assert.equal(r.stillThere, 'HELLO', 'the refused requests wrote nothing');
  });

  it('vfs capabilities both ways: a drive of another package, refused, then readable, then writable', async () => {
    const pkg = OWNER_PKG;
    await driver.run('vfs_share', { peer: `fake.dev@${PEER}`, kind: 'none' });
    let p = await peer.run('vfs_peer', { pkg });
    assert.deepEqual(p, { read: 'NoReadCap', list: 'NoReadCap', write: 'NoWriteCap' });
    assert.deepEqual(await driver.run('vfs_share', { peer: `fake.dev@${PEER}`, kind: 'read' }), { sent: 1, peerSaved: 1 });
    p = await peer.run('vfs_peer', { pkg });
    assert.equal(p.read, 'from the owner');
    assert.equal(p.list, 'no error');
    assert.equal(p.write, 'NoWriteCap');
    await driver.run('vfs_share', { peer: `fake.dev@${PEER}`, kind: 'write' });
    p = await peer.run('vfs_peer', { pkg });
    assert.equal(p.write, 'no error');
  });

  it('timer: SetTimer answers in order with an empty body, sleep blocks, Debug prints each active timer, a negative duration is refused', async () => {
    const r = await driver.run('timer');
    assert.deepEqual(r.order, ['first', 'second', 'third']);
    assert.deepEqual(r.bodies, [0, 0, 0]);
    assert.equal(r.slept, true);
    const setter = `fake\\.dev@${DRIVER.replaceAll('.', '\\.')}`;
    assert.match(
      terminal,
      new RegExp(
        `timer: 2 pending timers:\\n` +
          `  ${setter}: 60000 ms timer pops at \\S+ \\(in \\d+ ms\\); the setter awaits the Response \\(timeout 61 s\\)\\n` +
          `  ${setter}: 120000 ms timer pops at \\S+ \\(in \\d+ ms\\); the setter expects no Response`,
      ),
    );
    assert.match(String(r.negative), /RangeError: timer: milliseconds must be a whole number from 0 to 2\^64-1, got -5/);
    assert.equal(r.rawNegative, 'MessageSendError timeout', 'not a TimerAction: no answer, as on Hyperdrive');
    assert.match(terminal, /timer: ignored a request from .* that is not a TimerAction \("\{\\"SetTimer\\":-5\}"\)/);
  });

  it('state: set, get (typed and raw), clear', async () => {
    assert.deepEqual(await driver.run('state'), {
      initially: true,
      typed: { count: 1, names: ['a'] },
      raw: 'raw bytes',
      cleared: true,
    });
  });

  it('Terminal API: with the capability a component runs command lines as if typed (echo, hi, m, alias, top, cat, a script) and gets their output', async () => {
    const r = await driver.run('terminal_api', { peer: PEER });
    assert.equal(r.echo, 'hello from a component');
    assert.match(terminal, /terminal:sys: hello from a component\n/, 'the output shows on the node terminal too');
    // A hello to our own net is a local message that is no NetAction: Hyperdrive's net ignores it
    // (hyperdrive/src/net/mod.rs handle_local_request), so hi reports its 10 s timeout.
    assert.equal(r.hi, 'message to fake.dev timed out');
    assert.doesNotMatch(terminal, /fake\.dev: hello via the terminal API/);
    assert.equal(r.m, '', 'm without -a prints nothing');
    // Hyperdrive's m is a public script with a random name (<u64>:terminal:sys)
    const got = await peer.waitEvent((e) => /^\d+$/.test(String(e.from)) && has('FromTerminal')(e), 'the m sent by the terminal');
    assert.deepEqual(got.body, { FromTerminal: 'via m' });
    assert.match(String(r.mAwait), /^Awaiting response for 5s\n\{"GetState":\{/);
    assert.equal(r.aliasSet, 'alias say set for echo:terminal:sys');
    assert.equal(r.aliased, 'aliased words');
    assert.equal(r.editAlias, 'AliasRemoved');
    assert.match(String(r.aliasGone), /^error calling script: 'say' not found, either as an alias or process ID/);
    assert.match(terminal, /terminal:sys: error calling script: 'say' not found/, 'errors show on the node terminal');
    assert.match(String(r.top), new RegExp(DRIVER.replaceAll('.', '\\.')));
    assert.deepEqual(Object.keys(JSON.parse(String(r.cat))), ['driver.wasm']);
    assert.equal(r.script, '', 'a script prints as its own process, not through the terminal');
    await until(() => /modules-ts:kit-tests\.os: script \d+ ran with: script args here/.test(terminal), 'the script printed its arguments');
    await until(() => terminal.includes('terminal:sys: fire and forget'), 'a command sent without awaiting ran');
    assert.match(terminal, new RegExp(`fake\\.dev@${DRIVER.replaceAll('.', '\\.')} runs: echo hello from a component`), 'who ran it (verbosity 1)');
  });

  it('Terminal API: a component without the capability is refused by the kernel and nothing runs', async () => {
    assert.deepEqual(await peer.run('terminal_refused'), { awaited: 'MessageSendError timeout', told: 'no error' });
    await driver.run('print', { text: 'after the refused commands' });
    assert.doesNotMatch(terminal, /sneaky/);
  });

  it('terminal: println shows on the node terminal, a printout above the verbosity does not', async () => {
    await driver.run('print', { text: 'hello terminal from TypeScript' });
    assert.match(terminal, /hello terminal from TypeScript/);
    assert.doesNotMatch(terminal, /hello terminal from TypeScript \(verbosity 3\)/);
  });

  describe('http-client', () => {
    let peer: TestPeer;
    let base: string;
    let seen: PeerRequest[];
    let wsSeen: string[];

    before(async () => {
      peer = await startTestPeer({ replyHeaders: { 'x-reply': 'yes' }, binary: (d) => [...d].join(',') });
      ({ base, seen, wsSeen } = peer);
    });
    after(() => peer.close());

    it('fetch sends method, headers, body; answers status, headers, body; errors as the book lists', async () => {
      const r = await driver.run('http_client', { base });
      assert.equal(r.status, 201);
      assert.equal(r.reply, 'yes');
      assert.equal(r.replyHeaderName, 'X-Reply', 'header names in Pascal-Case, as Hyperdrive sends them');
      assert.equal(r.body, 'got payload');
      assert.deepEqual(seen[0], { method: 'POST', url: '/path?q=1', body: 'payload', header: 'abc' });
      assert.equal(r.get, 201);
      assert.deepEqual(r.badUrl, { BadUrl: { url: 'not a url' } });
      assert.deepEqual(r.badMethod, { BadMethod: { method: 'GE T' } });
      assert.deepEqual(r.badVersion, { Err: { BadVersion: { version: 'HTTP/9' } } });
      assert.deepEqual(r.refused, ['ExecuteRequestFailed']);
      assert.deepEqual(r.badRequest, 'MalformedRequest');
    });

    it('WebSocket client: open with headers, push text and binary, receive, server close, close', async () => {
      const r = await driver.run('ws_client_open', { url: base.replace('http', 'ws') });
      assert.deepEqual(r.pushUnknown, { WsPushUnknownChannel: { channel_id: 99 } });
      assert.deepEqual(r.openRefused, { WsOpenFailed: { url: 'ws://127.0.0.1:1/' } });
      assert.deepEqual(wsSeen.slice(0, 3), ['open hi', 'text from component', 'bin 1,2,3']);
      await driver.events();
      peer.socket?.send('from server');
      const push = await driver.waitEvent((e) => e.from === 'http-client' && has('WebSocketPush')(e), 'a WebSocketPush');
      assert.deepEqual(push.body, { WebSocketPush: { channel_id: 7, message_type: 'Text' } });
      assert.equal(push.blob, 'from server');
      const closed = new Promise((res) => peer.socket?.once('close', res));
      assert.deepEqual(await driver.run('ws_client_close'), { closeAgain: { WsCloseFailed: { channel_id: 7 } } });
      await closed;
    });
  });

  describe('http-server', () => {
    const base = () => `http://localhost:${node.port}/${DRIVER}`;
    const connect = (path: string, headers: Record<string, string> = {}) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://localhost:${node.port}/${DRIVER}${path}`, { headers });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      });
    const nextMessage = (ws: WebSocket) =>
      new Promise<{ data: string; binary: boolean }>((r) => ws.once('message', (d, binary) => r({ data: d.toString(), binary })));
    let cookie = '';

    before(async () => {
      const r = await driver.run('http_bind');
      assert.deepEqual(r, { cacheWithoutBlob: { Err: 'NoBlob' }, malformed: { Err: 'MalformedRequest' } });
      const login = await fetch(`${node.url}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
      cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
      assert.ok(cookie.startsWith('hyperware-auth_fake.dev='), 'the login round trip sets the node cookie');
    });

    it('Bind: the component answers the request it was given, with the body and query', async () => {
      await driver.events();
      const r = await fetch(`${base()}/api?x=1`, { method: 'POST', body: 'ping' });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'hello from driver via kit/process');
      assert.equal(r.headers.get('x-bound-path'), `/${DRIVER}/api`);
      const seen = await driver.waitEvent(has('Http'), 'the Http request');
      const http = (seen.body as { Http: { method: string; query_params: Record<string, string>; url: string } }).Http;
      assert.equal(http.method, 'POST');
      assert.deepEqual(http.query_params, { x: '1' });
      assert.equal(seen.blob, 'ping');
    });

    it('Bind with cache serves the blob; local_only refuses a forwarded client; authenticated needs the login cookie', async () => {
      assert.equal(await (await fetch(`${base()}/static`)).text(), 'cached page');
      assert.equal((await fetch(`${base()}/local`)).status, 200);
      assert.equal((await fetch(`${base()}/local`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 403);
      // Without a login Hyperdrive answers 200 with its login page, and the component is not asked.
      assert.match(await (await fetch(`${base()}/private`, { redirect: 'manual' })).text(), /type="password"/);
      assert.match(await (await fetch(`${base()}/private`, { headers: { cookie: 'hyperware-auth_fake.dev=forged' }, redirect: 'manual' })).text(), /type="password"/);
      const r = await fetch(`${base()}/private`, { headers: { cookie } });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'hello from driver via kit/process');
    });

    it('SecureBind (plain and cached) answers only on the package subdomain', async () => {
      for (const path of ['/secure', '/secure-static']) {
        const r = await fetch(`${base()}${path}`, { redirect: 'manual' });
        assert.equal(r.status, 307, path);
        assert.match(r.headers.get('location') ?? '', new RegExp(`^http://modules-ts-kit-tests-os\\.localhost:${node.port}/${DRIVER}${path}$`));
      }
    });

    it('WebSocketBind: open, push both ways (text and binary), WebSocketClose from the component', async () => {
      await driver.events();
      const ws = await connect('/ws');
      const opened = await driver.waitEvent(has('WebSocketOpen'), 'WebSocketOpen');
      const o = (opened.body as { WebSocketOpen: { path: string; channel_id: number } }).WebSocketOpen;
      assert.equal(o.path, '/ws');
      const echo = nextMessage(ws);
      ws.send('hi there');
      assert.deepEqual(await echo, { data: 'echo: hi there', binary: false });
      const bin = nextMessage(ws);
      assert.equal(await driver.run('ws_push', { channel: o.channel_id, type: 'Binary', text: 'raw' }), 'pushed');
      assert.deepEqual(await bin, { data: 'raw', binary: true });
      const closed = new Promise((r) => ws.once('close', r));
      assert.equal(await driver.run('ws_close', { channel: o.channel_id }), 'closed');
      await closed;
    });

    it('WebSockets.pushAll reaches every client of the path the component bound, "/" included (process_lib ws_push_all_channels)', async () => {
      const a = await connect('');
      const b = await connect('/');
      const other = await connect('/ws');
      const got = (ws: WebSocket) => {
        const seen: string[] = [];
        ws.on('message', (d) => seen.push(d.toString()));
        return seen;
      };
      const [seenA, seenB, seenOther] = [got(a), got(b), got(other)];
      // Each WebSocketOpen was queued to the component before the client saw its handshake, so
      // before this Run.
      assert.deepEqual(await driver.run('ws_push_all', { path: '/', text: 'to everyone on /' }), { channels: 2 });
      await until(() => seenA.length === 1 && seenB.length === 1, 'both root clients got the push');
      assert.deepEqual([seenA, seenB, seenOther], [['to everyone on /'], ['to everyone on /'], []]);
      for (const ws of [a, b, other]) ws.close();
    });

    it('a client closing is reported as WebSocketClose; an authenticated WebSocketBind needs the cookie; WebSocketSecureBind needs the subdomain', async () => {
      await driver.events();
      const ws = await connect('/ws');
      const opened = await driver.waitEvent(has('WebSocketOpen'), 'WebSocketOpen');
      const id = (opened.body as { WebSocketOpen: { channel_id: number } }).WebSocketOpen.channel_id;
      ws.close();
      assert.deepEqual((await driver.waitEvent(has('WebSocketClose'), 'WebSocketClose')).body, { WebSocketClose: id });
      await assert.rejects(connect('/ws-private'), /HTTP 401/);
      (await connect('/ws-private', { cookie })).close();
      await assert.rejects(connect('/wss', { cookie }));
    });

    it('extension WebSocket: a request to the extension and its MessagePack reply as the Response; a push answered later', async () => {
      await driver.events();
      const ext = await connect('/ext');
      const opened = await driver.waitEvent(has('WebSocketOpen'), 'WebSocketOpen');
      const channel = (opened.body as { WebSocketOpen: { channel_id: number } }).WebSocketOpen.channel_id;
      const received: string[] = [];
      ext.on('message', (data) => {
        const d = (unpack(data as Buffer) as { WebSocketExtPushData: { id: number; hyperware_message_type: string; blob: number[] } }).WebSocketExtPushData;
        const blob = Buffer.from(d.blob).toString();
        received.push(`${d.hyperware_message_type} ${blob}`);
        ext.send(pack({ WebSocketExtPushData: { id: d.id, hyperware_message_type: d.hyperware_message_type, blob: [...Buffer.from(`done: ${blob}`)] } }));
      });
      const r = await driver.run('ws_ext', { channel, text: 'compute 2+2' });
      assert.deepEqual(r.reply, { channel, type: 'Binary', data: 'done: compute 2+2' });
      assert.deepEqual(r.unknownChannel, 'WsChannelNotFound');
      const later = await driver.waitEvent((e) => has('WebSocketPush')(e) && e.blob === 'done: compute 2+2 (no wait)', 'the reply to the push');
      assert.deepEqual(later.body, { WebSocketPush: { channel_id: channel, message_type: 'Binary' } });
      assert.deepEqual(received, ['Response compute 2+2', 'Request compute 2+2 (no wait)']);
      ext.close();
    });

    it('Unbind and WebSocketUnbind stop serving', async () => {
      assert.equal(await driver.run('http_unbind'), 'unbound');
      assert.notEqual(await (await fetch(`${base()}/api`)).text(), 'hello from driver via kit/process');
      await assert.rejects(connect('/ws'), /HTTP 404/);
    });
  });

  it('fd-manager: RequestFdsLimit, FdsLimitHit, GetState, GetProcessFdLimit and the administrative updates', async () => {
    const r = await driver.run('fd');
    const limit = r.limit as number;
    assert.ok(Number.isInteger(limit) && limit > 0, JSON.stringify(r));
    // The budget is 60% of this process's real open-files limit less 30 (the node runs in this
    // process); half is split evenly among the registered (kv, sqlite, vfs and net, as Hyperdrive's
    // register at boot, and us), half by hits (one each).
    const soft = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 1024);
    const half = (Math.floor((soft * 60) / 100) - 30) / 2;
    const n = r.registered as number;
    assert.equal(n, 5, JSON.stringify(r));
    assert.equal(limit, Math.floor(half / n + half / n), JSON.stringify(r));
    // our FdsLimitHit: two hits of six
    const afterHit = Math.floor(half / n + (half / (n + 1)) * 2);
    assert.equal(r.afterHit, afterHit);
    assert.deepEqual(r.state, { limit: afterHit, hit_count: 2 });
    assert.equal(r.processLimit, afterHit);
    assert.equal(r.unknownProcess, 0);
    assert.ok((r.halved as number) < afterHit, `a smaller budget gives a smaller share: ${JSON.stringify(r)}`);
    assert.equal(r.after, afterHit, 'back to 60%, back to the same share');
    assert.match(terminal, /fd-manager: re-reading the open-files limit every 7 s/);
    assert.match(terminal, /fd-manager: over its share a module now closes 1\/3 of its open handles/);
    assert.match(terminal, /fd-manager: ignoring a request from .*UpdateCullFractionDenominator/);
  });
});
