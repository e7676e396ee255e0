// The node's homepage (as Hyperdrive's homepage UI): the apps that added themselves with
// add_to_homepage (GET /apps) under All Apps, the favourites in a dock, each app's widget in a
// sandboxed iframe, and the notifications processes sent (a fake node keeps them instead of
// pushing them to a browser).

import { StrictMode, useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { getJson, ourNode, send } from './api';
import './node.css';

/** homepage:sys-v2.wit `app`. */
interface HomepageApp {
  id: string;
  process: string;
  package_name: string;
  publisher: string;
  path: string | null;
  label: string;
  base64_icon: string | null;
  widget: string | null;
  order: number;
  favorite: boolean;
}

interface KeptNotification {
  id: number;
  source: string;
  title: string;
  body: string;
  icon: string | null;
  time: number;
}

const HIDDEN_WIDGETS = 'kit-homepage-hidden-widgets';
/** Hyperdrive's homepage gives an HTML widget these, and nothing more (Widget.tsx). */
const WIDGET_SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-popups allow-modals';

function AppIcon({ app }: { app: HomepageApp }) {
  return (
    <span className="icon" aria-hidden={app.base64_icon ? undefined : true}>
      {app.base64_icon ? <img src={app.base64_icon} alt={app.label} /> : app.label.slice(0, 2)}
    </span>
  );
}

function AppTile({
  app,
  onFavorite,
  drag,
}: {
  app: HomepageApp;
  onFavorite?: (app: HomepageApp) => void;
  drag?: { onStart: () => void; onDrop: () => void };
}) {
  const inner = (
    <>
      <AppIcon app={app} />
      <span className="label">{app.label}</span>
    </>
  );
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: dragging to reorder is a mouse convenience; the link and the button inside are the controls
    <div
      className="app"
      data-app-id={app.id}
      draggable={drag ? true : undefined}
      onDragStart={drag?.onStart}
      onDragOver={drag ? (e) => e.preventDefault() : undefined}
      onDrop={drag?.onDrop}
    >
      {app.path ? (
        <a href={app.path} className="app-link" style={{ display: 'contents' }} title={`Open ${app.label}`}>
          {inner}
        </a>
      ) : (
        inner
      )}
      {onFavorite && (
        <button
          type="button"
          className="fave"
          aria-pressed={app.favorite}
          aria-label={app.favorite ? `Take ${app.label} off the dock` : `Put ${app.label} on the dock`}
          onClick={() => onFavorite(app)}
        >
          ♥
        </button>
      )}
    </div>
  );
}

function Widget({ app, onHide }: { app: HomepageApp; onHide: () => void }) {
  // An HTML widget renders from srcdoc; any other value means "show the app's own page".
  const html = app.widget?.includes('<');
  return (
    <section className="card widget" data-widget-id={app.id}>
      <div>
        <strong>{app.label}</strong>
        <button type="button" onClick={onHide} aria-label={`Hide the ${app.label} widget`}>
          ×
        </button>
      </div>
      {html ? (
        <iframe title={app.label} srcDoc={app.widget ?? ''} sandbox={WIDGET_SANDBOX} />
      ) : (
        <iframe title={app.label} src={app.path ?? `/${app.id}/`} sandbox={WIDGET_SANDBOX} />
      )}
    </section>
  );
}

function Notifications({ notes, labels, onClear }: { notes: KeptNotification[]; labels: Map<string, string>; onClear: () => void }) {
  return (
    <div className="card panel" role="dialog" aria-label="Notifications">
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <strong>Notifications</strong>
        <button type="button" onClick={onClear} disabled={notes.length === 0}>
          Clear
        </button>
      </div>
      <p className="muted" style={{ fontSize: '.8rem' }}>
        A fake node has no push service: it keeps what processes send to notifications:distro:sys and shows it here.
      </p>
      {notes.length === 0 && <p className="muted">Nothing yet.</p>}
      {notes.map((n) => (
        <div className="note" key={n.id} data-notification-id={n.id}>
          <strong>{n.title}</strong>
          <div>{n.body}</div>
          <small className="muted">
            {labels.get(n.source) ?? n.source} · {new Date(n.time).toLocaleString()}
          </small>
        </div>
      ))}
    </div>
  );
}

