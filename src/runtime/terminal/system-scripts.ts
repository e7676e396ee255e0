// What each native system script does and prints, following the real one line by line (each names
// its source, under hyperdrive/packages/). They send the real Requests (net's NetAction in
// MessagePack, eth's EthConfigAction, the hns-indexer:sys-v0 shapes) as their own `<u64>` process
// and return the real text; where the real script would panic on an unexpected answer, the answer
// is printed instead.

import { getAddress } from 'viem';
import { encodeNetAction, unpack } from '../modules/net/wire.js';
import { fromUtf8, jsonBytes, parseAddress, parseProcessId, processIdToString, systemProcess } from '../../core/types.js';
import { SendErrorException } from '../kernel/api.js';
import { parseMArgs, tokenize } from './format.js';
import type { ScriptRun } from './native-scripts.js';

const NET = systemProcess('net');
const ETH = systemProcess('eth');
const KERNEL = systemProcess('kernel');
const STATE = systemProcess('state');
const HNS = { processName: 'hns-indexer', packageName: 'hns-indexer', publisherNode: 'sys' };
const M_USAGE = 'Usage: m <target> <body> [-a <await_time>]';
const CLEAR_STATE_USAGE = 'Usage: clear-state <process-id>';

type Script = (s: ScriptRun, args: string) => Promise<string>;

// ---- Rust `{:?}` / `{:#?}` of the values the scripts print ------------------------------------

/** Rust's Debug for a str. */
function dstr(s: string): string {
  return JSON.stringify(s);
}

type Routing = { Direct: [string, Record<string, number>] } | { Routers: string[] };

/** NodeRouting's Debug: `Direct { ip: "…", ports: {"ws": 9000} }` or `Routers(["…"])`. */
function routingDebug(r: Routing): string {
  if ('Direct' in r) {
    const [ip, ports] = r.Direct;
    const map = Object.keys(ports)
      .sort()
      .map((k) => `${dstr(k)}: ${ports[k]}`)
      .join(', ');
    return `Direct { ip: ${dstr(ip)}, ports: {${map}} }`;
  }
  return `Routers([${r.Routers.map(dstr).join(', ')}])`;
}

/** Pretty Debug (`{:#?}`) of a list, one item per line, each with a trailing comma. */
function prettyList(items: string[], indent: string): string {
  if (items.length === 0) return '[]';
  return `[\n${items.map((i) => `${indent}    ${i},\n`).join('')}${indent}]`;
}

/** `{:#?}` of Option<WitHnsUpdate>, as node-info prints it. */
function hnsUpdatePretty(u: Record<string, unknown> | null): string {
  if (!u) return 'None';
  const ind = '        ';
  const ports = Array.isArray(u.ports) ? (u.ports as Array<[string, number]>) : Object.entries((u.ports ?? {}) as Record<string, number>);
  const tuple = ([k, v]: [string, number]) => `(\n${ind}        ${dstr(k)},\n${ind}        ${v},\n${ind}    )`;
  const strs = (v: unknown) => (Array.isArray(v) ? (v as string[]).map(dstr) : []);
  return [
    'Some(',
    '    WitHnsUpdate {',
    `${ind}name: ${dstr(String(u.name ?? ''))},`,
    `${ind}public_key: ${dstr(String(u.public_key ?? ''))},`,
    `${ind}ips: ${prettyList(strs(u.ips), ind)},`,
    `${ind}ports: ${prettyList(ports.map(tuple), ind)},`,
    `${ind}routers: ${prettyList(strs(u.routers), ind)},`,
    '    },',
    ')',
  ].join('\n');
}

function sendErrorText(e: unknown): string {
  if (e instanceof SendErrorException) return e.sendError.kind === 'offline' ? 'Offline' : 'Timeout';
  return (e as Error).message;
}

// ---- net (hyperdrive/packages/terminal/{peers,peer,net-diagnostics,hfetch}) -------------------

