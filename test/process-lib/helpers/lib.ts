// Load the process library against the fake host (see host-loader.ts).
import { register } from 'node:module';

register('./host-loader.js', import.meta.url);

export const lib = await import('../../../src/process-lib/index.js');
export const fake = await import('./fake-host.js');

/** JSON of a body sent by the library. */
export function bodyJson(body: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(body));
}
