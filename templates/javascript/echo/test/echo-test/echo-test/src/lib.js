// The echo test: what goes in must come back unchanged, JSON or not, with its blob.
import { assertEqual, fromUtf8, processId, Request, requestJson, testPackage } from 'kit/process';

const PROCESS = processId('echo:echo:template.os');

export const init = testPackage('echo-test', ({ our }) => {
  const target = { node: our.node, process: PROCESS };

  const value = { hello: 'world', n: 42, list: [1, 2, 3] };
  assertEqual(requestJson(target, value, 15), value, 'JSON body');

  const bytes = Uint8Array.from([0, 1, 2, 127, 128, 254, 255]);
  const reply = Request.to(target)
    .body(bytes)
    .blobBytes('a blob rides along', 'text/plain')
    .metadata('some metadata')
    .sendAndAwaitResponse(15);
  assertEqual(reply.body, bytes, 'binary body');
  assertEqual(reply.metadata, 'some metadata', 'metadata');
  const blob = reply.blob();
  assertEqual(blob === undefined ? undefined : fromUtf8(blob.bytes), 'a blob rides along', 'blob');
});
