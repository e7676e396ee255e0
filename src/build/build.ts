// `kit build`: turn a package folder into pkg/<process>.wasm components and the package zip.
//
// Steps (interop §3.2, with content hashing where the real kit compares mtimes):
//   metadata.json (bumps current_version as kit does) -> UIs (npm run build:copy) ->
//   target/wit (hyperware.wit + api/*.wit + dependency APIs) -> world -> per process:
//   up to date? else type-check + bundle (TS/JS), then componentize / cargo / componentize-py ->
//   target/api + pkg/api.zip -> target/<package>:<publisher minus last dot-segment>.zip.
//
// Incremental: a process's key hashes its folder's files, every file outside it that the last
// build read (process library, shared sources, npm packages, tsconfig), the WIT folder, the world,
// the build options and the componentize-js version. Same key and same wasm on disk: skipped.

import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { type Metadata, readAndUpdateMetadata, zipFilename } from '../package/metadata.js';
import { createLogger, type Logger } from '../core/log.js';
import { isSafeName, safeNameRule } from '../core/types.js';
import { checkManifestText, ManifestError } from '../core/manifest.js';
import { bundleProcess } from './bundle.js';
import { type ComponentizeFeature, type componentizeJs, DEFAULT_DISABLED_FEATURES } from './componentize.js';
import { resolveDependencyApis } from './deps.js';
import { type LinkResult, linkPackage, stagedPath } from './link.js';
import { detectProcesses, detectUiDirs, type Language, makeFilter, type ProcessDir, unmatchedFilterValues } from './detect.js';
import { ComponentCache, defaultComponentCacheDir } from './component-cache.js';
import { ComponentizeWorker } from './componentize-pool.js';
import { DevBuilder, devBuildUnsupported } from './dev/index.js';
import { BuildError, CompileError, FlagError, PackageLayoutError, StepFailedError } from './errors.js';
import { hashFile, hashFiles, hashValue, listFiles, sha256 } from './hash.js';
import { componentTools } from './paths.js';
import { createProgress, formatSeconds, loggerAbove, type Progress, type ProgressStream } from './progress.js';
import { lockBuild } from './lock.js';
import { buildPython, checkPythonToolchain } from './python.js';
import { buildRust, checkProcessLibVersions } from './rust.js';
import { findRustToolchain, type RustToolchain } from './rust-toolchain.js';
import { linkKitForEditors } from '../templates/editor.js';
import { refuseRewrite } from './rewrite.js';
import { type BuildState, type ProcessState, readState, writeState } from './state.js';
import { guestGlobalsPath, typecheck } from './typescript.js';
import { buildUi, uiSourceHash } from './ui.js';
import { chooseWorld, guestTypesOnce, hyperwareWit, readApiWits, validateWitOnce, type WitFile, witHash, writeWitDir } from './wit.js';
import { sha256Hex, zipDirectory } from '../core/zip.js';

export type ComponentizeFn = typeof componentizeJs;

