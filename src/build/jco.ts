// jco's wasm-tools (WIT parsing, guest type generation, component creation), loaded on first use.
//
// jco's wasm-tools is itself a component that reads files through @bytecodealliance/preview2-shim,
// and the shim copy jco-transpile pulls in (0.26) starts with no preopened directories: every WIT
// path would fail with "failed to get path metadata" (notes/component-host-probe.md §1). We
// preopen "/" on that exact copy, found by resolving from jco-transpile's own location.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type Jco = typeof import('@bytecodealliance/jco');

let loading: Promise<Jco> | undefined;

async function preopenRoot(): Promise<void> {
  const jcoMain = fileURLToPath(import.meta.resolve('@bytecodealliance/jco'));
  const candidates = [jcoMain];
  try {
    candidates.unshift(createRequire(jcoMain).resolve('@bytecodealliance/jco-transpile'));
  } catch {
    // older jco without jco-transpile: the shim is jco's own dependency
  }
  for (const from of candidates) {
    try {
      const shim = createRequire(from).resolve('@bytecodealliance/preview2-shim/filesystem');
      const fs = (await import(shim)) as { _setPreopens?: (p: Record<string, string>) => void };
      fs._setPreopens?.({ '/': '/' });
    } catch {
      // that copy is not installed; the other one may be
    }
  }
}

export function loadJco(): Promise<Jco> {
  loading ??= preopenRoot().then(() => import('@bytecodealliance/jco'));
  return loading;
}
