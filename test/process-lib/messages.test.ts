// The process library's messaging, ids, JSON, capabilities, state and spawn, run under node
// against a test double of the host interface (helpers/fake-host.ts).
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import vm from 'node:vm';
import { bodyJson, fake, lib } from './helpers/lib.js';

const { Request, Response } = lib;
let host: InstanceType<typeof fake.FakeHost>;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

beforeEach(() => {
  host = fake.installHost();
});

test('toJson writes bigint exactly and bytes as number arrays, leaving out undefined', () => {
  assert.equal(lib.toJson({ n: 12200160415121876738n, b: Uint8Array.from([1, 255]), u: undefined, l: [undefined] }), '{"n":12200160415121876738,"b":[1,255],"l":[null]}');
  assert.equal(lib.toJson('a"b'), '"a\\"b"');
  assert.throws(() => lib.toJson(undefined), /cannot encode undefined/);
});

test('byte arrays from another realm, as a component host hands them over, are still bytes', () => {
  const foreign = vm.runInNewContext('new Uint8Array([1, 2])') as Uint8Array;
  assert.equal(foreign instanceof Uint8Array, false);
  assert.ok(lib.isBytes(foreign));
  assert.equal(lib.toJson({ b: foreign }), '{"b":[1,2]}');
  assert.equal(lib.isBytes([1, 2]), false);
  assert.equal(lib.isBytes(new Uint16Array(2)), false);
  lib.setState(foreign);
  assert.deepEqual([...host.state!], [1, 2]);
});

test('parseJson names the text it could not parse', () => {
  assert.throws(() => lib.parseJson(enc('not json')), (e: Error) => e instanceof lib.JsonDecodeError && e.message.includes('"not json"'));
});

test('ids: addresses and process ids from strings and parts', () => {
  const a = lib.address('fake.dev', 'chat:chat:template.os');
  assert.deepEqual(a, lib.parseAddress('fake.dev@chat:chat:template.os'));
  assert.equal(lib.addressToString(a), 'fake.dev@chat:chat:template.os');
  assert.deepEqual(lib.processId('chat', 'chat', 'template.os'), a.process);
  assert.deepEqual(lib.inPackage(a, 'worker'), lib.processId('worker:chat:template.os'));
  assert.equal(lib.idString(lib.moduleAddress('n.os', 'vfs')), 'n.os@vfs:distro:sys');
  assert.deepEqual(lib.addressToWitJson(a), {
    node: 'fake.dev',
    process: { process_name: 'chat', package_name: 'chat', publisher_node: 'template.os' },
  });
  assert.deepEqual(lib.addressFromWitJson(lib.addressToWitJson(a)), a);
  assert.throws(() => lib.parseAddress('no-at-sign'), lib.IdParseError);
});

test('Request.send hands the host a WIT request with seconds as u64, context and blob', () => {
  Request.to('fake2.dev@chat:chat:template.os')
    .json({ Send: { target: 'x', message: 'y' } })
    .expectsResponse(5)
    .context('ctx')
    .blobBytes('blob', 'text/plain')
    .metadata('meta')
    .send();
  assert.equal(host.requests.length, 1);
  const sent = host.requests[0];
  assert.equal(lib.addressToString(sent.target), 'fake2.dev@chat:chat:template.os');
  assert.equal(sent.request.expectsResponse, 5n);
  assert.equal(sent.request.inherit, false);
  assert.equal(sent.request.metadata, 'meta');
  assert.deepEqual(bodyJson(sent.request.body), { Send: { target: 'x', message: 'y' } });
  assert.equal(dec(sent.context!), 'ctx');
  assert.equal(dec(sent.blob!.bytes), 'blob');
  assert.equal(sent.blob!.mime, 'text/plain');
});

