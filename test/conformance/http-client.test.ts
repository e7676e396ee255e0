// http-client:distro:sys from inside a component, as hyperdrive/src/http/client.rs (Hyperdrive
// 1.9.2) answers with the types of hyperdrive/lib/src/http/client_types.rs: the Http answer with
// Pascal-Case header names, every HttpClientError variant where the real client produces it, and
// the WebSocket client's frames, mimes and errors. Real local HTTP and WebSocket servers.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import { bootConformanceNode, type ConformanceNode, type DriverHandle } from './harness.js';

const CLIENT = 'http-client:distro:sys';

describe('conformance: http-client', { timeout: 180_000 }, () => {
  let c: ConformanceNode;
  let d: DriverHandle;
  let server: Server;
  let wss: WebSocketServer;
  let base: string;
  const sockets: WebSocket[] = [];
  const frames: string[] = [];

  const http = (o: Record<string, unknown>, opts: { timeout?: number } = {}) =>
    d.json(CLIENT, { Http: { method: 'GET', version: null, url: `${base}/`, headers: {}, ...o } }, opts);
  /** Requests http-client sent the driver since the last call, parsed, with blob text and mime. */
  const fromClient = async () =>
    (await d.inbox())
      .filter((e) => e.request?.source === `fake.dev@${CLIENT}`)
      .map((e) => ({
        body: JSON.parse(e.request!.body),
        blob: e.request!.blob ? Buffer.from(e.request!.blob.base64, 'base64').toString() : null,
        mime: e.request!.blob?.mime ?? null,
      }));
  async function collect(count: number, what: string) {
    const all: Array<{ body: unknown; blob: string | null; mime: string | null }> = [];
    for (let i = 0; i < 200 && all.length < count; i++) {
      all.push(...(await fromClient()));
      if (all.length < count) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(all.length, count, `${what}: ${JSON.stringify(all)}`);
    return all;
  }

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      let body = '';
      req.on('data', (x) => {
        body += x;
      });
      req.on('end', () => {
        res.setHeader('x-reply', 'yes');
        res.setHeader('x-multi', ['first', 'last']);
        res.writeHead(201, { 'content-type': 'text/plain' });
        res.end(`${req.method} ${req.url} ${req.headers['x-in'] ?? '-'} ${body}`);
      });
    });
    wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      sockets.push(ws);
      ws.on('message', (m, bin) => frames.push(`${bin ? 'bin' : 'text'}:${m.toString()}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    c = await bootConformanceNode([
      { name: 'client-conf', processes: [{ name: 'driver', request_capabilities: [CLIENT], grant_capabilities: ['http-server:distro:sys', CLIENT] }] },
    ]);
    d = c.driver('driver', 'client-conf');
  });
  after(async () => {
    await c?.stop();
    wss?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('Http answers {"Ok":{"Http":{status, headers}}} with header names in Pascal-Case and the body as blob (client.rs serialize_headers)', async () => {
    const a = await d.answer(CLIENT, { Http: { method: 'POST', version: 'HTTP/1.1', url: `${base}/thing?x=1`, headers: { 'x-in': 'hi' } } }, { blob: 'payload' });
    const body = JSON.parse(a.body) as { Ok: { Http: { status: number; headers: Record<string, string> } } };
    assert.equal(body.Ok.Http.status, 201);
    assert.equal(body.Ok.Http.headers['Content-Type'], 'text/plain');
    assert.equal(body.Ok.Http.headers['X-Reply'], 'yes');
    assert.equal(body.Ok.Http.headers['X-Multi'], 'last', 'a repeated header keeps its last value');
    assert.ok(Object.keys(body.Ok.Http.headers).every((k) => /^[A-Z0-9][^-]*(-[A-Z0-9][^-]*)*$/.test(k)), Object.keys(body.Ok.Http.headers).join());
    assert.equal(Buffer.from(a.blob!.base64, 'base64').toString(), 'POST /thing?x=1 hi payload');
    assert.equal(a.blob!.mime, null);
  });

  it('HttpClientError: MalformedRequest, BadMethod, BadUrl, BadVersion, BuildRequestFailed, ExecuteRequestFailed (client.rs)', async () => {
    assert.deepEqual(await d.json(CLIENT, '"Http"'), { Err: 'MalformedRequest' });
    assert.deepEqual(await d.json(CLIENT, { Http: { method: 'GET', url: base } }), { Err: 'MalformedRequest' }, 'headers is required');
    assert.deepEqual(await d.json(CLIENT, { WebSocketClose: { channel_id: -1 } }), { Err: 'MalformedRequest' }, 'channel_id is a u32');
    assert.deepEqual(await d.json(CLIENT, 'not json at all'), { Err: 'MalformedRequest' });
    assert.deepEqual(await http({ method: 'GE T' }), { Err: { BadMethod: { method: 'GE T' } } });
    assert.deepEqual(await http({ url: 'not a url' }), { Err: { BadUrl: { url: 'not a url' } } });
    assert.deepEqual(await http({ version: 'HTTP/9' }), { Err: { BadVersion: { version: 'HTTP/9' } } });
    assert.deepEqual(await http({ url: 'mailto:someone@example.com' }), { Err: { BuildRequestFailed: 'builder error for url (mailto:someone@example.com)' } });
    const refused = (await http({ url: 'http://127.0.0.1:1/' })) as { Err: { ExecuteRequestFailed: string } };
    assert.match(refused.Err.ExecuteRequestFailed, /^error sending request for url \(http:\/\/127\.0\.0\.1:1\/\)/);
    const ftp = (await http({ url: 'ftp://127.0.0.1/' })) as { Err: { ExecuteRequestFailed: string } };
    assert.match(ftp.Err.ExecuteRequestFailed, /^builder error for url \(ftp:\/\/127\.0\.0\.1\/\)/);
  });

  it('past its timeout a request is a Timeout SendError, as the real client sets no timeout of its own', async () => {
    const r = await d.send(CLIENT, { Http: { method: 'GET', version: null, url: `${base}/slow`, headers: {} } }, { timeout: 1 });
    assert.deepEqual(r, { sendError: { kind: 'timeout', target: `fake.dev@${CLIENT}` } });
  });

  it('WebSocket client: frames with mimes, Ping/Pong without blob, push checks, WebSocketClose (client.rs listen_to_stream, send_ws_push)', async () => {
    const url = `${base.replace('http', 'ws')}/socket`;
    assert.deepEqual(await d.json(CLIENT, { WebSocketOpen: { url, headers: { 'x-ws': 'hi' }, channel_id: 7 } }), { Ok: 'WebSocketAck' });
    const server = sockets.at(-1)!;
    await d.inbox();
    assert.deepEqual(await d.json(CLIENT, { WebSocketPush: { channel_id: 7, message_type: 'Text' } }, { blob: 'hello' }), { Ok: 'WebSocketAck' });
    assert.deepEqual(await d.json(CLIENT, { WebSocketPush: { channel_id: 7, message_type: 'Binary' } }, { blob: new Uint8Array([1, 2]) }), { Ok: 'WebSocketAck' });
    assert.deepEqual(await d.json(CLIENT, { WebSocketPush: { channel_id: 7, message_type: 'Text' } }), { Err: 'WsPushNoBlob' });
    assert.deepEqual(await d.json(CLIENT, { WebSocketPush: { channel_id: 7, message_type: 'Text' } }, { blob: new Uint8Array([0xc3, 0x28]) }), { Err: 'WsPushBadText' });
    assert.deepEqual(await d.json(CLIENT, { WebSocketPush: { channel_id: 8, message_type: 'Text' } }, { blob: 'x' }), {
      Err: { WsPushUnknownChannel: { channel_id: 8 } },
    });
    for (let i = 0; i < 100 && frames.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(frames, ['text:hello', 'bin:\u0001\u0002']);

    server.send('down');
    server.send(Buffer.from([9]));
    server.ping();
    const got = await collect(3, 'Text, Binary and Ping');
    assert.deepEqual(
      got.map((g) => [g.body, g.mime]),
      [
        [{ WebSocketPush: { channel_id: 7, message_type: 'Text' } }, 'text/plain'],
        [{ WebSocketPush: { channel_id: 7, message_type: 'Binary' } }, 'application/octet-stream'],
        [{ WebSocketPush: { channel_id: 7, message_type: 'Ping' } }, null],
      ],
    );
    assert.equal(got[0].blob, 'down');
    assert.equal(got[2].blob, null, 'Ping arrives without a blob');

    server.close();
    const [closed] = await collect(1, 'WebSocketClose');
    assert.deepEqual(closed.body, { WebSocketClose: { channel_id: 7 } });
    assert.deepEqual(await d.json(CLIENT, { WebSocketClose: { channel_id: 7 } }), { Err: { WsCloseFailed: { channel_id: 7 } } });
  });

  it('WebSocketOpen errors: BadUrl, and WsOpenFailed with the parsed URL (client.rs connect_websocket)', async () => {
    assert.deepEqual(await d.json(CLIENT, { WebSocketOpen: { url: 'nowhere', headers: {}, channel_id: 1 } }), { Err: { BadUrl: { url: 'nowhere' } } });
    assert.deepEqual(await d.json(CLIENT, { WebSocketOpen: { url: 'ws://127.0.0.1:1', headers: {}, channel_id: 1 } }), {
      Err: { WsOpenFailed: { url: 'ws://127.0.0.1:1/' } },
    });
    assert.deepEqual(await d.json(CLIENT, { WebSocketOpen: { url: base, headers: {}, channel_id: 1 } }), { Err: { WsOpenFailed: { url: `${base}/` } } });
  });
});
