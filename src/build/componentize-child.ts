// Runs componentizeJs in a child process. componentize-js blocks its thread for the whole build
// (in-thread wasm, then wizer through spawnSync with the parent's real stdout, which a worker
// thread does not have), so kit builds processes in children: the main process stays free to
// type-check and draw progress, and two processes can componentize at once on two cores
// (componentize.ts serializes calls within one process). The component is written to outPath.
// The same child also makes development engines (dev/engine.ts), which run the same splicer.

import { createLogger } from '../core/log.js';
import { type ComponentizeJsOptions, componentizeJs, ensurePreopens } from './componentize.js';
import type { ComponentizeFeature } from './componentize.js';
import { prepareEngine } from './dev/engine.js';

export type ComponentizeRequest = Omit<ComponentizeJsOptions, 'log'>;
export interface EngineRequest {
  kind: 'engine';
  dir: string;
  witPath: string;
  worldName: string;
  features: ComponentizeFeature[];
}
export type ChildRequest = ({ kind?: 'componentize' } & ComponentizeRequest) | EngineRequest;
export type ChildReply = { ok: true; ms: number } | { ok: false; message: string };

// The parent shows progress; the child's own log lines go to the log file only.
const log = createLogger({ target: 'kit::build::componentize', terminal: null });

process.on('message', async (req: ChildRequest) => {
  let reply: ChildReply;
  try {
    if (req.kind === 'engine') {
      const t0 = performance.now();
      await ensurePreopens();
      await prepareEngine(req.dir, req);
      reply = { ok: true, ms: performance.now() - t0 };
    } else {
      const { ms } = await componentizeJs({ ...req, log });
      reply = { ok: true, ms };
    }
  } catch (e) {
    reply = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  process.send?.(reply);
});
// The parent closing the channel (build done, or the parent died) ends this process.
process.on('disconnect', () => process.exit(0));
