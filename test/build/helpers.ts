// Small packages written into temp folders for the build tests.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ComponentizeFn } from '../../src/build/build.js';
import { sha256 } from '../../src/build/hash.js';

/** The first 8 bytes of every component: `\0asm`, version 0x0d, layer 1. */
export const COMPONENT_HEADER = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);

export function metadataJson(packageName: string, publisher: string, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify(
    {
      name: packageName,
      description: '',
      image: '',
      external_url: '',
      animation_url: '',
      properties: {
        package_name: packageName,
        publisher,
        current_version: '0.1.0',
        mirrors: [],
        code_hashes: { '0.1.0': '' },
        wit_version: 1,
        dependencies: [],
        ...extra,
      },
    },
    null,
    2,
  )}\n`;
}

/** Writes `files` (path relative to the package -> text) into a new temp folder; returns its path. */
export function writePackage(files: Record<string, string>, prefix = 'kit-build-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}

export function isComponent(bytes: Uint8Array): boolean {
  return bytes.length > 8 && COMPONENT_HEADER.every((b, i) => bytes[i] === b);
}

/**
 * A stand-in for componentize-js for the unit tests of the build's bookkeeping (a real component
 * takes ~5-10 s): the "component" is the header plus the hash of the bundled source, so different
 * sources give different bytes. Records calls and the most that ran at once.
 */
export function fakeComponentize(delayMs = 0): ComponentizeFn & { calls: string[]; maxConcurrent: number } {
  let running = 0;
  const fn = Object.assign(
    async (opts: Parameters<ComponentizeFn>[0]) => {
      fn.calls.push(opts.sourcePath);
      running++;
      fn.maxConcurrent = Math.max(fn.maxConcurrent, running);
      try {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        const body = new TextEncoder().encode(sha256(readFileSync(opts.sourcePath)));
        const bytes = new Uint8Array(COMPONENT_HEADER.length + body.length);
        bytes.set(COMPONENT_HEADER);
        bytes.set(body, COMPONENT_HEADER.length);
        writeFileSync(opts.outPath, bytes);
        return { bytes, ms: delayMs };
      } finally {
        running--;
      }
    },
    { calls: [] as string[], maxConcurrent: 0 },
  );
  return fn;
}

export const MANIFEST = (processes: string[]) =>
  `${JSON.stringify(
    processes.map((p) => ({
      process_name: p,
      process_wasm_path: `/${p}.wasm`,
      on_exit: 'Restart',
      request_networking: false,
      request_capabilities: [],
      grant_capabilities: [],
      public: false,
    })),
    null,
    2,
  )}\n`;
