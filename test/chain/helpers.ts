// Shared by the chain tests: a free port and a started chain with kit's contracts.

import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether `fn` rejected with a message naming `what` (a decoded custom error, e.g. "InvalidLabel"). */
export async function rejectsWith(fn: () => Promise<unknown>, what: string): Promise<string> {
  try {
    await fn();
  } catch (e) {
    const text = `${(e as Error).message}\n${String((e as { cause?: unknown }).cause ?? '')}`;
    if (!text.includes(what)) throw new Error(`expected an error mentioning ${what}, got: ${text.slice(0, 600)}`);
    return text;
  }
  throw new Error(`expected a revert with ${what}, but the call succeeded`);
}
