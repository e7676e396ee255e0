// The process's own life: its entry point, child processes, what happens when it exits, and the
// build features it was compiled with.

import type { Address, Capability, LazyLoadBlob, OnExit, ProcessId, Request as WitRequest } from '../core/types.js';
import { BuildError, ProcessLibError, SpawnError } from './errors.js';
import { host, payloadOf } from './host.js';
import { packageOf, parseAddress, toAddress } from './ids.js';
import { toJson } from './json.js';
import { awaitMessage, println, respond } from './message.js';

export type { OnExit };

/** What the kernel does when this process's init returns or fails. */
export const OnExits = {
  /** Stop for good (the process is removed). */
  none: { tag: 'none' } as OnExit,
  /** Start again (with back-off if it keeps failing). */
  restart: { tag: 'restart' } as OnExit,
  /** Send these Requests (no Responses expected), then stop. */
  requests(list: Array<{ target: Address | string; body: Uint8Array; blob?: LazyLoadBlob }>): OnExit {
    return {
      tag: 'requests',
      val: list.map(({ target, body, blob }): [Address, WitRequest, LazyLoadBlob | undefined] => [
        toAddress(target),
        { inherit: false, expectsResponse: undefined, body, metadata: undefined, capabilities: [] },
        blob,
      ]),
    };
  },
};

export function getOnExit(): OnExit {
  return host.getOnExit();
}

export function setOnExit(onExit: OnExit): void {
  host.setOnExit(onExit);
}

export interface SpawnOptions {
  /** Process name; a random number if left out. Must be Hypermap-safe (a-z, 0-9, '-'). */
  name?: string;
  /**
   * A VFS path the kernel reads as this process, e.g. `<package>:<publisher>/pkg/<file>.wasm`:
   * any file we may read (our own drives, or another package's we hold a capability for). We
   * need vfs:distro:sys in our request_capabilities for it.
   */
  wasmPath: string;
  /** Default: none (the child stops for good when it returns). */
  onExit?: OnExit;
  /** Capabilities to give the child; only those we hold ourselves are passed on. */
  requestCapabilities?: Capability[];
  /** Capabilities issued by the child to other processes: [process, params JSON]. */
  grantCapabilities?: Array<[ProcessId, unknown]>;
  /** Whether any local process may message the child. Default false. */
  public?: boolean;
}

/**
 * Start a child process in our package, as Hyperdrive's spawn does: a name already taken gives
 * back that running process's id (it gets a "run" Request); an invalid name ends this process.
 * Throws SpawnError 'no-file-at-path' when the wasm cannot be read as us, 'name-taken' only when
 * the kernel does not answer. A wasm that does not compile still returns an id: the child is gone.
 */
export function spawn(options: SpawnOptions): ProcessId {
  if (!options.wasmPath) throw new BuildError("spawn: wasmPath is required, e.g. 'my-app:my.os/pkg/worker.wasm' (see ownWasmPath)");
  const grants = (options.grantCapabilities ?? []).map(
    ([p, params]): [ProcessId, string] => [p, typeof params === 'string' ? params : toJson(params)],
  );
  try {
    return host.spawn(
      options.name,
      options.wasmPath,
      options.onExit ?? OnExits.none,
      options.requestCapabilities ?? [],
      grants,
      options.public ?? false,
    );
  } catch (e) {
    const payload = payloadOf(e);
    if (payload === 'name-taken' || payload === 'no-file-at-path')
      throw new SpawnError(payload, options.wasmPath, options.name);
    throw e;
  }
}

/** The wasm path of a file in our package's pkg/ drive, for spawn: `<package>:<publisher>/pkg/<file>`. */
export function ownWasmPath(our: Address, file: string): string {
  const pkg = packageOf(our);
  return `${pkg.packageName}:${pkg.publisherNode}/pkg/${file}`;
}

/**
 * The process entry point, like process_lib's `call_init!`: `export const init = callInit((our) => {...})`.
 * The world exports `init(our: string)`; this parses the Address for you.
 */
export function callInit(main: (our: Address) => void): (our: string) => void {
  return (ourString: string) => main(parseAddress(ourString));
}

/**
 * A terminal script, like process_lib's `script!`: the terminal starts the script and sends its
 * arguments as the first Request's body. `run` returns the text to show: it is the Response if
 * the caller waits for one, else it is printed.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a script that prints by itself returns nothing
export function script(run: (our: Address, args: string) => string | undefined | void): (our: string) => void {
  return (ourString: string) => {
    const our = parseAddress(ourString);
    const first = awaitMessage();
    if (!first.isRequest()) throw new ProcessLibError('script: expected a Request carrying the arguments, got a Response');
    const out = run(our, first.text()) ?? '';
    if (first.expectsResponse !== undefined) respond(out);
    else if (out.length > 0) println(out);
  };
}

// Set by the build (esbuild `define`) from `kit build --features a,b`; absent means no features.
declare const __KIT_FEATURES__: readonly string[] | string | undefined;

/** The features the package was built with (`kit build --features`; run-tests builds with "test"). */
export function features(): string[] {
  const raw: readonly string[] | string | undefined = typeof __KIT_FEATURES__ === 'undefined' ? undefined : __KIT_FEATURES__;
  if (raw === undefined) return [];
  if (typeof raw === 'string') return raw.split(',').map((f) => f.trim()).filter((f) => f.length > 0);
  return [...raw];
}

/** Whether the build enabled a feature, e.g. `if (hasFeature('test')) { ...test-only handlers... }`. */
export function hasFeature(name: string): boolean {
  return features().includes(name);
}
