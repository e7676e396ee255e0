// Hyperdrive's command line (hd `hyperdrive/src/main.rs` `build_command`, simulation mode), as
// `kit-hyperdrive` takes it: the real kit starts a runtime binary with
// `<home> --port P --verbosity V --expose-local [ARGS] [--rpc R] [--password PW]
// --fake-node-name N --fakechain-port C` (kit `src/boot_fake_node/mod.rs`, `src/run_tests/mod.rs`).
// Flags kit's node honours are parsed; flags that have nothing to act on in a fake node without
// log files (log rotation, --reveal-ip of an indirect node) are accepted; flags it cannot honour
// are refused with the reason, so nobody believes a setting took effect when it did not.

export class ArgvError extends Error {
  override name = 'ArgvError';
}

export interface NodeArgs {
  home: string;
  /** HTTP port; absent: the first free port at or above 8080, as Hyperdrive. */
  port?: number;
  /** Peer (WebSocket) port; absent: a free one. */
  wsPort?: number;
  verbosity: number;
  detached: boolean;
  rpc?: string;
  password?: string;
  softUlimit?: number;
  /** Hyperdrive's --max-passthroughs (the node's quota; quotas.ts). */
  maxPassthroughs?: number;
  fakeNodeName?: string;
  fakechainPort?: number;
  /** Accepted flags that change nothing here, said once at boot. */
  notes: string[];
}

export type Parsed = { kind: 'run'; args: NodeArgs } | { kind: 'help' } | { kind: 'version' };

type Value = 'u8' | 'u16' | 'u64' | 'string' | 'bool';

interface Spec {
  long: string;
  short?: string;
  /** undefined: a switch (no value). */
  value?: Value;
  /** Refused: why kit's node cannot honour it. */
  refuse?: string;
  /** Accepted without effect: why. */
  moot?: string;
}

const SPECS: Spec[] = [
  { long: 'port', short: 'p', value: 'u16' },
  { long: 'ws-port', value: 'u16' },
  { long: 'tcp-port', value: 'u16', refuse: "kit's node speaks only WebSockets to its peers (no TCP transport)" },
  { long: 'verbosity', short: 'v', value: 'u8' },
  { long: 'logging-off', short: 'l', moot: "kit's node writes no terminal log files" },
  { long: 'reveal-ip', value: 'bool', moot: 'a fake node is a direct node: it has no routers to hide behind' },
  { long: 'detached', short: 'd' },
  { long: 'rpc', value: 'string' },
  { long: 'rpc-config', value: 'string', refuse: "kit's node takes one provider with --rpc (or the chain at --fakechain-port), not an RPC config file" },
  { long: 'password', value: 'string' },
  { long: 'max-log-size', value: 'u64', moot: "kit's node writes no terminal log files" },
  { long: 'number-log-files', value: 'u64', moot: "kit's node writes no terminal log files" },
  { long: 'max-peers', value: 'u64', refuse: "kit's node does not limit its peer connections" },
  { long: 'max-passthroughs', value: 'u64' },
  { long: 'soft-ulimit', value: 'u64' },
  { long: 'process-verbosity', value: 'string', refuse: "kit's node has one verbosity for all processes (--verbosity)" },
  { long: 'expose-local' },
  { long: 'fake-node-name', value: 'string' },
  { long: 'fakechain-port', value: 'u16' },
];

export const USAGE = `Usage: kit-hyperdrive <HOME> [OPTIONS]

kit's embedded fake node behind Hyperdrive's command line (simulation mode), so the real kit can
run it: \`kit boot-fake-node --runtime-path <this file>\` or tests.toml
\`runtime = { RepoPath = "<this file>" }\`.

Options:
  -p, --port <PORT>               HTTP port [default: first free at or above 8080]
      --ws-port <PORT>            peer (WebSocket) port [default: a free one]
  -v, --verbosity <VERBOSITY>     0-3 (higher counts as 3) [default: 0]
  -d, --detached                  no terminal input
      --rpc <RPC>                 an Ethereum RPC provider (ws:// or http://)
      --password <PASSWORD>       node password [default: secret]
      --soft-ulimit <N>           open-files budget for fd-manager
      --max-passthroughs <N>      passthroughs routed for indirect nodes [default: 32; Hyperdrive's: 0]
      --expose-local              accepted: the local RPC is always served on loopback
      --fake-node-name <NAME>     the node's name (a name without a dot gets .os, as Hyperdrive registers it)
      --fakechain-port <PORT>     the fake chain [default: 8545]
  -l, --logging-off, --max-log-size, --number-log-files, --reveal-ip: accepted, nothing to act on
      --tcp-port, --rpc-config, --max-peers, --process-verbosity: refused
  -h, --help                      this text
  -V, --version                   kit's version`;

