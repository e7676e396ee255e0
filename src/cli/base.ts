// The base of every kit command: one logger (terminal + the log file the book describes) and one
// place that turns a KitError into "Error: ... / hint: ..." on stderr and an exit status,
// without a stack trace. Anything else is a bug and oclif prints it in full.

import { Command, Errors } from '@oclif/core';
import { createLogger, type Logger } from '../core/log.js';
import { formatKitError, KitError } from './errors.js';
import { NOT_YET_AVAILABLE_HINT, notYetAvailableMessage } from './messages.js';

export abstract class KitCommand extends Command {
  private logger?: Logger;

  /** Info and warnings go to stdout, errors to stderr, everything to the kit log file. */
  protected get kitLog(): Logger {
    this.logger ??= createLogger({ target: `kit::${this.id ?? 'command'}` });
    return this.logger;
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err;
    if (err instanceof KitError) {
      this.kitLog.error(formatKitError(err));
      this.exit(err.exitCode);
    }
    return super.catch(err);
  }
}

/** What every command whose library has not landed yet throws after parsing its flags. */
export function notYetAvailable(command: string): KitError {
  return new KitError(notYetAvailableMessage(command), { hint: NOT_YET_AVAILABLE_HINT, exitCode: 1 });
}
