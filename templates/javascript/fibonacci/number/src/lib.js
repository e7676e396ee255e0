// A terminal script: `number:fibonacci:template.os 10` asks this node's fibonacci process for
// fib(10); the process prints the result.
import { processId, Request, script } from 'kit/process';

export const init = script((our, args) => {
  const n = Number(args.trim());
  if (args.trim() === '' || !Number.isInteger(n)) return 'usage: number:fibonacci:template.os <n>';
  const reply = Request.to({ node: our.node, process: processId('fibonacci:fibonacci:template.os') })
    .json({ Number: n })
    .sendAndAwaitResponse(5)
    .json();
  return reply.Number === undefined ? `unexpected answer: ${JSON.stringify(reply)}` : '';
});
