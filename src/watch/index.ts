// `kit watch`: build a package, install it on the given nodes, then on every save rebuild only
// the processes whose inputs changed and swap them on every node (package/swap.ts), keeping
// their state and capabilities. One line per reload, with the time from the save until every
// node runs the new code. A UI keeps Vite's hot reload (ui/dev.ts), against the first node.
//
// What can go wrong, and what happens:
// - a syntax or type error: the compiler's messages (file:line:col) are shown; nothing is swapped
// - pkg/manifest.json or metadata.json changed: the package is reinstalled (App Store Install),
//   and processes the new manifest dropped are stopped
// - a process folder was deleted: said once; its process keeps running its last build
// - a node stopped answering: said once; kit watch goes on with the others and reinstalls the
//   package on that node when it answers again

import { createHash } from 'node:crypto';
import { existsSync, type FSWatcher, readdirSync, readFileSync, watch } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { formatKitError, KitError } from '../cli/errors.js';
import { type BuildOptions, type BuildResult, buildPackage, updatePackageZip } from '../build/build.js';
import { DEFAULT_DISABLED_FEATURES } from '../build/componentize.js';
import { DevBuilder } from '../build/dev/index.js';
import { detectProcesses, detectUiDirs } from '../build/detect.js';
import type { Logger } from '../core/log.js';
import { NodeUnreachableError } from '../node-client/rpc.js';
import { readAndUpdateMetadata } from '../package/metadata.js';
import { checkManifest, startPackage } from '../package/start.js';
import { killProcess, processEntry, SwapError, type SwapResult, swapProcess } from '../package/swap.js';
import { type DevUiServer, startDevUi } from '../ui/dev.js';

/** Edits arriving within this many milliseconds of each other make one reload (editors write in bursts). */
const SETTLE_MS = 40;
/** The package zip is rewritten once the edits have paused this long. */
const ZIP_AFTER_MS = 1500;

export interface WatchOptions {
  packageDir: string;
  /** Node URLs, e.g. http://localhost:8080. */
  nodes: string[];
  /** Development builds (default); false builds with componentize-js as `kit build` does. */
  dev?: boolean;
  /** Build options passed through (features, world, local dependencies...). */
  build?: Pick<BuildOptions, 'features' | 'world' | 'localDependencies' | 'skipDepsCheck' | 'port'>;
  /** Run the UI's Vite dev server (default: when the package has ui/). */
  ui?: boolean;
  uiPort?: number;
  /** Where the reload lines go. */
  print(line: string): void;
  /** The build's own log (file). */
  logger: Logger;
}

