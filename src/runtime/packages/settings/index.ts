// settings:settings:sys — the node's settings (hyperdrive/packages/settings/settings/src/lib.rs,
// API settings:sys-v0.wit). GET /settings:settings:sys/ask answers the state the settings page
// shows, gathered with the real requests: net's GetPeer (our identity), GetDiagnostics and
// GetPeers (MessagePack, as net speaks), eth's GetProviders and GetAccessSettings, the kernel's
// Debug(ProcessMap), and our Hypermap entry and notes (`get` on the Hypermap contract through
// eth). POST /ask (and a Request from a local process) takes a settings Request: Hi, PeerId,
// EthConfig, KillProcess, SetStylesheet, Reset, Shutdown, answered `{"Ok": data | null}` or
// `{"Err": SettingsError}`. The page is at /settings:settings:sys/ with the Settings icon and a
// widget on the homepage. Ours adds `peers` to the state (the identities of connected peers).
//
// Difference: Hyperdrive serves settings on its secure subdomain; ours binds it like the App Store
// (authenticated, on the node's own host), so one login opens every page of the node.

import { decodeFunctionResult, encodeFunctionData, type Hex } from 'viem';
import { HYPERMAP, hypermapAbi, namehash } from '../../../core/hypermap.js';
import { type KernelApi, type NativeProcess, SendErrorException } from '../../kernel/api.js';
import { askEth, FAKE_CHAIN_ID } from '../../modules/eth/ask.js';
import { encodeNetAction, unpack } from '../../modules/net/wire.js';
import { type KernelMessage, type ProcessId, parseJsonBytes, parseProcessId, systemProcess } from '../../../core/types.js';
import { jsonBlob, NativeHttp } from '../native-http.js';
import { serveNodePage } from '../node-ui.js';

