// Floors: what the hardware and Node give us before any of our code runs, measured in the same
// run as the figures they bound, so that figures are reported as ratios.

import { Worker } from 'node:worker_threads';

const PINGPONG_WORKER = `
const { workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.sab);
for (let i = 0; i < workerData.n; i++) {
  Atomics.wait(flag, 0, 0);          // wait for ping
  Atomics.store(flag, 0, 0);
  Atomics.store(flag, 1, 1);         // pong
  Atomics.notify(flag, 1);
}
`;

/** A bare Atomics ping-pong between two threads: microseconds per round trip. */
export async function atomicsPingPongUs(n = 20000): Promise<number> {
  const sab = new SharedArrayBuffer(8);
  const flag = new Int32Array(sab);
  const w = new Worker(PINGPONG_WORKER, { eval: true, workerData: { sab, n } });
  await new Promise((r) => w.once('online', r));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    // a worker that died (or never ran) must not hang the bench: no floor takes seconds
    if (Atomics.wait(flag, 1, 0, 10_000) === 'timed-out') {
      await w.terminate();
      throw new Error(`the ping-pong worker stopped answering after ${i} round trips`);
    }
    Atomics.store(flag, 1, 0);
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  await w.terminate();
  return us;
}
