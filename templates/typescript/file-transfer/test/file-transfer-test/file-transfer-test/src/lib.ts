// The file-transfer test, on two fake nodes: put a file on the first node, have the second node
// download it, delete ours, download it back, and compare the bytes with what we wrote.
import {
  type Address,
  addressToWitJson,
  assert,
  assertBytesEqual,
  assertEqual,
  fail,
  processId,
  Request,
  requestJson,
  saveCapabilities,
  testPackage,
  timer,
  vfs,
} from 'kit/process';

const PROCESS = processId('file-transfer:file-transfer:template.os');
const DRIVE = '/file-transfer:template.os/files';
const NAME = 'kit-test-file.bin';
// Over one chunk (1 MiB), so the transfer takes several messages.
const SIZE = 1024 * 1024 + 12_345;

function sizeOn(node: Address, name: string): number | undefined {
  const reply = requestJson<{ ListFiles: Array<{ name: string; size: number }> }>(node, 'ListFiles', 15);
  return reply.ListFiles.find((f) => f.name.split('/').pop() === name)?.size;
}

function waitFor(what: string, done: () => boolean): void {
  for (let i = 0; i < 200; i++) {
    if (done()) return;
    timer.sleep(100);
  }
  fail(`gave up waiting for ${what}`);
}

function download(from: Address, to: Address): void {
  const started = requestJson(to, { Download: { name: NAME, target: addressToWitJson(from), is_requestor: true } }, 15);
  assertEqual(started, { Download: { Ok: null } }, `${to.node} starting the download`);
}

export const init = testPackage('file-transfer-test', ({ our, nodes }) => {
  assert(nodes.length >= 2, 'this test needs two nodes (see test/tests.toml)');
  const ours: Address = { node: our.node, process: PROCESS };
  const theirs: Address = { node: nodes[1], process: PROCESS };

  // Capabilities for the files drive on our node, to write and read the file ourselves.
  const caps = Request.to(ours).json('Caps').sendAndAwaitResponse(15);
  assert(
    caps.capabilities.length === 2,
    'no capabilities for the files drive: the package must be built with `--features test` (kit run-tests does that)',
  );
  saveCapabilities(caps.capabilities);

  const content = Uint8Array.from({ length: SIZE }, (_, i) => (i * 31 + (i >> 10)) & 0xff);
  const path = `${DRIVE}/${NAME}`;
  vfs.writeFile(path, content);
  assertEqual(sizeOn(ours, NAME), SIZE, 'the file listed on our node');
  assert(sizeOn(theirs, NAME) === undefined, 'the file is on their node before the download');

  download(ours, theirs);
  waitFor('the file to arrive on the second node', () => sizeOn(theirs, NAME) === SIZE);

  vfs.removeFile(path);
  assert(sizeOn(ours, NAME) === undefined, 'our copy is still listed after removing it');

  download(theirs, ours);
  waitFor('the file to come back', () => sizeOn(ours, NAME) === SIZE);
  assertBytesEqual(vfs.readFile(path), content, 'the file after the round trip');
});
