// The App Store page, on main:app-store:sys's HTTP API (the paths and shapes of Hyperdrive's
// http_api.rs, which its own App Store UI uses): what is installed (uninstall), what is published
// on Hypermap (chain:app-store:sys through GET /apps), and installing a published package: pick a
// mirror (GET /mirrorcheck), download the version the chain lists (POST /apps/:id/download; the
// node refuses a zip whose sha256 is not that version hash, and says so on the WebSocket), read
// the capabilities its manifest asks for (GET /manifest), approve and install (POST
// /apps/:id/install).

import { StrictMode, useCallback, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { getJson, type PackageId, packageIdString, send, shortHash } from './api';
import { Publish } from './publish';
import './node.css';

const BASE = '/main:app-store:sys';

interface Metadata {
  name?: string;
  description?: string;
  image?: string;
  properties: { package_name: string; publisher: string; current_version: string; mirrors: string[]; code_hashes: [string, string][] };
}

interface AppListing {
  package_id: PackageId;
  tba: string;
  metadata_uri: string;
  metadata_hash: string;
  metadata?: Metadata | null;
  auto_update: boolean;
}

interface Installed {
  package_id: PackageId;
  our_version_hash: string;
}

type DownloadEntry = { File?: { name: string; size: number; manifest: string }; Dir?: { name: string; mirroring: boolean } };

interface ManifestEntry {
  process_name: string;
  request_networking: boolean;
  request_capabilities: Array<string | { process: string; params: unknown }>;
  grant_capabilities: Array<string | { process: string; params: unknown }>;
  public: boolean;
}

interface Complete {
  package_id: PackageId;
  version_hash: string;
  error: unknown;
}

/** The version hash the chain lists for the current version (code_hashes is [version, hash] pairs). */
function currentHash(m: Metadata | null | undefined): string | undefined {
  const p = m?.properties;
  if (!p) return undefined;
  return (p.code_hashes.find(([v]) => v === p.current_version) ?? p.code_hashes[p.code_hashes.length - 1])?.[1];
}

/** A DownloadError (app-store:sys-v2.wit) as a sentence. */
export function describeDownloadError(e: unknown): string {
  if (e && typeof e === 'object' && 'HashMismatch' in e) {
    const m = (e as { HashMismatch: { desired: string; actual: string } }).HashMismatch;
    return `the mirror's zip hashes to ${m.actual}, not the published version hash ${m.desired}: it was refused`;
  }
  const words: Record<string, string> = {
    NoPackage: 'the mirror does not have this package',
    NotMirroring: 'that node does not mirror this package',
    FileNotFound: 'the mirror does not have this version',
    Timeout: 'the mirror did not answer in time',
    Offline: 'the mirror is offline',
    InvalidManifest: 'the package has no valid manifest',
  };
  return typeof e === 'string' ? (words[e] ?? e) : JSON.stringify(e);
}

const capText = (c: string | { process: string; params: unknown }) => (typeof c === 'string' ? c : `${c.process} ${JSON.stringify(c.params)}`);

/** The page's WebSocket: downloads finishing (and progressing) arrive here. */
function useStoreSocket(onComplete: (c: Complete) => void) {
  const handler = useRef(onComplete);
  handler.current = onComplete;
  useEffect(() => {
    let ws: WebSocket | undefined;
    let closed = false;
    const connect = () => {
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${BASE}`);
      ws.onmessage = (e) => {
        try {
          const m = JSON.parse(String(e.data)) as { kind?: string; data?: Complete };
          if (m.kind === 'complete' && m.data) handler.current(m.data);
        } catch {
          // not for us
        }
      };
      ws.onclose = () => {
        if (!closed) setTimeout(connect, 1000);
      };
    };
    connect();
    return () => {
      closed = true;
      ws?.close();
    };
  }, []);
}

type Step =
  | { at: 'idle' }
  | { at: 'downloading'; since: number }
  | { at: 'review'; manifest: ManifestEntry[] }
  | { at: 'installing' }
  | { at: 'done' }
  | { at: 'failed'; why: string };

function InstallFlow({ app, installedHash, onInstalled, completes }: { app: AppListing; installedHash?: string; onInstalled: () => void; completes: Complete[] }) {
  const id = packageIdString(app.package_id);
  const hash = currentHash(app.metadata);
  const mirrorList = [...new Set([app.package_id.publisher_node, ...(app.metadata?.properties.mirrors ?? [])])].join(',');
  const mirrors = mirrorList.split(',');
  const [online, setOnline] = useState<Record<string, string>>({});
  const [mirror, setMirror] = useState(mirrors[0]);
  const [step, setStep] = useState<Step>({ at: 'idle' });

  useEffect(() => {
    for (const node of mirrorList.split(','))
      getJson<{ is_online: boolean; error: string | null }>(`${BASE}/mirrorcheck/${id}/${node}`)
        .then((r) => setOnline((o) => ({ ...o, [node]: r.is_online ? 'online' : (r.error ?? 'offline') })))
        .catch((e: Error) => setOnline((o) => ({ ...o, [node]: e.message })));
  }, [id, mirrorList]);

  const review = useCallback(async () => {
    const m = await getJson<{ manifest: string }>(`${BASE}/manifest?id=${encodeURIComponent(id)}&version_hash=${hash}`);
    setStep({ at: 'review', manifest: JSON.parse(m.manifest) as ManifestEntry[] });
  }, [id, hash]);

  // The WebSocket says how the download ended.
  useEffect(() => {
    if (step.at !== 'downloading') return;
    // Only what ended after this download started (an earlier failure stays in the list).
    const c = completes.slice(step.since).find((x) => packageIdString(x.package_id) === id && x.version_hash === hash);
    if (!c) return;
    if (c.error) setStep({ at: 'failed', why: `Download failed: ${describeDownloadError(c.error)}` });
    else review().catch((e: Error) => setStep({ at: 'failed', why: e.message }));
  }, [completes, step, id, hash, review]);

  if (!hash) return <p className="muted">The chain lists no version hash for this package.</p>;
  if (installedHash === hash && step.at !== 'done') return <p className="muted">This version is installed.</p>;

  const download = async () => {
    setStep({ at: 'downloading', since: completes.length });
    try {
      // Already downloaded (here or by kit)? Then straight to the review.
      const files = await getJson<DownloadEntry[]>(`${BASE}/downloads/${id}`).catch(() => [] as DownloadEntry[]);
      if (files.some((f) => f.File?.name === `${hash}.zip`)) return await review();
      await send('POST', `${BASE}/apps/${id}/download`, { download_from: mirror, version_hash: hash });
    } catch (e) {
      setStep({ at: 'failed', why: (e as Error).message });
    }
  };
  const install = async () => {
    setStep({ at: 'installing' });
    try {
      await send('POST', `${BASE}/apps/${id}/install`, { version_hash: hash });
      setStep({ at: 'done' });
      onInstalled();
    } catch (e) {
      setStep({ at: 'failed', why: `Install failed: ${(e as Error).message}` });
    }
  };

  return (
    <div className="install">
      <div className="row">
        <label>
          Mirror{' '}
          <select value={mirror} onChange={(e) => setMirror(e.target.value)} aria-label={`Mirror for ${id}`}>
            {mirrors.map((m) => (
              <option key={m} value={m}>
                {m} ({online[m] ?? 'checking…'})
              </option>
            ))}
          </select>
        </label>
        {(step.at === 'idle' || step.at === 'failed') && (
          <button type="button" className="primary" onClick={download}>
            Download {app.metadata?.properties.current_version}
          </button>
        )}
      </div>
      {step.at === 'downloading' && <p className="muted">Downloading from {mirror}…</p>}
      {step.at === 'failed' && (
        <p className="error" role="alert">
          {step.why}
        </p>
      )}
      {step.at === 'review' && (
        <div>
          <p>
            Downloaded version <span className="mono">{shortHash(hash)}</span>; its sha256 matches the version hash on Hypermap. It asks for:
          </p>
          <ul>
            {step.manifest.map((p) => (
              <li key={p.process_name}>
                <strong>{p.process_name}</strong>
                {p.request_networking && ' · networking'}
                {p.public && ' · public'}
                {p.request_capabilities.length > 0 && `: ${p.request_capabilities.map(capText).join(', ')}`}
              </li>
            ))}
          </ul>
          <button type="button" className="primary" onClick={install}>
            Approve and install
          </button>
        </div>
      )}
      {step.at === 'installing' && <p className="muted">Installing…</p>}
      {step.at === 'done' && <p role="status">Installed {id}.</p>}
    </div>
  );
}

function Store() {
  const [installed, setInstalled] = useState<Installed[] | null>(null);
  const [apps, setApps] = useState<AppListing[] | null>(null);
  const [error, setError] = useState('');
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [completes, setCompletes] = useState<Complete[]>([]);
  const [selected, setSelected] = useState(() => location.hash.replace(/^#\/app\//, ''));

  useStoreSocket((c) => setCompletes((all) => [...all, c]));

  const load = useCallback(() => {
    getJson<Installed[]>(`${BASE}/installed`)
      .then(setInstalled)
      .catch((e: Error) => setError(e.message));
    getJson<AppListing[]>(`${BASE}/apps`)
      .then(setApps)
      .catch((e: Error) => setError(e.message));
  }, []);

  useEffect(() => {
    load();
    const onHash = () => setSelected(location.hash.replace(/^#\/app\//, ''));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [load]);

  const uninstall = async (id: string) => {
    setBusy(id);
    setConfirming(null);
    try {
      await send('DELETE', `${BASE}/apps/${id}`);
      setError('');
    } catch (e) {
      setError(`Uninstall failed: ${(e as Error).message}`);
    }
    setBusy(null);
    load();
  };

  const installedHash = new Map((installed ?? []).map((p) => [packageIdString(p.package_id), p.our_version_hash]));

  return (
    <>
      <header className="bar">
        <h1>App Store</h1>
        <nav>
          <a href="/">Home</a>
          <a href="/settings:settings:sys/">Settings</a>
        </nav>
      </header>
      <main>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <h2>Installed</h2>
        {installed === null ? (
          <p className="muted">Loading…</p>
        ) : installed.length === 0 ? (
          <p className="muted">No packages are installed.</p>
        ) : (
          <table aria-label="Installed packages">
            <thead>
              <tr>
                <th>Package</th>
                <th>Version hash</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {installed.map((p) => {
                const id = packageIdString(p.package_id);
                return (
                  <tr key={id} data-package={id}>
                    <td>{id}</td>
                    <td className="mono" title={p.our_version_hash}>
                      {shortHash(p.our_version_hash)}
                    </td>
                    <td style={{ textAlign: 'right' }}>
                      {confirming === id ? (
                        <>
                          <button type="button" className="danger" onClick={() => uninstall(id)}>
                            Confirm uninstall
                          </button>{' '}
                          <button type="button" onClick={() => setConfirming(null)}>
                            Cancel
                          </button>
                        </>
                      ) : (
                        <button type="button" className="danger" disabled={busy === id} onClick={() => setConfirming(id)}>
                          {busy === id ? 'Uninstalling…' : 'Uninstall'}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <h2>Published on Hypermap</h2>
        {apps === null ? (
          <p className="muted">Loading…</p>
        ) : apps.length === 0 ? (
          <p className="muted">Nothing is published on this chain yet: `kit publish` puts a package here.</p>
        ) : (
          <div className="listing">
            {apps.map((a) => {
              const id = packageIdString(a.package_id);
              return (
                <article key={id} className={`card${selected === id ? ' selected' : ''}`} data-listing={id} aria-label={a.metadata?.name ?? id}>
                  <div className="row">
                    <strong>{a.metadata?.name ?? id}</strong>
                    <span className="muted">{a.metadata?.properties.current_version}</span>
                  </div>
                  <div className="muted">{a.metadata ? a.metadata.description : 'Its metadata could not be read (or did not match its hash on chain).'}</div>
                  <div className="mono">{id}</div>
                  {a.metadata && <InstallFlow app={a} installedHash={installedHash.get(id)} onInstalled={load} completes={completes} />}
                </article>
              );
            })}
          </div>
        )}
        <h2>Publish</h2>
        <Publish
          installed={(installed ?? []).map((p) => ({ id: packageIdString(p.package_id), hash: p.our_version_hash }))}
          onPublished={() => {
            // chain:app-store:sys lists it once it has read the transaction's logs.
            for (const ms of [1000, 3000, 6000]) setTimeout(load, ms);
          }}
        />
      </main>
    </>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <Store />
  </StrictMode>,
);
