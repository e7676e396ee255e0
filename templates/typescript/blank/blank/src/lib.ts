// A blank process to start from: it prints every message it gets. It is not public, so only
// processes holding its messaging capability can reach it (see pkg/manifest.json).
import { addressToString, awaitMessage, callInit, println } from 'kit/process';

export const init = callInit(() => {
  for (;;) {
    try {
      const message = awaitMessage();
      println(`got a ${message.kind} from ${addressToString(message.source)}: ${message.text()}`);
    } catch (e) {
      println(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
});
