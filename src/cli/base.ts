// The base of every kit command: one logger (terminal + the log file the book describes) and one
// place that turns a KitError into "Error: ... / hint: ..." on stderr and an exit status,
// without a stack trace. Anything else reaches bin/run.js, which prints it the same way
// (cli/report.ts): oclif's own errors as kit's, a bug with its stack.

import { Command, Errors } from '@oclif/core';
import { format, inspect } from 'node:util';
import { createLogger, type Logger } from '../core/log.js';
import { writeLine } from '../core/prompt-line.js';
import { colorEnabled, formatKitError, formatProblem, KitError } from './errors.js';
import { NOT_YET_AVAILABLE_HINT, notYetAvailableMessage } from './messages.js';

export abstract class KitCommand extends Command {
  private logger?: Logger;

  /** Info and warnings go to stdout, errors to stderr, everything to the kit log file. */
  protected get kitLog(): Logger {
    this.logger ??= createLogger({ target: `kit::${this.id ?? 'command'}` });
    return this.logger;
  }

  /** A line on stdout; above the node's prompt while one shows (boot-fake-node's banner). */
  override log(message = '', ...args: unknown[]): void {
    if (this.jsonEnabled()) return;
    writeLine(process.stdout, format(typeof message === 'string' ? message : inspect(message), ...args));
  }

  /** A warning in kit's shape (`warning: ...`, coloured on a terminal), also in the log file. */
  override warn(input: string | Error): string | Error {
    const message = typeof input === 'string' ? input : input.message;
    createLogger({ target: `kit::${this.id ?? 'command'}`, terminal: null }).warning(message);
    process.stderr.write(`${formatProblem({ message, warning: true }, colorEnabled(process.stderr))}\n`);
    return input;
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err;
    if (err instanceof KitError) {
      // The log file gets it plain; the terminal in colour when it is one.
      createLogger({ target: `kit::${this.id ?? 'command'}`, terminal: null }).error(formatKitError(err));
      process.stderr.write(`${formatKitError(err, colorEnabled(process.stderr))}\n`);
      this.exit(err.exitCode);
    }
    return super.catch(err);
  }
}

/** What every command whose library has not landed yet throws after parsing its flags. */
export function notYetAvailable(command: string): KitError {
  return new KitError(notYetAvailableMessage(command), { hint: NOT_YET_AVAILABLE_HINT, exitCode: 1 });
}
