// Shared by the process host tests: fixtures built once (by content hash), a host on the test
// cache, and a tiny router standing in for the kernel (which is not part of this module).

import { join } from 'node:path';
import { buildFixture, DEFAULT_DISABLED_FEATURES, repoRoot } from '../../src/build/componentize.js';
import { ComponentizeWorker } from '../../src/build/componentize-pool.js';
import { DevBuilder } from '../../src/build/dev/index.js';
import { createLogger, type Logger } from '../../src/core/log.js';
import {
  ComponentHost,
  type ExitReason,
  type KernelCallOp,
  type ProcessEvents,
  type ProcessInstance,
} from '../../src/runtime/process/host.js';
import {
  type Address,
  addressToString,
  fromUtf8,
  type KernelMessage,
  type LazyLoadBlob,
  parseAddress,
  type SendError,
  utf8,
} from '../../src/core/types.js';

export const NODE = 'fake.dev';
export const ROOT = repoRoot();

/** Durations of componentize and transpile go to the terminal (info); nothing to the log file. */
export const testLog: Logger = createLogger({
  target: 'test::process',
  level: 'info',
  file: null,
  terminal: (_level, line) => process.stderr.write(`${line}\n`),
});

const built = new Map<string, Promise<Uint8Array>>();
/** A fixture from test/fixtures/processes, componentized once per content hash. */
export function fixture(name: string): Promise<Uint8Array> {
  let p = built.get(name);
  if (!p) {
    p = buildFixture(join(ROOT, 'test', 'fixtures', 'processes', `${name}.js`), { log: testLog });
    built.set(name, p);
  }
  return p;
}

export function newHost(warmWorkers = 1): ComponentHost {
  return new ComponentHost({ cacheDir: join(ROOT, 'test', '.cache', 'transpiled'), log: testLog, warmWorkers });
}

export function addr(name: string): Address {
  return parseAddress(`${NODE}@${name}:test:sys`);
}

export const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : fromUtf8(b));
export const blob = (s: string): LazyLoadBlob => ({ mime: 'text/plain', bytes: utf8(s) });

export function request(
  body: string | object,
  o: { id?: bigint; from?: Address; to: Address; rsvp?: Address; expects?: number; blob?: LazyLoadBlob },
): KernelMessage {
  return {
    id: o.id ?? 1n,
    source: o.from ?? addr('tester'),
    target: o.to,
    rsvp: o.rsvp,
    message: {
      tag: 'request',
      val: {
        inherit: false,
        expectsResponse: o.expects === undefined ? undefined : BigInt(o.expects),
        body: utf8(typeof body === 'string' ? body : JSON.stringify(body)),
        metadata: undefined,
        capabilities: [],
      },
    },
    lazyLoadBlob: o.blob,
  };
}

export const bodyOf = (km: KernelMessage): string =>
  fromUtf8(km.message.tag === 'request' ? km.message.val.body : km.message.val[0].body);
export const jsonOf = <T = unknown>(km: KernelMessage): T => JSON.parse(bodyOf(km)) as T;

interface Sent {
  km: KernelMessage;
  context: Uint8Array | undefined;
  from: string;
}

/**
 * An in-test stand-in for the kernel: delivers between the processes it started, keeps the
 * context of each Request that expects a Response (and hands it back with the Response), and
 * records everything. Messages to addresses it does not know are only recorded.
 */
export class Router {
  readonly sent: Sent[] = [];
  readonly prints: Array<{ from: string; verbosity: number; text: string }> = [];
  readonly exits = new Map<string, ExitReason[]>();
  readonly procs = new Map<string, ProcessInstance>();
  /** Answers kernel calls; default: a clear failure. */
  onCall: (from: string, op: KernelCallOp, args: unknown[]) => unknown = (_f, op) => {
    throw new Error(`the test router does not do ${op}`);
  };
  private readonly contexts = new Map<bigint, Uint8Array | undefined>();
  private waiters: Array<() => void> = [];

  constructor(readonly host: ComponentHost) {}