async function askNet(s: ScriptRun, action: Parameters<typeof encodeNetAction>[0], timeoutSecs: number): Promise<unknown> {
  const r = await s.request(NET, encodeNetAction(action), timeoutSecs);
  return unpack(r.response.body);
}

const identityLine = ([name, key, routing]: [string, string, Routing]) => `${name}:\n    networking key: ${key}\n    routing: ${routingDebug(routing)}`;

const peers: Script = async (s) => {
  let body: unknown;
  try {
    body = await askNet(s, { kind: 'GetPeers' }, 10);
  } catch {
    return 'Failed to get peers from networking module';
  }
  const list = (body as { Peers?: Array<[string, string, Routing]> })?.Peers;
  if (!Array.isArray(list)) return 'Got malformed response from networking module';
  return `identities of current connected peers:\n${list.map(identityLine).join('\n')}`;
};

const peer: Script = async (s, args) => {
  let body: unknown;
  try {
    body = await askNet(s, { kind: 'GetPeer', node: args }, 10);
  } catch {
    return 'Failed to get response from networking module';
  }
  if (!body || typeof body !== 'object' || !('Peer' in body)) return 'Got malformed response from networking module';
  const p = (body as { Peer: [string, string, Routing] | null }).Peer;
  if (!p) return `no PKI entry found with name ${args}`;
  return `peer identity for ${p[0]}:\n    networking key: ${p[1]}\n    routing: ${routingDebug(p[2])}`;
};

const netDiagnostics: Script = async (s) => {
  let body: unknown;
  try {
    body = await askNet(s, { kind: 'GetDiagnostics' }, 60);
  } catch {
    return 'Failed to get diagnostics from networking module';
  }
  const d = (body as { Diagnostics?: unknown })?.Diagnostics;
  if (typeof d !== 'string') return 'Got malformed response from networking module';
  return `\r\n${d}`;
};

async function askJson(s: ScriptRun, target: typeof ETH, body: unknown, timeoutSecs: number): Promise<unknown> {
  const r = await s.request(target, jsonBytes(body), timeoutSecs);
  return JSON.parse(fromUtf8(r.response.body));
}

const hfetch: Script = async (s) => {
  let id: [string, string, Routing] | null;
  try {
    id = ((await askNet(s, { kind: 'GetPeer', node: s.our }, 60)) as { Peer?: [string, string, Routing] | null })?.Peer ?? null;
  } catch {
    return 'failed to get response from net';
  }
  if (!id) return 'got malformed response from net';
  let providers: Array<{ chain_id: number }>;
  let subs: number;
  let outstanding: number;
  let processes: number;
  try {
    const p = (await askJson(s, ETH, 'GetProviders', 60)) as { Providers?: Array<{ chain_id: number }> };
    if (!Array.isArray(p?.Providers)) return 'failed to parse eth response';
    providers = p.Providers;
    const st = (await askJson(s, ETH, 'GetState', 60)) as { State?: { active_subscriptions: Record<string, Record<string, unknown>>; outstanding_requests: unknown[] } };
    if (!st?.State) return 'failed to parse eth response';
    subs = Object.values(st.State.active_subscriptions).reduce((n, v) => n + Object.keys(v).length, 0);
    outstanding = st.State.outstanding_requests.length;
  } catch {
    return 'failed to get response from eth';
  }
  try {
    const k = (await askJson(s, KERNEL, { Debug: 'ProcessMap' }, 60)) as { Debug?: { ProcessMap?: Record<string, unknown> } };
    if (!k?.Debug?.ProcessMap) return 'failed to parse kernel response';
    processes = Object.keys(k.Debug.ProcessMap).length;
  } catch {
    return 'failed to get response from kernel';
  }
  const routing = 'Direct' in id[2] ? `direct at ${id[2].Direct[0]} with ${Object.keys(id[2].Direct[1]).join(', ')}` : `${id[2].Routers.length} routers`;
  const chains = [...new Set(providers.map((p) => String(p.chain_id)))].join(', ');
  return `
                 ${s.our}

   ▄█    █▄      Hyperware (kit fake node)
  ███    ███
  ███    ███     pubkey: ${id[1]}
 ▄███▄▄▄▄███▄▄   routing: ${routing}
▀▀███▀▀▀▀███▀
  ███    ███     ${providers.length} eth providers for chain IDs ${chains}
  ███    ███     ${subs} active eth subscriptions
  ███    █▀      ${outstanding} outstanding eth requests

                 ${processes} running processes
`;
};

