// Process state: bytes the kernel keeps for this process across restarts (the state module
// stores them under the ProcessId). Typed helpers keep JSON there.

import { host } from './host.js';
import { isBytes, jsonBody, parseJson } from './json.js';

/** The raw state bytes, or undefined if none were saved. */
export function getState(): Uint8Array | undefined {
  return host.getState();
}

/** The state parsed as JSON (as setState wrote it), or undefined if none was saved. */
export function getTypedState<T>(): T | undefined {
  const bytes = host.getState();
  return bytes === undefined ? undefined : parseJson<T>(bytes);
}

/** Save state: bytes as they are, any other value as JSON. */
export function setState(value: unknown): void {
  host.setState(isBytes(value) ? value : jsonBody(value));
}

export function clearState(): void {
  host.clearState();
}