function Home() {
  const [our, setOur] = useState('');
  const [apps, setApps] = useState<HomepageApp[] | null>(null);
  const [error, setError] = useState('');
  const [notes, setNotes] = useState<KeptNotification[]>([]);
  const [seen, setSeen] = useState(0);
  const [open, setOpen] = useState(false);
  const [hidden, setHidden] = useState<string[]>(() => JSON.parse(localStorage.getItem(HIDDEN_WIDGETS) ?? '[]'));
  const [dragged, setDragged] = useState<string | null>(null);

  const load = useCallback(() => {
    getJson<HomepageApp[]>('/apps')
      .then((a) => {
        setApps(a);
        setError('');
      })
      .catch((e: Error) => setError(e.message));
  }, []);

  useEffect(() => {
    ourNode()
      .then(setOur)
      .catch(() => {});
    load();
    const loadNotes = () =>
      getJson<KeptNotification[]>('/api/notifications/list')
        .then(setNotes)
        .catch(() => {});
    loadNotes();
    // Apps add themselves when they start, notifications come when they are sent: keep up with both.
    const timer = setInterval(() => {
      loadNotes();
      getJson<HomepageApp[]>('/apps')
        .then((a) => setApps((now) => (JSON.stringify(now) === JSON.stringify(a) ? now : a)))
        .catch(() => {});
    }, 2000);
    // A widget asks the homepage to open a page of the node (it may not navigate the page itself).
    const onMessage = (e: MessageEvent) => {
      const url = (e.data as { type?: string; url?: unknown } | null)?.url;
      if ((e.data as { type?: string })?.type === 'HW_LINK_CLICKED' && typeof url === 'string' && url.startsWith('/') && !url.startsWith('//'))
        window.location.assign(url);
    };
    window.addEventListener('message', onMessage);
    return () => {
      clearInterval(timer);
      window.removeEventListener('message', onMessage);
    };
  }, [load]);

  const sorted = useMemo(() => [...(apps ?? [])].sort((a, b) => a.order - b.order || a.label.localeCompare(b.label)), [apps]);
  const labels = useMemo(() => new Map((apps ?? []).map((a) => [a.id, a.label])), [apps]);
  const widgets = sorted.filter((a) => a.widget && !hidden.includes(a.id));
  const unseen = notes.filter((n) => n.id > seen).length;

  const favorite = async (app: HomepageApp) => {
    await send('POST', '/favorite', [app.id, !app.favorite]).catch((e: Error) => setError(e.message));
    load();
  };
  const drop = async (target: HomepageApp) => {
    if (!dragged || dragged === target.id) return;
    const ids = sorted.map((a) => a.id).filter((id) => id !== dragged);
    ids.splice(ids.indexOf(target.id), 0, dragged);
    setDragged(null);
    await send(
      'POST',
      '/order',
      ids.map((id, i) => [id, i]),
    ).catch((e: Error) => setError(e.message));
    load();
  };
  const hide = (id: string) => {
    const next = [...hidden, id];
    setHidden(next);
    localStorage.setItem(HIDDEN_WIDGETS, JSON.stringify(next));
  };
  const showAll = () => {
    setHidden([]);
    localStorage.removeItem(HIDDEN_WIDGETS);
  };

  return (
    <>
      <header className="bar">
        <h1 data-testid="our-node">{our || '…'}</h1>
        <nav>
          <a href="/main:app-store:sys/">App Store</a>
          <a href="/settings:settings:sys/">Settings</a>
          <button
            type="button"
            aria-expanded={open}
            onClick={() => {
              setOpen(!open);
              setSeen(Math.max(seen, ...notes.map((n) => n.id)));
            }}
          >
            Notifications{unseen > 0 && <span className="badge">{unseen}</span>}
          </button>
        </nav>
      </header>
      {open && (
        <Notifications
          notes={notes}
          labels={labels}
          onClear={() => {
            send('POST', '/api/notifications/clear')
              .then(() => setNotes([]))
              .catch((e: Error) => setError(e.message));
          }}
        />
      )}
      <main>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {sorted.some((a) => a.favorite) && (
          <nav className="dock" aria-label="Dock">
            {sorted
              .filter((a) => a.favorite)
              .map((a) => (
                <AppTile key={a.id} app={a} />
              ))}
          </nav>
        )}
        {widgets.length > 0 && (
          <>
            <h2>Widgets</h2>
            <div className="widgets">
              {widgets.map((a) => (
                <Widget key={a.id} app={a} onHide={() => hide(a.id)} />
              ))}
            </div>
          </>
        )}
        {hidden.length > 0 && (
          <p>
            <button type="button" onClick={showAll}>
              Show hidden widgets ({hidden.length})
            </button>
          </p>
        )}
        <h2>All Apps</h2>
        {apps === null ? (
          <p className="muted">Loading…</p>
        ) : (
          <section className="grid" aria-label="All Apps">
            {sorted.map((a) => (
              <AppTile key={a.id} app={a} onFavorite={favorite} drag={{ onStart: () => setDragged(a.id), onDrop: () => drop(a) }} />
            ))}
          </section>
        )}
      </main>
    </>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <Home />
  </StrictMode>,
);
