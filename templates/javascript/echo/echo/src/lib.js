// Answers every Request with what it was sent: the same body, blob and metadata.
// Try it from a node's terminal: m our@echo:echo:template.os '{"hello": "world"}' -a 5
import { addressToString, awaitMessage, callInit, println, respond } from 'kit/process';

/** The body as text if it is JSON, else its size: enough to see what came in. */
function describe(body, text) {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return `${body.length} bytes`;
  }
}

export const init = callInit(() => {
  for (;;) {
    try {
      const message = awaitMessage();
      if (!message.isRequest()) continue;
      println(`got ${describe(message.body, message.text())} from ${addressToString(message.source)}`);
      respond(message.body, { blob: message.blob(), metadata: message.metadata });
    } catch (e) {
      println(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
});