export interface BuildOptions {
  /** Package folder; default: the working directory. */
  dir?: string;
  /** Skip UI folders (`--no-ui`). */
  noUi?: boolean;
  /** Build only UI folders (`--ui-only`). */
  uiOnly?: boolean;
  /** Build only these top-level folders (names or paths; `-i`). */
  include?: string[];
  /** Build all but these (`-e`). */
  exclude?: string[];
  /** Do not check that cargo / componentize-py are installed before using them (`-s`). */
  skipDepsCheck?: boolean;
  /** Comma-separated cargo features for Rust processes (`--features`). */
  features?: string;
  /** Node (localhost:<port>) asked for dependency APIs not given with -l (`-p`, default 8080). */
  port?: number;
  /** Accepted for compatibility (`-d`); this build does not download packages between nodes. */
  downloadFrom?: string;
  /** WIT world to build against (`-w`); default: the process world in api/*.wit, else process-v1. */
  world?: string;
  /** Local dependency package folders (`-l`). */
  localDependencies?: string[];
  /** Extra files to put in api.zip (`-a`). */
  addToApi?: string[];
  /** Rust `Spawn!()` rewriting (`--rewrite`): refused where a Rust process uses `Spawn!()` (rewrite.ts). */
  rewrite?: boolean;
  /** Rust toolchain for cargo, `+X` (`--toolchain`); default: the first installed one that builds for WASI (rust-toolchain.ts). */
  toolchain?: string;
  /**
   * `-r`: accepted. The real kit builds in Docker; here a package zip's sha256 already depends only
   * on its sources (on this machine: see component-cache.ts).
   */
  reproducible?: boolean;
  /** Rebuild every process even if its inputs did not change, making fresh components (`-f`). */
  force?: boolean;
  /** Show the output of cargo, npm and componentize-py (`-v`). */
  verbose?: boolean;
  /** Processes built at once; default: the core count. */
  jobs?: number;
  /** componentize-js WASI features to leave out; default: componentize.ts's DEFAULT_DISABLED_FEATURES. */
  disableFeatures?: readonly ComponentizeFeature[];
  /** Where components are kept by content; default `$KIT_CACHE/components`. */
  componentCacheDir?: string;
  /**
   * Development build (`--dev`): JS/TS components are snapshotted by kit (dev/) instead of
   * componentize-js's wizer: the same component, made in a fraction of the time; not for publishing.
   */
  dev?: boolean;
  /** The DevBuilder to use (kit watch keeps one for its session); default: one for this build. */
  devBuilder?: DevBuilder;
  /** Write the package zip (default true); kit watch zips later, with updatePackageZip. */
  zip?: boolean;
  logger?: Logger;
  /** Where the progress display goes; default process.stdout; null for none. */
  progress?: ProgressStream | null;
  /** Replaces componentizeJs (unit tests only). */
  componentize?: ComponentizeFn;
  /** The packages whose builds are building this one as a -l dependency (stops cycles). */
  dependencyOf?: string[];
}

export type ProcessStatus = 'built' | 'up-to-date' | 'excluded';

export interface ProcessBuild {
  name: string;
  language: Language;
  status: ProcessStatus;
  /** pkg/<name>.wasm */
  wasmPath: string;
  /** Time spent building it this run (0 when up to date). */
  ms: number;
  /** Built from identical sources before: the component was reused, not made again. */
  cached?: boolean;
}

export interface BuildResult {
  packageDir: string;
  /** `package:publisher` */
  packageId: string;
  world: string;
  processes: ProcessBuild[];
  /** Names of the processes built this run. */
  rebuilt: string[];
  /** How many components were made this run (componentize-js, cargo or componentize-py runs). */
  componentized: number;
  ui: Array<{ name: string; status: 'built' | 'up-to-date' | 'skipped' }>;
  /** pkg/api.zip, when the package has an API. */
  apiZipPath?: string;
  /** What composition did: library components moved to the API, processes composed with them. */
  linked?: LinkResult;
  zipPath: string;
  /** Lowercase hex sha256 of the package zip: what `kit publish` puts on chain. */
  zipHash: string;
  /** False when pkg/ was unchanged and the existing zip was kept. */
  zipWritten: boolean;
  ms: number;
}

/** Runs `fn` over `items`, at most `limit` at a time; collects every error instead of stopping. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return errors;
}

function relKey(packageDir: string, path: string): string {
  const r = relative(packageDir, path);
  return r.startsWith('..') || isAbsolute(r) ? path : r;
}

/** The build key of a process: options plus the content of every input, with in-package paths relative. */
function processKey(packageDir: string, options: unknown, files: Record<string, string>): string {
  const rel: Record<string, string> = {};
  for (const [p, h] of Object.entries(files)) rel[relKey(packageDir, p)] = h;
  return hashValue({ options, files: rel });
}

