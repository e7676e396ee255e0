// The runtime-module clients: each request's target and JSON body against the shapes Hyperdrive's
// modules read (the book's API Reference where it agrees), the blob where the API puts data, and
// how answers and errors come back.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { bodyJson, fake, lib } from './helpers/lib.js';

const { vfs, kv, sqlite, httpServer, httpClient, timer, eth, net, kernel, homepage } = lib;
let host: InstanceType<typeof fake.FakeHost>;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const PKG = { packageName: 'pkg', publisherNode: 'pub.os' };

/** Answer every awaited request with this JSON (and blob), remembering what was sent. */
function answerWith(json: unknown, blob?: string) {
  host.answer = () => ({
    response: fake.response(JSON.stringify(json)),
    blob: blob === undefined ? undefined : { bytes: enc(blob), mime: undefined },
  });
}

function lastSent() {
  const s = host.awaited.at(-1)!;
  const body = bodyJson(s.request.body) as { action?: unknown } & Record<string, unknown>;
  return { target: lib.addressToString(s.target), body, blob: s.blob, timeout: s.request.expectsResponse };
}

beforeEach(() => {
  host = fake.installHost();
});

test('vfs: requests are {path, action}, data rides in the blob', () => {
  answerWith('Ok');
  assert.equal(vfs.createDrive(PKG, 'files'), '/pkg:pub.os/files');
  assert.deepEqual(lastSent(), { target: 'fake.dev@vfs:distro:sys', body: { path: '/pkg:pub.os/files', action: 'CreateDrive' }, blob: undefined, timeout: 5n });

  vfs.writeFile('/pkg:pub.os/files/a.txt', enc('hello'));
  assert.deepEqual(lastSent().body, { path: '/pkg:pub.os/files/a.txt', action: 'Write' });
  assert.equal(dec(lastSent().blob!.bytes), 'hello');

  const file = vfs.openFile('/pkg:pub.os/files/a.txt', true);
  assert.deepEqual(lastSent().body, { path: '/pkg:pub.os/files/a.txt', action: { OpenFile: { create: true } } });
  file.append(enc('!'));
  assert.deepEqual(lastSent().body.action, 'Append');

  answerWith({ SeekFrom: { new_offset: 3 } });
  assert.equal(file.seek({ Start: 3 }), 3);
  assert.deepEqual(lastSent().body.action, { Seek: { Start: 3 } });

  answerWith('Read', 'contents');
  assert.equal(dec(vfs.readFile('pkg:pub.os/files/a.txt')), 'contents');
  assert.deepEqual(lastSent().body.action, 'Read');

  answerWith({ ReadDir: [{ path: 'pkg:pub.os/files/a.txt', file_type: 'File' }] });
  assert.deepEqual(vfs.readDir('/pkg:pub.os/files'), [{ path: 'pkg:pub.os/files/a.txt', file_type: 'File' }]);

  answerWith({ Metadata: { file_type: 'File', len: 5 } });
  assert.equal(file.metadata().len, 5);
  answerWith({ Hash: Array.from({ length: 32 }, (_, i) => i) });
  assert.equal(file.hash().length, 32);
});

