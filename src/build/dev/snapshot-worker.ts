// A thread that makes development components (snapshot.ts) for one engine, so that the build's
// main thread can type-check meanwhile. It keeps the engine's compiled module: V8's optimized
// code for the initializer builds up over a `kit watch` session and later snapshots run faster.

import { parentPort, workerData } from 'node:worker_threads';
import { type EngineParts, snapshotComponent } from './snapshot.js';

export interface SnapshotRequest {
  id: number;
  bytes: Uint8Array;
  path: string;
}
export type SnapshotReply = { id: number; ok: true; component: Uint8Array; initMs: number } | { id: number; ok: false; message: string };

const { parts, module } = workerData as { parts: EngineParts; module: Parameters<typeof snapshotComponent>[1] };

parentPort!.on('message', (req: SnapshotRequest) => {
  let reply: SnapshotReply;
  try {
    const { component, initMs } = snapshotComponent(parts, module, { bytes: req.bytes, path: req.path });
    reply = { id: req.id, ok: true, component, initMs };
    parentPort!.postMessage(reply, [component.buffer as ArrayBuffer]);
    return;
  } catch (e) {
    reply = { id: req.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply);
});
