// Boot one node: home folder, kernel, component host, runtime modules, system packages, HTTP.
// `bootNode` is the runtime's public API; commands and tests use nothing deeper.

import { rmSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { KernelApi } from './kernel/api.js';
import { Kernel } from './kernel/kernel.js';
import { kernelLimits } from './kernel/limits.js';
import { FileProcessStore } from './kernel/persistence.js';
import { discardFreshHome, type PreparedHome, prepareHome, unlockHome } from './home.js';
import { KIT_CACHE } from '../core/cache.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from '../core/zip.js';
import { createLogger, type Logger } from '../core/log.js';
import { createEthModule } from './modules/eth/index.js';
import { createFdManager } from './modules/fd-manager/index.js';
import { createHttpClient } from './modules/http-client/index.js';
import { createHttpServer } from './modules/http-server/index.js';
import { createKv } from './modules/kv/index.js';
import { createNetModule, type NetOptions } from './modules/net/index.js';
import { createNotifications } from './modules/notifications.js';
import { createSqlite } from './modules/sqlite/index.js';
import { createStateModule, FileStateStore } from './modules/state.js';
import { createTimerModule } from './modules/timer.js';
import { createVfs } from './modules/vfs/index.js';
import { addSystemPackages } from './packages/system.js';
import { ComponentHost } from './process/host.js';
import { createTerminal, type Terminal } from './terminal/index.js';
import { type Capability, messagingCap, NETWORK_PARAMS, type ProcessId, processIdToString, systemProcess } from '../core/types.js';
import { changedQuotas, type NodeQuotas, resolveQuotas } from './quotas.js';

export { PortInUseError } from './modules/http-server/errors.js';

export interface BootOptions {
  /** Node home folder: created; wiped on stop unless `persist`. */
  home: string;
  /** HTTP port; 0 picks a free one. */
  port: number;
  /** The fake node's name, e.g. "fake.dev". */
  name: string;
  password?: string;
  /** Keep home on stop and restore every process, its state and capabilities on the next boot. */
  persist?: boolean;
  /**
   * Port of the fake chain: when given, a chain is started there if none answers, the node's
   * name is registered on Hypermap and hns-indexer follows it.
   */
  fakechainPort?: number;
  rpc?: string;
  /** Port for other nodes (net:distro:sys WebSockets); 0 or absent picks a free one. */
  netPort?: number;
  /**
   * Interface the HTTP server and the net listener bind. Default 127.0.0.1, this machine only:
   * the RPC and the net port answer anyone who can reach them, and a fake node runs on a
   * developer's machine, often on shared networks. "0.0.0.0" listens everywhere, as Hyperdrive
   * does. `net.host`, if given, sets the net listener's apart.
   */
  host?: string;
  /** How far a package zip (or a process's VFS AddZip) may expand; DEFAULT_ZIP_LIMITS where not given. */
  zipLimits?: Partial<ZipLimits>;
  /**
   * The rest of net:distro:sys's options: the interface it listens on (`host` unless set) and a
   * TCP port (`~tcp-port`; none unless set). Its quotas are in `quotas`.
   */
  net?: Pick<NetOptions, 'host' | 'tcpPort'>;
  /** Register as an indirect node with these routers (`~routers`) instead of `~ip` + `~ws-port`. */
  routers?: string[];
  /** Terminal verbosity 0-3. */
  verbosity?: number;
  /**
   * Hyperdrive's `--soft-ulimit`: a static budget of file descriptors for fd-manager to share
   * instead of a percentage of the process's open-files limit (read at boot and re-read every
   * UpdateUlimitSecs).
   */
  softUlimit?: number;
  /** Where the terminal reads commands and prints; null (or absent) for a detached node. */
  terminal?: { input: NodeJS.ReadableStream | null; output: NodeJS.WritableStream } | null;
  log?: Logger;
  /** Called when the terminal asks to shut down (Ctrl-C, end of input) or a process sends Shutdown. */
  onExitRequested?: () => void;
  /**
   * The node's quotas (quotas.ts: processes, mailboxes, memory, timers, peers); unset ones come
   * from their environment variables (KIT_MAX_PROCESSES, ...), else the defaults.
   */
  quotas?: Partial<NodeQuotas>;
}

export interface RunningNode {
  readonly name: string;
  readonly port: number;
  readonly home: string;
  /** http://localhost:<port> */
  readonly url: string;
  readonly kernel: KernelApi;
  /** net:distro:sys: its WebSocket port (`~ws-port`), TCP port (0: none) and networking public key (`~net-key`). */
  readonly net: { port: number; tcpPort: number; publicKeyHex: string };
  /** With fakechainPort: the chain, whether this node started it (and stops it), the name's TBA. */
  readonly fakechain?: { url: string; owned: boolean; tba: string; publicKeyHex: string };
  stop(): Promise<void>;
}

/** Runtime modules may message each other, the kernel and the network (hyperdrive/src/state.rs). */
const RUNTIME_MODULES = ['kernel', 'net', 'vfs', 'state', 'http-server', 'http-client', 'timer', 'eth', 'kv', 'sqlite', 'fd-manager', 'notifications'];

export async function bootNode(opts: BootOptions): Promise<RunningNode> {
  const home = resolve(opts.home);
  const prepared = prepareHome(home, opts.name);
  try {
    return await bootInHome(home, prepared, opts);
  } catch (e) {
    discardFreshHome(home, prepared); // a failed boot leaves no half-made home behind
    throw e;
  }
}

async function bootInHome(home: string, prepared: PreparedHome, opts: BootOptions): Promise<RunningNode> {
  const log = opts.log ?? createLogger({ target: opts.name, terminal: null });
  const our = opts.name;
  const vfsRoot = join(home, 'vfs');
  const listenHost = opts.host ?? '127.0.0.1';
  const zipLimits: ZipLimits = {
    maxBytes: opts.zipLimits?.maxBytes ?? DEFAULT_ZIP_LIMITS.maxBytes,
    maxRatio: opts.zipLimits?.maxRatio ?? DEFAULT_ZIP_LIMITS.maxRatio,
  };

  const quotas = resolveQuotas(opts.quotas);
  const limits = kernelLimits(quotas);
  const changed = changedQuotas(quotas);
  if (changed.length > 0) log.info(`quotas other than the defaults: ${changed.join(', ')}`);
  const host = new ComponentHost({ cacheDir: join(KIT_CACHE, 'components'), log: log.child('process'), memoryLimitBytes: limits.processMemoryBytes });
  const state = new FileStateStore(home);
  const kernel = new Kernel({
    our,
    home,
    log,
    runner: host,
    state,
    store: opts.persist || prepared.persisted ? new FileProcessStore(home) : undefined,
    readWasm: (handle) => readVfsFile(vfsRoot, handle),
    limits,
    onShutdownRequested: opts.onExitRequested,
  });

  const addr = (p: ProcessId) => ({ node: our, process: p });
  const systemCaps: Capability[] = [
    ...RUNTIME_MODULES.map((m) => messagingCap(addr(systemProcess(m)))),
    { issuer: addr(systemProcess('kernel')), params: NETWORK_PARAMS },
  ];

  // terminal:terminal:sys exists on every node, as on Hyperdrive: a detached node has no input and
  // prints to its log, but processes holding the capability can still use the Terminal API.
  const output = opts.terminal?.output ?? null;
  const verbosity = opts.verbosity ?? 0;
  const terminal: Terminal = createTerminal({
    kernel,
    input: output ? (opts.terminal?.input ?? null) : null,
    output,
    verbosity,
    onExit: opts.onExitRequested,
  });
  kernel.setPrinter((v, t) => terminal.print(v, t));

  await kernel.addNative(createStateModule(state), systemCaps);
  // Before kv and sqlite, which ask it for their share of file descriptors as they start.
  await kernel.addNative(createFdManager({ staticMax: opts.softUlimit }), systemCaps);
  await kernel.addNative(createVfs({ home, zipLimits }), systemCaps);
  await kernel.addNative(createTimerModule({ timersPerProcess: quotas.timersPerProcess }), systemCaps);
  await kernel.addNative(createKv({ home }), systemCaps);
  await kernel.addNative(createSqlite({ home }), systemCaps);
  await kernel.addNative(createHttpClient(), systemCaps);
  const notifications = createNotifications();
  await kernel.addNative(notifications, systemCaps);
  const net = createNetModule({
    host: listenHost,
    ...opts.net,
    maxPassthroughs: quotas.maxPassthroughs,
    maxConnectionsPerPeer: quotas.maxConnectionsPerPeer,
    maxBufferedBytes: quotas.maxBufferedBytes,
    port: opts.netPort,
    password: opts.password,
  });
  await kernel.addNative(net, systemCaps);
  const http = await createHttpServer({
    port: opts.port,
    host: listenHost,
    kernel,
    fakeNode: true,
    password: opts.password,
    keyfile: { netKey: net.netKey, routers: opts.routers ?? [] },
  }).catch(async (e) => {
    await kernel.shutdown();
    await host.close();
    throw e;
  });
  await kernel.addNative(http, systemCaps);
  await kernel.addNative(createEthModule({ home, fakechainPort: opts.fakechainPort, rpc: opts.rpc }), systemCaps);

  // The system packages, natively written, each with the capabilities its real manifest gives it
  // (system-capabilities.ts); their grants are made once all of them exist.
  const system = await addSystemPackages(kernel, { terminal, state, notifications, zipLimits });
  await system.addLocalParts();
  let fakechain: RunningNode['fakechain'];
  let stopChain: (() => Promise<void>) | undefined;
  if (opts.fakechainPort !== undefined) {
    const wsPort: number | undefined = net.port;
    try {
      const { registerFakeNode } = await import('../chain/fakenode.js');
      const reg = await registerFakeNode({
        home,
        name: our,
        password: opts.password ?? 'secret',
        chainPort: opts.fakechainPort,
        wsPort,
        netKey: net.netKey,
        routers: opts.routers,
      });
      stopChain = () => reg.chain.stop();
      fakechain = { url: reg.chain.url, owned: reg.chain.owned, tba: reg.registration.tba, publicKeyHex: reg.netKey.publicKeyHex };
      const { describeFoundChain } = await import('../chain/start.js');
      log.info(describeFoundChain(reg.chain));
      log.info(`${our} registered on the fake chain at ${reg.chain.url} (account ${reg.registration.tba})`);
    } catch (e) {
      terminal.close();
      await http.close();
      await kernel.shutdown();
      await host.close();
      throw e;
    }
    await system.addChainParts();
  }
  await terminal.writePackages().catch((e) => log.warning(`could not write the terminal's scripts.json: ${(e as Error).message}`));
  // tester:tester:sys: every fake node is a simulation-mode node, where the real runtime has it too.
  await system.finish();

  await kernel.restore();
  http.ready();
  // Anything installed later is reachable from the terminal too.
  log.info(`${our} booted; HTTP on port ${http.port}; home ${home}${prepared.persisted ? ' (processes restored from an earlier run)' : prepared.created || prepared.wasEmpty ? '' : ' (reused)'}`);

  let stopped = false;
  return {
    name: our,
    port: http.port,
    home,
    url: `http://localhost:${http.port}`,
    kernel,
    net: { port: net.port, tcpPort: net.tcpPort, publicKeyHex: net.publicKeyHex },
    fakechain,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Each step gets a deadline, so a stuck one (a socket, a worker) cannot keep the node
      // from finishing: the home is unlocked (and removed unless persist) in every case.
      try {
        terminal.close();
        await withDeadline(http.close(), 'http-server', log);
        await withDeadline(kernel.shutdown(), 'the kernel', log);
        await withDeadline(host.close(), 'the component host', log);
        if (stopChain) await withDeadline(stopChain(), 'the fake chain', log);
      } finally {
        unlockHome(home);
        if (!opts.persist) rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

/** How long one step of stopping a node may take before the stop moves on without it. */
const STOP_STEP_DEADLINE_MS = 10_000;

async function withDeadline(step: Promise<void>, what: string, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warning(`stopping ${what} took over ${STOP_STEP_DEADLINE_MS / 1000} s; going on without it`);
      resolve();
    }, STOP_STEP_DEADLINE_MS);
    timer.unref();
  });
  try {
    await Promise.race([step, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Read `/pkg:pub/drive/file` under the node's vfs folder, refusing paths that leave it. */
async function readVfsFile(vfsRoot: string, handle: string): Promise<Uint8Array | undefined> {
  const rel = handle.replace(/^\/+/, '');
  const full = resolve(vfsRoot, rel);
  if (!full.startsWith(vfsRoot + sep)) return undefined;
  try {
    const real = await realpath(full);
    const realRoot = await realpath(vfsRoot);
    if (!real.startsWith(realRoot + sep)) return undefined;
    return new Uint8Array(await readFile(real));
  } catch {
    return undefined;
  }
}

export { processIdToString };
