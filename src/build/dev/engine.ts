// The development engine: everything about a componentize-js component that depends only on the
// world and the features, made once and kept in $KIT_CACHE/dev-engines/<key>/.
//
// componentize-js makes a component in four steps: splice the world's bindings into
// StarlingMonkey, run the engine's initializer under wizer (it evaluates the source and wizer
// snapshots the memory), stub the WASI imports the features leave out, and wrap the module as a
// component. Only the wizer step reads the source, and its only output is a memory image: the
// stubbed module's code, types, imports and the component around it are the same for every
// source (measured: a release component's core module and the stubbed, un-snapshotted engine
// differ in exactly the memory, export, data-count and data sections). So the engine keeps:
//   spliced.wasm    the spliced, un-stubbed engine, which the snapshot runs (snapshot.ts);
//   initializer.js  the generated bindings StarlingMonkey evaluates before the source;
//   template.wasm   a component made by componentize-js's own splicer and jco from the stubbed
//                   engine, whose main core module gets each build's memory image;
//   meta.json       the environment componentize-js gives wizer, and the versions.
//
// The key is the world's signature, not its name: componentNew of the world's dummy module,
// which holds exactly the imported and exported functions and their types. A package's world
// (`chat-template-dot-os-v0`, which adds only type definitions to process-v1) has the same
// signature, and so the same engine, as process-v1 (measured: identical spliced code and bindings).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KIT_CACHE } from '../../core/cache.js';
import { concatBytes } from '../../core/bytes.js';
import { DEV_BUILD_SECTION, moduleFromSections, Reader, sections, Writer } from '../../core/wasm-binary.js';
import type { ComponentizeFeature } from '../componentize.js';
import { loadJco } from '../jco.js';
import { componentTools, kitRoot, packageVersion } from '../paths.js';

/** componentize-js's features, in the order it passes them to its splicer. */
export const ALL_FEATURES: readonly ComponentizeFeature[] = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];


const FORMAT = 2;

export interface EngineMeta {
  format: number;
  componentizeJs: string;
  /** componentTools() when it was made: componentize-js splices and stubs, jco wraps the template. */
  tools: string;
  features: ComponentizeFeature[];
  /** The environment componentize-js gives wizer (EXPORT*, IMPORT*, SOURCE_NAME, ...). */
  env: Record<string, string>;
  /** Index, among template.wasm's top-level sections, of the engine's core module. */
  mainSection: number;
}

export interface EngineFiles {
  dir: string;
  spliced: string;
  initializer: string;
  template: string;
  meta: string;
}

export function engineFiles(dir: string): EngineFiles {
  return {
    dir,
    spliced: join(dir, 'spliced.wasm'),
    initializer: join(dir, 'initializer.js'),
    template: join(dir, 'template.wasm'),
    meta: join(dir, 'meta.json'),
  };
}

export function defaultEngineCacheDir(): string {
  return join(KIT_CACHE, 'dev-engines');
}

export function enabledFeatures(disabled: readonly ComponentizeFeature[]): ComponentizeFeature[] {
  return ALL_FEATURES.filter((f) => !disabled.includes(f));
}

/**
 * Why a development build cannot be made with these features, if it cannot: with both `http` and
 * `fetch-event` on, componentize-js drops fetch-event for sources that export `incomingHandler`,
 * so the engine would depend on the source.
 */
export function unsupportedFeatures(features: readonly ComponentizeFeature[]): string | undefined {
  if (features.includes('http') && features.includes('fetch-event'))
    return 'with the http and fetch-event features both on, componentize-js chooses the engine by what the source exports';
  return undefined;
}

/** sha256 of the component jco makes from the world's dummy module: the world's functions and their types. */
export async function worldSignature(witPath: string, world: string): Promise<string> {
  const jco = await loadJco();
  const dummy = await jco.componentEmbed({ dummy: true, witPath, world });
  const component = await jco.componentNew(dummy, []);
  return createHash('sha256').update(component).digest('hex');
}

export function engineKey(signature: string, features: readonly ComponentizeFeature[], tools = componentTools()): string {
  return createHash('sha256')
    .update(`kit-dev-engine ${FORMAT}\0${tools}\0${features.join(',')}\0${signature}`)
    .digest('hex')
    .slice(0, 32);
}

export function engineReady(dir: string): boolean {
  return existsSync(engineFiles(dir).meta);
}

function componentizeJsDir(): string {
  // The package's `exports` map only exposes its entry; its lib/ is reached by file path.
  return join(kitRoot(), 'node_modules', '@bytecodealliance', 'componentize-js');
}

