// Helpers for test packages (book: Test Package Interface; run by `kit run-tests` through
// tester:tester:sys). The tester sends `{"Run": RunRequest}`; a test answers `{"Run": {"Ok": null}}`
// or `{"Run": {"Err": FailResponse}}`, where FailResponse says which test failed and where, like
// the Rust `fail!` macro does.

import type { FailResponse, RunRequest, TesterRequest, TesterResponse } from '../core/tester.js';
import type { Address } from '../core/types.js';
import { ProcessLibError } from './errors.js';
import { parseAddress } from './ids.js';
import { toJson } from './json.js';
import { awaitMessage, type Message, println, respondJson } from './message.js';

export type { FailResponse, RunRequest, TesterRequest, TesterResponse } from '../core/tester.js';

/** Thrown by fail() after it has reported the failure; ends the test process. */
export class TestFailure extends ProcessLibError {
  override name = 'TestFailure';
  constructor(
    message: string,
    readonly report: FailResponse,
  ) {
    super(message);
  }
}

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/**
 * The source location of stack frame `skip` (0 = the innermost) in an Error's stack, for both
 * SpiderMonkey (`fn@file:line:col`, what components run) and V8 (`    at fn (file:line:col)`).
 * File names are shortened to their last path segment.
 */
export function parseStackLocation(stack: string | undefined, skip = 0): SourceLocation | undefined {
  if (!stack) return undefined;
  const frames: SourceLocation[] = [];
  for (const raw of stack.split('\n')) {
    const m = /(?:@|\(|at )([^@()\s]*?):(\d+):(\d+)\)?\s*$/.exec(raw.trim());
    if (!m) continue;
    const file = m[1].split(/[/\\]/).pop() || m[1];
    frames.push({ file, line: Number(m[2]), column: Number(m[3]) });
  }
  return frames[skip] ?? frames[frames.length - 1];
}

let currentTest = 'test';

/** The test name fail() reports (testPackage sets it). */
export function setTestName(name: string): void {
  currentTest = name;
}

function report(message: string, location: SourceLocation | undefined): never {
  const fail: FailResponse = {
    test: currentTest,
    file: location?.file ?? 'unknown',
    line: location?.line ?? 0,
    column: location?.column ?? 0,
  };
  println(`FAIL ${currentTest} ${fail.file}:${fail.line}:${fail.column}: ${message}`);
  const response: TesterResponse = { Run: { Err: fail } };
  respondJson(response);
  throw new TestFailure(message, fail);
}

// Stack frames above the caller: this function, then fail/assert.
function callerLocation(depth: number): SourceLocation | undefined {
  return parseStackLocation(new Error().stack, depth + 1);
}

/**
 * Fail the running test: answer the tester with this test's name and the caller's file, line and
 * column (in the bundled process source), print the message on the node, and end the process.
 */
export function fail(message: string): never {
  report(message, callerLocation(1));
}

/** fail() unless `condition` holds. */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) report(message, callerLocation(1));
}

/** fail() unless `actual` and `expected` are equal as JSON (bytes compare as number arrays). */
export function assertEqual<T>(actual: T, expected: T, message = 'values differ'): void {
  const a = toJson(actual);
  const e = toJson(expected);
  if (a !== e) report(`${message}: got ${clip(a)}, expected ${clip(e)}`, callerLocation(1));
}

/** fail() unless two byte arrays are equal; says where they first differ. */
export function assertBytesEqual(actual: Uint8Array, expected: Uint8Array, message = 'bytes differ'): void {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  if (i < n) report(`${message}: first difference at byte ${i} (${actual[i]} instead of ${expected[i]})`, callerLocation(1));
  if (actual.length !== expected.length)
    report(`${message}: ${actual.length} bytes instead of ${expected.length}`, callerLocation(1));
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...(${s.length} chars)` : s;
}

export interface TestContext {
  our: Address;
  /** input_node_names: nodes[0] is the master, where the tests run. */
  nodes: string[];
  /** Seconds the tester waits for the test. */
  timeout: number;
  /** The Run request as received. */
  run: RunRequest;
}

/**
 * The whole test process: `export const init = testPackage('my-test', (t) => { ... })`.
 * Waits for the tester's Run, ignoring requests from other nodes; on nodes other than the
 * master answers Ok at once; on the master runs `body` and answers Ok, or the failure with its
 * location (a fail()/assert() call, or where an uncaught error was thrown).
 */
export function testPackage(name: string, body: (t: TestContext) => void): (our: string) => void {
  return (ourString: string) => {
    setTestName(name);
    const our = parseAddress(ourString);
    for (;;) {
      const message = awaitMessage();
      if (!message.isRequest()) continue;
      // Only our own node's tester may start (or fail) a test; anything else is noise.
      if (message.source.node !== our.node) {
        println(`${name}: ignoring a Request from another node (${message.source.node})`);
        continue;
      }
      const run = runRequestOf(message);
      if (run === undefined) {
        println(`${name}: ignoring a Request that is not {"Run": ...}: ${clip(message.text())}`);
        continue;
      }
      const nodes = run.input_node_names;
      if (nodes.length === 0 || nodes[0] === our.node) {
        try {
          body({ our, nodes, timeout: run.test_timeout, run });
        } catch (e) {
          if (e instanceof TestFailure) throw e;
          const err = e instanceof Error ? e : new Error(String(e));
          println(`${name}: ${err.name}: ${err.message}`);
          report(err.message, parseStackLocation(err.stack, 0));
        }
      }
      const ok: TesterResponse = { Run: { Ok: null } };
      respondJson(ok);
    }
  };
}

function runRequestOf(message: Message): RunRequest | undefined {
  try {
    const v = message.json<Partial<TesterRequest>>();
    return v && typeof v === 'object' && v.Run && Array.isArray(v.Run.input_node_names) ? v.Run : undefined;
  } catch {
    return undefined;
  }
}