// ---- state (hyperdrive/packages/terminal/clear-state) -------------------------------------------

const clearState: Script = async (s, args) => {
  if (args === '') return `Clear the state of the given process.\n${CLEAR_STATE_USAGE}`;
  let pid: string;
  try {
    pid = processIdToString(parseProcessId(args));
  } catch {
    return `'${args}' is not a process-id (e.g. \`process-name:package-name:publisher.os\`)\n${CLEAR_STATE_USAGE}`;
  }
  try {
    await s.request(STATE, jsonBytes({ DeleteState: pid }), 5);
  } catch {
    return `Failed to delete state for process ${pid}`;
  }
  return `Deleted state of process ${pid}`;
};

// ---- eth providers (hyperdrive/packages/terminal/{get-providers,add-*-provider,remove-provider}) ----

const getProviders: Script = async (s) => {
  let body: unknown;
  try {
    const r = await s.request(ETH, '"GetProviders"', 60);
    body = fromUtf8(r.response.body);
  } catch {
    return 'Failed to get providers from eth module';
  }
  let json: unknown;
  try {
    json = JSON.parse(body as string);
  } catch {
    return `Failed to parse as JSON\nRaw response: ${body}`;
  }
  const list = (json as { Providers?: unknown })?.Providers;
  if (!Array.isArray(list)) return `Response (not Providers): ${JSON.stringify(json, null, 2)}`;
  if (list.length === 0) return 'No providers configured.';
  let out = `Found ${list.length} provider(s):\n`;
  list.forEach((p: Record<string, unknown>, i) => {
    out += `\n${i + 1}. `;
    if ('chain_id' in p) out += `Chain ID: ${JSON.stringify(p.chain_id)}\n`;
    if ('trusted' in p) out += `   Trusted: ${JSON.stringify(p.trusted)}\n`;
    const info = p.provider as { RpcUrl?: { url?: unknown; auth?: unknown }; Node?: { hns_update?: { name?: unknown }; use_as_provider?: unknown } } | undefined;
    if (info?.RpcUrl) {
      out += '   Type: RPC URL\n';
      if (info.RpcUrl.url !== undefined) out += `   URL: ${JSON.stringify(info.RpcUrl.url)}\n`;
      if (info.RpcUrl.auth !== undefined && info.RpcUrl.auth !== null) out += '   Auth: Configured\n';
    } else if (info?.Node) {
      out += '   Type: Node Provider\n';
      if (info.Node.hns_update?.name !== undefined) out += `   Node: ${JSON.stringify(info.Node.hns_update.name)}\n`;
      if (info.Node.use_as_provider !== undefined) out += `   Use as Provider: ${JSON.stringify(info.Node.use_as_provider)}\n`;
    }
  });
  return out;
};

/** clap-free flag reading as the real scripts do: the value after `flag`, else the default. */
function flag<T>(parts: string[], name: string, parse: (v: string) => T | undefined, dflt: T): T {
  const i = parts.indexOf(name);
  if (i < 0 || i + 1 >= parts.length) return dflt;
  return parse(parts[i + 1]) ?? dflt;
}
const bool = (v: string) => (v === 'true' ? true : v === 'false' ? false : undefined);
const u64 = (v: string) => (/^\d+$/.test(v) ? Number(v) : undefined);