  events(name: string): ProcessEvents {
    const from = addressToString(addr(name));
    return {
      onSend: (km, context) => {
        this.sent.push({ km, context, from });
        this.route(km, context);
        this.wake();
      },
      onCall: (op, args) => this.onCall(from, op, args),
      onPrint: (verbosity, text) => {
        this.prints.push({ from, verbosity, text });
        this.wake();
      },
      onExit: (reason) => {
        this.exits.set(from, [...(this.exits.get(from) ?? []), reason]);
        this.wake();
      },
    };
  }

  async start(name: string, wasm: Uint8Array, memoryLimitBytes?: number): Promise<ProcessInstance> {
    const p = await this.host.start({ id: addr(name).process, node: NODE, wasm, memoryLimitBytes, events: this.events(name) });
    this.procs.set(addressToString(addr(name)), p);
    return p;
  }

  private route(km: KernelMessage, context: Uint8Array | undefined): void {
    const target = this.procs.get(addressToString(km.target));
    if (km.message.tag === 'request') {
      if (km.message.val.expectsResponse !== undefined) this.contexts.set(km.id, context);
      target?.deliver(km);
      return;
    }
    const saved = this.contexts.get(km.id);
    this.contexts.delete(km.id);
    target?.deliver({ ...km, message: { tag: 'response', val: [km.message.val[0], saved] } });
  }

  /** Return a Request a process sent as a SendError (what the kernel does on a timeout). */
  fail(km: KernelMessage, kind: SendError['kind'] = 'timeout'): void {
    const sender = this.procs.get(addressToString(km.source))!;
    const context = this.contexts.get(km.id);
    this.contexts.delete(km.id);
    sender.deliverSendError(km.id, { kind, target: km.target, message: km.message, lazyLoadBlob: km.lazyLoadBlob }, context);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first value `probe` returns (checked now and after every event). */
  until<T>(probe: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        const v = probe();
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** The first message sent after `after` (an index into `sent`) that matches. */
  nextSent(match: (s: Sent) => boolean, what: string, after = 0): Promise<Sent> {
    return this.until(() => this.sent.slice(after).find(match), what);
  }

  exitOf(name: string): Promise<ExitReason> {
    const key = addressToString(addr(name));
    return this.until(() => this.exits.get(key)?.[0], `${key} to exit`);
  }
}

/** Echo works: proof that a host is still healthy after something else failed in it. */
export async function assertEchoWorks(router: Router, name = 'echo-after'): Promise<string> {
  const echo = await router.start(name, await fixture('echo'));
  const mark = router.sent.length;
  echo.deliver(request('still alive', { id: 99n, to: addr(name), expects: 5 }));
  const reply = await router.nextSent((s) => s.km.id === 99n, 'echo reply', mark);
  return bodyOf(reply.km);
}

let devBuilder: DevBuilder | undefined;
const devBuilt = new Map<string, Promise<Uint8Array>>();
/**
 * A fixture as a development build (kit build --dev) makes it: the engine is made once into
 * test/.cache/dev-engines (by componentize-js's splicer, in a componentize child), then each
 * source is snapshotted. Call closeDevFixtures() when done (it ends the snapshot threads).
 */
export function devFixture(name: string): Promise<Uint8Array> {
  let p = devBuilt.get(name);
  if (!p) {
    devBuilder ??= new DevBuilder({ engineCacheDir: join(ROOT, 'test', '.cache', 'dev-engines') });
    p = devBuilder
      .component({
        sourcePath: join(ROOT, 'test', 'fixtures', 'processes', `${name}.js`),
        witPath: join(ROOT, 'wit'),
        worldName: 'process-v1',
        disableFeatures: DEFAULT_DISABLED_FEATURES,
        prepareEngine: async (req) => {
          const worker = new ComponentizeWorker();
          try {
            await worker.prepareEngine(req);
          } finally {
            worker.terminate();
          }
        },
      })
      .then((r) => r.bytes);
    devBuilt.set(name, p);
  }
  return p;
}

export async function closeDevFixtures(): Promise<void> {
  await devBuilder?.close();
  devBuilder = undefined;
}
