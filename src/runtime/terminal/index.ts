// The node's terminal (book "Terminal", interop §11). It prints the node's printouts as
// Hyperdrive's terminal does (`<Weekday> HH:MM <text>`, shown when at or under the verbosity)
// and runs the lines typed on its input. Hyperdrive runs each command as a Wasm script; here
// top, cat, echo, alias, kill, hi and help run natively, as terminal:terminal:sys, and print what
// the scripts would print, prefixed `terminal:sys: ` like any process printout; m and the other
// scripts of the terminal:sys and hns-indexer:sys packages (peers, get-providers, node-info, ...)
// run natively as their own `<u64>:<package>` processes (native-scripts.ts). Any other
// `name:pkg:pub args` (or alias) runs that package's script from pkg/scripts.json (scripts.ts), as
// Hyperdrive's terminal does.
// Terminal API (book "Terminal API"): a local process holding the messaging capability for
// terminal:terminal:sys (it is not public, so the kernel refuses everyone else) sends a command
// line as a UTF-8 Request body, and it runs exactly as if typed. Hyperdrive answers nothing; here
// the command's output shows on the node's terminal as usual and, if the Request expects a
// Response, also comes back as its body (plain text, empty when the command printed nothing).

import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { type KernelApi, type NativeProcess, type Reply, SendErrorException } from '../kernel/api.js';
import {
  type Address,
  addressToString,
  fromUtf8,
  jsonBytes,
  type KernelMessage,
  messagingCap,
  type ProcessId,
  parseJsonBytes,
  parseProcessId,
  processIdToString,
  systemProcess,
} from '../../core/types.js';
import { colourFor, formatPrintout, formatProcess, type ProcessInfo } from './format.js';
import { showingPrompt, writeLine } from '../../core/prompt-line.js';
import { nativeScript, runNativeScript, writeScriptsJson } from './native-scripts.js';
import { runScript, ScriptError } from './scripts.js';

export { formatPrintout, parseMArgs, timestamp, tokenize } from './format.js';

export const TERMINAL_ID: ProcessId = { processName: 'terminal', packageName: 'terminal', publisherNode: 'sys' };

export interface TerminalOptions {
  kernel: KernelApi;
  /** Where commands are typed; null for a detached node (printouts only). */
  input: NodeJS.ReadableStream | null;
  /** Where printouts go; null for a detached node, whose printouts go to `printer`. */
  output: NodeJS.WritableStream | null;
  /** Without `output`: where printouts (at or under the verbosity) go; default the node's log. */
  printer?: (text: string) => void;
  /** Printouts above this verbosity (0-3) are not shown. */
  verbosity: number;
  /** Ctrl-C, Ctrl-D or the end of input: the node should shut down. */
  onExit?: () => void;
  /** For tests: the clock behind the timestamps. */
  now?: () => Date;
}

export interface Terminal extends NativeProcess {
  readonly id: ProcessId;
  /** Printouts above this verbosity are not shown. */
  verbosity: number;
  /** Show a printout, formatted as Hyperdrive's terminal does, if `verbosity` <= the terminal's. */
  print(verbosity: number, text: string): void;
  /** Run one command line as if typed; resolves with what it printed, once printed. */
  run(line: string): Promise<string>;
  /** Stop reading input (does not call onExit). */
  close(): void;
  /** Write the terminal:sys and hns-indexer:sys scripts.json into the VFS (once vfs runs). */
  writePackages(): Promise<void>;
}

const USAGE = 'Usage:';
const HI_USAGE = `${USAGE} hi <node_id> <message>`;
const ALIAS_USAGE = `${USAGE} alias <alias_name> <process_id>`;
const CAT_USAGE = `${USAGE} cat <file_path>`;
const KILL_USAGE = `${USAGE} kill <process_id>`;
const TOP_USAGE = `${USAGE}\n    top [-c <show-caps>] <- to view all processes\n    top <process_id> [-c <show-caps>] <- to view one process`;
const COMMANDS = [
  'commands:',
  "  m <address> <body> [-a <secs>]  message a process (quote a body with spaces in '...'); -a awaits and prints the response",
  '  top [-c] [process-id]           list processes (-c shows capabilities)',
  '  cat <vfs-path>                  print a file from the VFS, e.g. cat /terminal:sys/pkg/scripts.json',
  '  echo <text>                     print the text',
  '  alias <name> [process-id]       make <name> run process-id (omit process-id to remove the alias)',
  '  kill <process-id>               stop a process',
  '  hi <node> <message>             send a message to another node',
  '  help                            this list',
  '  peers | peer <node> | net-diagnostics            the network: connected peers, one identity, diagnostics',
  '  get-providers | add-node-provider | add-rpcurl-provider | remove-provider   eth providers',
  '  clear-state <process-id>        delete a process\'s saved state',
  '  hfetch:terminal:sys             this node at a glance; namehash-to-name:terminal:sys <hash> names a namehash',
  '  node-info:hns-indexer:sys <node> | state:hns-indexer:sys | reset:hns-indexer:sys | get-block:hns-indexer:sys [chain]',
  '  <alias | process-id> [args]     run that script of its package (pkg/scripts.json) with args',
].join('\n');

