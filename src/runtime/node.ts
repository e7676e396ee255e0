// Boot one node: home folder, kernel, component host, runtime modules, system packages, HTTP.
// `bootNode` is the runtime's public API; commands and tests use nothing deeper.

import { rmSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { KernelApi, NativeProcess } from './kernel/api.js';
import { Kernel } from './kernel/kernel.js';
import { type KernelLimits, resolveLimits } from './kernel/limits.js';
import { FileProcessStore } from './kernel/persistence.js';
import { discardFreshHome, type PreparedHome, prepareHome, unlockHome } from './home.js';
import { KIT_CACHE } from '../core/cache.js';
import { createLogger, type Logger } from '../core/log.js';
import { createEthModule } from './modules/eth/index.js';
import { createFdManager } from './modules/fd-manager/index.js';
import { createHttpClient } from './modules/http-client/index.js';
import { createHttpServer } from './modules/http-server/index.js';
import { createKv } from './modules/kv/index.js';
import { createNetModule } from './modules/net/index.js';
import { createSqlite } from './modules/sqlite/index.js';
import { createStateModule, FileStateStore } from './modules/state.js';
import { createTimerModule } from './modules/timer.js';
import { createVfs } from './modules/vfs/index.js';
import { createAppStoreChain } from './packages/app-store/chain.js';
import { createAppStoreDownloads } from './packages/app-store/downloads.js';
import { createAppStore } from './packages/app-store/index.js';
import { createHnsIndexer } from './packages/hns-indexer/index.js';
import { createTester } from './packages/tester/index.js';
import { ComponentHost } from './process/host.js';
import { grantSystemCapabilities, systemCapabilities } from './system-capabilities.js';
import { createTerminal, type Terminal } from './terminal/index.js';
import { type Capability, messagingCap, NETWORK_PARAMS, type ProcessId, processIdToString, systemProcess } from '../core/types.js';

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
  /** Port for other nodes (net:distro:sys WebSockets, loopback); 0 or absent picks a free one. */
  netPort?: number;
  /** Register as an indirect node with these routers (`~routers`) instead of `~ip` + `~ws-port`. */
  routers?: string[];
  /** Terminal verbosity 0-3. */
  verbosity?: number;
  /**
   * Hyperdrive's `--soft-ulimit`: a static open-files limit for fd-manager's budget instead of the
   * process's real one (which is otherwise read at boot and re-read every UpdateUlimitSecs).
   */
  softUlimit?: number;
  /** Where the terminal reads commands and prints; null (or absent) for a detached node. */
  terminal?: { input: NodeJS.ReadableStream | null; output: NodeJS.WritableStream } | null;
  log?: Logger;
  /** Called when the terminal asks to shut down (Ctrl-C, end of input) or a process sends Shutdown. */
  onExitRequested?: () => void;
  /**
   * Processes per node and per package, mailbox size, and each process's memory (limits.ts);
   * unset ones come from KIT_MAX_PROCESSES, KIT_MAX_PROCESSES_PER_PACKAGE, KIT_MAILBOX_MESSAGES,
   * KIT_MAILBOX_MB and KIT_PROCESS_MEMORY_MB, else the defaults.
   */
  limits?: Partial<KernelLimits>;
}

export interface RunningNode {
  readonly name: string;
  readonly port: number;
  readonly home: string;
  /** http://localhost:<port> */
  readonly url: string;
  readonly kernel: KernelApi;
  /** net:distro:sys: its WebSocket port (`~ws-port`) and networking public key (`~net-key`). */
  readonly net: { port: number; publicKeyHex: string };
  /** With fakechainPort: the chain, whether this node started it (and stops it), the name's TBA. */
  readonly fakechain?: { url: string; owned: boolean; tba: string; publicKeyHex: string };
  stop(): Promise<void>;
}

/** Runtime modules may message each other, the kernel and the network (hyperdrive/src/state.rs). */
const RUNTIME_MODULES = ['kernel', 'net', 'vfs', 'state', 'http-server', 'http-client', 'timer', 'eth', 'kv', 'sqlite', 'fd-manager'];

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

  const limits = resolveLimits(opts.limits);
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
  await kernel.addNative(createVfs({ home }), systemCaps);
  await kernel.addNative(createTimerModule(), systemCaps);
  await kernel.addNative(createKv({ home }), systemCaps);
  await kernel.addNative(createSqlite({ home }), systemCaps);
  await kernel.addNative(createHttpClient(), systemCaps);
  await kernel.addNative(createFdManager({ ulimit: opts.softUlimit }), systemCaps);
  const net = createNetModule({ port: opts.netPort, password: opts.password });
  await kernel.addNative(net, systemCaps);
  const http = await createHttpServer({
    port: opts.port,
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
  const addSystem = (p: NativeProcess) => kernel.addNative(p, systemCapabilities(our, p.id));
  await addSystem(terminal);
  await addSystem(createAppStore());
  await addSystem(createAppStoreDownloads());
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
      log.info(`${our} registered on the fake chain at ${reg.chain.url}${reg.chain.owned ? ' (started by this node)' : ''}`);
    } catch (e) {
      terminal.close();
      await http.close();
      await kernel.shutdown();
      await host.close();
      throw e;
    }
    await addSystem(createHnsIndexer());
    await addSystem(createAppStoreChain());
  }
  // tester:tester:sys: every fake node is a simulation-mode node, where the real runtime has it too.
  await addSystem(createTester());
  grantSystemCapabilities(kernel);

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
    net: { port: net.port, publicKeyHex: net.publicKeyHex },
    fakechain,
    async stop() {
      if (stopped) return;
      stopped = true;
      terminal.close();
      await http.close();
      await kernel.shutdown();
      await host.close();
      await stopChain?.();
      unlockHome(home);
      if (!opts.persist) rmSync(home, { recursive: true, force: true });
    },
  };
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
