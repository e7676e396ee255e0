// Run real process components (built from generated templates) against a small synchronous
// stand-in for the kernel. Each Request delivered to a component runs a fresh instance of it:
// state set with setState is kept per node and process, so processes that keep their data in
// state (chat) behave across requests and nodes; a component's own Requests are delivered the
// same way, nested. Runtime modules are answered by functions the test gives.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { buildFixture } from '../../../src/build/componentize.js';
import { loadJco } from '../../../src/build/jco.js';
import type {
  Address,
  Capability,
  LazyLoadBlob,
  Message as WitMessage,
  Request as WitRequest,
  Response as WitResponse,
} from '../../../src/core/types.js';
import { addressToString } from '../../../src/core/types.js';
import { ROOT } from '../helpers.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

type CoreModule = object;
// The lib settings here have WebAssembly's types but not its value.
const Wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => CoreModule } }).WebAssembly;
type Instantiate = (getCoreModule: (name: string) => CoreModule, imports: Record<string, unknown>) => {
  init(our: string): void;
};
export type RunComponent = (our: string, host: Record<string, unknown>) => 'stopped' | 'returned' | { error: unknown };

/** Bundle a process as kit build does (features: test), componentize it (cached), transpile it. */
export async function loadProcess(entry: string, name: string): Promise<RunComponent> {
  const out = join(ROOT, 'test', '.cache', 'template-components', name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const bundled = await build({
    entryPoints: [entry],
    absWorkingDir: dirname(entry),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['hyperware:process/*'],
    alias: { 'kit/process': join(ROOT, 'dist', 'src', 'process-lib', 'index.js') },
    define: { __KIT_FEATURES__: '["test"]' },
    logLevel: 'silent',
  });
  const source = join(out, `${name}.js`);
  writeFileSync(source, bundled.outputFiles[0].text);
  const wasm = await buildFixture(source);
  const jco = await loadJco();
  const { files } = await jco.transpile(wasm, { name: 'proc', instantiation: 'sync', noTypescript: true });
  for (const [file, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(out, 'gen', file)), { recursive: true });
    writeFileSync(join(out, 'gen', file), bytes);
  }
  writeFileSync(join(out, 'gen', 'package.json'), '{"type":"module"}');
  const { instantiate } = (await import(pathToFileURL(join(out, 'gen', 'proc.js')).href)) as { instantiate: Instantiate };
  const shimSpecifier = '@bytecodealliance/preview2-shim/instantiation';
  const { WASIShim } = (await import(shimSpecifier)) as { WASIShim: new () => { getImportObject(): Record<string, unknown> } };
  const modules = new Map<string, CoreModule>();
  const core = (file: string) => {
    if (!modules.has(file)) modules.set(file, new Wasm.Module(readFileSync(join(out, 'gen', file))));
    return modules.get(file)!;
  };
  return (our, host) => {
    const root = instantiate(core, {
      ...new WASIShim().getImportObject(),
      'hyperware:process/standard': host,
      'hyperware:process/standard@1.0.0': host,
    });
    try {
      root.init(our);
      return 'returned';
    } catch (e) {
      if (e instanceof Error && e.message === STOP) return 'stopped';
      return { error: (e as { payload?: unknown }).payload ?? e };
    }
  };
}

const STOP = 'mini-kernel: no more messages';

export interface Answer {
  response: WitResponse;
  blob?: LazyLoadBlob;
}

/** A runtime module or another stand-in: answers a Request, or throws a WIT SendError payload. */
export type Responder = (source: Address, request: WitRequest, blob?: LazyLoadBlob) => Answer;

export function answerJson(value: unknown, blob?: Uint8Array): Answer {
  return {
    response: { inherit: false, body: enc.encode(JSON.stringify(value)), metadata: undefined, capabilities: [] },
    blob: blob === undefined ? undefined : { bytes: blob, mime: undefined },
  };
}

