// http-client:distro:sys inside a real kernel, against real local HTTP and WebSocket servers:
// requests and answers, the timeout taken from the Request, every error variant, and WebSocket
// client channels (per process), including frames delivered to the opener.

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
import { fromUtf8, type KernelMessage, messagingCap, type ProcessId, parseProcessId, utf8 } from '../../src/core/types.js';
import { bareKernel } from './helpers.js';

const OUR = 'fake.dev';
const CLIENT = { node: OUR, process: parseProcessId('http-client:distro:sys') };

function recorder(id: ProcessId): NativeProcess & { got: Array<{ body: unknown; blob?: string }> } {
  const got: Array<{ body: unknown; blob?: string }> = [];
  return {
    id,
    got,
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request') return;
      got.push({ body: JSON.parse(fromUtf8(km.message.val.body)), blob: km.lazyLoadBlob && fromUtf8(km.lazyLoadBlob.bytes) });
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
    return { body: JSON.parse(fromUtf8(r.response.body)), blob: r.blob && fromUtf8(r.blob.bytes) };
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
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'x-method': req.method ?? '', 'x-echo': String(req.headers['x-in'] ?? '') });
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
    assert.equal(r.body.Ok.Http.headers['x-method'], 'PUT');
    assert.equal(r.body.Ok.Http.headers['x-echo'], 'yes');
    assert.equal(r.blob, 'PUT /thing?x=1 data');
    const missing = await http({ url: `${base}/missing` });
    assert.equal(missing.body.Ok.Http.status, 404, 'an HTTP error status is still an Ok answer');
  });

  it('gives up after the Request timeout with RequestFailed', async () => {
    const r = await http({ url: `${base}/slow` }, undefined, 1);
    assert.ok(r.body.Err.RequestFailed.error.length > 0);
  });

  it('answers BadRequest, BadMethod, BadUrl, BadVersion and RequestFailed', async () => {
    assert.deepEqual((await call('Http')).body, { Err: { BadRequest: { req: '"Http"' } } });
    assert.deepEqual((await call({ Http: { url: base } })).body, { Err: { BadRequest: { req: JSON.stringify({ Http: { url: base } }) } } });
    assert.deepEqual((await http({ method: 'G(T' })).body, { Err: { BadMethod: { method: 'G(T' } } });
    assert.deepEqual((await http({ url: 'ftp://example.com/' })).body, { Err: { BadUrl: { url: 'ftp://example.com/' } } });
    assert.deepEqual((await http({ version: 'HTTP/7' })).body, { Err: { BadVersion: { version: 'HTTP/7' } } });
    assert.ok((await http({ url: 'http://127.0.0.1:1/' })).body.Err.RequestFailed);
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
    assert.deepEqual(push, { body: { WebSocketPush: { channel_id: 1, message_type: 'Text' } }, blob: 'down' });
    await until(() => other.got.find((g) => 'WebSocketPush' in (g.body as object)), 'a frame to the other process');
    assert.deepEqual((await call({ WebSocketClose: { channel_id: 1 } })).body, { Ok: 'WebSocketAck' });
    assert.equal(client.socketCount(), 1);
    assert.deepEqual((await call({ WebSocketPush: { channel_id: 1, message_type: 'Text' } }, { blob: 'late' })).body, {
      Err: { WsPushFailed: { req: JSON.stringify({ WebSocketPush: { channel_id: 1, message_type: 'Text' } }) } },
    });
    assert.deepEqual((await call({ WebSocketClose: { channel_id: 1 } })).body, { Err: { WsCloseFailed: { channel_id: 1 } } });
    // the server closing tells the opener
    for (const s of sockets) s.close();
    const closed = await until(() => other.got.find((g) => 'WebSocketClose' in (g.body as object)), 'WebSocketClose');
    assert.deepEqual(closed.body, { WebSocketClose: { channel_id: 1 } });
    assert.deepEqual((await call({ WebSocketOpen: { url: 'ws://127.0.0.1:1', headers: {}, channel_id: 2 } })).body, {
      Err: { WsOpenFailed: { url: 'ws://127.0.0.1:1' } },
    });
  });
});
