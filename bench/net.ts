// Network figures (issue 5): a bare `ws` echo over loopback as the floor, a Request and its
// Response between components on two nodes (pinger on one, echo on the other) and the same pinger
// to an echo on its own node, measured in turns; then pipelined throughput from a native sender
// to echo processes on the other node. Both nodes run in this process, like the floor's client
// and server.

import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { buildFixture } from '../src/build/componentize.js';
import type { Kernel } from '../src/runtime/kernel/kernel.js';
import { createLogger } from '../src/core/log.js';
import { bootNode, type RunningNode } from '../src/runtime/node.js';
import { type Address, fromUtf8, messagingCap, NETWORK_PARAMS, type ProcessId, parseProcessId, systemProcess } from '../src/core/types.js';
import type { BenchContext } from './run.js';
import { meshWithSender } from './util.js';

const quiet = createLogger({ target: 'bench::net', level: 'error', file: null, terminal: null });
const KERNEL = systemProcess('kernel');
const SENDER = parseProcessId('sender:bench:sys');
/** Round trips per batch, and batches (turns) per figure. */
const ROUND_TRIPS = 1000;
const TURNS = 7;
const NATIVE_ROUND_TRIPS = 3000;
const PIPELINED = 10000;
const IN_FLIGHT = 128;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Round trips report their best batch, as local_roundtrip_us does (bench/runtime.ts), so the
// figures the goal compares use one statistic: other load on the machine only ever adds time.
// Seven short turns rather than three long ones: on this 2-core machine a round trip between
// worker threads varies by a third from one batch to the next, and the best of more batches
// settles (three turns gave remote/bound ratios from 0.99 to 1.26 on the same build).
const best = (xs: number[]) => Math.min(...xs);

