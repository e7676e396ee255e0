// pkg/manifest.json, checked as Hyperdrive reads it (lib/src/kernel.rs PackageManifestEntry: every
// field required, unknown ones ignored) plus what kit checks before an install, with the line and
// column of each problem so that `kit build` and `kit start-package` can point at it.

import { type JsonPath, JsonSyntaxError, parseJsonWithPositions, type Position } from './json-position.js';
import { isSafeName, parseProcessId, safeNameRule } from './types.js';

/** One entry of pkg/manifest.json (process_lib's PackageManifestEntry). */
export interface ManifestEntry {
  process_name: string;
  process_wasm_path: string;
  on_exit: unknown;
  request_networking: boolean;
  request_capabilities: unknown[];
  grant_capabilities: unknown[];
  public: boolean;
}

export class ManifestError extends Error {
  override name = 'ManifestError';
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly position: Position,
    readonly hint?: string,
  ) {
    super(`${file}:${position.line}:${position.column}: ${reason}`);
  }
}

function isOnExit(v: unknown): boolean {
  if (v === 'None' || v === 'Restart') return true;
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as { Requests?: unknown }).Requests);
}

/** `my_app` -> try "my-app" (process and file names use '-', never '_'). */
export function underscoreHint(name: string): string | undefined {
  return name.includes('_') ? `try "${name.replaceAll('_', '-')}"` : undefined;
}

/** Parse and check the text of a manifest; throws ManifestError naming the line and column. */
export function checkManifestText(text: string, file = 'pkg/manifest.json'): ManifestEntry[] {
  let doc: ReturnType<typeof parseJsonWithPositions>;
  try {
    doc = parseJsonWithPositions(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ManifestError(file, `not valid JSON: ${e.reason}`, e.position);
    throw e;
  }
  const fail = (path: JsonPath, reason: string, hint?: string): never => {
    throw new ManifestError(file, reason, doc.positionOf(path), hint);
  };
  const raw = doc.value;
  if (!Array.isArray(raw)) return fail([], 'expected a list of process entries ([{"process_name": ...}, ...])');
  const names = new Set<string>();
  for (const [i, entry] of (raw as unknown[]).entries()) {
    const at = `entry ${i}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail([i], `${at} is not an object`);
    const e = entry as Record<string, unknown>;
    const label = typeof e.process_name === 'string' ? `${at} ("${e.process_name}")` : at;
    const need = (key: string, ok: (v: unknown) => boolean, what: string) => {
      if (!(key in e)) fail([i], `${label}: "${key}" is missing; it must be ${what}`);
      if (!ok(e[key])) fail([i, key], `${label}: "${key}" must be ${what}, not ${JSON.stringify(e[key])?.slice(0, 60)}`);
    };
    const isString = (v: unknown) => typeof v === 'string';
    const isBool = (v: unknown) => typeof v === 'boolean';
    need('process_name', isString, 'a string');
    need('process_wasm_path', isString, 'a string like "/my-process.wasm"');
    need('on_exit', isOnExit, '"None", "Restart" or {"Requests": [...]}');
    need('request_networking', isBool, 'true or false');
    need('request_capabilities', Array.isArray, 'a list');
    need('grant_capabilities', Array.isArray, 'a list');
    need('public', isBool, 'true or false');

    const name = e.process_name as string;
    if (!isSafeName(name)) fail([i, 'process_name'], `${label}: process_name is not Hypermap-safe: use only ${safeNameRule()}`, underscoreHint(name));
    if (names.has(name)) fail([i, 'process_name'], `${label}: process_name "${name}" appears twice; each process needs its own name`);
    names.add(name);
    const wasm = e.process_wasm_path as string;
    if (!wasm.startsWith('/') || !wasm.endsWith('.wasm'))
      fail([i, 'process_wasm_path'], `${label}: process_wasm_path "${wasm}" must start with "/" and end with ".wasm"`, `write it as a path inside pkg/, e.g. "/${name}.wasm"`);
    const stem = wasm.slice(wasm.lastIndexOf('/') + 1, -'.wasm'.length);
    if (!isSafeName(stem)) fail([i, 'process_wasm_path'], `${label}: wasm file name "${stem}" is not Hypermap-safe: use only ${safeNameRule()}`, underscoreHint(stem));
    for (const key of ['request_capabilities', 'grant_capabilities'] as const) {
      for (const [j, cap] of (e[key] as unknown[]).entries()) {
        const processOf = typeof cap === 'string' ? cap : cap && typeof cap === 'object' && !Array.isArray(cap) ? (cap as { process?: unknown }).process : undefined;
        if (typeof processOf !== 'string') {
          fail([i, key, j], `${label}: ${key}[${j}] must be a process ID string ("process:package:publisher") or {"process": ..., "params": ...}`);
        }
        try {
          parseProcessId(processOf as string);
        } catch (err) {
          fail([i, key, j], `${label}: ${key}[${j}]: ${(err as Error).message}`);
        }
      }
    }
  }
  return raw as ManifestEntry[];
}
