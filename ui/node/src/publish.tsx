// The App Store page's Publish flow (the book's "Using the App Store GUI"; Hyperdrive's
// PublishPage): name a package this node runs and the URL of its metadata.json; the page reads the
// metadata, checks it names this package, this node and the installed version's hash, and writes
// `~metadata-hash` and `~metadata-uri` to Hypermap in one transaction (minting the app entry under
// the node the first time), built by the same code as `kit publish` (src/publish/transactions.ts).
// A real node's page signs with the user's browser wallet; on a fake chain the account that owns
// the node's name is one of anvil's dev accounts, which the chain signs for itself
// (eth_sendTransaction), so the page sends the transaction to the chain the node uses.

import { useState } from 'react';
import { decodeFunctionResult, encodeFunctionData, type Hex, keccak256 } from 'viem';
import { hypermapAbi, namehash } from '../../../src/core/hypermap';
import { FAKE_NETWORK, planPublish } from '../../../src/publish/transactions';
import { getJson, ourNode } from './api';

interface Provider {
  chain_id: number;
  provider: { RpcUrl?: string | { url: string } };
}

/** The fake chain's JSON-RPC URL, from the providers the node itself uses (settings' state). */
async function chainUrl(): Promise<string> {
  const s = await getJson<{ eth_rpc_providers: Provider[] | null }>('/settings:settings:sys/ask');
  const p = (s.eth_rpc_providers ?? []).find((x) => x.chain_id === FAKE_NETWORK.chainId && x.provider.RpcUrl !== undefined);
  const rpc = p?.provider.RpcUrl;
  if (!rpc) throw new Error(`this node has no provider for chain ${FAKE_NETWORK.chainId}: publishing from this page needs the fake chain`);
  // anvil serves HTTP on the WebSocket port.
  return (typeof rpc === 'string' ? rpc : rpc.url).replace(/^ws(s?):\/\//, 'http$1://');
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

async function entry(url: string, name: string) {
  const data = encodeFunctionData({ abi: hypermapAbi, functionName: 'get', args: [namehash(name)] });
  const out = await rpc<Hex>(url, 'eth_call', [{ to: FAKE_NETWORK.hypermap, data }, 'latest']);
  const [tba, owner] = decodeFunctionResult({ abi: hypermapAbi, functionName: 'get', data: out }) as [Hex, Hex, Hex];
  return { tba, owner };
}

export function Publish({ installed, onPublished }: { installed: Array<{ id: string; hash: string }>; onPublished: () => void }) {
  const [name, setName] = useState('');
  const [uri, setUri] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const publish = async () => {
    setBusy(true);
    setResult(null);
    try {
      const our = await ourNode();
      const bytes = new Uint8Array(await (await fetch(uri)).arrayBuffer());
      let meta: { name?: unknown; properties?: { package_name?: unknown; publisher?: unknown; current_version?: unknown; code_hashes?: unknown } };
      try {
        meta = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        throw new Error(`${uri} is not a metadata.json (not JSON)`);
      }
      const p = meta.properties ?? {};
      if (p.package_name !== name) throw new Error(`the metadata is for ${String(p.package_name)}, not ${name}`);
      if (p.publisher !== our) throw new Error(`the metadata's publisher is ${String(p.publisher)}, not this node (${our})`);
      const hashes = p.code_hashes as Record<string, string> | Array<[string, string]> | undefined;
      const listed = Array.isArray(hashes) ? hashes.find(([v]) => v === p.current_version)?.[1] : hashes?.[String(p.current_version)];
      const mine = installed.find((i) => i.id === `${name}:${our}`)?.hash;
      if (!mine) throw new Error(`${name}:${our} is not installed on this node: install it (kit start-package) before publishing it`);
      if (listed !== mine) throw new Error(`the metadata's code hash for ${String(p.current_version)} is ${listed}, but the installed zip hashes to ${mine}`);
      const url = await chainUrl();
      const publisherEntry = await entry(url, our);
      const plan = planPublish({
        network: FAKE_NETWORK,
        wallet: publisherEntry.owner,
        name,
        publisher: our,
        app: await entry(url, `${name}.${our}`),
        publisherEntry,
        unpublish: false,
        metadataUri: uri,
        metadataHash: keccak256(bytes),
      });
      const tx = await rpc<Hex>(url, 'eth_sendTransaction', [{ from: publisherEntry.owner, to: plan.to, data: plan.data }]);
      let receipt: { status: Hex } | null = null;
      for (let i = 0; i < 100 && !receipt; i++) {
        receipt = await rpc<{ status: Hex } | null>(url, 'eth_getTransactionReceipt', [tx]);
        if (!receipt) await new Promise((r) => setTimeout(r, 200));
      }
      if (receipt?.status !== '0x1') throw new Error(`transaction ${tx} ${receipt ? 'reverted' : 'was not mined'}`);
      setResult({ ok: true, text: `Published ${name}:${our} (${plan.action}, transaction ${tx}).` });
      onPublished();
    } catch (e) {
      setResult({ ok: false, text: `Publishing failed: ${(e as Error).message}` });
    }
    setBusy(false);
  };

  return (
    <section className="card" aria-label="Publish">
      <p className="muted">
        Publishing writes your package's metadata URI and hash to Hypermap. On a fake chain the account that owns this node signs; from the
        command line, <span className="mono">kit publish -u &lt;metadata URI&gt; -k &lt;keystore&gt;</span> does the same.
      </p>
      <div className="row">
        <label>
          Package{' '}
          <input list="our-packages" value={name} onChange={(e) => setName(e.target.value)} placeholder="my-app" />
        </label>
        <datalist id="our-packages">
          {installed.map((i) => (
            <option key={i.id} value={i.id.split(':')[0]} />
          ))}
        </datalist>
        <label style={{ flex: 1, display: 'flex', gap: '.5rem', alignItems: 'center' }}>
          Metadata URL
          <input style={{ flex: 1 }} value={uri} onChange={(e) => setUri(e.target.value)} placeholder="https://…/metadata.json" />
        </label>
        <button type="button" className="primary" disabled={busy || !name || !uri} onClick={publish}>
          {busy ? 'Publishing…' : 'Publish'}
        </button>
      </div>
      {result && (
        <p className={result.ok ? '' : 'error'} role={result.ok ? 'status' : 'alert'}>
          {result.text}
        </p>
      )}
    </section>
  );
}
