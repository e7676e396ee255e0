// A terminal script: `list-files:file-transfer:template.os <node>` shows the files a node shares.
import { MessageSendError, processId, Request, script } from 'kit/process';

interface FileInfo {
  name: string;
  size: number;
}

export const init = script((_our, args) => {
  const node = args.trim();
  if (node === '' || node.includes(' ')) return 'usage: list-files:file-transfer:template.os <node>';
  let reply: { ListFiles?: FileInfo[] };
  try {
    reply = Request.to({ node, process: processId('file-transfer:file-transfer:template.os') })
      .json('ListFiles')
      .sendAndAwaitResponse(5)
      .json<{ ListFiles?: FileInfo[] }>();
  } catch (e) {
    // An unknown or offline node, or no answer: say so rather than crash the script.
    if (e instanceof MessageSendError) return e.message;
    throw e;
  }
  if (reply.ListFiles === undefined) return `unexpected answer from ${node}: ${JSON.stringify(reply)}`;
  const lines = reply.ListFiles.map((f) => `${f.name.split('/').pop()}\t\t${f.size}`);
  return [`${node} available files:`, 'File\t\tSize (bytes)', ...lines].join('\n');
});
