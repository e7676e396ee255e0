// The few WASI 0.2 interfaces a componentize-js process imports with its default features
// (stdio, clocks, random), implemented in the worker itself. preview2-shim's WASIShim would
// also do, but it starts one extra I/O thread per worker and sends stderr to the node's own
// stderr; here stderr goes to a small ring buffer (the root cause of a crash, as Hyperdrive
// keeps the last 5000 bytes) and stdout lines go to the terminal. No files, sockets or env:
// a process reaches the outside world only through messages. Components that import anything
// else fall back to WASIShim (see WASI_LITE_COVERS).

import { hrtime } from 'node:process';

const LITE = [
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:clocks/monotonic-clock',
  'wasi:clocks/wall-clock',
  'wasi:filesystem/preopens',
  'wasi:filesystem/types',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
] as const;

/** Whether an import (as jco names it, with or without @version) is one we implement here. */
export function wasiLiteCovers(importName: string): boolean {
  const bare = importName.replace(/@[^@/]+$/, '');
  return (LITE as readonly string[]).includes(bare);
}

/** Thrown by wasi:cli/exit; the worker reports exit(ok) as `returned`. */
export class WasiExit extends Error {
  override name = 'WasiExit';
  constructor(readonly ok: boolean) {
    super(ok ? 'process called exit(ok)' : 'process called exit(err)');
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepNs(ns: bigint): void {
  if (ns > 0n) Atomics.wait(sleeper, 0, 0, Number(ns) / 1e6);
}

class Pollable {
  /** hrtime deadline in ns; undefined: always ready. */
  constructor(readonly deadline?: bigint) {}
  ready(): boolean {
    return this.deadline === undefined || hrtime.bigint() >= this.deadline;
  }
  block(): void {
    if (this.deadline !== undefined) sleepNs(this.deadline - hrtime.bigint());
  }
}

function poll(list: Pollable[]): Uint32Array {
  if (list.length === 0) throw new Error('wasi:io/poll: poll() needs at least one pollable');
  for (;;) {
    const ready = list.flatMap((p, i) => (p.ready() ? [i] : []));
    if (ready.length > 0) return new Uint32Array(ready);
    const next = list.reduce((m, p) => (p.deadline !== undefined && p.deadline < m ? p.deadline : m), list[0].deadline!);
    sleepNs(next - hrtime.bigint());
  }
}

class IoError {
  constructor(private readonly text: string) {}
  toDebugString(): string {
    return this.text;
  }
}

const CLOSED = { tag: 'closed' };

class InputStream {
  read(_len: bigint): Uint8Array {
    throw CLOSED;
  }
  blockingRead(_len: bigint): Uint8Array {
    throw CLOSED;
  }
  skip(_len: bigint): bigint {
    throw CLOSED;
  }
  blockingSkip(_len: bigint): bigint {
    throw CLOSED;
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

class OutputStream {
  constructor(private readonly sink: (bytes: Uint8Array) => void) {}
  checkWrite(): bigint {
    return 1n << 20n;
  }
  write(bytes: Uint8Array): void {
    this.sink(bytes);
  }
  blockingWriteAndFlush(bytes: Uint8Array): void {
    this.sink(bytes);
  }
  flush(): void {}
  blockingFlush(): void {}
  writeZeroes(n: bigint): void {
    this.sink(new Uint8Array(Number(n)));
  }
  blockingWriteZeroesAndFlush(n: bigint): void {
    this.sink(new Uint8Array(Number(n)));
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

class TerminalInput {}
class TerminalOutput {}

class Descriptor {}
class DirectoryEntryStream {}

/**
 * Keeps the first `headBytes` and the last `capacity` bytes written: an error's message comes
 * first and a deep stack trace after it, and both matter.
 */
export class RingText {
  private head = new Uint8Array(0);
  private chunks: Uint8Array[] = [];
  private size = 0;
  private total = 0;
  constructor(
    private readonly capacity: number,
    private readonly headBytes = 1024,
  ) {}
  push(bytes: Uint8Array): void {
    if (this.head.length < this.headBytes) {
      const take = bytes.subarray(0, this.headBytes - this.head.length);
      const h = new Uint8Array(this.head.length + take.length);
      h.set(this.head);
      h.set(take, this.head.length);
      this.head = h;
    }
    this.total += bytes.length;
    this.chunks.push(bytes.slice());
    this.size += bytes.length;
    while (this.size - this.chunks[0].length >= this.capacity) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    const tailLen = Math.min(all.length, this.capacity, Math.max(0, this.total - this.head.length));
    const dec = new TextDecoder();
    const tail = dec.decode(all.subarray(all.length - tailLen));
    const skipped = this.total - this.head.length - tailLen;
    return collapseRepeats(dec.decode(this.head) + (skipped > 0 ? `\n[... ${skipped} bytes ...]\n` : '') + tail);
  }
}

/** "x\nx\nx\n" -> "x\n  [same line 2 more times]\n": deep recursion fills stderr with one frame. */
export function collapseRepeats(text: string): string {
  const out: string[] = [];
  let last: string | undefined;
  let repeats = 0;
  const flush = () => {
    if (repeats > 0) out.push(`  [same line ${repeats} more time${repeats === 1 ? '' : 's'}]`);
    repeats = 0;
  };
  for (const line of text.split('\n')) {
    if (line === last && line.trim() !== '') {
      repeats++;
      continue;
    }
    flush();
    out.push(line);
    last = line;
  }
  flush();
  return out.join('\n');
}

/** Splits a byte stream into lines. */
class LineSplitter {
  private partial = '';
  private readonly decoder = new TextDecoder();
  constructor(private readonly onLine: (line: string) => void) {}
  push(bytes: Uint8Array): void {
    const lines = (this.partial + this.decoder.decode(bytes, { stream: true })).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) this.onLine(l);
  }
  flush(): void {
    if (this.partial) this.onLine(this.partial);
    this.partial = '';
  }
}

export interface WasiLite {
  imports: Record<string, Record<string, unknown>>;
  /** The last bytes the guest wrote to stderr. */
  stderrTail(): string;
  /** Emit a trailing stdout line that had no newline. */
  flush(): void;
}

export const STDERR_TAIL_BYTES = 5000;

export function createWasiLite(opts: { onStdoutLine(line: string): void }): WasiLite {
  const stderr = new RingText(STDERR_TAIL_BYTES);
  const stdout = new LineSplitter(opts.onStdoutLine);
  const stdoutStream = new OutputStream((b) => stdout.push(b));
  const stderrStream = new OutputStream((b) => stderr.push(b));
  const stdinStream = new InputStream();
  const randomBytes = (len: bigint) => {
    const out = new Uint8Array(Number(len));
    for (let i = 0; i < out.length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
    return out;
  };
  const randomU64 = () => crypto.getRandomValues(new BigUint64Array(1))[0];
  const seed: [bigint, bigint] = [randomU64(), randomU64()];
  const wallNow = () => {
    const ms = Date.now();
    return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1e6 };
  };
  const imports: Record<string, Record<string, unknown>> = {
    'wasi:cli/environment': { getEnvironment: () => [], getArguments: () => [], initialCwd: () => undefined },
    'wasi:cli/exit': {
      exit: (status: { tag: string }) => {
        throw new WasiExit(status.tag === 'ok');
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdinStream },
    'wasi:cli/stdout': { getStdout: () => stdoutStream },
    'wasi:cli/stderr': { getStderr: () => stderrStream },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:clocks/monotonic-clock': {
      now: () => hrtime.bigint(),
      resolution: () => 1n,
      subscribeInstant: (when: bigint) => new Pollable(BigInt(when)),
      subscribeDuration: (ns: bigint) => new Pollable(hrtime.bigint() + BigInt(ns)),
    },
    'wasi:clocks/wall-clock': { now: wallNow, resolution: () => ({ seconds: 0n, nanoseconds: 1e6 }) },
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode: () => undefined },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: () => seed },
  };
  return { imports, stderrTail: () => stderr.text(), flush: () => stdout.flush() };
}