export const SETTINGS_PROCESS: ProcessId = { processName: 'settings', packageName: 'settings', publisherNode: 'sys' };
const HOMEPAGE: ProcessId = { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' };
const HNS_INDEXER: ProcessId = { processName: 'hns-indexer', packageName: 'hns-indexer', publisherNode: 'sys' };
const STYLESHEET = '/homepage:sys/pkg/hyperware.css';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#334155"/><circle cx="32" cy="32" r="9" fill="none" stroke="#fff" stroke-width="5"/><path d="M32 12v8M32 44v8M12 32h8M44 32h8M18 18l6 6M40 40l6 6M18 46l6-6M40 24l6-6" stroke="#fff" stroke-width="5" stroke-linecap="round"/></svg>';
export const SETTINGS_ICON = `data:image/svg+xml;base64,${Buffer.from(ICON_SVG).toString('base64')}`;

type Routing = { Direct: [string, Record<string, number>] } | { Routers: string[] };
type NetIdentity = [string, string, Routing];

type IdentityJson = {
  name: string;
  networking_key: string;
  routing: { Direct: { ip: string; ports: Record<string, number> } } | { Routers: string[] };
};

/** net::Identity as serde_json writes it. */
function identityJson([name, key, routing]: NetIdentity): IdentityJson {
  return {
    name,
    networking_key: key,
    routing: 'Direct' in routing ? { Direct: { ip: routing.Direct[0], ports: routing.Direct[1] } } : { Routers: routing.Routers },
  };
}

type SettingsError = 'HiTimeout' | 'HiOffline' | 'KernelNonresponsive' | 'MalformedRequest' | 'StateFetchFailed';
type SettingsResponse = { Ok: unknown } | { Err: SettingsError };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function createSettings(): NativeProcess {
  let kernel: KernelApi;
  let http: NativeHttp;
  const addr = (p: ProcessId) => ({ node: kernel.our, process: p });

  async function ask(target: ProcessId, body: Uint8Array | string, timeoutSecs = 30, node?: string) {
    return kernel.request(SETTINGS_PROCESS, node ? { node, process: target } : addr(target), body, { timeoutSecs });
  }
  const askJson = async (target: ProcessId, body: unknown) => parseJsonBytes((await ask(target, JSON.stringify(body))).response.body);
  const askNet = async (action: Parameters<typeof encodeNetAction>[0]) => unpack((await ask(systemProcess('net'), encodeNetAction(action))).response.body);

  /** `get(namehash(name))` on Hypermap: [tba, owner, data | null]; null without a chain. */
  async function hypermapGet(name: string): Promise<[Hex, Hex, Hex | null] | null> {
    try {
      const data = encodeFunctionData({ abi: hypermapAbi, functionName: 'get', args: [namehash(name)] });
      const r = (await askEth(kernel, SETTINGS_PROCESS, { Request: { chain_id: FAKE_CHAIN_ID, method: 'eth_call', params: [{ to: HYPERMAP, data }, 'latest'] } })) as {
        Response: Hex;
      };
      const [tba, owner, bytes] = decodeFunctionResult({ abi: hypermapAbi, functionName: 'get', data: r.Response }) as [Hex, Hex, Hex];
      return [tba, owner, bytes === '0x' ? null : bytes];
    } catch {
      return null;
    }
  }

  /** SettingsState (lib.rs `fetch`): each part null when its source does not answer. */
  async function fetchState(): Promise<Record<string, unknown>> {
    const our = kernel.our;
    const tryOr = async <T>(f: () => Promise<T>): Promise<T | null> => {
      try {
        return await f();
      } catch {
        return null;
      }
    };
    const identity = await tryOr(async () => {
      const p = ((await askNet({ kind: 'GetPeer', node: our })) as { Peer?: NetIdentity | null }).Peer;
      return p ? identityJson(p) : null;
    });
    const diagnostics = await tryOr(async () => ((await askNet({ kind: 'GetDiagnostics' })) as { Diagnostics?: string }).Diagnostics ?? null);
    const peers = await tryOr(async () => (((await askNet({ kind: 'GetPeers' })) as { Peers?: NetIdentity[] }).Peers ?? []).map(identityJson));
    const providers = await tryOr(async () => ((await askJson(systemProcess('eth'), 'GetProviders')) as { Providers?: unknown }).Providers ?? null);
    const access = await tryOr(async () => ((await askJson(systemProcess('eth'), 'GetAccessSettings')) as { AccessSettings?: unknown }).AccessSettings ?? null);
    const processMap = await tryOr(
      async () => ((await askJson(systemProcess('kernel'), { Debug: 'ProcessMap' })) as { Debug?: { ProcessMap?: unknown } }).Debug?.ProcessMap ?? null,
    );
    const stylesheet = await tryOr(async () => {
      const r = await ask(systemProcess('vfs'), JSON.stringify({ path: STYLESHEET, action: 'Read' }));
      return r.blob ? new TextDecoder().decode(r.blob.bytes) : null;
    });
    const entry = await hypermapGet(our);
    const note = async (label: string) => (await hypermapGet(`${label}.${our}`))?.[2] ?? null;
    const zero = '0x0000000000000000000000000000000000000000';
    const state = {
      our: `${our}@settings:settings:sys`,
      identity,
      diagnostics,
      eth_rpc_providers: providers,
      eth_rpc_access_settings: access,
      process_map: processMap,
      stylesheet,
      our_tba: entry?.[0] ?? zero,
      our_owner: entry?.[1] ?? zero,
      net_key: await note('~net-key'),
      routers: await note('~routers'),
      ip: await note('~ip'),
      ws_port: await note('~ws-port'),
      tcp_port: await note('~tcp-port'),
      peers,
    };
    // As lib.rs fetch(): every fetch refreshes the homepage widget.
    kernel.tell(SETTINGS_PROCESS, addr(HOMEPAGE), JSON.stringify({ Add: { label: 'Settings', icon: SETTINGS_ICON, path: '/', widget: widget(state) } }));
    return state;
  }

  /** settings:sys-v0 `eth-config-request` -> eth's EthConfigAction (lib.rs eth_config_convert). */
  function ethConfig(r: unknown): unknown {
    if (r === 'SetPublic' || r === 'SetPrivate') return r;
    const [variant, v] = Object.entries((r ?? {}) as Record<string, unknown>)[0] ?? [];
    if (variant === 'AddProvider') {
      const p = (v ?? {}) as { chain_id?: unknown; node_or_rpc_url?: unknown };
      const target = (p.node_or_rpc_url ?? {}) as { Node?: unknown; RpcUrl?: unknown };
      if (typeof p.chain_id !== 'number') throw new Error('malformed');
      if (typeof target.RpcUrl === 'string')
        return { AddProvider: { chain_id: p.chain_id, trusted: true, provider: { RpcUrl: { url: target.RpcUrl } } } };
      if (typeof target.Node === 'string')
        return { AddProvider: { chain_id: p.chain_id, trusted: true, provider: { Node: { hns_update: { name: target.Node, public_key: '', ips: [], ports: {}, routers: [] }, use_as_provider: true } } } };
      throw new Error('malformed');
    }
    if (variant === 'RemoveProvider' && Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return { RemoveProvider: v };
    if (['AllowNode', 'UnallowNode', 'DenyNode', 'UndenyNode'].includes(variant ?? '') && typeof v === 'string') return { [variant as string]: v };
    throw new Error('malformed');
  }

  /** handle_settings_request. */
  async function settingsRequest(req: unknown): Promise<SettingsResponse> {
    if (req === 'Shutdown') {
      kernel.tell(SETTINGS_PROCESS, addr(systemProcess('kernel')), JSON.stringify('Shutdown'));
      return { Ok: null };
    }
    if (req === 'Reset') {
      kernel.tell(SETTINGS_PROCESS, addr(HNS_INDEXER), JSON.stringify('Reset'), {
        capabilities: [{ issuer: addr(HNS_INDEXER), params: JSON.stringify({ root: true }) }],
      });
      return { Ok: null };
    }
    const [variant, v] = Object.entries((req && typeof req === 'object' ? req : {}) as Record<string, unknown>)[0] ?? [];
    switch (variant) {
      case 'Hi': {
        const h = (v ?? {}) as { node?: unknown; content?: unknown; timeout?: unknown };
        if (typeof h.node !== 'string' || typeof h.content !== 'string' || typeof h.timeout !== 'number') return { Err: 'MalformedRequest' };
        try {
          await ask(systemProcess('net'), h.content, h.timeout, h.node);
          return { Ok: null };
        } catch (e) {
          return { Err: e instanceof SendErrorException && e.sendError.kind === 'offline' ? 'HiOffline' : 'HiTimeout' };
        }
      }
      case 'PeerId': {
        if (typeof v !== 'string') return { Err: 'MalformedRequest' };
        try {
          const p = ((await askNet({ kind: 'GetPeer', node: v })) as { Peer?: NetIdentity | null }).Peer;
          if (!p) return { Ok: null };
          const id = identityJson(p);
          // settings:sys-v0 `direct` carries the ports as a list of pairs.
          const routing = 'Direct' in id.routing ? { Direct: { ip: id.routing.Direct.ip, ports: Object.entries(id.routing.Direct.ports) } } : id.routing;
          return { Ok: { PeerId: { ...id, routing } } };
        } catch {
          return { Err: 'KernelNonresponsive' };
        }
      }
      case 'EthConfig': {
        let action: unknown;
        try {
          action = ethConfig(v);
        } catch {
          return { Err: 'MalformedRequest' };
        }
        try {
          const r = await askJson(systemProcess('eth'), action);
          return r === 'PermissionDenied' ? { Err: 'KernelNonresponsive' } : { Ok: null };
        } catch {
          return { Err: 'KernelNonresponsive' };
        }
      }
      case 'KillProcess': {
        if (typeof v !== 'string') return { Err: 'MalformedRequest' };
        let pid: ProcessId;
        try {
          pid = parseProcessId(v);
        } catch {
          return { Err: 'MalformedRequest' };
        }
        try {
          await askJson(systemProcess('kernel'), { KillProcess: `${pid.processName}:${pid.packageName}:${pid.publisherNode}` });
          return { Ok: null };
        } catch {
          return { Err: 'KernelNonresponsive' };
        }
      }
      case 'SetStylesheet': {
        if (typeof v !== 'string') return { Err: 'MalformedRequest' };
        try {
          const r = await kernel.request(SETTINGS_PROCESS, addr(systemProcess('vfs')), JSON.stringify({ path: STYLESHEET, action: 'Write' }), {
            blob: { bytes: new TextEncoder().encode(v) },
            timeoutSecs: 60,
          });
          const b = parseJsonBytes(r.response.body);
          if (b && typeof b === 'object' && 'Err' in b) return { Err: 'KernelNonresponsive' };
        } catch {
          return { Err: 'KernelNonresponsive' };
        }
        kernel.tell(SETTINGS_PROCESS, addr(HOMEPAGE), JSON.stringify({ SetStylesheet: v }), {
          capabilities: [{ issuer: addr(HOMEPAGE), params: '"SetStylesheet"' }],
        });
        return { Ok: null };
      }
    }
    return { Err: 'MalformedRequest' };
  }

  function widget(state: Record<string, unknown>): string {
    const id = state.identity as IdentityJson | null;
    const routing = id ? ('Direct' in id.routing ? `direct, ${id.routing.Direct.ip}` : `via ${id.routing.Routers.join(', ')}`) : 'unknown';
    const peers = (state.peers as unknown[] | null)?.length ?? 0;
    return `<html><head><link rel="stylesheet" href="/hyperware.css"><style>body{margin:0;padding:.75rem 1rem;font-family:system-ui,sans-serif}dt{opacity:.7;font-size:.85em}dd{margin:0 0 .5rem;word-break:break-all}</style></head><body><dl><dt>Node</dt><dd>${esc(kernel.our)}</dd><dt>Routing</dt><dd>${esc(routing)}</dd><dt>Connected peers</dt><dd>${peers}</dd></dl></body></html>`;
  }

  async function setUp(): Promise<void> {
    await serveNodePage(http, 'settings', '/settings:settings:sys');
    await http.bind('/ask');
    await http.bind('/refresh');
    // Hyperdrive's settings retries every 5 s until it has the node's identity (net learns it from
    // hns-indexer once the chain is read): so does this, a few times, for the widget.
    void (async () => {
      for (let i = 0; i < 6; i++) {
        if ((await fetchState()).identity) return;
        await new Promise((r) => setTimeout(r, 5000).unref());
      }
    })().catch(() => {});
  }

  let ready: Promise<void> = Promise.resolve();

  return {
    id: SETTINGS_PROCESS,
    start(k) {
      kernel = k;
      http = new NativeHttp(k, SETTINGS_PROCESS);
      ready = setUp().catch((e) => k.print(0, `settings: could not set up: ${(e as Error).message}`));
    },
    async handle(km: KernelMessage) {
      if (km.message.tag !== 'request' || km.source.node !== kernel.our) return; // as Hyperdrive: our node only
      await ready;
      const req = http.parse(km);
      if (!req) {
        let body: unknown;
        try {
          body = parseJsonBytes(km.message.val.body);
        } catch {
          body = undefined;
        }
        const answer = await settingsRequest(body);
        if (km.message.val.expectsResponse !== undefined || km.rsvp) kernel.respond(SETTINGS_PROCESS, km, JSON.stringify(answer));
        return;
      }
      if (http.track(req) || !('Http' in req)) return;
      const path = req.Http.bound_path.replace(/^\/settings:settings:sys/, '');
      const method = req.Http.method.toUpperCase();
      if (path === '/refresh' || method === 'GET') {
        const state = await fetchState();
        return path === '/refresh' ? http.respond(km, 200) : http.respond(km, 200, state);
      }
      if (method !== 'POST') return http.respond(km, 405);
      const body = jsonBlob(km);
      if (body === undefined) return http.respond(km, 500, 'malformed request');
      const answer = await settingsRequest(body);
      if ('Ok' in answer) return answer.Ok === null ? http.respond(km, 200) : http.respond(km, 200, answer.Ok);
      // serde_json of the SettingsError: a JSON string.
      return http.respond(km, 200, JSON.stringify(answer.Err), 'application/json');
    },
  };
}
