// http-client:distro:sys inside a real kernel, against real local HTTP and WebSocket servers:
// requests and answers, the timeout taken from the Request, every HttpClientError variant of
// hyperdrive/lib/src/http/client_types.rs, and WebSocket client channels (per process), including
// frames delivered to the opener (hyperdrive/src/http/client.rs).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createHttpClient, type HttpClientModule } from '../../src/runtime/modules/http-client/index.js';
import { SendErrorException } from '../../src/runtime/kernel/api.js';
import { fromUtf8, type KernelMessage, messagingCap, type ProcessId, parseProcessId, utf8 } from '../../src/core/types.js';
import { bareKernel } from './helpers.js';

const OUR = 'fake.dev';
const CLIENT = { node: OUR, process: parseProcessId('http-client:distro:sys') };

interface Got {
  id: bigint;
  body: unknown;
  blob?: string;
  mime?: string;
}

function recorder(id: ProcessId): NativeProcess & { got: Got[] } {
  const got: Got[] = [];
  return {
    id,
    got,
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request') return;
      got.push({ id: km.id, body: JSON.parse(fromUtf8(km.message.val.body)), blob: km.lazyLoadBlob && fromUtf8(km.lazyLoadBlob.bytes), mime: km.lazyLoadBlob?.mime });
    },
  };
}