function resolvePackageDir(dir: string | undefined): string {
  const abs = resolve(dir ?? '.');
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new PackageLayoutError(`package directory ${abs} does not exist.`, 'Pass the folder of a package (one with metadata.json and pkg/), or create one with `kit new`.');
  return realpathSync(abs);
}

/** Copies api/, --add-to-api files and metadata api_includes into target/api; returns whether the package has an API. */
function prepareApiDir(packageDir: string, addToApi: string[], apiIncludes: string[], logger: Logger): boolean {
  const apiSrc = join(packageDir, 'api');
  const target = join(packageDir, 'target', 'api');
  const extras = [...addToApi, ...apiIncludes];
  const hasApi = existsSync(apiSrc) || extras.length > 0;
  rmSync(target, { recursive: true, force: true });
  if (!hasApi) return false;
  mkdirSync(target, { recursive: true });
  if (existsSync(apiSrc)) cpSync(apiSrc, target, { recursive: true });
  for (const extra of extras) {
    const path = existsSync(extra) ? resolve(extra) : join(packageDir, extra);
    if (!existsSync(path)) {
      logger.warning(`api file ${extra} not found (given with -a/--add-to-api or metadata api_includes); not added to api.zip`);
      continue;
    }
    cpSync(path, join(target, path.split(/[\\/]/).pop()!), { recursive: true });
  }
  return true;
}

function dirHash(dir: string): string {
  const files = hashFiles(listFiles(dir, new Set()));
  return hashValue(Object.entries(files).map(([p, h]) => [relative(dir, p), h]));
}

export async function buildPackage(opts: BuildOptions = {}): Promise<BuildResult> {
  const packageDir = resolvePackageDir(opts.dir);
  // Not a package (no metadata.json): buildLocked says so, and nothing is written there.
  const release = existsSync(join(packageDir, 'metadata.json')) ? lockBuild(packageDir) : () => {};
  try {
    return await buildLocked(opts);
  } finally {
    release();
  }
}

