// The last step before zipping, as the real kit's composition step (kit `build/mod.rs`
// find_non_standard and the compose loop): every process component, as built in target/wasm/, is
// read for the non-standard interfaces it imports and exports (not wasi:*, not
// hyperware:process/standard, not init).
// - An exporter is a library, not a process: it moves to target/api/ (and so into pkg/api.zip).
// - An importer is composed with the exporter of each interface it imports, taken from this
//   package or from a dependency's API (`target/api/*.wasm` of a -l package, the `.wasm` files of
//   an API zip), and written to pkg/ composed.
// - A dependency's wasm that exports nothing is copied into pkg/.
// Everything else is copied to pkg/ as built.

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from '../core/log.js';
import { UnsupportedComponentError } from './component-types.js';
import { compose, nonStandardInterfaces } from './compose.js';
import type { ProcessDir } from './detect.js';
import { StepFailedError } from './errors.js';

export interface LinkResult {
  /** pkg/ names of the process components moved to target/api (libraries). */
  exporters: string[];
  /** Each composed process and the interfaces composed into it. */
  composed: Array<{ process: string; interfaces: string[] }>;
  /** Dependency wasms copied into pkg/. */
  copied: string[];
}

/** Where a process's component is kept as built, before linking. */
export function stagedPath(packageDir: string, proc: ProcessDir): string {
  return join(packageDir, 'target', 'wasm', proc.wasmName);
}

function interfacesOf(bytes: Uint8Array, label: string, logger: Logger): { imports: string[]; exports: string[] } {
  try {
    return nonStandardInterfaces(bytes);
  } catch (e) {
    if (!(e instanceof UnsupportedComponentError) && !(e instanceof Error && /WebAssembly|LEB128/.test(e.message))) throw e;
    logger.warning(`${label}: cannot read its imports and exports (${e.message}); it is not composed`);
    return { imports: [], exports: [] };
  }
}

function writeIfChanged(path: string, bytes: Uint8Array): void {
  if (existsSync(path) && statSync(path).size === bytes.length && readFileSync(path).equals(bytes)) return;
  writeFileSync(path, bytes);
}

export function linkPackage(opts: {
  packageDir: string;
  processes: ProcessDir[];
  dependencyWasms: string[];
  logger: Logger;
  /** Whether target/wasm/<name>.wasm is the process's last accepted build (one that failed its type check is not). */
  accepted: (processName: string, stagedPath: string) => boolean;
}): LinkResult {
  const { packageDir, logger } = opts;
  const pkgDir = join(packageDir, 'pkg');
  const apiDir = join(packageDir, 'target', 'api');
  const result: LinkResult = { exporters: [], composed: [], copied: [] };

  interface Component {
    label: string;
    bytes: Uint8Array;
    imports: string[];
    exports: string[];
  }
  const processes: Array<Component & { proc: ProcessDir }> = [];
  for (const proc of opts.processes) {
    const staged = stagedPath(packageDir, proc);
    const path = existsSync(staged) && opts.accepted(proc.name, staged) ? staged : join(pkgDir, proc.wasmName);
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    processes.push({ proc, label: `pkg/${proc.wasmName}`, bytes, ...interfacesOf(bytes, `pkg/${proc.wasmName}`, logger) });
  }
  const exporters = new Map<string, Component>();
  const claim = (iface: string, c: Component) => {
    const prev = exporters.get(iface);
    if (prev) logger.warning(`found multiple exporters of ${iface}: ${prev.label} & ${c.label}; using ${c.label}`);
    exporters.set(iface, c);
  };
  for (const p of processes) {
    if (p.exports.length === 0) continue;
    mkdirSync(apiDir, { recursive: true });
    writeIfChanged(join(apiDir, p.proc.wasmName), p.bytes);
    rmSync(join(pkgDir, p.proc.wasmName), { force: true });
    result.exporters.push(p.proc.wasmName);
    for (const iface of p.exports) claim(iface, p);
  }
  for (const path of opts.dependencyWasms) {
    const bytes = readFileSync(path);
    const dep: Component = { label: path, bytes, ...interfacesOf(bytes, path, logger) };
    if (dep.exports.length === 0) {
      copyFileSync(path, join(pkgDir, basename(path)));
      result.copied.push(basename(path));
      continue;
    }
    for (const iface of dep.exports) claim(iface, dep);
  }

  for (const p of processes) {
    if (p.exports.length > 0) continue;
    let bytes = p.bytes;
    const done: string[] = [];
    for (const iface of p.imports) {
      if (done.includes(iface)) continue;
      const exporter = exporters.get(iface);
      if (!exporter)
        throw new StepFailedError(
          `Processes ["${p.label}"] required export ${iface} not found in \`pkg/\`.`,
          "It is a library interface: build its package's exporting component here, or pass the package that exports it with -l/--local-dependency (its target/api/*.wasm), or install that package on the node at --port so its API zip carries the wasm.",
        );
      try {
        const out = compose(bytes, exporter.bytes);
        bytes = out.bytes;
        done.push(...out.satisfied);
      } catch (e) {
        if (!(e instanceof UnsupportedComponentError)) throw e;
        throw new StepFailedError(`composing ${p.label} with ${exporter.label} (for ${iface}) failed: ${e.message}`);
      }
    }
    writeIfChanged(join(pkgDir, p.proc.wasmName), bytes);
    if (done.length > 0) result.composed.push({ process: p.proc.name, interfaces: done });
  }
  return result;
}