/** Send AddProvider and word the answer as add-node-provider / add-rpcurl-provider do. */
async function addProvider(s: ScriptRun, config: unknown, ok: string): Promise<string> {
  let text: string;
  try {
    text = fromUtf8((await s.request(ETH, jsonBytes({ AddProvider: config }), 60)).response.body);
  } catch {
    return 'Failed to communicate with eth module';
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `Failed to parse response as JSON\nRaw response: ${text}`;
  }
  if (typeof json !== 'string') return `Unexpected response: ${JSON.stringify(json, null, 2)}`;
  if (json === 'Ok') return ok;
  if (json === 'PermissionDenied') return 'Permission denied: insufficient privileges';
  return `Error: ${json}`;
}

const addNodeProvider: Script = async (s, args) => {
  const parts = args.trim().split(/\s+/).filter(Boolean);
  if (parts.length < 5)
    return 'Usage: add-node-provider <chain-id> <node-name> <public-key> <ip-address> <ws-port> [--trusted <true|false>]\n  Examples:\n    add-node-provider 8453 other-node.hypr abc123pubkey 192.168.1.1 9000 (defaults to trusted=false)\n    add-node-provider 1 other-node.hypr abc123pubkey 192.168.1.1 9000 --trusted true';
  const chainId = u64(parts[0]);
  if (chainId === undefined) return `Invalid chain ID: ${parts[0]}. Must be a number.`;
  const [, name, key, ip] = parts;
  const port = u64(parts[4]);
  if (port === undefined || port > 65535) return `Invalid WebSocket port: ${parts[4]}. Must be a number.`;
  const trusted = flag(parts.slice(5), '--trusted', bool, false);
  const config = {
    chain_id: chainId,
    provider: { Node: { hns_update: { name, public_key: key, ips: [ip], ports: { ws: port }, routers: [] }, use_as_provider: true } },
    trusted,
  };
  return addProvider(s, config, `Successfully added node provider: ${name} (${ip}:${port}) on chain ${chainId} with trusted=${trusted}`);
};

const addRpcurlProvider: Script = async (s, args) => {
  const parts = args.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0)
    return 'Usage: add-rpcurl-provider <rpc-url> [--chain-id <id>] [--trusted <true|false>] [--auth-type <basic|bearer|raw> --auth-value <value>]\n  Examples:\n    add-rpcurl-provider wss://base-mainnet.infura.io/v3/your-key (defaults to chain-id=8453, trusted=true)\n    add-rpcurl-provider wss://mainnet.infura.io/v3/your-key --chain-id 1\n    add-rpcurl-provider wss://base-mainnet.infura.io/ws/v3/your-key --trusted false\n    add-rpcurl-provider wss://base-mainnet.infura.io/ws/v3/your-key --auth-type bearer --auth-value your-token\n    add-rpcurl-provider wss://rpc.example.com --chain-id 1 --trusted true --auth-type basic --auth-value username:password';
  const url = parts[0];
  if (!/^(https?|wss?):\/\//.test(url)) return 'Error: URL must start with http://, https://, ws://, or wss://';
  const rest = parts.slice(1);
  const chainId = flag(rest, '--chain-id', u64, 8453);
  const trusted = flag(rest, '--trusted', bool, true);
  let authType: string | undefined;
  let authValue: string | undefined;
  for (let i = 0; i < rest.length; ) {
    if (rest[i] === '--auth-type' || rest[i] === '--auth-value') {
      if (i + 1 >= rest.length) return `Missing value for ${rest[i]}`;
      if (rest[i] === '--auth-type') authType = rest[i + 1];
      else authValue = rest[i + 1];
      i += 2;
    } else i += rest[i] === '--chain-id' || rest[i] === '--trusted' ? 2 : 1;
  }
  if (authType !== undefined && authValue === undefined) return '--auth-type specified but --auth-value is missing';
  if (authType === undefined && authValue !== undefined) return '--auth-value specified but --auth-type is missing';
  const rpc: Record<string, unknown> = { url };
  if (authType !== undefined) {
    const kind = { basic: 'Basic', bearer: 'Bearer', raw: 'Raw' }[authType.toLowerCase()];
    if (!kind) return "Invalid auth type. Must be 'basic', 'bearer', or 'raw'";
    rpc.auth = { [kind]: authValue };
  }
  const config = { chain_id: chainId, provider: { RpcUrl: rpc }, trusted };
  return addProvider(s, config, `Successfully added RPC URL provider: ${url} on chain ${chainId}${authType ? ' with authentication' : ''}`);
};

