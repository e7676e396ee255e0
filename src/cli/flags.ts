// Flag and argument definitions shared by several commands, so the same option reads the same
// everywhere (names, short names and defaults follow the book's `kit <command> --help`).

import { Args, Flags } from '@oclif/core';
import { DEFAULT_NODE_PORT, NODE_PORT_DESCRIPTION } from './messages.js';

/** `-p/--port`: the port of the node on localhost that a command talks to. */
export const nodePortFlag = Flags.integer({
  char: 'p',
  description: NODE_PORT_DESCRIPTION,
  default: DEFAULT_NODE_PORT,
  min: 1,
  max: 65535,
  helpValue: '<NODE_PORT>',
});

/** `[DIR]`: a package directory; the current directory when absent (resolved at run time). */
export function packageDirArg(description: string) {
  return Args.string({ description: `${description} [default: current directory]`, required: false });
}

export const skipDepsCheckFlag = Flags.boolean({ char: 's', description: 'If set, do not check for dependencies' });

export const releaseFlag = Flags.boolean({ description: 'If set and given --runtime-path, compile release build [default: debug build]' });

export const verbosityFlag = Flags.integer({
  description: 'Verbosity of node: higher is more verbose',
  default: 0,
  min: 0,
  max: 3,
  helpValue: '<VERBOSITY>',
});

export const runtimePathFlag = Flags.string({
  char: 'r',
  description: 'Path to Hyperdrive repo (overrides --version)',
  helpValue: '<PATH>',
});

export const runtimeVersionFlag = Flags.string({
  char: 'v',
  description: 'Version of Hyperdrive binary to use (overridden by --runtime-path)',
  default: 'latest',
  helpValue: '<VERSION>',
});

export const rpcFlag = Flags.string({ description: 'Ethereum Base mainnet RPC endpoint (wss://), chain 8453', helpValue: '<RPC_ENDPOINT>' });

/** Whole numbers that may use `_` separators, as the real kit accepts (`1_000_000`). */
export function parseWholeNumber(input: string, flag: string): number {
  const cleaned = input.replaceAll('_', '');
  if (!/^\d+$/.test(cleaned)) throw new Error(`--${flag} expects a whole number (e.g. 1_000_000), got '${input}'`);
  const n = Number(cleaned);
  if (!Number.isSafeInteger(n)) throw new Error(`--${flag} is too large: ${input}`);
  return n;
}

export function wholeNumberFlag(opts: { char?: 'g' | 'p' | 'f'; name: string; description: string; default?: number; helpValue: string }) {
  return Flags.custom<number>({
    char: opts.char,
    description: opts.description,
    helpValue: opts.helpValue,
    parse: async (input) => parseWholeNumber(input, opts.name),
  })(opts.default === undefined ? {} : { default: opts.default });
}
