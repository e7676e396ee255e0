// The templates as real components: each TypeScript template is generated, bundled and
// componentized (cached by content hash in test/.cache), and run against a small synchronous
// stand-in for the kernel (helpers/components.ts). The test packages run against the real
// package components and must pass; the processes show the behaviour the book describes.
// Running them on booted nodes with `kit run-tests` is the run-tests suite's job.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { Address, LazyLoadBlob, Request as WitRequest } from '../../src/core/types.js';
import { createPackage, type TemplateName } from '../../src/templates/index.js';
import { answerJson, loadProcess, MiniKernel, type RunComponent, requestOf, text } from './helpers/components.js';
import { ROOT, TEMPLATES_ROOT } from './helpers.js';

const PUBLISHER = 'foo.os';
const NAMES: Record<TemplateName, string> = { blank: 'my-blank', chat: 'my-chat', echo: 'my-echo', fibonacci: 'my-fib', 'file-transfer': 'my-files' };
const dir = join(ROOT, 'test', '.cache', 'template-packages');
const components: Record<string, RunComponent> = {};
const enc = new TextEncoder();

const addr = (node: string, name: string, pkg: string, publisher = PUBLISHER): Address => ({
  node,
  process: { processName: name, packageName: pkg, publisherNode: publisher },
});
const tester = (node: string) => addr(node, 'tester', 'tester', 'sys');
const testProcess = (node: string) => addr(node, '4242', 'tester', 'sys');
const run = (nodes: string[]) => requestOf(JSON.stringify({ Run: { input_node_names: nodes, test_names: ['t'], test_timeout: 15 } }));

before(async () => {
  // A fixed folder, so the bundles (and the cached components) are the same from run to run.
  rmSync(dir, { recursive: true, force: true });
  const want: Record<TemplateName, string[]> = {
    blank: ['test/my-blank-test/my-blank-test'],
    chat: ['my-chat', 'test/my-chat-test/my-chat-test'],
    echo: ['my-echo', 'test/my-echo-test/my-echo-test'],
    fibonacci: ['my-fib', 'test/my-fib-test/my-fib-test'],
    'file-transfer': ['my-files', 'my-files-worker'],
  };
  for (const [template, processes] of Object.entries(want) as Array<[TemplateName, string[]]>) {
    const pkg = join(dir, NAMES[template]);
    await createPackage({ dir: pkg, packageName: NAMES[template], publisher: PUBLISHER, template, templatesRoot: TEMPLATES_ROOT });
    for (const p of processes) {
      const name = p.split('/').pop()!;
      components[name] = await loadProcess(join(pkg, p, 'src', 'lib.ts'), name);
    }
  }
});

test('echo: the test package passes; bodies, blobs and metadata come back unchanged', () => {
  const k = new MiniKernel(components);
  const answer = k.deliver(tester('first.os'), addr('first.os', 'my-echo-test', 'tester', 'sys'), run(['first.os']));
  assert.equal(text(answer.response.body), '{"Run":{"Ok":null}}', k.prints.join('\n'));
  const bytes = Uint8Array.from([0, 255, 7]);
  const back = k.deliver(addr('first.os', 'x', 'y'), addr('first.os', 'my-echo', 'my-echo'), { ...requestOf(bytes), metadata: 'm' }, {
    bytes: enc.encode('blob'),
    mime: 'text/plain',
  });
  assert.deepEqual([...back.response.body], [0, 255, 7]);
  assert.equal(back.response.metadata, 'm');
  assert.equal(text(back.blob!.bytes), 'blob');
  assert.ok(k.prints.includes('first.os my-echo: got 3 bytes from first.os@x:y:foo.os'));
});

test('fibonacci: the test package passes; fib(93) comes back exactly', () => {
  const k = new MiniKernel(components);
  const answer = k.deliver(tester('first.os'), addr('first.os', 'my-fib-test', 'tester', 'sys'), run(['first.os']));
  assert.equal(text(answer.response.body), '{"Run":{"Ok":null}}', k.prints.join('\n'));
  const big = k.deliver(addr('first.os', 'x', 'y'), addr('first.os', 'my-fib', 'my-fib'), requestOf('{"Number": 93}'));
  assert.equal(text(big.response.body), '{"Number":12200160415121876738}');
  // The template's fibonacci() became my_fib() (placeholders keep identifiers valid).
  assert.ok(k.prints.includes('first.os my-fib: my_fib(93) = 12200160415121876738'));
});

