// A terminal script: `download:file-transfer:template.os <file name> <node>` fetches a file from
// another node's files drive into ours.
import { addressToWitJson, processId, Request, script } from 'kit/process';

export const init = script((our, args) => {
  const [name, node, ...rest] = args.trim().split(/\s+/);
  if (!name || !node || rest.length > 0) return 'usage: download:file-transfer:template.os <file name> <node>';
  const process = processId('file-transfer:file-transfer:template.os');
  const reply = Request.to({ node: our.node, process })
    .json({ Download: { name, target: addressToWitJson({ node, process }), is_requestor: true } })
    .sendAndAwaitResponse(5)
    .json();
  if (reply.Download?.Err !== undefined) return `download failed: ${reply.Download.Err}`;
  return '';
});