export async function run(ctx: BenchContext): Promise<void> {
  const wsFloor = await wsFloorPair();

  const witPath = join(ctx.repo, 'wit', 'hyperware.wit');
  const echo = await buildFixture(join(ctx.repo, 'test/fixtures/processes/echo.js'), { log: quiet, witPath });
  const pinger = await buildFixture(join(ctx.repo, 'bench/fixtures/pinger.js'), { log: quiet, witPath });

  const root = mkdtempSync(join(tmpdir(), 'kit-bench-net-'));
  const a = await bootNode({ home: join(root, 'a'), port: 0, name: 'bench-a.dev', log: quiet });
  const b = await bootNode({ home: join(root, 'b'), port: 0, name: 'bench-b.dev', log: quiet });
  try {
    await meshWithSender([a, b], SENDER);
    const echoId = await install(b, 'echo', echo);
    const localEchoId = await install(a, 'echo', echo);
    const pingerId = await install(a, 'pinger', pinger);
    (a.kernel as Kernel).grant(SENDER, [messagingCap({ node: a.name, process: pingerId })]);
    const target: Address = { node: b.name, process: echoId };

    const batch = async (to: Address, n: number): Promise<number> => {
      const t0 = process.hrtime.bigint();
      const r = await a.kernel.request(SENDER, { node: a.name, process: pingerId }, JSON.stringify({ n, target: to }), { timeoutSecs: 300 });
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      const ok = Number(fromUtf8(r.response.body));
      if (ok !== n) throw new Error(`the pinger got ${ok} of ${n} responses from ${to.node}`);
      return us / n;
    };
    const local: Address = { node: a.name, process: localEchoId };
    await batch(target, 300); // connect + warm-up
    await batch(local, 300);
    await wsFloor.batch(1000);
    // The three are measured in turns, so that a slower spell of this shared machine falls on all
    // of them rather than on one; each reports its best batch.
    const floors: number[] = [];
    const locals: number[] = [];
    const remotes: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      floors.push(await wsFloor.batch(3000));
      locals.push(await batch(local, ROUND_TRIPS));
      remotes.push(await batch(target, ROUND_TRIPS));
    }
    const floor = best(floors);
    const localUs = best(locals);
    const remote = best(remotes);
    const bound = localUs + 2 * floor;
    ctx.add({ name: 'ws_floor_roundtrip_us', value: floor, unit: 'us', note: 'bare ws echo, 1-byte binary frame, loopback, same process' });
    ctx.add({
      name: 'net_local_roundtrip_us',
      value: localUs,
      unit: 'us',
      note: 'the same pinger to an echo on its own node, measured in turns with remote_roundtrip_us',
    });
    ctx.add({
      name: 'remote_roundtrip_us',
      value: remote,
      unit: 'us',
      goal: `<= local round trip + 2 x ws_floor_roundtrip_us = ${localUs.toFixed(1)} + 2 x ${floor.toFixed(1)} = ${bound.toFixed(1)}`,
      met: remote <= bound,
      note: `ratio ${(remote / bound).toFixed(2)} of the bound; local measured in turns with it (net_local_roundtrip_us)`,
    });

    // The network's own cost without worker threads: a native echo on each node, the native
    // sender calling one on the other node and one on its own, in turns. Everything runs on the
    // main thread, hot, as the ws floor does.
    const NECHO = parseProcessId('necho:bench:sys');
    for (const n of [a, b]) {
      const k = n.kernel as Kernel;
      await k.addNative(
        {
          id: NECHO,
          handle: (km) => {
            if (km.message.tag === 'request') k.respond(NECHO, km, km.message.val.body);
          },
        },
        [{ issuer: { node: n.name, process: KERNEL }, params: NETWORK_PARAMS }, messagingCap({ node: n.name, process: systemProcess('net') })],
      );
      (a.kernel as Kernel).grant(SENDER, [messagingCap({ node: n.name, process: NECHO })]);
    }
    const eight = new Uint8Array(8);
    const nativeBatch = async (to: Address, n: number): Promise<number> => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await a.kernel.request(SENDER, to, eight, { timeoutSecs: 10 });
      return Number(process.hrtime.bigint() - t0) / 1000 / n;
    };
    const nativeRemote: Address = { node: b.name, process: NECHO };
    const nativeLocal: Address = { node: a.name, process: NECHO };
    await nativeBatch(nativeRemote, 1000);
    await nativeBatch(nativeLocal, 1000);
    const nRemotes: number[] = [];
    const nLocals: number[] = [];
    for (let i = 0; i < 5; i++) {
      nRemotes.push(await nativeBatch(nativeRemote, NATIVE_ROUND_TRIPS));
      nLocals.push(await nativeBatch(nativeLocal, NATIVE_ROUND_TRIPS));
    }
    const nRemote = best(nRemotes);
    const nLocal = best(nLocals);
    ctx.add({ name: 'native_local_roundtrip_us', value: nLocal, unit: 'us', note: 'native sender to a native echo on its own node (kernel routing only)' });
    ctx.add({
      name: 'native_remote_roundtrip_us',
      value: nRemote,
      unit: 'us',
      note: `native sender to a native echo on the other node: the network's cost alone is ${(nRemote - nLocal).toFixed(1)} us per round trip, ${((nRemote - nLocal) / (2 * floor)).toFixed(2)} x 2 ws floors`,
    });

    const echoes: Address[] = [target];
    for (let i = 1; i < 4; i++) echoes.push({ node: b.name, process: await install(b, `echo${i}`, echo) });
    const body = new Uint8Array([1]);
    const pipelined = async (total: number): Promise<number> => {
      let sent = 0;
      const t0 = process.hrtime.bigint();
      const lane = async (to: Address) => {
        while (sent < total) {
          sent++;
          const r = await a.kernel.request(SENDER, to, body, { timeoutSecs: 60 });
          if (r.response.body.length !== 1) throw new Error('an echo answered with the wrong body');
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => lane(echoes[i % echoes.length])));
      return total / (Number(process.hrtime.bigint() - t0) / 1e9);
    };
    await pipelined(1000);
    ctx.add({
      name: 'remote_msgs_per_s',
      value: median([await pipelined(PIPELINED), await pipelined(PIPELINED), await pipelined(PIPELINED)]),
      unit: 'msg/s',
      note: `${IN_FLIGHT} in flight from a native sender to 4 echo processes on the other node`,
    });
  } finally {
    await wsFloor.close();
    await a.stop();
    await b.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Install a component through the Kernel API with the networking capability. */
async function install(n: RunningNode, name: string, wasm: Uint8Array): Promise<ProcessId> {
  const key = `${name}:bench:sys`;
  const call = async (cmd: unknown, blob?: Uint8Array) =>
    fromUtf8(
      (await n.kernel.request(KERNEL, 'kernel:distro:sys', JSON.stringify(cmd), { blob: blob ? { bytes: blob } : undefined, timeoutSecs: 60 }))
        .response.body,
    );
  const init = await call(
    {
      InitializeProcess: {
        id: key,
        wasm_bytes_handle: '',
        wit_version: 1,
        on_exit: 'None',
        initial_capabilities: [{ issuer: `${n.name}@kernel:distro:sys`, params: NETWORK_PARAMS }],
        public: true,
      },
    },
    wasm,
  );
  if (init !== '"InitializedProcess"') throw new Error(`InitializeProcess ${key} answered ${init}`);
  const started = await call({ RunProcess: key });
  if (started !== '"StartedProcess"') throw new Error(`RunProcess ${key} answered ${started}`);
  return parseProcessId(key);
}

/** A bare `ws` echo over loopback: `batch(n)` is the mean microseconds of n 1-byte binary frames there and back. */
async function wsFloorPair(): Promise<{ batch(n: number): Promise<number>; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  server.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, { binary })));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await new Promise((r) => client.once('open', r));
  const frame = new Uint8Array([1]);
  return {
    async batch(n: number): Promise<number> {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        await new Promise<void>((resolve) => {
          client.once('message', () => resolve());
          client.send(frame);
        });
      }
      return Number(process.hrtime.bigint() - t0) / 1000 / n;
    },
    async close(): Promise<void> {
      client.close();
      await new Promise((r) => server.close(r));
    },
  };
}