async function buildLocked(opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  if (opts.noUi && opts.uiOnly) throw new FlagError('Cannot set both --no-ui and --ui-only.', 'Use one of them.');
  const baseLogger = opts.logger ?? createLogger({ target: 'kit::build' });
  const packageDir = resolvePackageDir(opts.dir);
  // metadata.json first: without it this is not a package at all.
  const meta = await readAndUpdateMetadata(packageDir);
  const { package_name: packageName, publisher } = meta.properties;
  if (!isSafeName(packageName) || !isSafeName(publisher, true))
    throw new PackageLayoutError(
      `${join(packageDir, 'metadata.json')}: package "${packageName}" / publisher "${publisher}" is not Hypermap-safe, so no node would run its processes.`,
      `Package names may contain ${safeNameRule(false)}; publishers ${safeNameRule(true)}.`,
    );
  const pkgDir = join(packageDir, 'pkg');
  if (!existsSync(pkgDir))
    throw new PackageLayoutError(`${pkgDir} not found: a package keeps its manifest.json and built processes in pkg/.`, 'Create the package with `kit new`, or add pkg/manifest.json.');
  // Checked before building: a zip without it is refused by every node (start-package, publish).
  if (!existsSync(join(pkgDir, 'manifest.json')))
    throw new PackageLayoutError(
      `${join(pkgDir, 'manifest.json')} not found: it lists the package's processes, and no node installs a package without it.`,
      'Restore it (from version control, or copy the one `kit new` writes); see https://book.hyperware.ai/my_first_app/chapter_1.html#pkgmanifestjson',
    );
  // And it must be one a node accepts: found here, with its line and column, not at install.
  try {
    checkManifestText(readFileSync(join(pkgDir, 'manifest.json'), 'utf8'), join(pkgDir, 'manifest.json'));
  } catch (e) {
    if (e instanceof ManifestError)
      throw new PackageLayoutError(e.message, e.hint ?? 'see https://book.hyperware.ai/my_first_app/chapter_1.html#pkgmanifestjson');
    throw e;
  }
  const force = opts.force === true;
  linkKitForEditors(packageDir);

  const state: BuildState = readState(packageDir);
  const filter = makeFilter(packageDir, opts.include, opts.exclude);
  const unmatched = unmatchedFilterValues(packageDir, opts.include, opts.exclude);
  if (unmatched.length > 0) {
    const names = [...detectProcesses(packageDir), ...detectUiDirs(packageDir)].map((d) => d.name);
    throw new FlagError(
      `--include/--exclude ${unmatched.map((v) => `'${v}'`).join(', ')} names no process or UI folder of ${packageDir}`,
      `name one of: ${names.join(', ') || '(none found)'}`,
    );
  }
  const progress: Progress = opts.progress === null ? createProgress({ write: () => true }, false) : createProgress(opts.progress ?? process.stdout);
  const logger = loggerAbove(progress, baseLogger);
  if (opts.reproducible)
    logger.info(
      '--reproducible: no Docker here; identical sources reuse the components built before (cached by content), so the zip hash stays the same on this machine. componentize-js itself is not deterministic: after --force or reset-cache the components, and so the hash, change.',
    );
  const result: BuildResult = {
    packageDir,
    packageId: `${packageName}:${publisher}`,
    world: '',
    processes: [],
    rebuilt: [],
    componentized: 0,
    ui: [],
    zipPath: zipFilename(packageDir, meta),
    zipHash: '',
    zipWritten: false,
    ms: 0,
  };
  const save = () => writeState(packageDir, state);

  try {
    // UIs first, as kit does: a process may serve files the UI build puts in pkg/ui.
    for (const ui of detectUiDirs(packageDir).filter((u) => filter(u.name))) {
      if (opts.noUi) {
        result.ui.push({ name: ui.name, status: 'skipped' });
        continue;
      }
      const hash = uiSourceHash(ui.dir);
      if (!force && state.ui[ui.name] === hash && existsSync(join(pkgDir, 'ui'))) {
        progress.done(ui.name, 'UI up to date');
        result.ui.push({ name: ui.name, status: 'up-to-date' });
        continue;
      }
      const started = performance.now();
      progress.step(ui.name, 'npm run build:copy');
      try {
        await buildUi({ name: ui.name, dir: ui.dir, verbose: opts.verbose === true });
      } catch (e) {
        progress.done(ui.name, (e as Error).message.split('\n')[0], false);
        throw e;
      }
      state.ui[ui.name] = hash;
      save();
      progress.done(ui.name, `UI built in ${formatSeconds(performance.now() - started)}`);
      result.ui.push({ name: ui.name, status: 'built' });
    }

    const dependencyWasms: string[] = [];
    if (!opts.uiOnly) await buildProcesses(opts, { packageDir, meta, state, filter, progress, logger, force, result, save, dependencyWasms });

    // target/api: api/, -a files, api_includes, then the library components linkPackage moves there.
    let hasApi = prepareApiDir(packageDir, opts.addToApi ?? [], meta.properties.api_includes ?? [], logger);
    if (!opts.uiOnly) {
      result.linked = linkPackage({
        packageDir,
        processes: detectProcesses(packageDir),
        dependencyWasms,
        logger,
        accepted: (name, path) => state.processes[name]?.wasm === hashFile(path),
      });
      for (const c of result.linked.composed) logger.info(`${c.process}: composed with ${c.interfaces.join(', ')}`);
      for (const e of result.linked.exporters) logger.info(`${e} exports a library interface: moved to target/api (pkg/api.zip)`);
      hasApi ||= result.linked.exporters.length > 0;
    }
    // pkg/api.zip from target/api, rewritten only when target/api changed.
    if (hasApi) {
      const apiZip = join(pkgDir, 'api.zip');
      const apiHash = dirHash(join(packageDir, 'target', 'api'));
      if (force || state.api !== apiHash || !existsSync(apiZip)) {
        writeFileSync(apiZip, await zipDirectory(join(packageDir, 'target', 'api')));
        state.api = apiHash;
      }
      result.apiZipPath = apiZip;
    }

    if (opts.zip !== false) {
      const z = await packageZip(pkgDir, result.zipPath, state, force, opts.dev === true);
      result.zipHash = z.sha256;
      result.zipWritten = z.written;
    }
    save();
  } finally {
    progress.close();
  }
  if (result.zipHash) baseLogger.info(`package zip hash: ${result.zipHash}`);
  result.ms = performance.now() - t0;
  return result;
}

