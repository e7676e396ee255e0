// The conformance harness: a node booted in-process with one or more packages of the conformance
// driver (test/fixtures/processes/conformance-driver.js, bare WIT) installed through the app
// store, each with the manifest the case needs. A case asks a driver process to send the exact
// Request a real process sends and asserts the exact answer a real Hyperdrive gives, naming the
// real source file it follows in a comment. One file per module in this folder.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { stringifyJsonExact } from '../../src/core/json.js';
import { type Capability, fromUtf8, messagingCap, parseProcessId, type ProcessId, systemProcess } from '../../src/core/types.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { zipDirectory } from '../../src/core/zip.js';
import { startPackage } from '../../src/package/start.js';
import { type BootOptions, bootNode, type RunningNode } from '../../src/runtime/node.js';

export const PUBLISHER = 'kit-tests.os';
const HARNESS = 'http-server:distro:sys';

/** One process of a driver package, as its pkg/manifest.json entry says. */
export interface DriverProcess {
  name: string;
  request_capabilities?: unknown[];
  grant_capabilities?: unknown[];
  request_networking?: boolean;
  public?: boolean;
  on_exit?: unknown;
}

export interface DriverPackage {
  name: string;
  processes: DriverProcess[];
  /** Extra files under pkg/ (path -> contents), e.g. a drive the case reads. */
  files?: Record<string, string | Uint8Array>;
}

/** What came back to a driver's send-and-await-response. */
export interface Answer {
  source: string;
  /** The body as UTF-8 text (as a process_lib serde parse sees it). */
  body: string;
  body64: string;
  metadata: string | null;
  blob: { mime: string | null; base64: string } | null;
  capabilities: Array<{ issuer: string; params: string }>;
}

export type SendResult = { answer: Answer } | { sendError: { kind: string; target: string | null } } | { sent: true };

export interface SendOptions {
  /** Seconds to await a Response; null sends fire-and-forget. Default 5. */
  timeout?: number | null;
  /** The blob, as bytes or UTF-8 text. */
  blob?: Uint8Array | string;
  mime?: string;
  metadata?: string;
  /** Attach every capability the driver holds (as process_lib's `attach_all`). */
  attachAll?: boolean;
}

/** A driver process: sends what a case says, reports what it got. */
export class DriverHandle {
  constructor(
    readonly node: RunningNode,
    readonly id: string,
  ) {}

  private async ask(cmd: unknown): Promise<unknown> {
    const r = await this.node.kernel.request(systemProcess('http-server'), this.id, JSON.stringify(cmd), { timeoutSecs: 120 });
    return JSON.parse(fromUtf8(r.response.body));
  }

  /** Send `body` (an object is sent as its JSON text, bigints as exact integers; a string as it is, bytes as they are) to `target`. */
  send(target: string, body: unknown, opts: SendOptions = {}): Promise<SendResult> {
    const text = body instanceof Uint8Array ? body : typeof body === 'string' ? body : stringifyJsonExact(body);
    const blob = opts.blob === undefined ? null : Buffer.from(opts.blob).toString('base64');
    return this.ask({
      Send: {
        target,
        body64: Buffer.from(text).toString('base64'),
        blob64: blob,
        mime: opts.mime ?? null,
        metadata: opts.metadata ?? null,
        timeout: opts.timeout === undefined ? 5 : opts.timeout,
        attachAll: !!opts.attachAll,
      },
    }) as Promise<SendResult>;
  }

  /** Send and return the answer's body parsed as JSON; throws on a SendError. */
  async json(target: string, body: unknown, opts: SendOptions = {}): Promise<unknown> {
    const a = await this.answer(target, body, opts);
    return JSON.parse(a.body);
  }

  /** Send and return the whole answer; throws on a SendError. */
  async answer(target: string, body: unknown, opts: SendOptions = {}): Promise<Answer> {
    const r = await this.send(target, body, opts);
    if (!('answer' in r)) throw new Error(`${this.id} -> ${target}: no answer (${JSON.stringify(r)})`);
    return r.answer;
  }

  /** Requests (and stray Responses) the driver received since the last call. */
  inbox(): Promise<Array<{ request?: Answer; response?: Answer; sendError?: { kind: string } }>> {
    return this.ask('Inbox') as Promise<Array<{ request?: Answer; response?: Answer; sendError?: { kind: string } }>>;
  }

  capabilities(): Promise<Array<{ issuer: string; params: string }>> {
    return this.ask('Capabilities') as Promise<Array<{ issuer: string; params: string }>>;
  }

  /** The WebSocket channels http-server opened to the driver, by WebSocketOpen path (process_lib's HttpServer). */
  wsChannels(): Promise<Record<string, number[]>> {
    return this.ask('WsChannels') as Promise<Record<string, number[]>>;
  }

  /** process_lib's ws_push_all_channels(path, type, blob) from inside the driver; the channels pushed to. */
  async wsPushAll(path: string, messageType: string, blob: Uint8Array | string): Promise<number[]> {
    const r = (await this.ask({ WsPushAll: { path, message_type: messageType, blob64: Buffer.from(blob).toString('base64') } })) as { pushed: number[] };
    return r.pushed;
  }
}

