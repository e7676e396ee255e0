// tester:tester:sys — runs test packages for `kit run-tests` (interop §7.4, book: Test Package
// Interface). kit writes each test's wasm and a capabilities.json under /tester:sys/tests through
// the VFS, then sends `{"Run": RunRequest}`; on the master node (input_node_names[0]) the tester
// spawns each named test inside its own package (`<random u64>:tester:sys`), forwards the Run
// body to it and answers `{"Run":{"Ok":null}}`, or the first test's `{"Run":{"Err":FailResponse}}`.
// Other nodes answer Ok at once. The JSON shapes are the real tester's, so either kit can drive it.
// A test process gets what it requests only where the tester holds it, as the real tester's
// `spawn` (the kernel filters the capabilities a spawner passes on). Unlike the real tester, a Run
// from another node is ignored: kit drives each node's tester over that node's own RPC, and a peer
// should not run the developer's tests at will.

import { randomBytes } from 'node:crypto';
import { type KernelApi, type NativeProcess, SendErrorException } from '../../kernel/api.js';
import { type CapabilityJson, capabilityFromJson } from '../../kernel/json.js';
import { fromUtf8, type KernelMessage, type LazyLoadBlob, type ProcessId, parseJsonBytes, systemProcess } from '../../../core/types.js';
import type { FailResponse, RunRequest } from '../../../core/tester.js';

export type { FailResponse, RunRequest };

export const TESTER_PROCESS: ProcessId = { processName: 'tester', packageName: 'tester', publisherNode: 'sys' };

const SETUP_DRIVE = '/tester:sys/setup';
const TESTS_DRIVE = '/tester:sys/tests';
/**
 * What the real tester's manifest requests; it passes what it holds to every test
 * (`our_capabilities()`). Its `terminal:distro:sys` names no process (Hyperdrive's terminal is
 * terminal:terminal:sys), so that one is left out.
 */
const TESTER_MODULES = ['eth', 'http-client', 'http-server', 'kernel', 'kv', 'sqlite', 'state', 'timer', 'vfs', 'net'];
/** `file` of a FailResponse when the test never answered: there is no source location to give. */
export const TIMEOUT_FILE = 'timeout';


export type TesterResponse = { Run: { Ok: null } | { Err: FailResponse } };

/** A problem of the tester itself (not of a test): reported as test "tester" at its own source. */
class TesterError extends Error {
  override name = 'TesterError';
}

export function createTester(): NativeProcess {
  return new Tester();
}

/** Parse a `{"Run": {...}}` body strictly; undefined when it is not one. */
export function parseRunRequest(body: unknown): RunRequest | undefined {
  const run = (body as { Run?: unknown } | null)?.Run as Partial<RunRequest> | undefined;
  if (!run || typeof run !== 'object') return undefined;
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (!strings(run.input_node_names) || !strings(run.test_names)) return undefined;
  if (typeof run.test_timeout !== 'number' || !Number.isInteger(run.test_timeout) || run.test_timeout < 0) return undefined;
  return run as RunRequest;
}

interface TestCaps {
  request_capabilities: string[];
  grant_capabilities: string[];
}