/** The package zip, rewritten only when pkg/ changed (zipping 12 MB components is not free). */
async function packageZip(pkgDir: string, zipPath: string, state: BuildState, force: boolean, dev: boolean): Promise<{ sha256: string; written: boolean }> {
  const pkgHash = dirHash(pkgDir);
  const existing = existsSync(zipPath) ? hashFile(zipPath) : undefined;
  if (!force && state.zip && state.zip.pkg === pkgHash && existing === state.zip.sha256) return { sha256: existing, written: false };
  // A development zip is never published: the fastest deflate will do.
  const zip = await zipDirectory(pkgDir, { fast: dev });
  mkdirSync(dirname(zipPath), { recursive: true });
  writeFileSync(zipPath, zip);
  state.zip = { pkg: pkgHash, sha256: sha256Hex(zip) };
  return { sha256: state.zip.sha256, written: true };
}

/** Writes the zip of a package built with `zip: false` (kit watch zips after it has swapped the processes). */
export async function updatePackageZip(dir: string, opts: { dev?: boolean } = {}): Promise<{ zipPath: string; sha256: string; written: boolean }> {
  const packageDir = resolvePackageDir(dir);
  const meta = await readAndUpdateMetadata(packageDir);
  const state = readState(packageDir);
  const zipPath = zipFilename(packageDir, meta);
  const z = await packageZip(join(packageDir, 'pkg'), zipPath, state, false, opts.dev === true);
  writeState(packageDir, state);
  return { zipPath, ...z };
}

interface Ctx {
  packageDir: string;
  meta: Metadata;
  state: BuildState;
  filter: (name: string) => boolean;
  progress: Progress;
  logger: Logger;
  force: boolean;
  result: BuildResult;
  save: () => void;
  /** Filled with the dependencies' API wasms (library components to compose with). */
  dependencyWasms: string[];
}

interface Job {
  proc: ProcessDir;
  wasmPath: string;
  options: unknown;
  /** Hashes of the process folder's files taken before building (what the new key is made of). */
  ownFiles: Record<string, string>;
  external: string[];
  bundlePath?: string;
  cached?: boolean;
}