test('vfs: {"Err": ...} (Hyperdrive\'s VfsError) becomes a VfsError that explains the fix', () => {
  answerWith({ Err: 'NoReadCap' });
  assert.throws(
    () => vfs.readFile('/other:pub.os/files/x'),
    (e: Error) => e instanceof lib.VfsError && e.variant === 'NoReadCap' && /needs \{"kind": "read"/.test(e.message),
  );
  answerWith({ Err: 'NoWriteCap' });
  assert.throws(() => vfs.writeFile('/other:pub.os/files/x', enc('x')), /OpenFile and CloseFile need write too/);
  answerWith({ Err: { IOError: 'No such file or directory (os error 2)' } });
  assert.throws(
    () => vfs.readFile('/pkg:pub.os/files/x'),
    (e: Error) => e instanceof lib.VfsError && lib.vfs.isNotFound(e) && /I\/O error: No such file/.test(e.message),
  );
  answerWith({ Err: { IOError: 'No such file or directory (os error 2)' } });
  assert.equal(vfs.exists('/pkg:pub.os/files/x'), false);
  answerWith({ Metadata: { file_type: 'File', len: 1 } });
  assert.throws(
    () => vfs.openDir('/pkg:pub.os/files/x', false),
    (e: Error) => e instanceof lib.VfsError && /is a File, not a directory/.test(e.message) && (e.error as { IOError: string }).IOError === 'entry at path is not a directory',
  );
  answerWith('Read');
  assert.throws(() => vfs.readDir('/pkg:pub.os/files'), (e: Error) => e instanceof lib.UnexpectedResponseError);
});

test('kv: envelope {package_id, db, action}, keys as byte arrays, values in the blob', () => {
  answerWith('Ok');
  const db = kv.open(PKG, 'birthdays');
  assert.deepEqual(lastSent(), {
    target: 'fake.dev@kv:distro:sys',
    body: { package_id: { package_name: 'pkg', publisher_node: 'pub.os' }, db: 'birthdays', action: 'Open' },
    blob: undefined,
    timeout: 5n,
  });
  db.set('hi', 'there');
  assert.deepEqual(lastSent().body.action, { Set: { key: [104, 105], tx_id: null } });
  assert.equal(dec(lastSent().blob!.bytes), 'there');
  db.delete(Uint8Array.from([1, 2]), 7);
  assert.deepEqual(lastSent().body.action, { Delete: { key: [1, 2], tx_id: 7 } });

  answerWith({ Get: [104, 105] }, '{"x":1}');
  assert.deepEqual(db.getJson('hi'), { x: 1 });
  assert.deepEqual(lastSent().body.action, { Get: [104, 105] });

  answerWith({ Err: 'KeyNotFound' });
  assert.equal(db.get('missing'), undefined);
  answerWith({ Err: 'NoWriteCap' });
  assert.throws(() => db.set('k', 'v'), (e: Error) => e instanceof lib.KvError && /have it grant us the capability/.test(e.message));

  answerWith({ BeginTx: { tx_id: 42 } });
  assert.equal(db.beginTx(), 42);
  answerWith('Ok');
  db.commitTx(42);
  assert.deepEqual(lastSent().body.action, { Commit: { tx_id: 42 } });
  // a u64 id above 2^53 (Hyperdrive's are random u64s) comes back and goes out digit for digit
  host.answer = () => ({ response: fake.response('{"BeginTx":{"tx_id":18446744073709551615}}'), blob: undefined });
  const big = db.beginTx();
  assert.equal(big, 18446744073709551615n);
  answerWith('Ok');
  db.set('k', 'v', big);
  assert.match(dec(host.awaited.at(-1)!.request.body), /"tx_id":18446744073709551615\}/);
});

test('sqlite: statements in the body, params and rows as JSON in blobs', () => {
  answerWith('Ok');
  const db = sqlite.open(PKG, 'users');
  assert.equal(lastSent().target, 'fake.dev@sqlite:distro:sys');
  db.write('INSERT INTO users (name) VALUES (?)', ['Bob']);
  assert.deepEqual(lastSent().body.action, { Write: { statement: 'INSERT INTO users (name) VALUES (?)', tx_id: null } });
  assert.equal(dec(lastSent().blob!.bytes), '["Bob"]');

  answerWith('Read', '[{"name":"Bob"}]');
  assert.deepEqual(db.read('SELECT name FROM users WHERE id = ?', [1]), [{ name: 'Bob' }]);
  assert.deepEqual(lastSent().body.action, { Query: 'SELECT name FROM users WHERE id = ?' });
  assert.equal(dec(lastSent().blob!.bytes), '[1]');

  answerWith({ Err: 'NotAWriteKeyword' });
  assert.throws(() => db.write('SELECT 1'), (e: Error) => e instanceof lib.SqliteError && /use read\(\) for SELECT/.test(e.message));
  // bytes go as standard base64, which sqlite:distro:sys binds as a BLOB
  answerWith('Ok');
  db.write('INSERT INTO t (b) VALUES (?)', [Uint8Array.from([0, 255, 7])]);
  assert.equal(dec(lastSent().blob!.bytes), '["AP8H"]');
});

