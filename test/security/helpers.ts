// What every attack test shares: a real node (booted in-process through bootNode) holding a
// victim package whose data must survive the attack, and the proof that it did: after the
// attack, a kit RPC from outside reaches the victim's process, which reads its file back through
// vfs, and a second package's process still answers.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { createLogger, type Logger } from '../../src/core/log.js';
import { makeMessage, type RpcResponse, sendMessage } from '../../src/node-client/rpc.js';
import { startPackage } from '../../src/package/start.js';
import type { BootOptions, RunningNode } from '../../src/runtime/node.js';
import { bootConformanceNode, type ConformanceNode, type DriverPackage, PUBLISHER, writeDriverPackage } from '../conformance/harness.js';

export const VICTIM = `driver:victim:${PUBLISHER}`;
export const ECHO = `echo:bystander:${PUBLISHER}`;
const DATA_DRIVE = `/victim:${PUBLISHER}/data`;
const PRECIOUS_FILE = `${DATA_DRIVE}/precious.txt`;

const MODULE_CAPS = ['http-server:distro:sys', 'vfs:distro:sys', 'kv:distro:sys', 'sqlite:distro:sys'];

/** The victim: a driver that may use vfs, kv and sqlite, as a real package would. */
export const VICTIM_PACKAGE: DriverPackage = {
  name: 'victim',
  processes: [{ name: 'driver', request_capabilities: MODULE_CAPS, grant_capabilities: MODULE_CAPS }],
};

export interface Target {
  c: ConformanceNode;
  node: RunningNode;
  /** The victim's file contents, written before the attack. */
  precious: string;
  /** Lines the node logged at ERROR. */
  errors: string[];
  /** What the node's terminal printed so far (verbosity 1). */
  printed(): string;
  stop(): Promise<void>;
}

/** The node's real logger, its terminal lines kept: ERROR lines into `errors`. */
function recordingLogger(errors: string[]): Logger {
  return createLogger({
    file: null,
    terminal: (level, line) => {
      if (level === 'error') errors.push(line);
    },
  });
}

/** Install one component as package `pkg` with a single process `name`. */
export async function installComponent(c: ConformanceNode, pkg: string, name: string, wasm: Uint8Array, caps = MODULE_CAPS): Promise<string> {
  const dir = join(c.work, pkg);
  await writeDriverPackage(dir, { name: pkg, processes: [{ name, request_capabilities: caps, grant_capabilities: caps }] }, wasm);
  await startPackage({ packageDir: dir, url: c.node.url });
  return `${name}:${pkg}:${PUBLISHER}`;
}

export async function buildProcessFixture(file: string): Promise<Uint8Array> {
  return buildFixture(join(repoRoot(), 'test/fixtures/processes', file));
}

/** Boot a node with the victim (its file written) and a bystander echo process. */
export async function bootTarget(boot: Partial<BootOptions> = {}): Promise<Target> {
  const errors: string[] = [];
  let printed = '';
  const output = new Writable({
    write(chunk, _enc, done) {
      printed += String(chunk);
      done();
    },
  });
  const c = await bootConformanceNode([VICTIM_PACKAGE], { log: recordingLogger(errors), terminal: { input: null, output }, verbosity: 1, ...boot });
  try {
    await installComponent(c, 'bystander', 'echo', await buildProcessFixture('echo.js'), ['http-server:distro:sys']);
    const precious = `precious ${randomBytes(8).toString('hex')}`;
    const driver = c.driver('driver', 'victim');
    assert.equal((await driver.answer('vfs:distro:sys', { path: DATA_DRIVE, action: 'CreateDrive' })).body, '"Ok"');
    assert.equal((await driver.answer('vfs:distro:sys', { path: PRECIOUS_FILE, action: 'Write' }, { blob: precious })).body, '"Ok"');
    return { c, node: c.node, precious, errors, printed: () => printed, stop: () => c.stop() };
  } catch (e) {
    await c.stop();
    throw e;
  }
}

/** A kit RPC to `process` on the target (what `kit inject-message` sends). */
export async function rpc(url: string, process: string, body: unknown, opts: { blob?: Uint8Array; expectsResponse?: number } = {}): Promise<RpcResponse> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const r = await sendMessage(url, makeMessage({ process, body: text, blob: opts.blob, expectsResponse: opts.expectsResponse ?? 30 }));
  assert.ok(r, 'a blocking RPC gets an answer');
  return r;
}

/**
 * The node is alive and lost nothing: an RPC from outside reaches the victim, which reads its
 * file back through vfs, and the bystander echoes.
 */
export async function assertIntact(t: Target): Promise<void> {
  const read = await rpc(t.node.url, VICTIM, {
    Send: {
      target: 'vfs:distro:sys',
      body64: Buffer.from(JSON.stringify({ path: PRECIOUS_FILE, action: 'Read' })).toString('base64'),
      blob64: null,
      mime: null,
      metadata: null,
      timeout: 10,
      attachAll: false,
    },
  });
  const answer = (JSON.parse(read.body) as { answer?: { body: string; blob: { base64: string } | null } }).answer;
  assert.ok(answer, `the victim could not reach vfs: ${read.body}`);
  assert.equal(answer.body, '"Read"');
  assert.equal(Buffer.from(answer.blob?.base64 ?? '', 'base64').toString(), t.precious, "the victim's file changed");
  const echo = await rpc(t.node.url, ECHO, 'still here?');
  assert.equal(echo.body, 'still here?');
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request to the node, headers exactly as given (no Origin unless given). */
export function rawRequest(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string; localAddress?: string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, localAddress: opts.localAddress, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The JSON of a kit RPC message (what the real kit's inject_message::make_message builds). */
export function rpcBody(process: string, body: unknown, expectsResponse = 15): string {
  return JSON.stringify(makeMessage({ process, body: typeof body === 'string' ? body : JSON.stringify(body), expectsResponse }));
}

export function scratch(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
