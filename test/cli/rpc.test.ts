import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  makeMessage,
  NodeUnreachableError,
  nodeUrl,
  parseRpcResponse,
  RpcResponseError,
  RpcStatusError,
  rpcEndpoint,
  sendMessage,
} from '../../src/node-client/rpc.js';
import { answerJson, type FakeRpc, startFakeRpc } from './helpers/fake-rpc.js';

describe('rpc URL', () => {
  test('appends the RPC path, dropping one trailing slash', () => {
    assert.equal(rpcEndpoint('http://localhost:8080'), 'http://localhost:8080/rpc:distro:sys/message');
    assert.equal(rpcEndpoint('http://localhost:8080/'), 'http://localhost:8080/rpc:distro:sys/message');
    assert.equal(rpcEndpoint('http://h:1/rpc:distro:sys/message'), 'http://h:1/rpc:distro:sys/message');
    assert.equal(nodeUrl(8081), 'http://localhost:8081');
  });
});

describe('rpc request JSON', () => {
  test('is the exact object kit sends', () => {
    assert.deepEqual(makeMessage({ process: 'main:app-store:sys', body: '"Apis"' }), {
      node: null,
      process: 'main:app-store:sys',
      inherit: false,
      expects_response: 15,
      body: '"Apis"',
      metadata: null,
      context: null,
      mime: 'application/octet-stream',
      data: null,
    });
  });

  test('carries the blob as padded standard base64, the remote node, and null for fire-and-forget', () => {
    const m = makeMessage({ process: 'a:b:c', body: '{}', node: 'fake2.dev', expectsResponse: null, blob: new Uint8Array([0xfb, 0xff, 0x01]) });
    assert.equal(m.data, '+/8B');
    assert.equal(m.node, 'fake2.dev');
    assert.equal(m.expects_response, null);
  });
});

describe('rpc response parsing', () => {
  test('reads the body bytes as text and the double-encoded blob', () => {
    const r = parseRpcResponse(answerJson({ body: { Ok: 1 }, blob: new Uint8Array([1, 2, 250]), mime: 'application/json' }));
    assert.equal(r.body, '{"Ok":1}');
    assert.deepEqual(Array.from(r.blob ?? []), [1, 2, 250]);
    assert.equal(r.blobMime, 'application/json');
  });

  test('accepts a null blob and a bare array blob', () => {
    assert.equal(parseRpcResponse('{"body":[104,105],"lazy_load_blob":null}').blob, undefined);
    const b64 = Array.from(Buffer.from('aGk=', 'latin1'));
    assert.equal(Buffer.from(parseRpcResponse(JSON.stringify({ body: [], lazy_load_blob: b64 })).blob ?? []).toString(), 'hi');
  });

  test('a blob that is not base64 counts as no blob, as in kit', () => {
    const r = parseRpcResponse(JSON.stringify({ body: [49], lazy_load_blob: { mime: null, bytes: [33, 33, 33] } }));
    assert.equal(r.body, '1');
    assert.equal(r.blob, undefined);
  });

  test('rejects a missing or non-byte body with kit messages', () => {
    assert.throws(() => parseRpcResponse('{"lazy_load_blob":null}'), { message: 'Response did not contain `body` field.' });
    assert.throws(() => parseRpcResponse('{"body":"hi"}'), { message: 'Response `body` was not bytes.' });
    assert.throws(() => parseRpcResponse('{"body":[300]}'), RpcResponseError);
    assert.throws(() => parseRpcResponse('{"body":[255]}'), /not valid UTF-8/);
    assert.throws(() => parseRpcResponse('<html>'), /not JSON/);
  });
});

describe('rpc over HTTP', () => {
  let node: FakeRpc;
  before(async () => {
    node = await startFakeRpc((msg) => {
      if (msg.process === 'slow:slow:sys') return { status: 408, raw: 'no Response from slow:slow:sys within 15 s' };
      if (msg.process === 'gone:gone:sys') return { status: 408, raw: '' };
      return { body: { echo: msg.body } };
    });
  });
  after(() => node.close());

  test('posts JSON to the RPC path and returns the Response', async () => {
    const r = await sendMessage(node.url, makeMessage({ process: 'echo:echo:sys', body: '"hi"' }));
    assert.deepEqual(JSON.parse(r?.body ?? ''), { echo: '"hi"' });
    const got = node.received.at(-1);
    assert.equal(got?.path, '/rpc:distro:sys/message');
    assert.equal(got?.contentType, 'application/json');
    assert.equal(got?.json.body, '"hi"');
  });

  test('a fire-and-forget message resolves with null on the empty 200', async () => {
    assert.equal(await sendMessage(node.url, makeMessage({ process: 'echo:echo:sys', body: '1', expectsResponse: null })), null);
  });

  test('a non-200 answer is an error that carries the node’s reason', async () => {
    await assert.rejects(sendMessage(node.url, makeMessage({ process: 'slow:slow:sys', body: '1' })), (e: unknown) => {
      assert.ok(e instanceof RpcStatusError);
      assert.equal(e.status, 408);
      assert.match(e.message, /^Failed with status code: 408 Request Timeout$/);
      assert.equal(e.details, 'node says: no Response from slow:slow:sys within 15 s');
      return true;
    });
    await assert.rejects(sendMessage(node.url, makeMessage({ process: 'gone:gone:sys', body: '1' })), (e: unknown) => {
      assert.ok(e instanceof RpcStatusError);
      assert.equal(e.details, undefined);
      assert.ok(e.hint?.includes('did not answer in time'));
      return true;
    });
  });

  test('nobody listening: says no node answers and how to start one', async () => {
    const port = await closedPort();
    await assert.rejects(sendMessage(nodeUrl(port), makeMessage({ process: 'a:b:c', body: '1' })), (e: unknown) => {
      assert.ok(e instanceof NodeUnreachableError);
      assert.equal(e.message, `no node answers at http://localhost:${port}: is it running? start one with \`kit boot-fake-node\``);
      return true;
    });
  });
});

/** A port nothing listens on: bind one, then free it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
