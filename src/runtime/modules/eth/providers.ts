// eth's provider configs as hyperdrive/lib/src/eth.rs defines them. `NodeOrRpcUrl::RpcUrl` is a
// struct variant `{"RpcUrl": {"url", "auth"?}}` (what process_lib sends and the runtime writes to
// `.eth_providers`, `auth` left out when there is none); the old string form `{"RpcUrl": "<url>"}`
// is still accepted on the way in.

/** alloy's Authorization, as the real config carries it: the header value is `Basic <v>`, `Bearer <v>` or `<v>`. */
export type Authorization = { Basic: string } | { Bearer: string } | { Raw: string };

export type NodeOrRpcUrl = { RpcUrl: { url: string; auth?: Authorization } } | { Node: { hns_update: HnsUpdate; use_as_provider: boolean } };

export interface HnsUpdate {
  name: string;
  [field: string]: unknown;
}

export interface ProviderConfig {
  chain_id: number;
  trusted: boolean;
  provider: NodeOrRpcUrl;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
export const isU64 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function parseAuth(v: unknown): Authorization | undefined | false {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1 || !['Basic', 'Bearer', 'Raw'].includes(keys[0]) || typeof v[keys[0]] !== 'string') return false;
  return v as Authorization;
}

/** A ProviderConfig in either RpcUrl form, normalised to the struct form; undefined if serde would refuse it. */
export function parseProviderConfig(v: unknown): ProviderConfig | undefined {
  if (!isObject(v) || !isU64(v.chain_id) || typeof v.trusted !== 'boolean' || !isObject(v.provider)) return undefined;
  const p = v.provider;
  const keys = Object.keys(p);
  if (keys.length !== 1) return undefined;
  if (keys[0] === 'RpcUrl') {
    const r = p.RpcUrl;
    if (typeof r === 'string') return { chain_id: v.chain_id, trusted: v.trusted, provider: { RpcUrl: { url: r } } };
    if (!isObject(r) || typeof r.url !== 'string') return undefined;
    const auth = parseAuth(r.auth);
    if (auth === false) return undefined;
    return { chain_id: v.chain_id, trusted: v.trusted, provider: { RpcUrl: auth ? { url: r.url, auth } : { url: r.url } } };
  }
  if (keys[0] === 'Node') {
    const n = p.Node;
    if (!isObject(n) || !isObject(n.hns_update) || typeof n.hns_update.name !== 'string' || typeof n.use_as_provider !== 'boolean') return undefined;
    return { chain_id: v.chain_id, trusted: v.trusted, provider: { Node: { hns_update: n.hns_update as HnsUpdate, use_as_provider: n.use_as_provider } } };
  }
  return undefined;
}

/** The URL of an RpcUrl provider, or the node name of a Node provider (what RemoveProvider names). */
export function providerName(p: ProviderConfig): string {
  return 'RpcUrl' in p.provider ? p.provider.RpcUrl.url : p.provider.Node.hns_update.name;
}

/** The Authorization header value alloy sends for `auth`. */
export function authorizationHeader(auth: Authorization): string {
  if ('Basic' in auth) return `Basic ${auth.Basic}`;
  if ('Bearer' in auth) return `Bearer ${auth.Bearer}`;
  return auth.Raw;
}

/**
 * Hyperdrive's SavedConfigs::insert / add_provider_config: the new config goes first; an RpcUrl
 * replaces any other with the same URL on its chain, a Node any other with the same name.
 */
export function insertProvider(list: ProviderConfig[], config: ProviderConfig): ProviderConfig[] {
  const name = providerName(config);
  const kind = 'RpcUrl' in config.provider;
  return [config, ...list.filter((c) => !(c.chain_id === config.chain_id && 'RpcUrl' in c.provider === kind && providerName(c) === name))];
}