const removeProvider: Script = async (s, args) => {
  const usage = 'Usage: remove-provider <chain_id> <provider_name_or_url>';
  if (args === '') return usage;
  const parts = args.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 2) return usage;
  const chainId = u64(parts[0]);
  if (chainId === undefined) return `Invalid chain_id: '${parts[0]}'. Must be a number.`;
  let text: string;
  try {
    text = fromUtf8((await s.request(ETH, `{"RemoveProvider": [${chainId}, ${JSON.stringify(parts[1])}]}`, 60)).response.body);
  } catch {
    return 'Failed to remove provider from eth module';
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `Failed to parse response as JSON\nRaw response: ${text}`;
  }
  if (json === 'Ok') return `Successfully removed provider '${parts[1]}' from chain ${chainId}`;
  if (json === 'ProviderNotFound') return `Provider '${parts[1]}' not found on chain ${chainId} (may have already been removed)`;
  if (json === 'PermissionDenied') return "Permission denied: you don't have root capability for eth module";
  return `Unexpected response: ${JSON.stringify(json, null, 2)}`;
};

// ---- hns-indexer (hyperdrive/packages/hns-indexer/{node-info,state,reset,get-block}) ----------

const getBlock: Script = async (s, args) => {
  const chainId = u64(args.trim().split(/\s+/)[0] ?? '') ?? 1;
  try {
    const r = await s.request(ETH, jsonBytes({ Request: { chain_id: chainId, method: 'eth_blockNumber', params: [] } }), 5);
    const body = JSON.parse(fromUtf8(r.response.body)) as { Response?: unknown; Err?: unknown };
    if (typeof body.Response === 'string') return `latest block number: ${BigInt(body.Response)}`;
    return `failed to get block number: ${JSON.stringify(body.Err ?? body)}`;
  } catch (e) {
    return `failed to get block number: ${sendErrorText(e)}`;
  }
};

const nodeInfo: Script = async (s, args) => {
  const name = args.trim().split(/\s+/)[0] ?? '';
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8((await s.request(HNS, jsonBytes({ NodeInfo: { name, block: 0 } }), 5)).response.body));
  } catch (e) {
    return `node info: hns-indexer did not answer (${sendErrorText(e)})`;
  }
  if (json && typeof json === 'object' && 'NodeInfo' in json) return `node info: ${hnsUpdatePretty((json as { NodeInfo: Record<string, unknown> | null }).NodeInfo)}`;
  return 'node info: name not found';
};

const hnsState: Script = async (s) => {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8((await s.request(HNS, jsonBytes({ GetState: { block: 0 } }), 10)).response.body));
  } catch {
    return 'failed to get state from hns-indexer';
  }
  const st = (json as { GetState?: Record<string, unknown> })?.GetState;
  if (!st) return 'failed to deserialize state';
  const names = (Array.isArray(st.names) ? (st.names as Array<[string, string]>).map(([, v]) => v) : Object.values((st.names ?? {}) as Record<string, string>)).sort();
  const ca = Array.isArray(st.contract_address) ? `0x${Buffer.from(st.contract_address as number[]).toString('hex')}` : String(st.contract_address ?? st.hypermap ?? '');
  let checksummed = ca;
  try {
    checksummed = getAddress(ca);
  } catch {
    // printed as given
  }
  return `\nrunning on chain id ${st.chain_id}\nCA: ${checksummed}\n${names.length} known nodes as of block ${st.last_block}\n     ${names.join('\n     ')}`;
};

/**
 * Hyperdrive's reset script sends Reset without attaching the root capability its scripts.json
 * requests, so hns-indexer always refuses it (NoRootCap) and it prints nothing. This one attaches
 * it and says how it went.
 */