export function requestOf(body: string | Uint8Array, expectsResponse: bigint | undefined = 15n): WitRequest {
  const bytes = typeof body === 'string' ? enc.encode(body) : body;
  return { inherit: false, expectsResponse, body: bytes, metadata: undefined, capabilities: [] };
}

export function text(bytes: Uint8Array): string {
  return dec.decode(bytes);
}

export class MiniKernel {
  readonly prints: string[] = [];
  readonly states = new Map<string, Uint8Array>();
  /** Fire-and-forget Requests components sent, in order. */
  readonly told: Array<{ source: Address; target: Address; request: WitRequest; blob?: LazyLoadBlob }> = [];
  capabilities = new Map<string, Capability[]>();
  spawned: unknown[][] = [];

  constructor(
    /** Components by process name. */
    readonly components: Record<string, RunComponent>,
    /** Stand-ins by process name (vfs, kernel, ...), tried before components. */
    readonly responders: Record<string, Responder> = {},
  ) {}

  /** Deliver a Request and return the target's Response (runs the target until it answers). */
  deliver(source: Address, target: Address, request: WitRequest, blob?: LazyLoadBlob): Answer {
    const responder = this.responders[target.process.processName];
    if (responder) return responder(source, request, blob);
    const run = this.components[target.process.processName];
    if (!run) throw new Error(`mini-kernel: nothing runs ${addressToString(target)}`);
    const result = this.run(run, target, [{ source, message: { tag: 'request', val: request }, blob }], true);
    if (!result.answer)
      throw new Error(`mini-kernel: ${addressToString(target)} did not answer (${JSON.stringify(result.outcome)}); last prints: ${this.prints.slice(-3).join(' | ')}`);
    return result.answer;
  }

  /** Run one instance of `run` as `self` over these messages; stops at the first Response if `untilAnswer`. */
  run(
    run: RunComponent,
    self: Address,
    incoming: Array<{ source: Address; message: WitMessage; blob?: LazyLoadBlob }>,
    untilAnswer = false,
  ): { outcome: ReturnType<RunComponent>; answer?: Answer; answers: Answer[] } {
    const key = addressToString(self);
    const answers: Answer[] = [];
    let current: LazyLoadBlob | undefined;
    const host = {
      printToTerminal: (_v: number, s: string) => this.prints.push(`${self.node} ${self.process.processName}: ${s}`),
      our: () => self,
      getOnExit: () => ({ tag: 'restart' }),
      setOnExit: () => {},
      getState: () => this.states.get(key),
      setState: (b: Uint8Array) => this.states.set(key, new Uint8Array(b)),
      clearState: () => this.states.delete(key),
      spawn: (...args: unknown[]) => {
        this.spawned.push(args);
        return { processName: String(1000 + this.spawned.length), packageName: self.process.packageName, publisherNode: self.process.publisherNode };
      },
      saveCapabilities: (caps: Capability[]) => this.capabilities.set(key, [...(this.capabilities.get(key) ?? []), ...caps]),
      dropCapabilities: () => {},
      ourCapabilities: () => this.capabilities.get(key) ?? [],
      receive: () => {
        const next = untilAnswer && answers.length > 0 ? undefined : incoming.shift();
        if (next === undefined) throw new Error(STOP);
        current = next.blob;
        return [next.source, next.message];
      },
      hasBlob: () => current !== undefined,
      getBlob: () => current,
      lastBlob: () => undefined,
      sendRequest: (target: Address, request: WitRequest, _context: Uint8Array | undefined, blob?: LazyLoadBlob) =>
        this.told.push({ source: self, target, request, blob }),
      sendRequests: () => {},
      sendResponse: (response: WitResponse, blob?: LazyLoadBlob) => answers.push({ response, blob }),
      sendAndAwaitResponse: (target: Address, request: WitRequest, blob?: LazyLoadBlob) => {
        const answer = this.deliver(self, target, request, blob);
        current = answer.blob;
        return [target, { tag: 'response', val: [answer.response, undefined] }];
      },
    };
    const outcome = run(key, host);
    return { outcome, answer: answers[0], answers };
  }
}