class Tester implements NativeProcess {
  readonly id = TESTER_PROCESS;
  readonly isPublic = true;
  private kernel!: KernelApi;
  private ready: Promise<void> = Promise.resolve();
  private queue: Promise<void> = Promise.resolve();

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    this.ready = this.setUp().catch((e) => kernel.print(0, `tester: could not create its drives: ${(e as Error).message}`));
  }

  private async setUp(): Promise<void> {
    await this.vfs(SETUP_DRIVE, 'CreateDrive', 5);
    await this.vfs(TESTS_DRIVE, 'CreateDrive', 5);
    // kit writes the tests through the RPC endpoint: let http-server write both drives.
    const vfs = `${this.kernel.our}@vfs:distro:sys`;
    this.tellKernel({
      GrantCapabilities: {
        target: 'http-server:distro:sys',
        capabilities: [SETUP_DRIVE, TESTS_DRIVE].map((drive) => ({ issuer: vfs, params: JSON.stringify({ kind: 'write', drive }) })),
      },
    });
  }

  handle(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return Promise.resolve();
    // One Run at a time, as the real tester's single loop does.
    const next = this.queue.then(() => this.ready).then(() => this.serve(km));
    this.queue = next.catch((e) => this.kernel.print(0, `tester: ${(e as Error).message}`));
    return this.queue;
  }

  private answer(km: KernelMessage, body: TesterResponse): void {
    if (km.message.tag !== 'request') return;
    if (km.message.val.expectsResponse === undefined && !km.rsvp) return;
    this.kernel.respond(this.id, km, JSON.stringify(body));
  }

  private async serve(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    let body: unknown;
    try {
      body = parseJsonBytes(km.message.val.body);
    } catch {
      body = undefined;
    }
    if (km.source.node !== this.kernel.our) {
      this.kernel.print(0, `tester: ignoring a request from ${km.source.node}: tests run only at this node's own request`);
      return;
    }
    const run = parseRunRequest(body);
    if (!run) {
      // As the real tester's fail!("tester"): a FailResponse naming the tester itself.
      this.kernel.print(0, `tester: error: not a {"Run": ...} request: ${fromUtf8(km.message.val.body).slice(0, 200)}`);
      this.answer(km, { Run: { Err: { test: 'tester', ...locationOf(new TesterError('malformed Run')) } } });
      return;
    }
    this.kernel.print(1, 'tester: got Run');
    try {
      if (run.input_node_names.length === 0) throw new TesterError('Run needs at least one node in input_node_names');
      if (run.input_node_names[0] !== this.kernel.our) {
        this.answer(km, { Run: { Ok: null } });
        return;
      }
      const fail = await this.runTests(run, km.message.val.body);
      if (fail) {
        this.answer(km, { Run: { Err: fail } });
        return;
      }
      this.kernel.print(0, `tester: done running ${run.test_names.join(', ')}`);
      this.answer(km, { Run: { Ok: null } });
    } catch (e) {
      const why = (e as Error).message;
      this.kernel.print(0, `tester: FAIL tester: ${why}`);
      const where = locationOf(e as Error);
      this.answer(km, { Run: { Err: { test: 'tester', ...where } } });
    }
  }

  /** Run each test in order; the first failure is the answer. */
  private async runTests(run: RunRequest, runBody: Uint8Array): Promise<FailResponse | undefined> {
    const listing = (await this.vfs(TESTS_DRIVE.slice(1), 'ReadDir', run.test_timeout || 15)).body as {
      ReadDir?: Array<{ path: string; file_type: string }>;
    };
    const entries = listing.ReadDir ?? [];
    const files = entries.filter((e) => e.file_type === 'File').map((e) => e.path);
    for (const name of run.test_names) {
      if (!files.includes(`tester:sys/tests/${name}.wasm`))
        throw new TesterError(`test ${name} not found amongst [${entries.map((e) => e.path).join(', ')}]`);
    }
    const caps = await this.readCaps();
    for (const name of run.test_names) {
      const fail = await this.runOne(name, run, runBody, caps[name]);
      if (fail) return fail;
    }
    return undefined;
  }

  private async readCaps(): Promise<Record<string, TestCaps>> {
    let r: { blob?: Uint8Array };
    try {
      r = await this.vfs(`${TESTS_DRIVE}/capabilities.json`, 'Read', 15);
    } catch (e) {
      throw new TesterError(`no readable ${TESTS_DRIVE}/capabilities.json (kit writes it with the tests): ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(fromUtf8(r.blob ?? new Uint8Array()));
    } catch (e) {
      throw new TesterError(`capabilities.json is not JSON: ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TesterError('capabilities.json must be an object keyed by test name');
    for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
      const t = v as Partial<TestCaps> | null;
      const strings = (a: unknown) => Array.isArray(a) && a.every((s) => typeof s === 'string');
      if (!t || !strings(t.request_capabilities) || !strings(t.grant_capabilities))
        throw new TesterError(`capabilities.json: ${name} needs request_capabilities and grant_capabilities as lists of strings`);
    }
    return parsed as Record<string, TestCaps>;
  }

  private async runOne(name: string, run: RunRequest, runBody: Uint8Array, caps: TestCaps | undefined): Promise<FailResponse | undefined> {
    const our = this.kernel.our;
    const handle = `${TESTS_DRIVE}/${name}.wasm`;
    const wasm = (await this.vfs(handle, 'Read', 60)).blob;
    if (!wasm) throw new TesterError(`${handle} is empty`);
    const child = `${randomBytes(8).readBigUInt64BE()}:tester:sys`;
    const childAddr = `${our}@${child}`;

    // What the test asks for, plus what the tester holds; the kernel passes on only what the
    // tester holds (InitializeProcess filters by the sender's capabilities, as spawn does).
    const requested = (caps?.request_capabilities ?? []).map((s) => requestCap(our, s));
    for (const c of requested) {
      if (!this.kernel.hasCapability(this.id, capabilityFromJson(c)))
        this.kernel.print(0, `tester: ${name} requests ${c.issuer} ${c.params}, which the tester does not hold: not granted (as Hyperdrive's spawn)`);
    }
    const initial: CapabilityJson[] = [
      ...TESTER_MODULES.map((m) => ({ issuer: `${our}@${m}:distro:sys`, params: '"messaging"' })),
      { issuer: `${our}@kernel:distro:sys`, params: '"network"' },
      ...requested,
    ];
    const ok = await this.askKernel(
      {
        InitializeProcess: { id: child, wasm_bytes_handle: handle, wit_version: 1, on_exit: 'None', initial_capabilities: initial, public: false },
      },
      { bytes: wasm },
    );
    if (ok !== 'InitializedProcess') throw new TesterError(`could not spawn ${name}: kernel answered ${JSON.stringify(ok)}`);
    try {
      for (const g of caps?.grant_capabilities ?? []) {
        const [target, params] = grantOf(g);
        this.tellKernel({ GrantCapabilities: { target, capabilities: [{ issuer: childAddr, params }] } });
      }
      const started = await this.askKernel({ RunProcess: child }, undefined, 300);
      if (started !== 'StartedProcess') throw new TesterError(`could not start ${name}: kernel answered ${JSON.stringify(started)}`);

      this.kernel.print(1, `tester: running ${name} as ${child}`);
      let reply: unknown;
      try {
        const r = await this.kernel.request(this.id, childAddr, runBody, { timeoutSecs: run.test_timeout });
        reply = parseJsonBytes(r.response.body);
      } catch (e) {
        if (e instanceof SendErrorException && e.code === 'timeout') {
          this.kernel.print(0, `tester: FAIL ${name}: no answer within ${run.test_timeout} s (timeout_secs)`);
          return { test: name, file: TIMEOUT_FILE, line: 0, column: 0 };
        }
        throw new TesterError(`could not run ${name}: ${e instanceof SendErrorException ? (e.reason ?? e.code) : (e as Error).message}`);
      }
      const result = (reply as { Run?: { Ok?: null; Err?: FailResponse } } | null)?.Run;
      if (result && 'Err' in result && result.Err) return result.Err;
      if (!result || !('Ok' in result)) throw new TesterError(`${name} answered ${JSON.stringify(reply).slice(0, 200)}, not {"Run": ...}`);
      return undefined;
    } finally {
      // The test is over: free its worker (the real tester leaves finished tests idle).
      this.tellKernel({ KillProcess: child });
    }
  }

  // ---- messaging helpers ------------------------------------------------------------------

  private tellKernel(cmd: unknown): void {
    this.kernel.tell(this.id, { node: this.kernel.our, process: systemProcess('kernel') }, JSON.stringify(cmd));
  }

  private async askKernel(cmd: unknown, blob?: LazyLoadBlob, timeoutSecs = 60): Promise<unknown> {
    const r = await this.kernel.request(this.id, { node: this.kernel.our, process: systemProcess('kernel') }, JSON.stringify(cmd), {
      blob,
      timeoutSecs,
    });
    return parseJsonBytes(r.response.body);
  }

  private async vfs(path: string, action: unknown, timeoutSecs: number): Promise<{ body: unknown; blob?: Uint8Array }> {
    const r = await this.kernel.request(this.id, { node: this.kernel.our, process: systemProcess('vfs') }, JSON.stringify({ path, action }), {
      timeoutSecs,
    });
    const body = parseJsonBytes(r.response.body);
    if (body && typeof body === 'object' && 'Err' in body) throw new TesterError(`vfs ${path}: ${JSON.stringify((body as { Err: unknown }).Err)}`);
    return { body, blob: r.blob?.bytes };
  }
}

