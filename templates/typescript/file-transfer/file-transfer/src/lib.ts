// The file-transfer process (book: Simple File Transfer Guide). It shares the files in its
// `files` drive, lists them on request, and starts a worker process for each download or upload.
// Try it: put a file in <node home>/vfs/file-transfer:template.os/files/, then on another node
//   list-files:file-transfer:template.os <that node>
//   download:file-transfer:template.os <file name> <that node>
import {
  type Address,
  awaitMessage,
  callInit,
  getCapability,
  hasFeature,
  type Message,
  moduleAddress,
  packageOf,
  print,
  println,
  respondJson,
  vfs,
} from 'kit/process';
import {
  type FileInfo,
  isPlainName,
  startDownload,
  type TransferResponse,
  type WorkerRequest,
  type WorkerResponse,
} from '../../file-transfer-worker-api/src/index';

function listFiles(drive: string): FileInfo[] {
  return vfs
    .readDir(drive)
    .filter((entry) => entry.file_type === 'File')
    .map((entry) => ({ name: entry.path, size: vfs.metadata(entry.path).len }));
}

// Built only into test builds (kit run-tests builds with `--features test`): hands the tester's
// processes on this node the capabilities for our files drive, so a test can put files there.
function handleTestCaps(our: Address, message: Message, drive: string): void {
  const from = message.source.process;
  if (!message.isLocal() || from.packageName !== 'tester' || from.publisherNode !== 'sys')
    throw new Error(`Caps is only for the tester on this node, not ${message.source.node}@${from.processName}`);
  const vfsAddress = moduleAddress(our.node, 'vfs');
  const capabilities = ['read', 'write']
    .map((kind) => getCapability(vfsAddress, { kind, drive }))
    .filter((cap) => cap !== undefined);
  respondJson('Caps', { capabilities });
}

function handle(our: Address, message: Message, drive: string): void {
  const body = message.json<unknown>();
  if (message.isResponse()) {
    // A worker's answer to the job we gave it.
    const answer = body as WorkerResponse;
    if (typeof answer === 'object' && 'Download' in answer && 'Err' in answer.Download)
      println(`download failed: ${answer.Download.Err}`);
    return;
  }
  if (body === 'ListFiles') {
    respondJson({ ListFiles: listFiles(drive) } satisfies TransferResponse);
    return;
  }
  if (body === 'Caps' && hasFeature('test')) {
    handleTestCaps(our, message, drive);
    return;
  }
  const request = body as WorkerRequest;
  if (typeof request === 'object' && request !== null && 'Download' in request) {
    const { name, is_requestor } = request.Download;
    if (!isPlainName(name)) {
      respondJson({ Download: { Err: `'${name}' is not a plain file name` } } satisfies WorkerResponse);
    } else if (!is_requestor && !vfs.exists(`${drive}/${name}`)) {
      respondJson({ Download: { Err: `no file '${name}' on ${our.node}` } } satisfies WorkerResponse);
    } else {
      startDownload(our, message.source, request.Download);
    }
    return;
  }
  if (typeof request === 'object' && request !== null && 'Progress' in request) {
    const { name, progress } = request.Progress;
    print(progress >= 100 ? 0 : 1, progress >= 100 ? `downloaded ${name}` : `${name}: ${progress}%`);
    if (message.expectsResponse !== undefined) respondJson('Progress' satisfies WorkerResponse);
    return;
  }
  throw new Error(`unknown request ${message.text()}`);
}

export const init = callInit((our) => {
  const drive = vfs.createDrive(packageOf(our), 'files');
  for (;;) {
    try {
      handle(our, awaitMessage(), drive);
    } catch (e) {
      println(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
});