const BUILTINS = ['top', 'cat', 'echo', 'alias', 'kill', 'hi', 'help'] as const;
type Builtin = (typeof BUILTINS)[number];
/** The aliases Hyperdrive's terminal sets at every start (terminal/src/lib.rs), all `<name>:terminal:sys`. */
const DEFAULT_ALIASES = [
  ...BUILTINS,
  'm',
  'add-node-provider',
  'add-rpcurl-provider',
  'clear-state',
  'get-providers',
  'net-diagnostics',
  'peer',
  'peers',
  'remove-provider',
];

const KERNEL = systemProcess('kernel');
const VFS = systemProcess('vfs');
const NET = systemProcess('net');

export function createTerminal(opts: TerminalOptions): Terminal {
  return new NodeTerminal(opts);
}

class NodeTerminal implements Terminal {
  readonly id = TERMINAL_ID;
  readonly isPublic = false;
  verbosity: number;
  private readonly kernel: KernelApi;
  private readonly output: NodeJS.WritableStream | null;
  /** What the command being run (through the Terminal API) printed, per command. */
  private readonly captured = new AsyncLocalStorage<string[]>();
  private readonly input: NodeJS.ReadableStream | null;
  private readonly interactive: boolean;
  private readonly now: () => Date;
  private readonly aliases = new Map<string, ProcessId>();
  private rl?: Interface;
  private started = false;
  private closed = false;
  /** Log lines (core/log.ts) go above the prompt while it shows. */
  private endPrompt: () => void = () => {};
  private exited = false;
  private readonly onData = (chunk: Buffer | string) => {
    // Without a TTY, Ctrl-C / Ctrl-D arrive as plain bytes (kit run-tests writes 0x03 into the node's pty).
    const s = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    if (s.includes('\x03') || s.includes('\x04')) this.exit();
  };

  constructor(private readonly opts: TerminalOptions) {
    this.kernel = opts.kernel;
    this.output = opts.output;
    this.input = opts.input;
    this.verbosity = opts.verbosity;
    this.now = opts.now ?? (() => new Date());
    this.interactive = !!(this.input as { isTTY?: boolean } | null)?.isTTY && !!(this.output as { isTTY?: boolean } | null)?.isTTY;
    this.loadAliases();
  }