export interface WatchSession {
  /** The package is built and installed (or the failure printed); the watch is on. */
  ready: Promise<void>;
  /** The UI dev server's page, when there is one. */
  uiUrl?: Promise<string>;
  /**
   * Resolves once no reload is waiting or running, every node has the last wasm in its VFS and
   * the snapshot engine is warm (as it is by the time a developer saves, a few seconds in).
   */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

type NodeState = 'up' | 'down';

export function watchPackage(opts: WatchOptions): WatchSession {
  const packageDir = resolve(opts.packageDir);
  const dev = opts.dev !== false;
  const builder = dev ? new DevBuilder() : undefined;
  const nodes = new Map<string, NodeState>(opts.nodes.map((n) => [n, 'up']));
  const watchers = new Map<string, FSWatcher>();
  let stopped = false;
  let busy: Promise<void> = Promise.resolve();
  let pending = false;
  let firstEventAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let manifestHash = '';
  let metadataHash = '';
  let known = new Set<string>();
  let ui: DevUiServer | undefined;
  let warming: Promise<void> = Promise.resolve();
  const { print } = opts;

  const buildOpts = (): BuildOptions => ({
    ...opts.build,
    dir: packageDir,
    dev,
    devBuilder: builder,
    progress: null,
    logger: opts.logger,
  });

  const fileHash = (path: string) => (existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'missing');
  const rememberInputs = () => {
    manifestHash = fileHash(join(packageDir, 'pkg', 'manifest.json'));
    metadataHash = fileHash(join(packageDir, 'metadata.json'));
  };

  /** Process ids by process folder name, from the manifest (a wasm path names the folder's build). */
  const processIds = async (): Promise<Map<string, string>> => {
    const meta = await readAndUpdateMetadata(packageDir);
    const suffix = `${meta.properties.package_name}:${meta.properties.publisher}`;
    const entries = await checkManifest(join(packageDir, 'pkg'));
    const ids = new Map<string, string>();
    for (const e of entries) ids.set(basename(e.process_wasm_path, '.wasm'), `${e.process_name}:${suffix}`);
    return ids;
  };

  const unreachable = (url: string, e: unknown): boolean => {
    if (!(e instanceof NodeUnreachableError)) return false;
    if (nodes.get(url) !== 'down') print(`node ${url} is not answering (${e.message}); kit watch goes on and reinstalls the package there when it answers again`);
    nodes.set(url, 'down');
    return true;
  };

  const install = async (url: string, previous?: Set<string>): Promise<boolean> => {
    try {
      if (zipStale) await writeZip();
      await startPackage({ packageDir, url });
      // processes an earlier manifest had and this one dropped
      if (previous) {
        const now = new Set((await processIds()).values());
        for (const id of previous) {
          if (now.has(id) || !(await processEntry(url, id))) continue;
          await killProcess(url, id);
          print(`stopped ${id} on ${url}: pkg/manifest.json no longer lists it`);
        }
      }
      if (nodes.get(url) === 'down') print(`node ${url} answers again: package reinstalled`);
      nodes.set(url, 'up');
      return true;
    } catch (e) {
      if (unreachable(url, e)) return false;
      print(`installing on ${url} failed: ${describe(e)}`);
      return false;
    }
  };

  // One non-recursive watcher per folder (Node 20's recursive watch on Linux loses files that
  // editors replace by renaming), refreshed after every reload to follow new and deleted folders.
  const watchTree = () => {
    const wanted = new Set<string>([packageDir, join(packageDir, 'pkg')]);
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      wanted.add(dir);
      for (const e of readdirSync(dir, { withFileTypes: true }))
        if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) walk(join(dir, e.name));
    };
    walk(join(packageDir, 'api'));
    for (const p of detectProcesses(packageDir)) walk(p.dir);
    for (const [dir, w] of watchers) {
      if (wanted.has(dir)) continue;
      w.close();
      watchers.delete(dir);
    }
    for (const dir of wanted) {
      if (watchers.has(dir) || !existsSync(dir)) continue;
      try {
        const w = watch(dir, (_event, name) => onEvent(dir, name?.toString()));
        w.on('error', () => {
          watchers.delete(dir);
          w.close();
        });
        watchers.set(dir, w);
      } catch {
        // a folder that vanished between listing and watching
      }
    }
  };

  const relevant = (dir: string, name: string | undefined): boolean => {
    if (!name) return true;
    const rel = relative(packageDir, join(dir, name));
    const parts = rel.split(sep);
    if (parts.includes('node_modules') || parts.some((p) => p.startsWith('.')) || /(~|\.swp|\.tmp)$/.test(rel)) return false;
    if (parts[0] === 'pkg') return rel === join('pkg', 'manifest.json') || rel === join('pkg', 'scripts.json');
    if (parts[0] === 'target' || parts[0] === 'test') return false;
    if (detectUiDirs(packageDir).some((u) => u.name === parts[0])) return false; // Vite's business
    return true;
  };

  const onEvent = (dir: string, name: string | undefined) => {
    if (stopped || !relevant(dir, name)) return;
    if (!timer) firstEventAt = performance.now();
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      schedule(firstEventAt);
    }, SETTLE_MS);
  };

  const schedule = (since: number) => {
    if (pending) return;
    pending = true;
    busy = busy.then(async () => {
      pending = false;
      if (stopped) return;
      try {
        await reload(since);
      } catch (e) {
        // a bug or an unexpected failure: say it, and keep watching
        print(`reload failed: ${describe(e)}`);
        opts.logger.error(`kit watch: reload failed: ${e instanceof Error ? e.stack : e}`);
      }
    });
  };

  const reload = async (since: number) => {
    const manifestBefore = manifestHash;
    const metadataBefore = metadataHash;
    const idsBefore = await processIds().catch(() => new Map<string, string>());
    rememberInputs();
    const reinstall = manifestHash !== manifestBefore || metadataHash !== metadataBefore;

    const names = new Set(detectProcesses(packageDir).map((p) => p.name));
    for (const gone of known) if (!names.has(gone)) print(`process folder ${gone} was deleted: ${gone} keeps running its last build; remove it from pkg/manifest.json to stop it`);
    known = names;
    watchTree();

    let built: BuildResult;
    const t0 = performance.now();
    try {
      built = await buildPackage({ ...buildOpts(), noUi: true, zip: reinstall });
    } catch (e) {
      print(`build failed; the nodes keep running the last build:\n${describe(e)}`);
      return;
    }
    const buildMs = performance.now() - t0;
    if (built.rebuilt.length > 0 && !reinstall) zipLater();

    if (reinstall) {
      const previous = new Set(idsBefore.values());
      const done = [];
      for (const url of nodes.keys()) if (await install(url, previous)) done.push(url);
      if (done.length > 0) print(`reinstalled ${built.packageId} (the manifest or metadata changed) in ${ms(performance.now() - since)} on ${done.join(', ')}`);
      return;
    }

    let ids: Map<string, string>;
    try {
      ids = await processIds();
    } catch (e) {
      print(`cannot read the package's manifest: ${describe(e)}`);
      return;
    }
    const rebuilt = built.processes.filter((p) => p.status === 'built');
    for (const p of rebuilt) {
      const id = ids.get(basename(p.wasmPath, '.wasm'));
      if (!id) print(`${p.name} built, but pkg/manifest.json does not list ${basename(p.wasmPath)}: add an entry for it to install it`);
    }
    const targets = rebuilt.filter((p) => ids.has(basename(p.wasmPath, '.wasm')));
    if (targets.length === 0) return;
    const wasms = new Map(targets.map((p) => [p.name, new Uint8Array(readFileSync(p.wasmPath))]));
    const swapMs = performance.now();
    // Every node at once; on each, the processes one after another.
    const results = await Promise.all(
      [...nodes].map(async ([url, state]): Promise<boolean> => {
        if (state === 'down') return install(url); // it may be back, with or without our package
        for (const p of targets) {
          const id = ids.get(basename(p.wasmPath, '.wasm'))!;
          try {
            const r = await swapProcess(url, id, wasms.get(p.name)!);
            persist(url, p.name, r);
          } catch (e) {
            if (unreachable(url, e)) return false;
            // stopped, crashed for good, or never installed: install the whole package
            if (e instanceof SwapError && /is not running/.test(e.message)) return install(url);
            print(`${url}: swapping ${p.name} failed: ${describe(e)}`);
            return false;
          }
        }
        return true;
      }),
    );
    const reached = [...nodes.keys()].filter((_, i) => results[i]);
    if (reached.length > 0)
      print(
        `reloaded ${targets.map((p) => p.name).join(', ')} in ${ms(performance.now() - since)} (build ${ms(buildMs)}, swap ${ms(performance.now() - swapMs)}) on ${reached.join(', ')}`,
      );
  };

  // The new wasm in each node's VFS, so that a reboot runs it too: not needed to run it, so it
  // is written after the reload's line, one write at a time per node, while the next edit builds.
  const persisting = new Map<string, Promise<void>>();
  const persist = (url: string, name: string, r: SwapResult) => {
    const next = (persisting.get(url) ?? Promise.resolve()).then(async () => {
      try {
        const w = await r.persist();
        if (!w.wroteVfs) print(`${url}: the node runs the new ${name}, but its VFS refused the new wasm (${w.vfsError}); a reboot would bring back the old one`);
      } catch (e) {
        opts.logger.warning(`writing the new ${name} to the VFS of ${url} failed: ${describe(e)}`);
      }
    });
    persisting.set(url, next);
  };

  // The zip start-package would use after the session: written once the edits pause, in turn
  // with the builds (both update target/kit-build.json), and when the watch stops.
  let zipTimer: NodeJS.Timeout | undefined;
  let zipStale = false;
  let zipping: Promise<void> | undefined;
  const writeZip = () =>
    (zipping ??= updatePackageZip(packageDir, { dev })
      .then(() => {
        zipStale = false;
      })
      .catch((e) => opts.logger.warning(`writing the package zip failed: ${describe(e)}`))
      .finally(() => {
        zipping = undefined;
      }));
  const zipLater = () => {
    zipStale = true;
    clearTimeout(zipTimer);
    zipTimer = setTimeout(() => {
      busy = busy.then(() => (zipStale && !stopped ? writeZip() : undefined));
    }, ZIP_AFTER_MS);
    zipTimer.unref();
  };

  const ready = (async () => {
    const t0 = performance.now();
    known = new Set(detectProcesses(packageDir).map((p) => p.name));
    rememberInputs();
    watchTree();
    let built: BuildResult;
    try {
      built = await buildPackage(buildOpts());
      print(`built ${built.packageId} in ${ms(performance.now() - t0)}${dev ? ' (development build)' : ''}`);
    } catch (e) {
      print(`build failed:\n${describe(e)}\nfix it and save: kit watch builds again and then installs`);
      manifestHash = ''; // the first successful build installs
      return;
    }
    rememberInputs();
    const done = [];
    for (const url of nodes.keys()) if (await install(url)) done.push(url);
    if (done.length > 0) print(`installed on ${done.join(', ')}; watching ${packageDir} (Ctrl-C stops)`);
    // Get the snapshot engine's optimized code ready before the first save (see DevBuilder.warmUp).
    const js = built.processes.find((p) => p.language === 'typescript' || p.language === 'javascript');
    if (builder && js)
      warming = builder.warmUp({
        sourcePath: join(packageDir, 'target', 'js', `${js.name}.js`),
        witPath: join(packageDir, 'target', 'wit'),
        worldName: built.world,
        disableFeatures: DEFAULT_DISABLED_FEATURES,
      });
  })();
  busy = ready;

  let uiUrl: Promise<string> | undefined;
  const hasUi = existsSync(join(packageDir, 'ui', 'package.json'));
  if (opts.ui !== false && hasUi) {
    uiUrl = ready.then(async () => {
      ui = await startDevUi({ dir: packageDir, nodeUrl: opts.nodes[0], uiPort: opts.uiPort, output: { write: () => true } as unknown as NodeJS.WritableStream });
      return ui.ready;
    });
    uiUrl.catch(() => undefined);
  }

  return {
    ready,
    uiUrl,
    async idle() {
      for (;;) {
        const current = busy;
        await current.catch(() => undefined);
        await Promise.all([...persisting.values(), warming]);
        if (current === busy && !pending && !timer) return;
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      clearTimeout(zipTimer);
      await busy.catch(() => undefined);
      if (zipStale) await writeZip();
      await Promise.all(persisting.values());
      await ui?.stop();
      await builder?.close();
    },
  };
}

function ms(n: number): string {
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`;
}

function describe(e: unknown): string {
  if (e instanceof KitError) return formatKitError(e).replace(/^Error: /, '');
  return e instanceof Error ? e.message : String(e);
}