async function buildProcesses(opts: BuildOptions, ctx: Ctx): Promise<void> {
  const { packageDir, meta, state, progress, logger, result } = ctx;
  const pkgDir = join(packageDir, 'pkg');
  const targetDir = join(packageDir, 'target');
  const all = detectProcesses(packageDir);
  const selected = all.filter((p) => ctx.filter(p.name));
  for (const p of all) if (!selected.includes(p)) result.processes.push({ name: p.name, language: p.language, status: 'excluded', wasmPath: join(pkgDir, p.wasmName), ms: 0 });
  if (selected.length === 0) {
    if (all.length === 0) logger.warning(`no processes found in ${packageDir} (looked for <folder>/src/lib.ts, lib.js, lib.rs, lib.py)`);
    return;
  }
  if (opts.rewrite) {
    refuseRewrite(selected);
    logger.info('--rewrite: no process calls Spawn!(), so there is nothing to rewrite; building as is');
  }

  // WIT folder and world. Local dependencies are built first (no UI), as the real kit does, so
  // their APIs and library components are current.
  const ownApi = readApiWits(packageDir);
  const deps = meta.properties.dependencies ?? [];
  await buildLocalDependencies(opts, packageDir, logger);
  const depApis =
    deps.length > 0 || (opts.localDependencies ?? []).length > 0
      ? await resolveDependencyApis({ packageDir, dependencies: deps, localDependencies: opts.localDependencies ?? [], port: opts.port ?? 8080, logger, downloadFrom: opts.downloadFrom })
      : { files: [], sources: {}, wasms: [] };
  ctx.dependencyWasms.push(...depApis.wasms);
  const witFiles: WitFile[] = [hyperwareWit(), ...ownApi, ...depApis.files];
  const witDir = join(targetDir, 'wit');
  writeWitDir(witDir, witFiles);
  const wHash = witHash(witFiles);
  const choice = chooseWorld(opts.world, ownApi, meta.properties.package_name, meta.properties.publisher);
  if (choice.warning) logger.warning(choice.warning);
  result.world = choice.world;
  const disableFeatures = [...(opts.disableFeatures ?? DEFAULT_DISABLED_FEATURES)].sort();
  let dev = opts.dev === true && !opts.componentize;
  const noDev = dev ? devBuildUnsupported(disableFeatures) : undefined;
  if (noDev) {
    logger.warning(`--dev: ${noDev}; building with componentize-js instead`);
    dev = false;
  }

  // Which processes are up to date.
  const jobs: Job[] = [];
  for (const proc of selected) {
    const wasmPath = join(pkgDir, proc.wasmName);
    const staged = stagedPath(packageDir, proc);
    const options = {
      kit: 1,
      language: proc.language,
      world: choice.world,
      wit: wHash,
      tools: opts.componentize ? 'replaced' : componentTools(),
      ...(proc.language === 'typescript' || proc.language === 'javascript'
        ? {
            disableFeatures,
            features: featureList(opts.features),
            ...(dev ? { dev: true } : {}),
          }
        : {}),
      ...(proc.language === 'rust' ? { features: opts.features ?? '', toolchain: opts.toolchain ?? '' } : {}),
    };
    const ownFiles = hashFiles(listFiles(proc.dir));
    const prev: ProcessState | undefined = state.processes[proc.name];
    if (!ctx.force && prev && existsSync(staged)) {
      const key = processKey(packageDir, options, { ...ownFiles, ...hashFiles(prev.external) });
      if (key === prev.key && hashFile(staged) === prev.wasm) {
        progress.done(proc.name, 'up to date');
        result.processes.push({ name: proc.name, language: proc.language, status: 'up-to-date', wasmPath, ms: 0 });
        continue;
      }
    }
    jobs.push({ proc, wasmPath, options, ownFiles, external: [] });
  }
  if (jobs.length === 0) return;

  // Checks that fail fast, before minutes of componentizing.
  const languages = new Set(jobs.map((j) => j.proc.language));
  let rust: RustToolchain | undefined;
  if (languages.has('rust')) {
    const first = jobs.find((j) => j.proc.language === 'rust')!.proc.name;
    rust = await findRustToolchain({ processName: first, toolchain: opts.toolchain, skipCheck: opts.skipDepsCheck });
    logger.info(`Rust: ${rust.description}`);
    await checkProcessLibVersions(packageDir, rust);
  }
  if (!opts.skipDepsCheck && languages.has('python')) await checkPythonToolchain(jobs.find((j) => j.proc.language === 'python')!.proc.name);
  if (languages.size > 0) {
    const validated = `${choice.world}:${wHash}`;
    if (ctx.force || state.wit !== validated) {
      await validateWitOnce(witDir, witFiles, choice.world, wHash);
      state.wit = validated;
    }
  }

  // Bundle every TS/JS process (esbuild errors stop the build here, in milliseconds).
  const compileErrors: CompileError[] = [];
  for (const job of jobs) {
    const { proc } = job;
    if (proc.language !== 'typescript' && proc.language !== 'javascript') continue;
    try {
      progress.step(proc.name, 'bundling');
      job.bundlePath = join(targetDir, 'js', `${proc.name}.js`);
      const bundled = await bundleProcess({
        packageDir,
        processName: proc.name,
        entry: proc.entry,
        outFile: job.bundlePath,
        features: featureList(opts.features),
      });
      job.external.push(...bundled.inputs);
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      progress.done(proc.name, `${e.diagnostics.length} compile error(s)`, false);
      compileErrors.push(e);
    }
  }
  throwAll(compileErrors);

  // Type-check on this thread while the components are made in workers: the check costs about
  // as much as loading TypeScript and its libraries (1-2 s), which would otherwise add to every
  // cold build. Components are staged in target/wasm and reach pkg/ only once their process
  // type-checks; the first type error cancels the rest.
  const tsJobs = jobs.filter((j) => j.proc.language === 'typescript');
  const typeRoots: string[] = [];
  if (tsJobs.length > 0) {
    const typesDir = join(targetDir, 'types');
    typeRoots.push(...(await guestTypesOnce(witDir, choice.world, wHash, join(typesDir, 'world'))));
    typeRoots.push(guestGlobalsPath());
  }
  const workers: ComponentizeWorker[] = [];
  let devBuilder: DevBuilder | undefined;
  let ownDevBuilder: DevBuilder | undefined;
  let cancelled = false;
  const cancel = () => {
    cancelled = true;
    for (const w of workers) w.terminate();
    void ownDevBuilder?.close();
  };
  const typeErrors: CompileError[] = [];
  const typesChecked = (async () => {
    for (const job of tsJobs) {
      await new Promise((r) => setImmediate(r)); // let progress and worker messages through
      const checked = await typecheck({ packageDir, processDir: job.proc.dir, entry: job.proc.entry, typeRoots });
      job.external.push(...checked.files);
      if (checked.diagnostics.length > 0) {
        typeErrors.push(new CompileError(job.proc.name, 'TypeScript', checked.diagnostics));
        progress.done(job.proc.name, `${checked.diagnostics.length} type error(s)`, false);
      }
    }
    if (typeErrors.length > 0) cancel();
  })();

  // Make the components, up to `jobs` at a time.
  const cache = new ComponentCache(opts.componentCacheDir ?? defaultComponentCacheDir(), (m) => logger.warning(m));
  const stagingDir = join(targetDir, 'wasm');
  mkdirSync(stagingDir, { recursive: true });
  const limit = Math.max(1, opts.jobs ?? availableParallelism());
  const verbose = opts.verbose === true;
  const built = pool(jobs, limit, async (job) => {
    if (cancelled) return;
    const { proc } = job;
    const started = performance.now();
    const staged = join(stagingDir, proc.wasmName);
    if (proc.language === 'rust' || proc.language === 'python') progress.step(proc.name, proc.language === 'rust' ? 'cargo build' : 'componentize-py');
    let bytes: Uint8Array;
    try {
      if (proc.language === 'rust') {
        bytes = await buildRust({ packageDir, proc, features: opts.features ?? '', toolchain: rust!, witDir, world: choice.world, verbose });
        job.external.push(join(packageDir, 'Cargo.toml'), join(packageDir, 'Cargo.lock'));
      } else if (proc.language === 'python') {
        bytes = await buildPython({ witDir, world: choice.world, proc, outPath: staged, verbose });
      } else {
        const cacheKey = hashValue({ bundle: hashFile(job.bundlePath!), wit: wHash, world: choice.world, tool: job.options });
        // Development components take a fraction of a second to make: not worth 12 MB of cache each.
        const hit = ctx.force || dev ? undefined : cache.get(cacheKey);
        if (hit) {
          bytes = hit;
          job.cached = true;
        } else {
          const freeWorker = () => {
            let worker = workers.find((w) => !w.busy);
            if (!worker) {
              worker = new ComponentizeWorker();
              workers.push(worker);
            }
            return worker;
          };
          const args = { sourcePath: job.bundlePath!, witPath: witDir, worldName: choice.world, outPath: staged, disableFeatures };
          if (dev) {
            progress.step(proc.name, 'snapshotting');
            if (!devBuilder) {
              ownDevBuilder = opts.devBuilder ? undefined : new DevBuilder({ threads: limit });
              devBuilder = opts.devBuilder ?? ownDevBuilder!;
            }
            ({ bytes } = await devBuilder.component({
              ...args,
              prepareEngine: (req) => freeWorker().prepareEngine(req),
              onPrepare: () => progress.step(proc.name, 'making the development engine for this world (once per machine)'),
            }));
          } else if (opts.componentize) {
            progress.step(proc.name, 'componentizing');
            ({ bytes } = await opts.componentize({ ...args, log: logger }));
          } else {
            progress.step(proc.name, 'componentizing');
            ({ bytes } = await freeWorker().run(args));
          }
          if (!dev) cache.put(cacheKey, bytes);
        }
      }
    } catch (e) {
      if (cancelled) return;
      progress.done(proc.name, (e as Error).message.split('\n')[0], false);
      throw e instanceof BuildError ? e : new StepFailedError(`process ${proc.name}: ${(e as Error).message}`);
    }
    await typesChecked;
    if (cancelled) return;
    writeFileSync(staged, bytes); // accepted: linkPackage takes it to pkg/ (or target/api/)
    if (!job.cached) result.componentized++;
    const ms = performance.now() - started;
    const external = [...new Set(job.external)].filter((f) => !f.startsWith(`${proc.dir}/`)).sort();
    const key = processKey(packageDir, job.options, { ...job.ownFiles, ...hashFiles(external) });
    state.processes[proc.name] = { key, external, wasm: sha256(bytes) };
    ctx.save(); // each finished process survives a later failure or Ctrl-C
    progress.done(proc.name, job.cached ? 'built (component reused: same sources as an earlier build)' : `built in ${formatSeconds(ms)}`);
    result.rebuilt.push(proc.name);
    result.processes.push({ name: proc.name, language: proc.language, status: 'built', wasmPath: job.wasmPath, ms, cached: job.cached === true });
  });
  let errors: unknown[];
  try {
    await typesChecked;
    throwAll(typeErrors);
    errors = await built;
  } finally {
    cancel();
  }
  result.processes.sort((a, b) => a.name.localeCompare(b.name));
  throwAll(errors);
}

