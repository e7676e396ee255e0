// The chat process: sends messages to the chat process on other nodes, prints the ones it gets,
// and keeps each conversation. Its API is in api/chat:template.os-v0.wit; try it from a node's
// terminal:
//   m our@chat:chat:template.os '{"Send": {"target": "fake2.dev", "message": "hello"}}'
//   m our@chat:chat:template.os '{"History": "fake2.dev"}' -a 5
import {
  awaitMessage,
  callInit,
  getTypedState,
  processId,
  println,
  Request,
  respondJson,
  setState,
} from 'kit/process';

const PEER_PROCESS = processId('chat:chat:template.os');

function record(archive, node, entry) {
  archive[node] = [...(archive[node] ?? []), entry];
  // Saved so the history survives a restart of the process or the node.
  setState(archive);
}

function handle(our, message, archive) {
  if (!message.isRequest()) return; // Responses to our Sends are awaited where they are sent.
  const request = message.json();
  if ('Send' in request) {
    const { target, message: text } = request.Send;
    if (target === our.node) {
      // A message for us, from the chat process of another node (or from ourselves).
      println(`${message.source.node}: ${text}`);
      record(archive, message.source.node, { author: message.source.node, content: text });
    } else {
      // Anyone who may message us can ask us to send: the Quick Start's `kit inject-message --node fake2.dev`
      // asks fake2.dev's chat, from fake.dev, to send to fake.dev.
      const reply = Request.to({ node: target, process: PEER_PROCESS })
        .json(request)
        .sendAndAwaitResponse(5)
        .json();
      if (reply !== 'Send') throw new Error(`${target} answered ${JSON.stringify(reply)}`);
      record(archive, target, { author: our.node, content: text });
    }
    respondJson('Send');
  } else if ('History' in request) {
    respondJson({ History: archive[request.History] ?? [] });
  } else {
    throw new Error(`unknown request ${message.text()}`);
  }
}

export const init = callInit((our) => {
  const archive = getTypedState() ?? {};
  for (;;) {
    try {
      handle(our, awaitMessage(), archive);
    } catch (e) {
      println(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
});
