// A terminal script: `send:chat:template.os <node> <message>` sends a chat message from this node.
import { processId, Request, script } from 'kit/process';

export const init = script((our, args) => {
  const space = args.indexOf(' ');
  if (space <= 0) return 'usage: send:chat:template.os <node> <message>';
  const target = args.slice(0, space);
  const message = args.slice(space + 1);
  const reply = Request.to({ node: our.node, process: processId('chat:chat:template.os') })
    .json({ Send: { target, message } })
    .sendAndAwaitResponse(5)
    .json();
  return reply === 'Send' ? '' : `unexpected answer: ${JSON.stringify(reply)}`;
});
