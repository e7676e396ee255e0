// One child process per build slot, each running componentizeJs (see componentize-child.ts),
// reused for the slot's next process and ended when the build ends.

import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildReply, ChildRequest, EngineRequest } from './componentize-child.js';
import type { ComponentizeJsOptions } from './componentize.js';
import { StepFailedError } from './errors.js';

const CHILD = fileURLToPath(new URL('./componentize-child.js', import.meta.url));

export class ComponentizeWorker {
  private child?: ChildProcess;
  private stderr = '';
  private pending?: { resolve: (ms: number) => void; reject: (e: Error) => void };

  get busy(): boolean {
    return this.pending !== undefined;
  }

  private start(): ChildProcess {
    // No inherited execArgv (a test runner's flags are not for this child); stdout is wizer's, unused.
    const child = fork(CHILD, [], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-4000);
    });
    child.on('message', (reply: ChildReply) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (reply.ok) p.resolve(reply.ms);
      else p.reject(new StepFailedError(reply.message));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(
        new StepFailedError(
          `componentize stopped (${signal ?? `exit code ${code}`})${this.stderr ? `:\n${this.stderr.trim()}` : ''}`,
          'Out of memory? componentize-js needs about 800 MB per process being built; build fewer at once.',
        ),
      );
    });
    return child;
  }

  private ask(req: ChildRequest): Promise<number> {
    if (this.pending) throw new Error('ComponentizeWorker is busy');
    this.child ??= this.start();
    const child = this.child;
    return new Promise<number>((resolve, reject) => {
      this.pending = { resolve, reject };
      child.send(req);
    });
  }

  /** Builds one component into opts.outPath and returns its bytes. */
  async run(opts: Omit<ComponentizeJsOptions, 'log'>): Promise<{ bytes: Uint8Array; ms: number }> {
    const ms = await this.ask({ ...opts, disableFeatures: opts.disableFeatures ? [...opts.disableFeatures] : undefined });
    return { bytes: new Uint8Array(readFileSync(opts.outPath)), ms };
  }

  /** Makes a development engine (dev/engine.ts) into req.dir. */
  prepareEngine(req: Omit<EngineRequest, 'kind'>): Promise<number> {
    return this.ask({ kind: 'engine', ...req });
  }

  /** Ends the child; a component it was making fails with "cancelled". */
  terminate(): void {
    const child = this.child;
    this.child = undefined;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(new StepFailedError('componentize cancelled'));
    if (!child) return;
    child.removeAllListeners('exit');
    if (p) child.kill('SIGKILL');
    else child.disconnect();
  }
}
