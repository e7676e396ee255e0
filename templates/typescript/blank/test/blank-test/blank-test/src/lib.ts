// The blank test: the package installed its process as the manifest says, and a process without
// its capability cannot message it.
import {
  assert,
  assertEqual,
  fail,
  kernel,
  MessageSendError,
  processId,
  Request,
  testPackage,
} from 'kit/process';

const PROCESS = processId('blank:blank:template.os');

export const init = testPackage('blank-test', ({ our }) => {
  const info = kernel.processInfo(PROCESS);
  assert(info !== undefined, 'the process is not running; was the package started?');
  assertEqual(info.public, false, 'public flag');
  assert(info.wasm_bytes_handle.endsWith('/pkg/blank.wasm'), `wasm handle ${info.wasm_bytes_handle}`);

  try {
    Request.to({ node: our.node, process: PROCESS }).body('hello').sendAndAwaitResponse(2);
    fail('a process without the capability reached the blank process');
  } catch (e) {
    if (!(e instanceof MessageSendError)) throw e;
    assertEqual(e.kind, 'timeout', 'how the request failed');
  }
});