export async function buildConformanceDriver(): Promise<Uint8Array> {
  // Against the repo's process WIT alone (wit/ may hold other packages' WIT).
  const witOnly = mkdtempSync(join(tmpdir(), 'kit-wit-'));
  copyFileSync(join(repoRoot(), 'wit/hyperware.wit'), join(witOnly, 'hyperware.wit'));
  try {
    return await buildFixture(join(repoRoot(), 'test/fixtures/processes/conformance-driver.js'), { witPath: witOnly });
  } finally {
    rmSync(witOnly, { recursive: true, force: true });
  }
}

export async function writeDriverPackage(dir: string, pkg: DriverPackage, wasm: Uint8Array): Promise<void> {
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  mkdirSync(join(dir, 'target'), { recursive: true });
  // The harness talks to every driver as http-server: http-server may message it (a grant), and
  // it may answer http-server (a request), since every Response is capability-checked.
  const withHttp = (caps: unknown[] | undefined) => (caps ?? []).includes(HARNESS) ? (caps ?? []) : [...(caps ?? []), HARNESS];
  const manifest = pkg.processes.map((p) => ({
    process_name: p.name,
    process_wasm_path: '/driver.wasm',
    on_exit: p.on_exit ?? 'Restart',
    request_networking: p.request_networking ?? false,
    request_capabilities: withHttp(p.request_capabilities),
    grant_capabilities: withHttp(p.grant_capabilities),
    public: p.public ?? false,
  }));
  writeFileSync(join(dir, 'pkg/manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'pkg/driver.wasm'), wasm);
  for (const [path, contents] of Object.entries(pkg.files ?? {})) {
    mkdirSync(join(dir, 'pkg', path, '..'), { recursive: true });
    writeFileSync(join(dir, 'pkg', path), contents);
  }
  const metadata = {
    name: pkg.name,
    description: 'conformance driver',
    image: '',
    external_url: '',
    animation_url: '',
    properties: {
      package_name: pkg.name,
      publisher: PUBLISHER,
      current_version: '0.1.0',
      mirrors: [],
      code_hashes: { '0.1.0': '' },
      wit_version: 1,
      dependencies: [],
    },
  };
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify(metadata));
  writeFileSync(join(dir, `target/${pkg.name}:kit-tests.zip`), await zipDirectory(join(dir, 'pkg')));
}

export interface ConformanceNode {
  node: RunningNode;
  work: string;
  /** The driver process `name` of package `pkg`. */
  driver(name: string, pkg: string): DriverHandle;
  /** Install another driver package on the running node. */
  install(pkg: DriverPackage): Promise<void>;
  stop(): Promise<void>;
}

/** Boot a node and install `packages`, each a set of driver processes with its own manifest. */
export async function bootConformanceNode(packages: DriverPackage[], boot: Partial<BootOptions> = {}): Promise<ConformanceNode> {
  const wasm = await buildConformanceDriver();
  const work = mkdtempSync(join(tmpdir(), 'kit-conformance-'));
  const node = await bootNode({ home: join(work, 'home'), port: 0, name: 'fake.dev', ...boot });
  const install = async (pkg: DriverPackage) => {
    const dir = join(work, pkg.name);
    await writeDriverPackage(dir, pkg, wasm);
    await startPackage({ packageDir: dir, url: node.url });
  };
  try {
    for (const pkg of packages) await install(pkg);
  } catch (e) {
    await node.stop();
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  return {
    node,
    work,
    driver: (name, pkg) => new DriverHandle(node, `${name}:${pkg}:${PUBLISHER}`),
    install,
    async stop() {
      await node.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

const INSTALLER: ProcessId = { processName: 'installer', packageName: 'conformance', publisherNode: 'kit-tests.os' };
const installers = new WeakSet<object>();

/**
 * Start the conformance driver under a process id no package may take (e.g. one of a system
 * package, `reset:hns-indexer:sys`), holding exactly `caps` (plus messaging from http-server, which
 * the harness talks to it as). For the cases where Hyperdrive checks the sender's package.
 */
export async function runDriverAs(node: RunningNode, id: string, caps: Capability[]): Promise<DriverHandle> {
  const kernel = node.kernel as Kernel;
  if (!installers.has(kernel)) {
    await kernel.addNative({ id: INSTALLER, handle: () => {} }, [messagingCap({ node: node.name, process: systemProcess('kernel') })]);
    installers.add(kernel);
  }
  const wasm = await buildConformanceDriver();
  const init = await kernel.request(
    INSTALLER,
    'our@kernel:distro:sys',
    JSON.stringify({ InitializeProcess: { id, wasm_bytes_handle: '/driver.wasm', wit_version: 1, on_exit: 'None', initial_capabilities: [], public: true } }),
    { blob: { bytes: wasm } },
  );
  if (fromUtf8(init.response.body) !== '"InitializedProcess"') throw new Error(`could not start ${id}: ${fromUtf8(init.response.body)}`);
  kernel.grant(parseProcessId(id), [...caps, messagingCap({ node: node.name, process: systemProcess('http-server') })]);
  const run = await kernel.request(INSTALLER, 'our@kernel:distro:sys', JSON.stringify({ RunProcess: id }));
  if (fromUtf8(run.response.body) !== '"StartedProcess"') throw new Error(`could not run ${id}: ${fromUtf8(run.response.body)}`);
  return new DriverHandle(node, id);
}
