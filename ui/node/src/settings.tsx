// The settings page, on settings:settings:sys's HTTP API (Hyperdrive's settings: GET /ask for the
// state, POST /ask with a settings Request): who this node is (its identity, as net and Hypermap
// know it), who it is connected to, which ETH providers it uses (add and remove them), and its
// running processes.

import { StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { getJson, send } from './api';
import './node.css';

const ASK = '/settings:settings:sys/ask';

interface Identity {
  name: string;
  networking_key: string;
  routing: { Direct: { ip: string; ports: Record<string, number> } } | { Routers: string[] };
}

interface Provider {
  chain_id: number;
  trusted: boolean;
  provider: { RpcUrl?: string | { url: string }; Node?: { hns_update: { name: string }; use_as_provider: boolean } };
}

interface SettingsState {
  our: string;
  identity: Identity | null;
  diagnostics: string | null;
  eth_rpc_providers: Provider[] | null;
  eth_rpc_access_settings: { public: boolean; allow: string[]; deny: string[] } | null;
  process_map: Record<string, unknown> | null;
  our_tba: string;
  our_owner: string;
  net_key: string | null;
  routers: string | null;
  ip: string | null;
  ws_port: string | null;
  tcp_port: string | null;
  peers: Identity[] | null;
}

/** A Hypermap note as the UI shows it: ~ip as a dotted quad, ports as numbers. */
function decodeNote(label: string, hex: string | null): string {
  if (!hex) return '—';
  const bytes = hex.replace(/^0x/, '').match(/../g)?.map((b) => Number.parseInt(b, 16)) ?? [];
  if (label === '~ip' && bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0)) return bytes.slice(12).join('.');
  if (label === '~ip' && bytes.length === 4) return bytes.join('.');
  if (label.endsWith('-port') && bytes.length === 2) return String((bytes[0] << 8) | bytes[1]);
  return hex;
}

const routingText = (r: Identity['routing']) =>
  'Direct' in r
    ? `direct: ${r.Direct.ip} ${Object.entries(r.Direct.ports)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`
    : `indirect, via ${r.Routers.join(', ') || 'no routers'}`;

/** The URL or node name eth's RemoveProvider takes. */
const providerName = (p: Provider) => {
  const rpc = p.provider.RpcUrl;
  if (rpc !== undefined) return typeof rpc === 'string' ? rpc : rpc.url;
  return p.provider.Node?.hns_update.name ?? '';
};
const providerText = (p: Provider) => (p.provider.Node ? `node ${providerName(p)}` : providerName(p));

