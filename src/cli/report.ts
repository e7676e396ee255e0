// The last stop for an error on its way out of `kit`: every problem is printed in kit's one shape
// (cli/errors.ts formatProblem), whether it is a KitError, one of oclif's (a missing argument, an
// unknown flag, a command that does not exist) or a bug (which keeps its stack). Returns the exit
// status. bin/run.js calls it for everything a command did not handle itself.

import { Errors } from '@oclif/core';
import { colorEnabled, formatProblem, KitError } from './errors.js';

interface OclifError extends Error {
  oclif?: { exit?: number };
  suggestions?: string[];
  code?: string;
}

/** oclif's parse errors end with "See more help with --help"; kit says it as a hint. */
function splitOclifMessage(message: string): { message: string; hint?: string } {
  const lines = message.split('\n');
  const i = lines.findIndex((l) => /^See more help with --help/.test(l.trim()));
  if (i < 0) return { message };
  return { message: lines.slice(0, i).join('\n').trimEnd(), hint: 'add --help to the command to see its arguments and flags' };
}

export function reportError(err: unknown, stream: NodeJS.WriteStream = process.stderr): number {
  const e = (err ?? new Error('no error?')) as OclifError;
  if (e instanceof Errors.ExitError || e.code === 'EEXIT') return e.oclif?.exit ?? 0;
  const color = colorEnabled(stream);
  let text: string;
  if (e instanceof KitError) text = formatProblem({ message: e.message, details: e.details, hint: e.hint }, color);
  else if (e instanceof Errors.CLIError || e.oclif !== undefined) {
    const { message, hint } = splitOclifMessage(e.message);
    const suggestions = e.suggestions?.length ? e.suggestions.join('; ') : undefined;
    const unknownCommand = /^command \S+ not found$/.test(message) ? 'run `kit --help` to list the commands' : undefined;
    text = formatProblem({ message, hint: suggestions ?? hint ?? unknownCommand }, color);
  } else text = `${formatProblem({ message: e.message }, color)}\n${e.stack ?? ''}`;
  stream.write(`${text}\n`);
  return e instanceof KitError ? e.exitCode : (e.oclif?.exit ?? 1);
}