/** A request_capabilities string: a JSON Capability, or a ProcessId (messaging it on our node). */
function requestCap(our: string, s: string): CapabilityJson {
  try {
    const c = JSON.parse(s) as { issuer?: unknown; params?: unknown };
    if (c && typeof c === 'object' && c.issuer !== undefined) {
      const issuer = typeof c.issuer === 'string' ? c.issuer : addressJson(c.issuer);
      return { issuer, params: typeof c.params === 'string' ? c.params : JSON.stringify(c.params) };
    }
  } catch {
    // not JSON: a ProcessId
  }
  return { issuer: `${our}@${s}`, params: '"messaging"' };
}

/** A grant_capabilities string: a JSON `[process_id, params]`, or a ProcessId (messaging). */
function grantOf(s: string): [string, string] {
  try {
    const t = JSON.parse(s) as unknown;
    if (Array.isArray(t) && t.length === 2) {
      const target = typeof t[0] === 'string' ? t[0] : processIdJson(t[0]);
      return [target, typeof t[1] === 'string' ? t[1] : JSON.stringify(t[1])];
    }
  } catch {
    // not JSON: a ProcessId
  }
  return [s, '"messaging"'];
}

function processIdJson(p: unknown): string {
  const o = p as { process_name?: string; package_name?: string; publisher_node?: string };
  return `${o.process_name}:${o.package_name}:${o.publisher_node}`;
}

function addressJson(a: unknown): string {
  const o = a as { node?: string; process?: unknown };
  return `${o.node}@${typeof o.process === 'string' ? o.process : processIdJson(o.process)}`;
}

/** Where in the tester an internal error arose, for the FailResponse (as Rust's file!/line!). */
function locationOf(e: Error): { file: string; line: number; column: number } {
  const m = /\((?:file:\/\/)?([^()]*?):(\d+):(\d+)\)/.exec(e.stack ?? '');
  const file = m ? (m[1].split(/[/\\]/).pop() ?? m[1]) : 'tester.js';
  return { file, line: m ? Number(m[2]) : 0, column: m ? Number(m[3]) : 0 };
}
