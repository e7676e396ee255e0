// Boot one node: home folder, kernel, component host, runtime modules, system packages, HTTP.
// `bootNode` is the runtime's public API; commands and tests use nothing deeper.

import { mkdirSync, rmSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { KernelApi } from './kernel/api.js';
import { Kernel } from './kernel/kernel.js';
import { FileProcessStore } from './kernel/persistence.js';
import { createLogger, KIT_CACHE, type Logger } from './log.js';
import { createHttpServer } from './modules/http-server/index.js';
import { createStateModule, FileStateStore } from './modules/state.js';
import { createTimerModule } from './modules/timer.js';
import { createVfs } from './modules/vfs/index.js';
import { createAppStore } from './packages/app-store/index.js';
import { ComponentHost } from './process/host.js';
import { createTerminal, type Terminal } from './terminal/index.js';
import { type Capability, messagingCap, NETWORK_PARAMS, type ProcessId, processIdToString, systemProcess } from './types.js';

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
  fakechainPort?: number;
  rpc?: string;
  /** Terminal verbosity 0-3. */
  verbosity?: number;
  /** Where the terminal reads commands and prints; null (or absent) for a detached node. */
  terminal?: { input: NodeJS.ReadableStream | null; output: NodeJS.WritableStream } | null;
  log?: Logger;
  /** Called when the terminal asks to shut down (Ctrl-C, end of input). */
  onExitRequested?: () => void;
}

export interface RunningNode {
  readonly name: string;
  readonly port: number;
  readonly home: string;
  /** http://localhost:<port> */
  readonly url: string;
  readonly kernel: KernelApi;
  stop(): Promise<void>;
}

/** Runtime modules (and the terminal) may message each other, the kernel and the network. */
const RUNTIME_MODULES = ['kernel', 'net', 'vfs', 'state', 'http-server', 'http-client', 'timer', 'eth', 'kv', 'sqlite', 'fd-manager'];

export async function bootNode(opts: BootOptions): Promise<RunningNode> {
  const home = resolve(opts.home);
  if (!opts.persist) rmSync(home, { recursive: true, force: true });
  mkdirSync(join(home, 'vfs'), { recursive: true });
  const log = opts.log ?? createLogger({ target: opts.name, terminal: null });
  const our = opts.name;
  const vfsRoot = join(home, 'vfs');

  const host = new ComponentHost({ cacheDir: join(KIT_CACHE, 'components'), log: log.child('process') });
  const state = new FileStateStore(home);
  const kernel = new Kernel({
    our,
    home,
    log,
    runner: host,
    state,
    store: opts.persist ? new FileProcessStore(home) : undefined,
    readWasm: (handle) => readVfsFile(vfsRoot, handle),
  });

  const addr = (p: ProcessId) => ({ node: our, process: p });
  const systemCaps: Capability[] = [
    ...RUNTIME_MODULES.map((m) => messagingCap(addr(systemProcess(m)))),
    { issuer: addr(systemProcess('kernel')), params: NETWORK_PARAMS },
  ];

  let terminal: Terminal | undefined;
  const output = opts.terminal?.output;
  if (output) {
    terminal = createTerminal({
      kernel,
      input: opts.terminal?.input ?? null,
      output,
      verbosity: opts.verbosity ?? 0,
      onExit: opts.onExitRequested,
    });
    kernel.setPrinter((v, t) => terminal?.print(v, t));
  } else {
    kernel.setPrinter((v, t) => {
      if (v <= (opts.verbosity ?? 0)) log.info(t);
    });
  }

  await kernel.addNative(createStateModule(state), systemCaps);
  await kernel.addNative(createVfs({ home }), systemCaps);
  await kernel.addNative(createTimerModule(), systemCaps);
  const http = await createHttpServer({ port: opts.port, kernel, fakeNode: true }).catch(async (e) => {
    await kernel.shutdown();
    await host.close();
    throw e;
  });
  await kernel.addNative(http, systemCaps);
  if (terminal) {
    // The terminal acts for the user: it may message anything on this node.
    await kernel.addNative(terminal, systemCaps);
  }

  // main:app-store:sys installs packages: it drives the kernel and the VFS, and lets
  // http-server (the kit RPC endpoint) message it.
  const appStore = createAppStore();
  await kernel.addNative(appStore, systemCaps);
  kernel.grant(systemProcess('http-server'), [messagingCap(addr(appStore.id))]);
  if (terminal) kernel.grant(terminal.id, [messagingCap(addr(appStore.id))]);

  await kernel.restore();
  // Anything installed later is reachable from the terminal too.
  log.info(`${our} booted; HTTP on port ${http.port}; home ${home}`);

  let stopped = false;
  return {
    name: our,
    port: http.port,
    home,
    url: `http://localhost:${http.port}`,
    kernel,
    async stop() {
      if (stopped) return;
      stopped = true;
      terminal?.close();
      await http.close();
      await kernel.shutdown();
      await host.close();
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