test('chat: the two-node test passes; Send prints "<node>: <message>" on the receiving node', () => {
  const k = new MiniKernel(components);
  const answer = k.deliver(tester('first.os'), addr('first.os', 'my-chat-test', 'tester', 'sys'), run(['first.os', 'second.os']));
  assert.equal(text(answer.response.body), '{"Run":{"Ok":null}}', k.prints.join('\n'));

  // The Quick Start: a local Send to fake2.dev, then fake2.dev's history.
  const chat = (node: string) => addr(node, 'my-chat', 'my-chat');
  const sent = k.deliver(addr('fake.dev', 'terminal', 'terminal', 'sys'), chat('fake.dev'), requestOf('{"Send": {"target": "fake2.dev", "message": "hello world"}}'));
  assert.equal(text(sent.response.body), '"Send"');
  assert.ok(k.prints.includes('fake2.dev my-chat: fake.dev: hello world'), k.prints.join('\n'));
  const history = k.deliver(addr('x.os', 'x', 'x'), chat('fake2.dev'), requestOf('{"History": "fake.dev"}'));
  assert.equal(text(history.response.body), '{"History":[{"author":"fake.dev","content":"hello world"}]}');

  // As in the Quick Start's `--node fake2.dev`: another node asks ours to send, and it does.
  const relayed = k.deliver(chat('fake.dev'), chat('fake2.dev'), requestOf('{"Send": {"target": "fake.dev", "message": "replying"}}'));
  assert.equal(text(relayed.response.body), '"Send"');
  assert.ok(k.prints.includes('fake.dev my-chat: fake2.dev: replying'), k.prints.join('\n'));
});

function kernelStandIn(isPublic: boolean) {
  return {
    kernel: () =>
      answerJson({
        Debug: {
          Process: { wasm_bytes_handle: '/my-blank:foo.os/pkg/my-blank.wasm', wit_version: 1, on_exit: 'Restart', capabilities: [], public: isPublic },
        },
      }),
    // A process without the capability: the kernel hands the Request back as a Timeout.
    'my-blank': (_source: Address, request: WitRequest) => {
      throw Object.assign(new Error('no capability'), {
        payload: { kind: 'timeout', target: addr('first.os', 'my-blank', 'my-blank'), message: { tag: 'request', val: request } },
      });
    },
  };
}

test('blank: the test passes; when it fails it names the file and line, and the process ends', () => {
  const k = new MiniKernel(components, kernelStandIn(false));
  const ok = k.run(components['my-blank-test'], testProcess('first.os'), [{ source: tester('first.os'), message: { tag: 'request', val: run(['first.os']) } }]);
  assert.equal(text(ok.answers[0].response.body), '{"Run":{"Ok":null}}', k.prints.join('\n'));

  const bad = new MiniKernel(components, kernelStandIn(true));
  const failed = bad.run(components['my-blank-test'], testProcess('first.os'), [{ source: tester('first.os'), message: { tag: 'request', val: run(['first.os']) } }]);
  const err = JSON.parse(text(failed.answers[0].response.body)) as { Run: { Err: { test: string; file: string; line: number; column: number } } };
  assert.equal(err.Run.Err.test, 'my-blank-test');
  assert.equal(err.Run.Err.file, 'my-blank-test.js');
  assert.ok(err.Run.Err.line > 0 && err.Run.Err.column > 0);
  assert.notEqual(failed.outcome, 'stopped', 'a failed test ends its process');
  assert.ok(bad.prints.some((p) => p.endsWith(`${err.Run.Err.file}:${err.Run.Err.line}:${err.Run.Err.column}: public flag: got true, expected false`)));
});

/** An in-memory vfs:distro:sys for one node, answering in Hyperdrive's shapes. */
const ENOENT = 'No such file or directory (os error 2)';