test('http-server: Bind shapes, static content in the blob, HTTP responses', () => {
  answerWith({ Ok: null });
  httpServer.bind('/messages');
  assert.deepEqual(lastSent().body, { Bind: { path: '/messages', authenticated: true, local_only: false, cache: false } });
  assert.equal(lastSent().target, 'fake.dev@http-server:distro:sys');
  httpServer.serveStatic('/', '<h1>hi</h1>', 'text/html', { authenticated: false });
  assert.deepEqual(lastSent().body, { Bind: { path: '/', authenticated: false, local_only: false, cache: true } });
  assert.equal(lastSent().blob!.mime, 'text/html');
  httpServer.bindWebSocket('/ws');
  assert.deepEqual(lastSent().body, { WebSocketBind: { path: '/ws', authenticated: true, extension: false } });

  answerWith({ Err: 'InvalidSourceProcess' });
  assert.throws(() => httpServer.bind('/x'), (e: Error) => e instanceof lib.HttpServerError && e.error === 'InvalidSourceProcess');

  httpServer.wsPush(7, 'Text', 'hello');
  assert.deepEqual(bodyJson(host.requests[0].request.body), { WebSocketPush: { channel_id: 7, message_type: 'Text' } });
  assert.equal(dec(host.requests[0].blob!.bytes), 'hello');

  httpServer.sendJsonResponse(200, { ok: true });
  assert.deepEqual(bodyJson(host.responses[0].response.body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  assert.equal(dec(host.responses[0].blob!.bytes), '{"ok":true}');
});

test('http-server: incoming requests are recognised and their path read', () => {
  const incoming = {
    Http: {
      source_socket_addr: '127.0.0.1:5000',
      method: 'GET',
      url: 'http://localhost:8080/chat:chat:template.os/messages?x=1',
      bound_path: '/chat:chat:template.os/messages',
      headers: {},
      url_params: {},
      query_params: { x: '1' },
    },
  };
  host.incoming.push({
    source: lib.parseAddress('fake.dev@http-server:distro:sys'),
    message: { tag: 'request', val: fake.request(JSON.stringify(incoming), { expectsResponse: 15n }) },
  });
  const parsed = httpServer.parseRequest(lib.awaitMessage());
  assert.ok(parsed && 'Http' in parsed);
  assert.equal(httpServer.requestPath(parsed.Http), '/chat:chat:template.os/messages');
});

test('http-server: WebSockets keeps channels by the path WebSocketOpen names and pushes to all of them', () => {
  const sockets = new httpServer.WebSockets();
  assert.equal(sockets.track({ WebSocketOpen: { path: '/', channel_id: 1, source_socket_addr: null, forwarded_for: null } }), true);
  sockets.track({ WebSocketOpen: { path: '/', channel_id: 2 } });
  sockets.track({ WebSocketOpen: { path: '/ws', channel_id: 3 } });
  sockets.track({ WebSocketClose: 2 });
  assert.deepEqual(sockets.channels('/'), [1]);
  sockets.pushAll('/', 'Text', 'news');
  assert.deepEqual(
    host.requests.map((r) => bodyJson(r.request.body)),
    [{ WebSocketPush: { channel_id: 1, message_type: 'Text' } }],
  );
  assert.equal(sockets.track({ WebSocketPush: { channel_id: 1, message_type: 'Text' } }), false);
});

test('http-client: {"Http": {method, version, url, headers}} with the body in the blob', () => {
  answerWith({ Ok: { Http: { status: 201, headers: { a: 'b' } } } }, 'created');
  const r = httpClient.fetch('https://example.com/x', { method: 'POST', body: 'data', timeout: 9 });
  assert.deepEqual(lastSent().body, { Http: { method: 'POST', version: null, url: 'https://example.com/x', headers: {} } });
  assert.equal(lastSent().timeout, 9n);
  assert.equal(dec(lastSent().blob!.bytes), 'data');
  assert.deepEqual({ status: r.status, headers: r.headers, body: dec(r.body) }, { status: 201, headers: { a: 'b' }, body: 'created' });
  answerWith({ Ok: { Http: { status: 200, headers: { 'Content-Type': 'text/plain' } } } }, '');
  assert.equal(httpClient.fetch('https://example.com/').header('content-type'), 'text/plain');
  answerWith({ Err: { BadUrl: { url: 'nope' } } });
  assert.throws(() => httpClient.fetch('nope'), (e: Error) => e instanceof lib.HttpClientError && e.variant === 'BadUrl');
  answerWith({ Ok: 'WebSocketAck' });
  httpClient.wsOpen('wss://x', 3);
  assert.deepEqual(lastSent().body, { WebSocketOpen: { url: 'wss://x', headers: {}, channel_id: 3 } });
  answerWith({ Err: { WsPushUnknownChannel: { channel_id: 4 } } });
  assert.throws(
    () => httpClient.wsPush(4, 'Text', 'x'),
    (e: Error) => e instanceof lib.HttpClientError && e.variant === 'WsPushUnknownChannel' && /open it with wsOpen first/.test(e.message),
  );
});

test('timer: {"SetTimer": ms}, awaited a little longer than the timer', () => {
  timer.sleep(2500);
  assert.deepEqual(lastSent(), { target: 'fake.dev@timer:distro:sys', body: { SetTimer: 2500 }, blob: undefined, timeout: 4n });
  timer.setTimer(100, 'tick');
  assert.deepEqual(bodyJson(host.requests[0].request.body), { SetTimer: 100 });
  assert.equal(dec(host.requests[0].context!), 'tick');
  assert.throws(() => timer.timerAction(-1), /whole number/);
});

test('eth: {"Request": {chain_id, method, params}} answered {"Response": ...}', () => {
  answerWith({ Response: '0x10' });
  const p = new eth.Provider(31337, 20);
  assert.equal(p.getBlockNumber(), 16n);
  assert.deepEqual(lastSent(), {
    target: 'fake.dev@eth:distro:sys',
    body: { Request: { chain_id: 31337, method: 'eth_blockNumber', params: [] } },
    blob: undefined,
    timeout: 20n,
  });
  answerWith('Ok');
  p.subscribe(1, 'logs', { address: '0x0' });
  assert.deepEqual(lastSent().body, { SubscribeLogs: { sub_id: 1, chain_id: 31337, kind: 'logs', params: { address: '0x0' } } });
  answerWith({ Err: 'NoRpcForChain' });
  assert.throws(() => p.getChainId(), (e: Error) => e instanceof lib.EthError && /no provider for this chain/.test(e.message));
  answerWith({ Err: { InvalidMethod: 'evm_mine' } });
  assert.throws(() => p.request('evm_mine'), (e: Error) => e instanceof lib.EthError && e.variant === 'InvalidMethod' && /eth_getLogs/.test(e.message));
  answerWith({ Providers: [{ chain_id: 1, trusted: true, provider: { RpcUrl: { url: 'wss://x' } } }] });
  assert.deepEqual(eth.configure('GetProviders'), { Providers: [{ chain_id: 1, trusted: true, provider: { RpcUrl: { url: 'wss://x' } } }] });
  assert.deepEqual(lastSent().body, 'GetProviders');
});

test("net: hi goes to the other node's net module as plain text", () => {
  host.answer = () => ({ response: fake.response('ack') });
  assert.equal(net.hi('fake2.dev', 'hello!'), 'ack');
  const s = host.awaited[0];
  assert.equal(lib.addressToString(s.target), 'fake2.dev@net:distro:sys');
  assert.equal(dec(s.request.body), 'hello!');
  assert.equal(s.request.expectsResponse, 10n);
});

test('kernel: Debug Process and KillProcess with ids as strings', () => {
  answerWith({ Debug: { Process: { wasm_bytes_handle: '/chat:template.os/pkg/chat.wasm', wit_version: 1, on_exit: 'Restart', capabilities: [], public: true } } });
  const info = kernel.processInfo(lib.processId('chat:chat:template.os'));
  assert.equal(info?.public, true);
  assert.deepEqual(lastSent().body, { Debug: { Process: 'chat:chat:template.os' } });
  answerWith({ Debug: { Process: null } });
  assert.equal(kernel.processInfo(lib.processId('x:y:z')), undefined);
  answerWith({ KilledProcess: 'x:y:z' });
  kernel.killProcess(lib.processId('x:y:z'));
  assert.deepEqual(lastSent().body, { KillProcess: 'x:y:z' });
  kernel.grantCapabilities(lib.processId('x:y:z'), [lib.messagingCapability('fake.dev@a:b:c')]);
  assert.deepEqual(bodyJson(host.requests[0].request.body), {
    GrantCapabilities: { target: 'x:y:z', capabilities: [{ issuer: 'fake.dev@a:b:c', params: '"messaging"' }] },
  });
});

test('homepage: Add and Remove as process_lib sends them (src/homepage.rs), fire-and-forget to homepage:homepage:sys', () => {
  homepage.addToHomepage('My First App', 'data:image/png;base64,AAAA', '/', '<h1>hi</h1>');
  let sent = host.requests.at(-1)!;
  assert.equal(lib.addressToString(sent.target), 'fake.dev@homepage:homepage:sys');
  assert.equal(sent.request.expectsResponse, undefined);
  assert.deepEqual(bodyJson(sent.request.body), { Add: { label: 'My First App', icon: 'data:image/png;base64,AAAA', path: '/', widget: '<h1>hi</h1>' } });
  homepage.addToHomepage('Bare');
  assert.deepEqual(bodyJson(host.requests.at(-1)!.request.body), { Add: { label: 'Bare', icon: null, path: null, widget: null } });
  homepage.removeFromHomepage();
  sent = host.requests.at(-1)!;
  assert.equal(dec(sent.request.body), '"Remove"');
  assert.equal(host.awaited.length, 0, 'nothing waits for an answer');
});

test('http-server: serveFile binds one file of the pkg drive at each path, cached', () => {
  host.answer = (s) => {
    const body = bodyJson(s.request.body) as { action?: unknown };
    if (body.action === 'Read') return { response: fake.response('"Read"'), blob: { bytes: enc('<h1>page</h1>'), mime: undefined } };
    return { response: fake.response(JSON.stringify(body.action === 'CreateDrive' ? 'Ok' : { Ok: null })) };
  };
  httpServer.serveFile('ui/index.html', ['/', '/home']);
  const reads = host.awaited.filter((s) => (bodyJson(s.request.body) as { action?: unknown }).action === 'Read');
  assert.deepEqual(bodyJson(reads[0].request.body), { path: '/pkg:pub.os/pkg/ui/index.html', action: 'Read' });
  const binds = host.awaited.filter((s) => lib.addressToString(s.target) === 'fake.dev@http-server:distro:sys');
  assert.deepEqual(
    binds.map((b) => bodyJson(b.request.body)),
    ['/', '/home'].map((path) => ({ Bind: { path, authenticated: true, local_only: false, cache: true } })),
  );
  assert.equal(dec(binds[1].blob!.bytes), '<h1>page</h1>');
  assert.equal(binds[1].blob!.mime, 'text/html; charset=utf-8');
});
