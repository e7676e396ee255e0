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

/** A stack frame's location: the file as the stack names it, line and column 1-based. */
interface Frame {
  file: string;
  line: number;
  column: number;
}

/** Every frame of a SpiderMonkey (`fn@file:line:col`, what components run) or V8 (`    at fn (file:line:col)`) stack. */
function stackFrames(stack: string | undefined): Frame[] {
  const frames: Frame[] = [];
  for (const raw of (stack ?? '').split('\n')) {
    const m = /(?:@|\(|at )([^@()\s]*?):(\d+):(\d+)\)?\s*$/.exec(raw.trim());
    if (m) frames.push({ file: m[1], line: Number(m[2]), column: Number(m[3]) });
  }
  return frames;
}

function baseName(file: string): string {
  return file.split(/[/\\]/).pop() || file;
}

/**
 * The source location of stack frame `skip` (0 = the innermost) in an Error's stack, for both
 * SpiderMonkey and V8, in the bundle that runs. File names are shortened to their last path segment.
 */
export function parseStackLocation(stack: string | undefined, skip = 0): SourceLocation | undefined {
  const frames = stackFrames(stack);
  const f = frames[skip] ?? frames[frames.length - 1];
  return f && { file: baseName(f.file), line: f.line, column: f.column };
}

/**
 * What `kit build` appends to a bundle that uses these helpers: esbuild's source map of it, with
 * `sources` relative to the package (kit's own files as `kit/...`), so that a failure is reported
 * at the line of the test's own source file rather than of the bundle.
 */
export interface EmbeddedSourceMap {
  sources: string[];
  mappings: string;
}

const KIT_SOURCE_MAP = '__KIT_SOURCE_MAP__';

function embeddedMap(): EmbeddedSourceMap | undefined {
  return (globalThis as Record<string, unknown>)[KIT_SOURCE_MAP] as EmbeddedSourceMap | undefined;
}

const VLQ_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** One source map segment: generated column, then source index, line and column (all 0-based). */
type Segment = [number, number, number, number];

/** The mappings, decoded once: for each generated line its segments, in column order. */
const decodedMaps = new WeakMap<EmbeddedSourceMap, Segment[][]>();

function decodeMappings(map: EmbeddedSourceMap): Segment[][] {
  const done = decodedMaps.get(map);
  if (done) return done;
  const lines: Segment[][] = [];
  let source = 0;
  let sourceLine = 0;
  let sourceColumn = 0;
  for (const text of map.mappings.split(';')) {
    const segments: Segment[] = [];
    let column = 0;
    for (const field of text.split(',')) {
      if (field === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of field) {
        const digit = VLQ_DIGITS.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0] ?? 0;
      if (values.length < 4) continue; // a segment that maps to no source
      source += values[1];
      sourceLine += values[2];
      sourceColumn += values[3];
      segments.push([column, source, sourceLine, sourceColumn]);
    }
    lines.push(segments);
  }
  decodedMaps.set(map, lines);
  return lines;
}

/** Where a frame of the bundle comes from, by the embedded source map; undefined if nowhere. */
export function mapLocation(map: EmbeddedSourceMap, line: number, column: number): SourceLocation | undefined {
  const segments = decodeMappings(map)[line - 1] ?? [];
  let hit: Segment | undefined;
  for (const s of segments) {
    if (s[0] > column - 1) break;
    hit = s;
  }
  hit ??= segments[0];
  const file = hit && map.sources[hit[1]];
  return hit && file !== undefined ? { file, line: hit[2] + 1, column: hit[3] + 1 } : undefined;
}

/**
 * Where in the test's own sources a stack was, from frame `skip` on: with an embedded source map,
 * the first frame that maps to a file of the package (not kit's process library); without one, frame
 * `skip` of the bundle.
 */
function testLocation(stack: string | undefined, skip: number): SourceLocation | undefined {
  const map = embeddedMap();
  if (map) {
    for (const f of stackFrames(stack).slice(skip)) {
      const at = mapLocation(map, f.line, f.column);
      if (at && !at.file.startsWith('kit/')) return at;
    }
  }
  return parseStackLocation(stack, skip);
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
  return testLocation(new Error().stack, depth + 1);
}

/**
 * Fail the running test: answer the tester with this test's name and the caller's file, line and
 * column (in the test's own source when kit build embedded its source map, else in the bundle),
 * print the message on the node, and end the process.
 */
export function fail(message: string): never {
  report(message, callerLocation(1));
}

/** fail() unless `condition` holds. */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) report(message, callerLocation(1));
}

/** A value as assertEqual compares and shows it: JSON, or what it is when JSON has no word for it. */
function shown(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'symbol') return value.toString();
  return toJson(value);
}

/** fail() unless `actual` and `expected` are equal as JSON (bytes compare as number arrays; undefined equals only undefined). */
export function assertEqual<T>(actual: T, expected: T, message = 'values differ'): void {
  const a = shown(actual);
  const e = shown(expected);
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
          report(err.message, testLocation(err.stack, 0));
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