async function until<T>(f: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('http-client:distro:sys', () => {
  let home: string;
  let kernel: Kernel;
  let client: HttpClientModule;
  let server: Server;
  let wss: WebSocketServer;
  let base: string;
  const sockets: WebSocket[] = [];
  const frames: string[] = [];
  const app = recorder(parseProcessId('app:chat:template.os'));
  const other = recorder(parseProcessId('other:chat:template.os'));

  async function call(action: unknown, o: { blob?: string; timeoutSecs?: number; from?: ProcessId } = {}) {
    const r = await kernel.request(o.from ?? app.id, CLIENT, JSON.stringify(action), {
      blob: o.blob === undefined ? undefined : { bytes: utf8(o.blob) },
      timeoutSecs: o.timeoutSecs ?? 10,
    });
    return { body: JSON.parse(fromUtf8(r.response.body)), blob: r.blob && fromUtf8(r.blob.bytes), source: r.source };
  }
  const http = (o: object, blob?: string, timeoutSecs?: number) =>
    call({ Http: { method: 'GET', version: null, url: `${base}/`, headers: {}, ...o } }, { blob, timeoutSecs });

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-http-client-'));
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        if (req.url === '/slow') return; // never answers
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'x-method': req.method ?? '', 'x-echo': String(req.headers['x-in'] ?? ''), 'x-bad': String(req.headers['x-bad'] ?? 'absent') });
        res.end(`${req.method} ${req.url} ${body}`);
      });
    });
    wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      sockets.push(ws);
      ws.on('message', (d, bin) => frames.push(`${bin ? 'bin' : 'text'}:${d.toString()}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    kernel = bareKernel(OUR, home);
    client = createHttpClient();
    // The opener must grant http-client messaging to get frames, as on a real node.
    await kernel.addNative(client, [messagingCap({ node: OUR, process: app.id }), messagingCap({ node: OUR, process: other.id })]);
    for (const p of [app, other]) await kernel.addNative(p, [messagingCap(CLIENT)]);
  });
  after(async () => {
    await kernel.shutdown();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(home, { recursive: true, force: true });
  });

  it('sends the method, headers and blob body; answers status and headers, with the body in the blob', async () => {
    const r = await http({ method: 'PUT', url: `${base}/thing?x=1`, headers: { 'x-in': 'yes' }, version: 'HTTP/1.1' }, 'data');
    assert.equal(r.body.Ok.Http.status, 200);
    // client.rs serialize_headers: names in Pascal-Case.
    assert.equal(r.body.Ok.Http.headers['X-Method'], 'PUT');
    assert.equal(r.body.Ok.Http.headers['X-Echo'], 'yes');
    assert.equal(r.body.Ok.Http.headers['x-method'], undefined);
    assert.equal(r.blob, 'PUT /thing?x=1 data');
    const missing = await http({ url: `${base}/missing` });
    assert.equal(missing.body.Ok.Http.status, 404, 'an HTTP error status is still an Ok answer');
  });

  it('drops a header it cannot send, as deserialize_headers does, and sends the rest', async () => {
    const r = await http({ headers: { 'x-in': 'kept', 'x-bad': 'line\nbreak' } });
    assert.equal(r.body.Ok.Http.headers['X-Echo'], 'kept');
    assert.equal(r.body.Ok.Http.headers['X-Bad'], 'absent');
  });

  it('past the Request timeout the caller gets the kernel\'s Timeout, as on a real node', async () => {
    await assert.rejects(http({ url: `${base}/slow` }, undefined, 1), (e: unknown) => e instanceof SendErrorException && e.code === 'timeout');
  });

  it('answers MalformedRequest, BadMethod, BadUrl, BadVersion, BuildRequestFailed and ExecuteRequestFailed', async () => {
    assert.deepEqual((await call('Http')).body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call({ Http: { url: base } })).body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call({ Http: { method: 'GET', url: base } })).body, { Err: 'MalformedRequest' }, 'headers is required');
    assert.deepEqual((await http({ method: 'G(T' })).body, { Err: { BadMethod: { method: 'G(T' } } });
    assert.deepEqual((await http({ url: 'not a url' })).body, { Err: { BadUrl: { url: 'not a url' } } });
    assert.deepEqual((await http({ version: 'HTTP/7' })).body, { Err: { BadVersion: { version: 'HTTP/7' } } });
    assert.deepEqual((await http({ url: 'mailto:someone@example.com' })).body, {
      Err: { BuildRequestFailed: 'builder error for url (mailto:someone@example.com)' },
    });
    assert.match((await http({ url: 'ftp://example.com/' })).body.Err.ExecuteRequestFailed, /^builder error for url \(ftp:\/\/example\.com\/\)/);
    assert.match((await http({ url: 'http://127.0.0.1:1/' })).body.Err.ExecuteRequestFailed, /^error sending request for url \(http:\/\/127\.0\.0\.1:1\/\)/);
  });

  it('opens WebSocket channels per process, pushes, receives frames and closes', async () => {
    const url = base.replace('http', 'ws');
    assert.deepEqual((await call({ WebSocketOpen: { url, headers: {}, channel_id: 1 } })).body, { Ok: 'WebSocketAck' });
    // the same channel id from another process is a different connection
    assert.deepEqual((await call({ WebSocketOpen: { url, headers: {}, channel_id: 1 } }, { from: other.id })).body, { Ok: 'WebSocketAck' });
    assert.equal(client.socketCount(), 2);
    await call({ WebSocketPush: { channel_id: 1, message_type: 'Text' } }, { blob: 'hello' });
    await call({ WebSocketPush: { channel_id: 1, message_type: 'Binary' } }, { blob: 'bytes', from: other.id });
    await until(() => (frames.length >= 2 ? true : undefined), 'two frames');
    assert.deepEqual(frames.sort(), ['bin:bytes', 'text:hello']);
    for (const s of sockets) s.send('down');
    const push = await until(() => app.got.find((g) => 'WebSocketPush' in (g.body as object)), 'a pushed frame');
    assert.deepEqual(push.body, { WebSocketPush: { channel_id: 1, message_type: 'Text' } });
    assert.equal(push.blob, 'down');
    assert.equal(push.mime, 'text/plain');
    await until(() => other.got.find((g) => 'WebSocketPush' in (g.body as object)), 'a frame to the other process');
    assert.deepEqual((await call({ WebSocketClose: { channel_id: 1 } })).body, { Ok: 'WebSocketAck' });
    assert.equal(client.socketCount(), 1);
    assert.deepEqual((await call({ WebSocketPush: { channel_id: 1, message_type: 'Text' } }, { blob: 'late' })).body, {
      Err: { WsPushUnknownChannel: { channel_id: 1 } },
    });
    assert.deepEqual((await call({ WebSocketClose: { channel_id: 1 } })).body, { Err: { WsCloseFailed: { channel_id: 1 } } });
    // the server closing tells the opener
    for (const s of sockets) s.close();
    const closed = await until(() => other.got.find((g) => 'WebSocketClose' in (g.body as object)), 'WebSocketClose');
    assert.deepEqual(closed.body, { WebSocketClose: { channel_id: 1 } });
    assert.deepEqual((await call({ WebSocketOpen: { url: 'ws://127.0.0.1:1', headers: {}, channel_id: 2 } })).body, {
      Err: { WsOpenFailed: { url: 'ws://127.0.0.1:1/' } },
    });
    assert.deepEqual((await call({ WebSocketOpen: { url: 'nowhere', headers: {}, channel_id: 2 } })).body, { Err: { BadUrl: { url: 'nowhere' } } });
  });

  it('WebSocket details: blob checks, control frames and mimes, every frame under the WebSocketOpen id', async () => {
    const url = base.replace('http', 'ws');
    const mark = app.got.length;
    const open = await kernel.request(app.id, CLIENT, JSON.stringify({ WebSocketOpen: { url, headers: {}, channel_id: 5 } }), { timeoutSecs: 10 });
    assert.deepEqual(JSON.parse(fromUtf8(open.response.body)), { Ok: 'WebSocketAck' });
    const server = sockets.at(-1)!;
    assert.deepEqual((await call({ WebSocketPush: { channel_id: 5, message_type: 'Text' } })).body, { Err: 'WsPushNoBlob' });
    assert.deepEqual((await call({ WebSocketPush: { channel_id: 5, message_type: 'Binary' } })).body, { Err: 'WsPushNoBlob' });
    const bad = await kernel.request(app.id, CLIENT, JSON.stringify({ WebSocketPush: { channel_id: 5, message_type: 'Text' } }), {
      blob: { bytes: new Uint8Array([0xff, 0xfe]) },
      timeoutSecs: 10,
    });
    assert.deepEqual(JSON.parse(fromUtf8(bad.response.body)), { Err: 'WsPushBadText' });
    assert.deepEqual((await call({ WebSocketPush: { channel_id: 5, message_type: 'Shout' } })).body, { Err: 'MalformedRequest' });
    server.send(Buffer.from([1, 2]));
    server.ping();
    server.pong();
    const seen = await until(() => (app.got.length >= mark + 3 ? app.got.slice(mark) : undefined), 'three frames');
    assert.deepEqual(
      seen.map((g) => [g.body, g.mime ?? null]),
      [
        [{ WebSocketPush: { channel_id: 5, message_type: 'Binary' } }, 'application/octet-stream'],
        [{ WebSocketPush: { channel_id: 5, message_type: 'Ping' } }, null],
        [{ WebSocketPush: { channel_id: 5, message_type: 'Pong' } }, null],
      ],
    );
    // Ping and Pong go out without a payload and need no blob; the server's answer comes back.
    const pinged = new Promise<Buffer>((r) => server.once('ping', r));
    assert.deepEqual((await call({ WebSocketPush: { channel_id: 5, message_type: 'Ping' } }, { blob: 'ignored' })).body, { Ok: 'WebSocketAck' });
    assert.equal((await pinged).length, 0);
    const pong = await until(() => (app.got.length >= mark + 4 ? app.got[mark + 3] : undefined), 'the answering Pong');
    assert.deepEqual(pong.body, { WebSocketPush: { channel_id: 5, message_type: 'Pong' } });
    assert.equal(seen[1].blob, undefined, 'Ping arrives without a blob');
    server.close();
    const closed = await until(() => app.got.slice(mark).find((g) => 'WebSocketClose' in (g.body as object)), 'WebSocketClose');
    assert.deepEqual(closed.body, { WebSocketClose: { channel_id: 5 } });
    const openId = (app.got.slice(mark)[0] as Got).id;
    assert.ok(app.got.slice(mark).every((g) => g.id === openId), 'all frames carry one id');
  });
});