test('a Request without a target or body, or awaited without a timeout, is a BuildError', () => {
  assert.throws(() => new Request().body('x').send(), (e: Error) => e instanceof lib.BuildError && /no target/.test(e.message));
  assert.throws(() => Request.to('a@b:c:d').send(), (e: Error) => e instanceof lib.BuildError && /no body/.test(e.message));
  assert.throws(() => Request.to('a@b:c:d').body('x').sendAndAwaitResponse(), /give a timeout/);
  assert.throws(() => Request.to('a@b:c:d').expectsResponse(1.5), /whole seconds/);
  assert.equal(host.requests.length, 0);
});

test('sendAndAwaitResponse returns the Response and its blob', () => {
  host.answer = () => ({ response: fake.response('"Send"'), blob: { bytes: enc('B'), mime: undefined } });
  const reply = Request.to('a.os@p:k:u').body('hi').sendAndAwaitResponse(7);
  assert.equal(host.awaited[0].request.expectsResponse, 7n);
  assert.ok(reply.isResponse());
  assert.equal(reply.json(), 'Send');
  assert.equal(dec(reply.blob()!.bytes), 'B');
});

test('a SendError from sendAndAwaitResponse becomes a MessageSendError saying what to check', () => {
  const target = lib.parseAddress('gone.os@chat:chat:template.os');
  host.answer = (sent) => ({
    sendError: { kind: 'offline', target, message: { tag: 'request', val: sent.request }, lazyLoadBlob: undefined },
  });
  assert.throws(
    () => lib.requestJson(target, 'x', 5),
    (e: Error) => e instanceof lib.MessageSendError && e.kind === 'offline' && /gone\.os is offline/.test(e.message),
  );
  host.answer = (sent) => ({ sendError: { kind: 'timeout', target, message: { tag: 'request', val: sent.request } } });
  assert.throws(() => lib.requestJson(target, 'x', 5), (e: Error) => e instanceof lib.MessageSendError && e.kind === 'timeout' && /no response from/.test(e.message));
});

test('awaitMessage: requests, responses with context, and SendErrors with their context', () => {
  const source = lib.parseAddress('other.os@chat:chat:template.os');
  host.incoming.push({ source, message: { tag: 'request', val: fake.request('{"a":1}', { expectsResponse: 3n }) } });
  host.incoming.push({ source, message: { tag: 'response', val: [fake.response('ok'), enc('c1')] } });
  host.incoming.push({
    error: [{ kind: 'timeout', target: source, message: { tag: 'request', val: fake.request('x') } }, enc('c2')],
  });
  const req = lib.awaitMessage();
  assert.equal(req.kind, 'request');
  assert.equal(req.expectsResponse, 3);
  assert.deepEqual(req.json(), { a: 1 });
  assert.equal(req.isLocal(), false);
  const res = lib.awaitMessage();
  assert.equal(res.kind, 'response');
  assert.equal(res.contextText(), 'c1');
  assert.equal(res.text(), 'ok');
  assert.throws(
    () => lib.awaitMessage(),
    (e: Error) => e instanceof lib.MessageSendError && e.kind === 'timeout' && dec(e.context!) === 'c2',
  );
});

test('Response and respond send the body, blob and capabilities', () => {
  const cap = lib.capability('fake.dev@vfs:distro:sys', { kind: 'read', drive: '/pkg:pub.os/files' });
  new Response().json({ History: [] }).capabilities([cap]).send();
  lib.respond('plain', { blob: lib.blob('x') });
  assert.deepEqual(bodyJson(host.responses[0].response.body), { History: [] });
  assert.deepEqual(host.responses[0].response.capabilities, [cap]);
  assert.equal(dec(host.responses[1].response.body), 'plain');
  assert.equal(dec(host.responses[1].blob!.bytes), 'x');
  assert.throws(() => new Response().send(), /no body/);
});

