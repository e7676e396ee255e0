// Client for `terminal:terminal:sys` (book: Terminal API). A process that holds the capability to
// message the terminal (request it in the manifest: "terminal:terminal:sys"; it is as good as
// root on the node) sends a command line as it would be typed, e.g. `hi other.dev hello` or
// `m our@foo:bar:baz '{"a": 1}' -a 5`, and the node's terminal runs it. Without the capability
// the kernel refuses the message (a MessageSendError for runAndAwait, nothing for run).

import { type Message, our, Request } from '../message.js';

export const TERMINAL_PROCESS = 'terminal:terminal:sys';

export type TerminalRequest = { EditAlias: { alias: string; process: string | null } };
export type EditAliasResult = 'AliasSet' | 'AliasRemoved' | 'AliasNotFound' | 'InvalidProcessId';

function terminal(): string {
  return `${our().node}@${TERMINAL_PROCESS}`;
}

/** Run a command line on our node's terminal, as Hyperdrive's API does: no answer. */
export function run(commandLine: string): void {
  Request.to(terminal()).body(commandLine).send();
}

/**
 * Run a command line and wait for it to finish: returns what it printed on the terminal (empty
 * when it printed nothing, e.g. `m` without `-a`, or a script, which prints as its own process).
 * Seconds to wait: give `m -a <s>` a little more than `s`.
 */
export function runAndAwait(commandLine: string, timeout = 10): string {
  return Request.to(terminal()).body(commandLine).sendAndAwaitResponse(timeout).text();
}

/** Set (`process` given) or remove an alias, as the `alias` script does. */
export function editAlias(alias: string, process: string | null, timeout = 5): EditAliasResult {
  const reply: Message = Request.to(terminal())
    .json({ EditAlias: { alias, process } } satisfies TerminalRequest)
    .sendAndAwaitResponse(timeout);
  return reply.json<{ EditAlias: EditAliasResult }>().EditAlias;
}