function vfsStandIn(files: Map<string, Uint8Array>) {
  return (_source: Address, request: WitRequest, blob?: LazyLoadBlob) => {
    const { path: raw, action } = JSON.parse(text(request.body)) as { path: string; action: unknown };
    const path = raw.replace(/^\//, '');
    switch (action) {
      case 'CreateDrive':
        return answerJson('Ok');
      case 'Write':
        files.set(path, blob!.bytes);
        return answerJson('Ok');
      case 'CreateFile':
        files.set(path, new Uint8Array());
        return answerJson('Ok');
      case 'Append': {
        const old = files.get(path) ?? new Uint8Array();
        const joined = new Uint8Array(old.length + blob!.bytes.length);
        joined.set(old);
        joined.set(blob!.bytes, old.length);
        files.set(path, joined);
        return answerJson('Ok');
      }
      case 'Read':
        return files.has(path) ? answerJson('Read', files.get(path)) : answerJson({ Err: { IOError: ENOENT } });
      case 'Metadata':
        return files.has(path) ? answerJson({ Metadata: { file_type: 'File', len: files.get(path)!.length } }) : answerJson({ Err: { IOError: ENOENT } });
      case 'ReadDir':
        return answerJson({ ReadDir: [...files.keys()].filter((f) => f.startsWith(`${path}/`)).map((f) => ({ path: f, file_type: 'File' })) });
      case 'RemoveFile':
        files.delete(path);
        return answerJson('Ok');
      default:
        throw new Error(`vfs action not in this stand-in: ${JSON.stringify(action)}`);
    }
  };
}

test('file-transfer: listing, test-only capabilities, and a file moved by two workers', () => {
  const drive = 'my-files:foo.os/files';
  const first = new Map([[`${drive}/a.txt`, enc.encode('hello')]]);
  const k = new MiniKernel(components, { vfs: vfsStandIn(first) });
  const main = addr('first.os', 'my-files', 'my-files');
  const vfsCap = (kind: string) => ({ issuer: addr('first.os', 'vfs', 'distro', 'sys'), params: JSON.stringify({ kind, drive: `/${drive}` }) });
  k.capabilities.set('first.os@my-files:my-files:foo.os', [vfsCap('read'), vfsCap('write')]);
  const remoteWorker = addr('second.os', '5', 'my-files');
  const job = (name: string, isRequestor: boolean) =>
    JSON.stringify({ Download: { name, target: { node: 'second.os', process: { process_name: '5', package_name: 'my-files', publisher_node: PUBLISHER } }, is_requestor: isRequestor } });
  const r = k.run(components['my-files'], main, [
    { source: addr('second.os', 'x', 'y'), message: { tag: 'request', val: requestOf('"ListFiles"') } },
    { source: testProcess('first.os'), message: { tag: 'request', val: requestOf('"Caps"') } },
    { source: testProcess('evil.os'), message: { tag: 'request', val: requestOf('"Caps"') } },
    { source: remoteWorker, message: { tag: 'request', val: requestOf(job('missing.txt', false)) } },
    { source: remoteWorker, message: { tag: 'request', val: requestOf(job('../etc', false)) } },
    { source: remoteWorker, message: { tag: 'request', val: requestOf(job('a.txt', false)) } },
  ]);
  assert.deepEqual(
    r.answers.map((a) => [text(a.response.body), a.response.capabilities.length]),
    [
      ['{"ListFiles":[{"name":"my-files:foo.os/files/a.txt","size":5}]}', 0],
      ['"Caps"', 2],
      [`{"Download":{"Err":"no file 'missing.txt' on first.os"}}`, 0],
      [`{"Download":{"Err":"'../etc' is not a plain file name"}}`, 0],
      ['{"Download":{"Ok":null}}', 0],
    ],
  );
  assert.equal(k.spawned[0][1], 'my-files:foo.os/pkg/my-files-worker.wasm');
  assert.match(text(k.told[0].request.body), /^\{"Download":\{"name":"a.txt","target":\{"node":"second.os"/);

  // The providing worker sends the size, then chunks of 1 MiB...
  const big = Uint8Array.from({ length: 2 * 1024 * 1024 + 5 }, (_, i) => (i * 7) & 0xff);
  first.set(`${drive}/big.bin`, big);
  k.told.length = 0;
  const provider = k.run(components['my-files-worker'], addr('first.os', '1001', 'my-files'), [
    { source: main, message: { tag: 'request', val: requestOf(job('big.bin', false)) } },
  ]);
  assert.equal(provider.outcome, 'returned', 'a worker exits when its file is sent');
  assert.deepEqual(
    k.told.map((t) => [addressToText(t.target), text(t.request.body), t.blob?.bytes.length]),
    [
      ['second.os@5', '{"Size":2097157}', undefined],
      ['second.os@5', '{"Chunk":{"name":"big.bin","offset":0,"length":1048576}}', 1048576],
      ['second.os@5', '{"Chunk":{"name":"big.bin","offset":1048576,"length":1048576}}', 1048576],
      ['second.os@5', '{"Chunk":{"name":"big.bin","offset":2097152,"length":5}}', 5],
    ],
  );

  // ...which the requesting worker on the other node writes, reporting progress to its parent.
  const second = new Map<string, Uint8Array>();
  const k2 = new MiniKernel(components, { vfs: vfsStandIn(second) });
  const sent = k.told.map((t) => ({ source: addr('first.os', '1001', 'my-files'), message: { tag: 'request' as const, val: t.request }, blob: t.blob }));
  const fromFirst = { node: 'first.os', process: { process_name: 'my-files', package_name: 'my-files', publisher_node: PUBLISHER } };
  const requestor = k2.run(components['my-files-worker'], remoteWorker, [
    { source: addr('second.os', 'my-files', 'my-files'), message: { tag: 'request', val: requestOf(JSON.stringify({ Download: { name: 'big.bin', target: fromFirst, is_requestor: true } })) } },
    { source: main, message: { tag: 'response', val: [answerJson({ Download: { Ok: null } }).response, undefined] } },
    ...sent,
  ]);
  assert.equal(requestor.outcome, 'returned');
  assert.deepEqual(second.get(`${drive}/big.bin`), big);
  assert.deepEqual(
    k2.told.map((t) => text(t.request.body)).slice(1),
    [0, 49, 99, 100].map((p) => `{"Progress":{"name":"big.bin","progress":${p}}}`),
  );
});

function addressToText(a: Address): string {
  return `${a.node}@${a.process.processName}`;
}
