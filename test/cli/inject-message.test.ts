import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatBlob } from '../../src/node-client/inject.js';
import { kit, runInProcess } from './helpers/cli.js';
import { type FakeRpc, startFakeRpc } from './helpers/fake-rpc.js';

describe('kit inject-message', () => {
  let node: FakeRpc;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kit-inject-'));
    node = await startFakeRpc((msg) => {
      switch (msg.process) {
        case 'echo:echo:template.os':
          // Answers with the request body and a text blob.
          return { body: msg.body, blob: Buffer.from('blob text'), mime: 'text/plain' };
        case 'bytes:bytes:template.os':
          return { body: { Ok: null }, blob: new Uint8Array([0, 159, 146, 150]) };
        case 'missing:missing:template.os':
          return { status: 408, raw: 'process missing:missing:template.os does not exist' };
        default:
          return { body: '"ok"' };
      }
    });
  });
  after(async () => {
    await node.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('prints the Response like kit and sends the body verbatim with expects_response 15', async () => {
    const body = '{"Send": {"target": "fake2.dev",   "message": "hello world"}}';
    const r = await kit(['inject-message', 'echo:echo:template.os', body, '-p', String(node.port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Response:\nbody: ${body}\nblob: blob text\n`);
    const sent = node.received.at(-1)!.json;
    assert.equal(sent.body, body);
    assert.equal(sent.expects_response, 15);
    assert.equal(sent.node, null);
    assert.equal(sent.data, null);
  });

  test('prints a blob that is not UTF-8 as bytes', async () => {
    const r = await kit(['i', 'bytes:bytes:template.os', '{}', '--port', String(node.port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Response:\nbody: {"Ok":null}\nblob: Some([0, 159, 146, 150])\n');
  });

  test('--blob sends the file as base64, --node targets another node, -l does not wait', async () => {
    const file = join(dir, 'payload.bin');
    await writeFile(file, new Uint8Array([1, 2, 3, 255]));
    const r = await kit(['i', 'any:any:template.os', '"x"', '-p', String(node.port), '-b', file, '-n', 'fake2.dev', '-l']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '200 OK\n');
    const sent = node.received.at(-1)!.json;
    assert.equal(sent.data, Buffer.from([1, 2, 3, 255]).toString('base64'));
    assert.equal(sent.node, 'fake2.dev');
    assert.equal(sent.expects_response, null);
  });

  test('a non-200 answer exits non-zero and prints the node’s reason', async () => {
    const r = await kit(['i', 'missing:missing:template.os', '{}', '-p', String(node.port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Failed with status code: 408/);
    assert.match(r.stderr, /process missing:missing:template.os does not exist/);
  });

  test('BODY_JSON that is not JSON fails before anything is sent', async () => {
    const before = node.received.length;
    const r = await kit(['i', 'echo:echo:template.os', "{Send: 'hi'}", '-p', String(node.port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BODY_JSON is not valid JSON/);
    assert.match(r.stderr, /hint: quote the whole body/);
    assert.equal(node.received.length, before);
  });

  test('no node on the port: says so and how to start one', async () => {
    const r = await kit(['i', 'echo:echo:template.os', '{}', '-p', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no node answers at http:\/\/localhost:1: is it running\? start one with `kit boot-fake-node`/);
  });

  test('a web server that is not a node: says so instead of printing its page', async () => {
    const web = createServer((_req, res) => {
      res.writeHead(501, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE HTML>\n<html><body><h1>Error response</h1><p>Unsupported method</p></body></html>\n');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    try {
      const port = (web.address() as AddressInfo).port;
      const r = await kit(['i', 'echo:echo:template.os', '{}', '-p', String(port)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`http://localhost:${port} answered with a web page, not a Hyperware node's RPC answer`));
      assert.match(r.stderr, /hint: is a Hyperware node listening there\?/);
      assert.doesNotMatch(r.stderr, /<html>/);
    } finally {
      await new Promise<void>((r) => web.close(() => r()));
    }
  });

  test('an address typed as PROCESS (as for the terminal m) says to use --node, and sends nothing', async () => {
    const before = node.received.length;
    const r = await kit(['i', 'fake2.dev@echo:echo:template.os', '{}', '-p', String(node.port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /PROCESS 'fake2\.dev@echo:echo:template\.os' is an address \(node@process\), not a process ID/);
    assert.match(r.stderr, /hint: pass the process ID and the node as a flag: echo:echo:template\.os --node fake2\.dev/);
    assert.equal(node.received.length, before);
  });

  test('flag and argument errors (in process)', async () => {
    const missing = await runInProcess(['inject-message', 'echo:echo:template.os']);
    assert.notEqual(missing.exitCode, 0);
    assert.match(missing.error?.message ?? '', /body_json/i);

    const badPort = await runInProcess(['inject-message', 'a:b:c', '{}', '-p', 'eighty']);
    assert.notEqual(badPort.exitCode, 0);
    assert.match(badPort.error?.message ?? '', /Expected an integer/);

    const badProcess = await runInProcess(['inject-message', 'not-a-process', '{}', '-p', String(node.port)]);
    assert.equal(badProcess.exitCode, 1);
    assert.match(badProcess.stderr, /PROCESS 'not-a-process' is not a process ID/);

    const missingBlob = await runInProcess(['i', 'a:b:c', '{}', '-p', String(node.port), '-b', join(dir, 'nope')]);
    assert.equal(missingBlob.exitCode, 1);
    assert.match(missingBlob.stderr, /cannot read --blob file .*nope: no such file or directory/);
  });

  test('blob display: text when UTF-8, else Rust-style bytes, None when absent', () => {
    assert.equal(formatBlob(undefined), 'None');
    assert.equal(formatBlob(Buffer.from('héllo')), 'héllo');
    assert.equal(formatBlob(new Uint8Array([255])), 'Some([255])');
  });
});