  // ---- NativeProcess ---------------------------------------------------------------------------

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const input = this.input;
    if (!input) return;
    // Input is read only once the terminal is registered, so that its commands can be sent.
    this.rl = createInterface({
      input,
      output: this.interactive ? (this.output ?? undefined) : undefined,
      terminal: this.interactive,
      historySize: 1000,
    });
    this.rl.on('line', (line) => {
      this.run(line).finally(() => this.prompt());
    });
    this.rl.on('SIGINT', () => this.exit());
    this.rl.on('close', () => this.exit());
    if (!this.interactive) input.on('data', this.onData);
    this.rl.setPrompt(`${this.kernel.our} > `);
    if (this.interactive && this.output) {
      const rl = this.rl;
      this.endPrompt = showingPrompt(this.output, () => rl.prompt(true));
    }
    this.prompt();
  }

  handle(km: KernelMessage): void {
    const our = this.kernel.our;
    if (km.message.tag === 'response') {
      this.say(fromUtf8(km.message.val[0].body));
      return;
    }
    if (km.source.node !== our) {
      // Commands are for this node's processes only (a remote one would be root on our node).
      this.print(2, `terminal:sys: ignoring message from ${addressToString(km.source)}`);
      return;
    }
    const body = km.message.val.body;
    let json: unknown;
    try {
      json = parseJsonBytes(body);
    } catch {
      json = undefined;
    }
    // A JSON object is a TerminalRequest (EditAlias, as scripts send); anything else is a command line.
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
      this.terminalRequest(km, json as { EditAlias?: { alias?: unknown; process?: unknown } });
      return;
    }
    this.command(km, body).catch((e) => this.say(`error: ${e instanceof Error ? e.message : String(e)}`));
  }

  private terminalRequest(km: KernelMessage, request: { EditAlias?: { alias?: unknown; process?: unknown } }): void {
    if (km.message.tag !== 'request') return;
    const edit = request.EditAlias;
    if (!edit || typeof edit.alias !== 'string' || (edit.process !== null && edit.process !== undefined && typeof edit.process !== 'string')) {
      const why = `failed to parse TerminalRequest from ${addressToString(km.source)}`;
      this.say(why);
      // A JSON object is taken as a TerminalRequest; say so to a caller that waits for an answer.
      if (km.message.val.expectsResponse !== undefined)
        this.kernel.respond(this.id, km, `${why}: send {"EditAlias": {"alias": "<name>", "process": "<process-id>" | null}}, or a command line as text`);
      return;
    }
    const result = this.editAlias(edit.alias, (edit.process as string | null | undefined) ?? undefined);
    if (km.message.val.expectsResponse !== undefined) this.kernel.respond(this.id, km, jsonBytes({ EditAlias: result }));
  }

  /** A command line from a process (Terminal API): run it as if typed, answer with its output. */
  private async command(km: KernelMessage, body: Uint8Array): Promise<void> {
    if (km.message.tag !== 'request') return;
    const expects = km.message.val.expectsResponse !== undefined;
    const from = addressToString(km.source);
    let line: string;
    try {
      line = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      const why = `ignoring a command from ${from}: its body is not UTF-8 text (send a command line such as "hi our hello")`;
      this.say(why);
      if (expects) this.kernel.respond(this.id, km, why);
      return;
    }
    // Who runs what on the node's terminal: a process with this capability is root.
    this.print(1, `terminal:sys: ${from} runs: ${line}`);
    const output = await this.run(line);
    if (expects) this.kernel.respond(this.id, km, output);
  }

  stop(): void {
    this.close();
  }

  // ---- output ----------------------------------------------------------------------------------

  print(verbosity: number, text: string): void {
    if (verbosity > this.verbosity) return;
    if (!this.output) {
      (this.opts.printer ?? ((t: string) => this.kernel.log.info(t)))(text);
      return;
    }
    const line = formatPrintout(text, this.now(), this.interactive ? colourFor(verbosity) : '');
    if (this.rl && this.interactive && !this.closed) {
      // Print above the input line, then redraw the prompt and whatever was being typed.
      writeLine(this.output, line.replace(/\n$/, ''));
    } else {
      this.output.write(line);
    }
  }

  /** What a script would print: a verbosity-0 printout from its package (terminal:sys unless said). */
  private say(text: string, pkg = 'terminal:sys'): void {
    this.captured.getStore()?.push(text);
    this.print(0, `${pkg}: ${text}`);
  }

  /** The terminal:sys and hns-indexer:sys packages' scripts.json, in the VFS as on a real node. */
  async writePackages(): Promise<void> {
    await writeScriptsJson(this.kernel, this.id);
  }

  private prompt(): void {
    if (this.rl && this.interactive && !this.closed) this.rl.prompt();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.endPrompt();
    this.input?.off('data', this.onData);
    this.rl?.close();
  }

  private exit(): void {
    if (this.closed || this.exited) return;
    this.exited = true;
    this.endPrompt(); // no prompt while the node stops
    this.output?.write(this.interactive ? '\r\x1b[2Kexit code received\n' : 'exit code received\n');
    this.opts.onExit?.();
  }

  // ---- commands ----------------------------------------------------------------------------------

  run(line: string): Promise<string> {
    const out: string[] = [];
    return this.captured.run(out, async () => {
      await this.runLine(line);
      return out.join('\n');
    });
  }

  private async runLine(line: string): Promise<void> {
    const text = line.replace(/[\r\n]+$/, '').trimStart();
    if (!text.trim()) return;
    const sp = text.indexOf(' ');
    const head = sp < 0 ? text : text.slice(0, sp);
    const args = sp < 0 ? '' : text.slice(sp + 1);
    let pid = this.aliases.get(head);
    if (!pid) {
      try {
        pid = parseProcessId(head);
      } catch {
        this.say(`error calling script: '${head}' not found, either as an alias or process ID\n${COMMANDS}`);
        return;
      }
    }
    try {
      const builtin = builtinOf(pid);
      if (builtin) await this.builtin(builtin, args);
      else await this.script(pid, args);
    } catch (e) {
      this.say(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private builtin(name: Builtin, args: string): Promise<void> | void {
    switch (name) {
      case 'top':
        return this.top(args);
      case 'cat':
        return this.cat(args);
      case 'echo':
        this.say(args.length > 0 ? args : `Print the argument.\n${USAGE} echo <text>`);
        return;
      case 'alias':
        return this.alias(args);
      case 'kill':
        return this.kill(args);
      case 'hi':
        return this.hi(args);
      case 'help':
        this.say(COMMANDS);
        return;
    }
  }

  private request(target: Address | ProcessId, body: Uint8Array | string, timeoutSecs: number): Promise<Reply> {
    const address = 'process' in target ? target : { node: this.kernel.our, process: target };
    return this.kernel.request(this.id, address, body, { timeoutSecs });
  }

  private async kernelDebug(query: unknown): Promise<unknown> {
    const reply = await this.request(KERNEL, jsonBytes({ Debug: query }), 60);
    return (parseJsonBytes(reply.response.body) as { Debug?: unknown }).Debug;
  }

  private async processInfo(pid: ProcessId): Promise<ProcessInfo | null> {
    const debug = (await this.kernelDebug({ Process: processIdToString(pid) })) as { Process?: ProcessInfo | null } | undefined;
    return debug?.Process ?? null;
  }

  private async top(args: string): Promise<void> {
    const tokens = args.split(/\s+/).filter((t) => t.length > 0);
    const showCaps = tokens.some((t) => t === '-c' || t === '--show-caps');
    const rest = tokens.filter((t) => t !== '-c' && t !== '--show-caps');
    if (rest.length > 1) return this.say(`Failed to parse args.\n${TOP_USAGE}`);
    if (rest.length === 1) {
      let pid: ProcessId;
      try {
        pid = parseProcessId(rest[0]);
      } catch (e) {
        return this.say(`invalid process id: ${(e as Error).message}\n${TOP_USAGE}`);
      }
      const info = await this.processInfo(pid);
      this.say(info ? formatProcess(processIdToString(pid), info, showCaps) : `process ${rest[0]} not running`);
      return;
    }
    const debug = (await this.kernelDebug('ProcessMap')) as { ProcessMap?: Record<string, ProcessInfo> } | undefined;
    const map = debug?.ProcessMap;
    if (!map) return this.say('Failed to parse kernel response');
    const ids = Object.keys(map).sort();
    const printout = ids.map((id) => formatProcess(id, map[id], showCaps)).join('\n');
    this.say(`\n${printout}\n\ntop: ${ids.length} running processes`);
  }

  private async cat(args: string): Promise<void> {
    const path = args.trim();
    if (!path) return this.say(`Print the contents of a file to the terminal.\n${CAT_USAGE}`);
    let failure: string;
    try {
      const reply = await this.request(VFS, jsonBytes({ path, action: 'Read' }), 5);
      const body = fromUtf8(reply.response.body);
      if (body === '"Read"' && reply.blob) return this.say(fromUtf8(reply.blob.bytes));
      failure = body;
    } catch (e) {
      if (!(e instanceof SendErrorException)) throw e;
      failure = e.reason ?? e.message;
    }
    this.say(`failed to read file ${path} from VFS (${failure}).\n${CAT_USAGE}`);
  }

  private alias(args: string): void {
    const trimmed = args.trim();
    if (!trimmed) {
      this.say(`Change alias for a process.\n${ALIAS_USAGE}`);
      return;
    }
    const sp = trimmed.indexOf(' ');
    const name = sp < 0 ? trimmed : trimmed.slice(0, sp);
    const proc = sp < 0 ? '' : trimmed.slice(sp + 1).trim();
    if (this.editAlias(name, proc || undefined) === 'InvalidProcessId') this.say(`Invalid process ID.\n${ALIAS_USAGE}`);
  }

  private editAlias(alias: string, process: string | undefined): 'AliasSet' | 'AliasRemoved' | 'AliasNotFound' | 'InvalidProcessId' {
    if (process !== undefined) {
      let pid: ProcessId;
      try {
        pid = parseProcessId(process);
      } catch {
        return 'InvalidProcessId';
      }
      this.aliases.set(alias, pid);
      this.saveAliases();
      this.say(`alias ${alias} set for ${process}`);
      return 'AliasSet';
    }
    if (this.aliases.delete(alias)) {
      this.saveAliases();
      this.say(`alias ${alias} removed`);
      return 'AliasRemoved';
    }
    this.say(`alias ${alias} not found`);
    return 'AliasNotFound';
  }

  private async kill(args: string): Promise<void> {
    let pid: ProcessId;
    try {
      pid = parseProcessId(args.trim());
    } catch {
      return this.say(`Invalid process ID.\n${KILL_USAGE}`);
    }
    const id = processIdToString(pid);
    // The kernel does not answer KillProcess for a process it does not have: check first.
    const info = await this.processInfo(pid);
    if (!info) return this.say(`process ${id} not running`);
    if (!info.wasm_bytes_handle) return this.say(`${id} is part of the runtime and cannot be killed`);
    try {
      const reply = await this.request(KERNEL, jsonBytes({ KillProcess: id }), 10);
      const killed = (parseJsonBytes(reply.response.body) as { KilledProcess?: string }).KilledProcess;
      this.say(killed ? `killed process ${killed}` : 'failed to parse kernel response');
    } catch (e) {
      if (!(e instanceof SendErrorException)) throw e;
      this.say('failed to get response from kernel');
    }
  }

  private async hi(args: string): Promise<void> {
    if (!args) return this.say(`Send a text message to another node's terminal.\n${HI_USAGE}`);
    const sp = args.indexOf(' ');
    if (sp < 0) return this.say(`Not enough arguments given.\n${HI_USAGE}`);
    const node = args.slice(0, sp) === 'our' ? this.kernel.our : args.slice(0, sp);
    const message = args.slice(sp + 1);
    try {
      const reply = await this.request({ node, process: NET }, message, 10);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(reply.response.body);
      } catch {
        return this.say(`malformed response from ${node}`);
      }
      this.say(`response from ${node}: ${text}`);
    } catch (e) {
      if (!(e instanceof SendErrorException)) throw e;
      this.say(e.sendError.kind === 'offline' ? `${node} is offline or does not exist` : `message to ${node} timed out`);
    }
  }

  /**
   * `<alias | process-id> <args>`: run the package's script of that name (scripts.json). A
   * package without that script but with that process running gets args as a Request body.
   */
  private async script(pid: ProcessId, args: string): Promise<void> {
    if (nativeScript(pid)) {
      const pkg = `${pid.packageName}:${pid.publisherNode}`;
      await runNativeScript(this.kernel, this.id, pid, args, (text) => this.say(text, pkg));
      return;
    }
    try {
      const id = await runScript(this.kernel, this.id, pid, args);
      this.print(2, `terminal:sys: started script ${processIdToString(pid)} as ${id}`);
    } catch (e) {
      if (!(e instanceof ScriptError)) throw e;
      const missing = e.kind === 'NoScriptsManifest' || e.kind === 'NoScriptInManifest';
      if (missing && (await this.processInfo(pid))) return this.sendToProcess(pid, args);
      this.say(`error calling script: ${e.message}${e.detail ? ` (${e.detail})` : ''}`);
    }
  }

  /** args go to a running process as a Request body, as to a script. */
  private async sendToProcess(pid: ProcessId, args: string): Promise<void> {
    const id = processIdToString(pid);
    const info = await this.processInfo(pid);
    if (!info) return this.say(`error calling script: '${id}' not found, either as an alias or process ID`);
    const address = { node: this.kernel.our, process: pid };
    if (!info.public && !this.kernel.hasCapability(this.id, messagingCap(address)))
      return this.say(`error calling script: the terminal may not message ${id} (it is not public and granted no capability)`);
    this.kernel.tell(this.id, address, args);
  }

  // ---- aliases -----------------------------------------------------------------------------------

  private aliasFile(): string | undefined {
    return this.kernel.home ? join(this.kernel.home, '.terminal_aliases.json') : undefined;
  }

  private loadAliases(): void {
    const file = this.aliasFile();
    if (file) {
      try {
        const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
        for (const [alias, pid] of Object.entries(saved)) this.aliases.set(alias, parseProcessId(pid));
      } catch {
        // no saved aliases yet (or unreadable ones): start from the defaults
      }
    }
    // The built-in aliases are re-added at every start, as by the real terminal.
    for (const b of DEFAULT_ALIASES) this.aliases.set(b, { processName: b, packageName: 'terminal', publisherNode: 'sys' });
  }

  private saveAliases(): void {
    const file = this.aliasFile();
    if (!file) return;
    const out: Record<string, string> = {};
    for (const [alias, pid] of this.aliases) out[alias] = processIdToString(pid);
    try {
      writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    } catch (e) {
      this.kernel.log.debug(`terminal: could not save aliases to ${file}: ${(e as Error).message}`);
    }
  }
}

function builtinOf(pid: ProcessId): Builtin | undefined {
  if (pid.packageName !== 'terminal' || pid.publisherNode !== 'sys') return undefined;
  return (BUILTINS as readonly string[]).includes(pid.processName) ? (pid.processName as Builtin) : undefined;
}
