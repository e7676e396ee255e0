// Development builds of JS/TS processes (`kit build --dev`, `kit watch`, `kit run-tests`): the
// world's engine made once per machine (engine.ts, in a componentize child), then each source
// snapshotted in a thread (snapshot.ts) in a fraction of a second instead of componentize-js's
// 5-15 s. A DevBuilder keeps its engines and threads: `kit watch` keeps one for the session.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ComponentizeFeature } from '../componentize.js';
import {
  defaultEngineCacheDir,
  type EngineFiles,
  enabledFeatures,
  engineKey,
  engineReady,
  unsupportedFeatures,
  worldSignature,
} from './engine.js';
import { componentTools } from '../paths.js';
import { compileInitModule, type EngineParts, loadEngineParts } from './snapshot.js';
import type { SnapshotReply, SnapshotRequest } from './snapshot-worker.js';


const WORKER = new URL('./snapshot-worker.js', import.meta.url);

export interface DevComponentArgs {
  sourcePath: string;
  witPath: string;
  worldName: string;
  disableFeatures: readonly ComponentizeFeature[];
  /** Makes a missing engine (in a componentize child: the splicer needs ~800 MB and seconds). */
  prepareEngine(req: { dir: string; witPath: string; worldName: string; features: ComponentizeFeature[] }): Promise<unknown>;
  /** Told when the engine has to be made first (once per world and features on this machine). */
  onPrepare?(): void;
}

export interface DevComponent {
  bytes: Uint8Array;
  /** Time in the engine's initializer. */
  initMs: number;
  /** Whether the engine had to be made for this build. */
  preparedEngine: boolean;
}

/** Why `disableFeatures` rules out a development build, if it does. */
export function devBuildUnsupported(disableFeatures: readonly ComponentizeFeature[]): string | undefined {
  return unsupportedFeatures(enabledFeatures(disableFeatures));
}

interface Job {
  req: SnapshotRequest;
  resolve: (r: SnapshotReply) => void;
  reject: (e: Error) => void;
}

/** Up to `max` snapshot threads for one engine, made as the work needs them. */
class EngineThreads {
  private readonly all = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private nextId = 1;

  constructor(
    private readonly parts: EngineParts,
    private readonly module: unknown,
    private readonly max: number,
  ) {}

  run(bytes: Uint8Array, path: string): Promise<SnapshotReply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, bytes, path }, resolve, reject });
      this.drain();
    });
  }

  async close(): Promise<void> {
    const all = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    for (const job of this.queue.splice(0)) job.reject(new Error('the development builder was closed'));
    await Promise.all(all.map((w) => w.terminate()));
  }

  private drain(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.all.size < this.max ? this.spawn() : undefined);
      if (!w) return;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      w.postMessage(job.req);
    }
  }

  private spawn(): Worker {
    const w = new Worker(WORKER, { workerData: { parts: this.parts, module: this.module } });
    this.all.add(w);
    w.on('message', (m: SnapshotReply) => {
      const job = this.running.get(w);
      this.running.delete(w);
      this.idle.push(w);
      job?.resolve(m);
      this.drain();
    });
    const gone = (e: Error) => {
      this.all.delete(w);
      const at = this.idle.indexOf(w);
      if (at >= 0) this.idle.splice(at, 1);
      const job = this.running.get(w);
      this.running.delete(w);
      job?.reject(e);
      this.drain();
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`the snapshot thread exited (code ${code})`)));
    return w;
  }
}

export class DevBuilder {
  private readonly engines = new Map<string, Promise<EngineThreads>>();
  private readonly signatures = new Map<string, Promise<string>>();
  readonly engineCacheDir: string;
  private readonly threads: number;

  constructor(opts: { engineCacheDir?: string; threads?: number } = {}) {
    this.engineCacheDir = opts.engineCacheDir ?? defaultEngineCacheDir();
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
  }

  async component(args: DevComponentArgs): Promise<DevComponent> {
    const features = enabledFeatures(args.disableFeatures);
    const why = unsupportedFeatures(features);
    if (why) throw new Error(`no development build: ${why}`);
    const signature = await this.signature(args.witPath, args.worldName);
    const key = engineKey(signature, features);
    const dir = join(this.engineCacheDir, key);
    let preparedEngine = false;
    let threads = this.engines.get(key);
    if (!threads) {
      threads = (async () => {
        if (!engineReady(dir)) {
          preparedEngine = true;
          args.onPrepare?.();
          mkdirSync(this.engineCacheDir, { recursive: true });
          await args.prepareEngine({ dir, witPath: args.witPath, worldName: args.worldName, features });
        }
        const parts = loadEngineParts(dir);
        return new EngineThreads(parts, await compileInitModule(parts), this.threads);
      })();
      this.engines.set(key, threads);
      threads.catch(() => this.engines.delete(key));
    }
    const engine = await threads;
    const reply = await engine.run(new Uint8Array(readFileSync(args.sourcePath)), enginePath(args.sourcePath));
    if (!reply.ok) throw new Error(reply.message);
    return { bytes: reply.component, initMs: reply.initMs, preparedEngine };
  }

  /**
   * The world's signature, kept on disk by the content of the WIT folder, the world's name and the
   * tools (jco makes it: a signature from an older jco would find that jco's engine).
   */
  private signature(witPath: string, world: string): Promise<string> {
    const id = createHash('sha256').update(`${witContentHash(witPath)}\0${world}\0${componentTools()}`).digest('hex');
    let p = this.signatures.get(id);
    if (!p) {
      const file = join(this.engineCacheDir, 'worlds', id);
      p = (async () => {
        if (existsSync(file)) return readFileSync(file, 'utf8').trim();
        const sig = await worldSignature(witPath, world);
        mkdirSync(dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, sig);
        renameSync(tmp, file);
        return sig;
      })();
      this.signatures.set(id, p);
      p.catch(() => this.signatures.delete(id));
    }
    return p;
  }

  /**
   * Snapshots `args`'s source a few times and throws the results away: V8 compiles the engine's
   * initializer with its optimizing tier only once a function has run a while, and the first
   * snapshots of a session take seconds where later ones take a tenth of a second. kit watch
   * calls this while the developer reads the first build's output. Needs the engine on disk.
   */
  async warmUp(args: Omit<DevComponentArgs, 'prepareEngine'>, runs = 4): Promise<void> {
    const noPrepare = async () => {
      throw new Error('warm-up needs the engine made already');
    };
    for (let i = 0; i < runs; i++) await this.component({ ...args, prepareEngine: noPrepare }).catch(() => undefined);
  }

  /** Ends the snapshot threads (engines stay on disk). */
  async close(): Promise<void> {
    const engines = [...this.engines.values()];
    this.engines.clear();
    await Promise.all(engines.map(async (e) => (await e.catch(() => undefined))?.close()));
  }
}

/** The source's path as componentize-js shows it to the engine: relative to the working directory when under it. */
function enginePath(sourcePath: string): string {
  const abs = resolve(sourcePath);
  const cwd = process.cwd();
  return dirname(abs).startsWith(cwd) && cwd !== '/' ? abs.slice(cwd.length + 1) : basename(abs);
}

function witContentHash(witPath: string): string {
  const h = createHash('sha256');
  const files = statSync(witPath).isDirectory()
    ? readdirSync(witPath, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.wit'))
        .sort()
        .map((f) => join(witPath, f))
    : [witPath];
  for (const f of files) h.update(f.slice(witPath.length)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

export type { EngineFiles };