interface Splicer {
  spliceBindings(
    engine: Uint8Array,
    features: string[],
    witWorld: string | undefined,
    witPath: string,
    worldName: string,
    debug: boolean,
  ): { wasm: Uint8Array; jsBindings: string; exports: Array<[string, ExportAbi]>; imports: Array<[string, string, number]> };
  stubWasi(wasm: Uint8Array, features: string[], witWorld: string | undefined, witPath: string, worldName: string): Uint8Array;
}

interface ExportAbi {
  params: string[];
  paramptr: boolean;
  ret?: string;
  retptr: boolean;
  retsize: number;
}

/**
 * Makes an engine into `dir` (atomically: a private folder renamed into place). Slow (the
 * splicer and wit-component run as Wasm: 5-30 s) and about 800 MB of memory: the build runs it
 * in its componentize child. Needs preview2-shim's "/" preopen (componentize.ts sets it).
 */
export async function prepareEngine(dir: string, opts: { witPath: string; worldName: string; features: ComponentizeFeature[] }): Promise<void> {
  if (engineReady(dir)) return;
  const cjs = componentizeJsDir();
  const { splicer } = (await import(pathToFileURL(join(cjs, 'lib', 'spidermonkey-embedding-splicer.js')).href)) as { splicer: Splicer };
  const jco = await loadJco();
  const features = [...opts.features];
  const { wasm, jsBindings, exports, imports } = splicer.spliceBindings(
    new Uint8Array(readFileSync(join(cjs, 'lib', 'starlingmonkey_embedding.wasm'))),
    features,
    undefined,
    opts.witPath,
    opts.worldName,
    false,
  );
  // The environment exactly as componentize-js builds it for wizer.
  const env: Record<string, string> = {
    DEBUG: '',
    SOURCE_NAME: 'source.js',
    EXPORT_CNT: String(exports.length),
    FEATURE_CLOCKS: features.includes('clocks') ? '1' : '',
  };
  for (const [i, [name, e]] of exports.entries()) {
    env[`EXPORT${i}_NAME`] = name;
    env[`EXPORT${i}_ARGS`] = (e.paramptr ? '*' : '') + e.params.join(',');
    env[`EXPORT${i}_RET`] = (e.retptr ? '*' : '') + (e.ret || '');
    env[`EXPORT${i}_RETSIZE`] = String(e.retsize);
  }
  for (const [i, imp] of imports.entries()) {
    env[`IMPORT${i}_NAME`] = imp[1];
    env[`IMPORT${i}_ARGCNT`] = String(imp[2]);
  }
  env.IMPORT_CNT = String(imports.length);

  // The component around the stubbed engine. wizer drops the two initializer exports from what
  // it writes; so do we, so that the component is the one componentize-js would make.
  const stubbed = splicer.stubWasi(wasm, features, undefined, opts.witPath, opts.worldName);
  const core = withoutExports(stubbed, ['_initialize', 'componentize.wizer']);
  const adapter = readFileSync(jco.preview1AdapterReactorPath());
  const bare = await jco.componentNew(core, [['wasi_snapshot_preview1', adapter]]);
  const version = packageVersion('@bytecodealliance/componentize-js');
  const withMeta = await jco.metadataAdd(bare, [
    ['language', [['JavaScript', '']]],
    ['processed-by', [['ComponentizeJS', version]]],
  ] as never);
  const template = appendCustomSection(withMeta, DEV_BUILD_SECTION, new TextEncoder().encode(`kit ${packageVersion('kit')}`));
  const mainSection = sections(template).findIndex((s) => s.id === 1);
  if (mainSection < 0) throw new Error('the engine component has no core module');

  const meta: EngineMeta = { format: FORMAT, componentizeJs: version, tools: componentTools(), features, env, mainSection };
  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  mkdirSync(tmp, { recursive: true });
  try {
    const f = engineFiles(tmp);
    writeFileSync(f.spliced, wasm);
    writeFileSync(f.initializer, jsBindings);
    writeFileSync(f.template, template);
    writeFileSync(f.meta, JSON.stringify(meta));
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!engineReady(dir)) throw e; // another build made the same engine first
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A core module without the named exports. */
function withoutExports(module: Uint8Array, names: string[]): Uint8Array {
  const secs = sections(module);
  const out = secs.map((s) => {
    if (s.id !== 7) return s;
    const r = new Reader(s.body);
    const n = r.u32();
    const kept: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const start = r.pos;
      const name = r.name();
      r.byte();
      r.u32();
      if (!names.includes(name)) kept.push(s.body.subarray(start, r.pos));
    }
    return { id: 7, body: concatBytes([new Writer().u32(kept.length).finish(), ...kept]) };
  });
  return moduleFromSections(out);
}

function appendCustomSection(binary: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const body = concatBytes([new Writer().name(name).finish(), payload]);
  return concatBytes([binary, new Writer().byte(0).u32(body.length).finish(), body]);
}