function Settings() {
  const [state, setState] = useState<SettingsState | null>(null);
  const [error, setError] = useState('');
  const [chainId, setChainId] = useState('31337');
  const [url, setUrl] = useState('');
  const [peer, setPeer] = useState('');
  const [peerInfo, setPeerInfo] = useState('');

  const load = useCallback(() => {
    getJson<SettingsState>(ASK)
      .then((s) => {
        setState(s);
        setError('');
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(load, [load]);

  /** POST a settings Request; the answer is empty (Ok(None)), a SettingsError string, or data. */
  const ask = async (request: unknown): Promise<string> => {
    try {
      return await send('POST', ASK, request);
    } catch (e) {
      setError((e as Error).message);
      return '';
    }
  };
  const addProvider = async () => {
    const answer = await ask({ EthConfig: { AddProvider: { chain_id: Number(chainId), node_or_rpc_url: { RpcUrl: url } } } });
    if (answer) setError(`The node refused the provider: ${answer}`);
    setUrl('');
    load();
  };
  const removeProvider = async (p: Provider) => {
    await ask({ EthConfig: { RemoveProvider: [p.chain_id, providerName(p)] } });
    load();
  };
  const lookUp = async () => {
    const answer = await ask({ PeerId: peer });
    if (!answer) return setPeerInfo(`${peer} is not in this node's PKI.`);
    try {
      const d = JSON.parse(answer) as { PeerId?: Identity } | string;
      setPeerInfo(typeof d === 'string' ? d : d.PeerId ? `${d.PeerId.name}: ${d.PeerId.networking_key}` : answer);
    } catch {
      setPeerInfo(answer);
    }
  };

  return (
    <>
      <header className="bar">
        <h1>Settings</h1>
        <nav>
          <a href="/">Home</a>
          <a href="/main:app-store:sys/">App Store</a>
          <button type="button" onClick={load}>
            Refresh
          </button>
        </nav>
      </header>
      <main>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {!state ? (
          <p className="muted">Loading…</p>
        ) : (
          <>
            <h2>Identity</h2>
            <section className="card" aria-label="Identity">
              <dl className="kv">
                <dt>Node</dt>
                <dd data-testid="identity-name">{state.identity?.name ?? state.our.split('@')[0]}</dd>
                <dt>Networking key</dt>
                <dd className="mono">{state.identity?.networking_key ?? '—'}</dd>
                <dt>Routing</dt>
                <dd>{state.identity ? routingText(state.identity.routing) : '—'}</dd>
                <dt>Token-bound account</dt>
                <dd className="mono">{state.our_tba}</dd>
                <dt>Owner</dt>
                <dd className="mono">{state.our_owner}</dd>
                {(['~net-key', '~ip', '~ws-port', '~tcp-port', '~routers'] as const).map((label) => {
                  const key = label.slice(1).replace('-', '_') as 'net_key' | 'ip' | 'ws_port' | 'tcp_port' | 'routers';
                  return (
                    <FragmentRow key={label} label={`${label} on Hypermap`} value={decodeNote(label, state[key])} />
                  );
                })}
              </dl>
            </section>

            <h2>Peers</h2>
            <section className="card" aria-label="Peers">
              {!state.peers || state.peers.length === 0 ? (
                <p className="muted">Not connected to any node.</p>
              ) : (
                <table>
                  <tbody>
                    {state.peers.map((p) => (
                      <tr key={p.name} data-peer={p.name}>
                        <td>{p.name}</td>
                        <td>{routingText(p.routing)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <div className="row" style={{ marginTop: '.75rem' }}>
                <input aria-label="Node name" placeholder="fake2.dev" value={peer} onChange={(e) => setPeer(e.target.value)} />
                <button type="button" onClick={lookUp} disabled={!peer}>
                  Look up
                </button>
                <span>{peerInfo}</span>
              </div>
              {state.diagnostics && (
                <details>
                  <summary>Network diagnostics</summary>
                  <pre className="mono">{state.diagnostics}</pre>
                </details>
              )}
            </section>

            <h2>ETH providers</h2>
            <section className="card" aria-label="ETH providers">
              <table>
                <thead>
                  <tr>
                    <th>Chain</th>
                    <th>Provider</th>
                    <th>Trusted</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {(state.eth_rpc_providers ?? []).map((p) => (
                    <tr key={`${p.chain_id} ${providerText(p)}`} data-provider={providerName(p)}>
                      <td>{p.chain_id}</td>
                      <td className="mono">{providerText(p)}</td>
                      <td>{p.trusted ? 'yes' : 'no'}</td>
                      <td style={{ textAlign: 'right' }}>
                        <button type="button" className="danger" onClick={() => removeProvider(p)}>
                          Remove
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="row" style={{ marginTop: '.75rem' }}>
                <input aria-label="Chain ID" value={chainId} onChange={(e) => setChainId(e.target.value)} style={{ width: '6rem' }} />
                <input aria-label="RPC URL" placeholder="ws://localhost:8545" value={url} onChange={(e) => setUrl(e.target.value)} style={{ flex: 1 }} />
                <button type="button" onClick={addProvider} disabled={!url}>
                  Add provider
                </button>
              </div>
              {state.eth_rpc_access_settings && (
                <p className="muted">
                  Serving other nodes as a provider: {state.eth_rpc_access_settings.public ? 'public' : 'private'}
                  {state.eth_rpc_access_settings.allow.length > 0 && `, allowed: ${state.eth_rpc_access_settings.allow.join(', ')}`}
                </p>
              )}
            </section>

            <h2>Processes</h2>
            <section className="card" aria-label="Processes">
              <p className="muted">{Object.keys(state.process_map ?? {}).length} processes running</p>
              <div className="mono">{Object.keys(state.process_map ?? {}).sort().join(' · ')}</div>
            </section>
          </>
        )}
      </main>
    </>
  );
}

function FragmentRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="mono">{value}</dd>
    </>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <Settings />
  </StrictMode>,
);