export function parseNodeArgv(argv: string[]): Parsed {
  const parsed = parseFlags(argv);
  if (parsed.kind !== 'flags') return parsed;
  const { out, positionals } = parsed;
  if (positionals.length === 0) throw new ArgvError('the following required arguments were not provided: <HOME>');
  if (positionals.length > 1) throw new ArgvError(`unexpected argument '${positionals[1]}' found (one <HOME> only)`);
  out.home = positionals[0]!;
  return { kind: 'run', args: out };
}

/** Flags `kit boot-fake-node` sets from its own options: after `--` they would be given twice. */
const SET_BY_KIT = ['port', 'verbosity', 'rpc', 'password', 'fake-node-name', 'fakechain-port'];

/**
 * `kit boot-fake-node -- ARGS` for kit's node: the Hyperdrive flags that kit's own options do not
 * already set (the real kit appends ARGS to the runtime's command line, where a repeated flag is
 * an error too).
 */
export function parseExtraArgs(words: string[]): Pick<NodeArgs, 'wsPort' | 'softUlimit' | 'maxPassthroughs' | 'detached' | 'notes'> {
  const parsed = parseFlags(words);
  if (parsed.kind !== 'flags') throw new ArgvError(`${words.find((w) => /^-(h|V|-help|-version)$/.test(w))} is not for after --`);
  if (parsed.positionals.length > 0) throw new ArgvError(`unexpected argument '${parsed.positionals[0]}' after -- (only Hyperdrive flags go there)`);
  const twice = parsed.given.find((g) => SET_BY_KIT.includes(g));
  if (twice) throw new ArgvError(`--${twice} after -- is set by kit boot-fake-node itself: use its own --${twice} option instead`);
  const { wsPort, softUlimit, maxPassthroughs, detached, notes } = parsed.out;
  return { wsPort, softUlimit, maxPassthroughs, detached, notes };
}

function parseFlags(argv: string[]): { kind: 'flags'; out: NodeArgs; positionals: string[]; given: string[] } | { kind: 'help' } | { kind: 'version' } {
  const out: NodeArgs = { home: '', verbosity: 0, detached: false, notes: [] };
  const positionals: string[] = [];
  const given: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-h' || word === '--help') return { kind: 'help' };
    if (word === '-V' || word === '--version') return { kind: 'version' };
    if (word === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      positionals.push(word);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    let spec: Spec | undefined;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      inline = eq < 0 ? undefined : word.slice(eq + 1);
      spec = SPECS.find((s) => s.long === name);
    } else {
      name = word.slice(1, 2);
      inline = word.length > 2 ? word.slice(2).replace(/^=/, '') : undefined;
      spec = SPECS.find((s) => s.short === name);
    }
    if (!spec) throw new ArgvError(`unexpected argument '${word}' found (kit's node takes Hyperdrive's flags; see --help)`);
    let raw: string | undefined;
    if (spec.value) {
      raw = inline ?? argv[++i];
      if (raw === undefined) throw new ArgvError(`a value is required for '--${spec.long} <${spec.long.toUpperCase()}>' but none was supplied`);
    } else if (inline !== undefined) {
      throw new ArgvError(`unexpected value '${inline}' for '--${spec.long}' found; no more were expected`);
    }
    if (spec.refuse) throw new ArgvError(`--${spec.long} is not supported: ${spec.refuse}; run without it`);
    given.push(spec.long);
    const value = raw === undefined ? undefined : typed(spec, raw);
    if (spec.moot) {
      out.notes.push(`--${spec.long}: accepted, no effect (${spec.moot})`);
      continue;
    }
    switch (spec.long) {
      case 'port':
        out.port = value as number;
        break;
      case 'ws-port':
        out.wsPort = value as number;
        break;
      case 'verbosity':
        out.verbosity = value as number;
        break;
      case 'detached':
        out.detached = true;
        break;
      case 'rpc':
        out.rpc = value as string;
        break;
      case 'password':
        out.password = value as string;
        break;
      case 'soft-ulimit':
        out.softUlimit = value as number;
        break;
      case 'max-passthroughs':
        out.maxPassthroughs = value as number;
        break;
      case 'fake-node-name':
        out.fakeNodeName = value as string;
        break;
      case 'fakechain-port':
        out.fakechainPort = value as number;
        break;
      // --expose-local: the kit RPC is always served (loopback only).
    }
  }
  return { kind: 'flags', out, positionals, given };
}

function typed(spec: Spec, raw: string): number | string | boolean {
  const flag = `--${spec.long}`;
  switch (spec.value) {
    case 'string':
      return raw;
    case 'bool':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new ArgvError(`invalid value '${raw}' for '${flag}': expected true or false`);
    default: {
      const max = spec.value === 'u8' ? 255 : spec.value === 'u16' ? 65535 : Number.MAX_SAFE_INTEGER;
      if (!/^\d+$/.test(raw) || Number(raw) > max) throw new ArgvError(`invalid value '${raw}' for '${flag}': expected a whole number from 0 to ${max}`);
      return Number(raw);
    }
  }
}