const hnsReset: Script = async (s) => {
  const root = s.capabilities.filter((c) => c.issuer.process.processName === 'hns-indexer' && c.params.replace(/\s/g, '') === '{"root":true}');
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8((await s.request(HNS, '"Reset"', 5, { capabilities: root })).response.body));
  } catch (e) {
    return `reset: hns-indexer did not answer (${sendErrorText(e)})`;
  }
  const result = (json as { Reset?: unknown })?.Reset;
  if (result === 'Success') return 'hns-indexer reset: re-indexing the chain';
  return `reset refused: ${JSON.stringify(result ?? json)}`;
};

const namehashToName: Script = async (s, args) => {
  const hash = args.trim();
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8((await s.request(HNS, jsonBytes({ NamehashToName: { hash, block: 0 } }), 5)).response.body));
  } catch {
    return 'failed to get name from hns-indexer';
  }
  if (!json || typeof json !== 'object' || !('Name' in json)) return 'got malformed response from hns-indexer';
  const name = (json as { Name: string | null }).Name;
  return name ? `${hash}: ${name}` : `no name found for ${hash}`;
};

// ---- m (hyperdrive/packages/terminal/m) -----------------------------------------------------------

const m: Script = async (s, args) => {
  if (args === '') return `Send a request to a process.\n${M_USAGE}`;
  const parsed = parseMArgs(tokenize(args));
  if (typeof parsed === 'string') return `Failed to parse args: ${parsed}.\n${M_USAGE}`;
  let target: ReturnType<typeof parseAddress>;
  try {
    target = parseAddress(parsed.target);
  } catch {
    return `Invalid address: "${parsed.target}"\n${M_USAGE}`;
  }
  if (target.node === 'our') target = { ...target, node: s.our };
  // The real kernel drops a message to a missing local process with a silent Timeout; a typo
  // deserves a word instead.
  if (target.node === s.our) {
    const r = await s.request(KERNEL, jsonBytes({ Debug: { Process: processIdToString(target.process) } }), 60).catch(() => undefined);
    const info = r ? (JSON.parse(fromUtf8(r.response.body)) as { Debug?: { Process?: unknown } }) : undefined;
    if (info?.Debug?.Process === null)
      return `No process ${processIdToString(target.process)} on this node: check the name (\`top\` lists the running processes)`;
  }
  // try_attach_all: every capability the script holds (all the terminal's: m is a root script).
  const send = (secs: number) => s.request(target, parsed.body, secs, { capabilities: s.capabilities });
  if (parsed.awaitSecs === undefined) {
    // As the real `m`: still await (so a refusal is not left dangling) but print nothing.
    s.linger(send(5));
    return '';
  }
  s.print(`Awaiting response for ${parsed.awaitSecs}s`);
  try {
    return fromUtf8((await send(parsed.awaitSecs)).response.body);
  } catch (e) {
    if (!(e instanceof SendErrorException)) throw e;
    return e.sendError.kind === 'offline' ? 'Failed to send message because the target is offline' : 'Target did not send response in time, try increasing the await time';
  }
};

/** `name:pkg:pub` -> script. */
export const SYSTEM_SCRIPTS: Record<string, Script> = {
  'm:terminal:sys': m,
  'peers:terminal:sys': peers,
  'peer:terminal:sys': peer,
  'net-diagnostics:terminal:sys': netDiagnostics,
  'hfetch:terminal:sys': hfetch,
  'clear-state:terminal:sys': clearState,
  'get-providers:terminal:sys': getProviders,
  'add-node-provider:terminal:sys': addNodeProvider,
  'add-rpcurl-provider:terminal:sys': addRpcurlProvider,
  'remove-provider:terminal:sys': removeProvider,
  'namehash-to-name:terminal:sys': namehashToName,
  'get-block:hns-indexer:sys': getBlock,
  'node-info:hns-indexer:sys': nodeInfo,
  'state:hns-indexer:sys': hnsState,
  'reset:hns-indexer:sys': hnsReset,
};