/** Builds each -l package (no UI), with the other -l packages as its own; a cycle is skipped. */
async function buildLocalDependencies(opts: BuildOptions, packageDir: string, logger: Logger): Promise<void> {
  const chain = [...(opts.dependencyOf ?? []), packageDir];
  const dirs = (opts.localDependencies ?? []).map((d) => resolve(d)).filter((d) => existsSync(join(d, 'metadata.json')));
  for (const dir of dirs) {
    if (chain.includes(realpathSync(dir))) continue;
    logger.info(`building local dependency ${dir}`);
    try {
      await buildPackage({
        ...opts,
        dir,
        noUi: true,
        uiOnly: false,
        include: undefined,
        exclude: undefined,
        addToApi: undefined,
        world: undefined,
        localDependencies: dirs.filter((d) => d !== dir),
        dependencyOf: chain,
      });
    } catch (e) {
      if (e instanceof BuildError) throw new BuildError(`local dependency ${dir} failed to build: ${e.message}`, e.hint);
      throw e;
    }
  }
}

/** Throws the one error as it is, or all of them as one BuildError. */
function throwAll(errors: unknown[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new BuildError(errors.map((e) => (e as Error).message).join('\n\n'));
}

/** `--features a, b` as the list the process library's hasFeature() reads. */
function featureList(flag: string | undefined): string[] {
  return (flag ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
}