test('getCapability matches params by meaning, not key order', () => {
  const held = { issuer: lib.parseAddress('fake.dev@vfs:distro:sys'), params: '{"kind":"read","drive":"/p:u/files"}' };
  host.capabilities = [held];
  assert.equal(lib.getCapability('fake.dev@vfs:distro:sys', { drive: '/p:u/files', kind: 'read' }), held);
  assert.equal(lib.getCapability('fake.dev@vfs:distro:sys', { drive: '/p:u/files', kind: 'write' }), undefined);
  assert.equal(lib.messagingCapability('a.os@x:y:z').params, '"messaging"');
  lib.saveCapabilities([]);
  assert.equal(host.saved.length, 0, 'saving nothing calls nothing');
});

test('state: JSON in, JSON out; bytes stay bytes', () => {
  assert.equal(lib.getTypedState(), undefined);
  lib.setState({ a: [1, 2] });
  assert.deepEqual(lib.getTypedState(), { a: [1, 2] });
  lib.setState(Uint8Array.from([9]));
  assert.deepEqual([...lib.getState()!], [9]);
  lib.clearState();
  assert.equal(lib.getState(), undefined);
});

test('spawn passes the WIT arguments and turns errors into SpawnError', () => {
  const id = lib.spawn({ wasmPath: 'pkg:pub.os/pkg/worker.wasm', grantCapabilities: [[lib.processId('a:b:c'), { x: 1 }]] });
  assert.equal(id.processName, '123');
  assert.deepEqual(host.spawned[0], [undefined, 'pkg:pub.os/pkg/worker.wasm', { tag: 'none' }, [], [[lib.processId('a:b:c'), '{"x":1}']], false]);
  host.spawnResult = { error: 'no-file-at-path' };
  assert.throws(() => lib.spawn({ wasmPath: 'p:u/pkg/none.wasm' }), (e: Error) => e instanceof lib.SpawnError && e.kind === 'no-file-at-path' && /could not read 'p:u\/pkg\/none.wasm' through the VFS/.test(e.message));
  host.spawnResult = { error: 'name-taken' };
  assert.throws(() => lib.spawn({ name: 'w', wasmPath: 'p:u/pkg/w.wasm' }), /the kernel did not answer for 'w'/);
  assert.equal(lib.ownWasmPath(lib.parseAddress('n.os@chat:chat:template.os'), 'w.wasm'), 'chat:template.os/pkg/w.wasm');
});

test('callInit parses our address; script answers when asked and prints otherwise', () => {
  let seen: unknown;
  lib.callInit((our) => {
    seen = our;
  })('n.os@p:k:u');
  assert.deepEqual(seen, lib.parseAddress('n.os@p:k:u'));

  const terminal = lib.parseAddress('n.os@terminal:terminal:sys');
  const run = lib.script((_our, args) => `you said ${args}`);
  host.incoming.push({ source: terminal, message: { tag: 'request', val: fake.request('hello') } });
  run('n.os@s:k:u');
  assert.deepEqual(host.prints, [[0, 'you said hello']]);
  host.incoming.push({ source: terminal, message: { tag: 'request', val: fake.request('again', { expectsResponse: 5n }) } });
  run('n.os@s:k:u');
  assert.equal(dec(host.responses[0].response.body), 'you said again');
});

test('features come from the build define; none when it is absent', () => {
  const g = globalThis as { __KIT_FEATURES__?: unknown };
  delete g.__KIT_FEATURES__;
  assert.deepEqual(lib.features(), []);
  assert.equal(lib.hasFeature('test'), false);
  g.__KIT_FEATURES__ = ['test', 'extra'];
  assert.equal(lib.hasFeature('test'), true);
  g.__KIT_FEATURES__ = 'a, b';
  assert.deepEqual(lib.features(), ['a', 'b']);
  delete g.__KIT_FEATURES__;
});

test('OnExits.requests builds fire-and-forget WIT requests', () => {
  const o = lib.OnExits.requests([{ target: 'n.os@a:b:c', body: enc('bye') }]);
  assert.equal(o.tag, 'requests');
  assert.equal(o.tag === 'requests' && o.val[0][1].expectsResponse, undefined);
  lib.setOnExit(lib.OnExits.none);
  assert.deepEqual(lib.getOnExit(), { tag: 'none' });
});
