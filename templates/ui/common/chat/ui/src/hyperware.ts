// A small typed client for talking to this package's process on the node: the node's name (from
// /our.js), JSON over HTTP on the process's bound paths, and its WebSocket with reconnects.
// (The real template uses @hyperware-ai/client-api, which is not on every npm registry; this is
// all the chat UI needs, with nothing to install.)

declare global {
  interface Window {
    our?: { node: string };
  }
}

/** The node's name, set by the node's /our.js (loaded in index.html). */
export function ourNode(): string {
  return window.our?.node ?? 'unknown node';
}

/** The process's path on the node, e.g. `/chat:chat:template.os` (Vite's base, no trailing '/'). */
export const PROCESS_PATH = import.meta.env.BASE_URL.replace(/\/$/, '');

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Off to the node's login page, coming back here afterwards. */
function login(): never {
  window.location.href = `/login?redirect=${encodeURIComponent(window.location.pathname + window.location.search)}`;
  throw new HttpError(401, 'not logged in: going to /login');
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${PROCESS_PATH}${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) login();
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text || `${method} ${path} answered ${res.status}`);
  return (text ? JSON.parse(text) : null) as T;
}

export const getJson = <T>(path: string): Promise<T> => call<T>('GET', path);
export const postJson = <T>(path: string, body: unknown): Promise<T> => call<T>('POST', path, body);

export interface Socket {
  send(value: unknown): void;
  close(): void;
}

/**
 * Open the process's WebSocket at `path` and keep it open (reconnecting after a drop); each
 * message is parsed as JSON and handed to `onMessage`.
 */
export function connectWebSocket<T>(
  path: string,
  handlers: { onMessage: (value: T) => void; onStatus?: (open: boolean) => void },
): Socket {
  let ws: WebSocket | undefined;
  let closed = false;
  let retry = 500;
  const open = () => {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${scheme}://${window.location.host}${PROCESS_PATH}${path}`);
    ws.onopen = () => {
      retry = 500;
      handlers.onStatus?.(true);
    };
    ws.onmessage = (event) => {
      try {
        handlers.onMessage(JSON.parse(String(event.data)) as T);
      } catch (e) {
        console.error('ignoring a WebSocket message that is not JSON', e);
      }
    };
    ws.onclose = () => {
      handlers.onStatus?.(false);
      if (closed) return;
      setTimeout(open, retry);
      retry = Math.min(retry * 2, 10_000);
    };
  };
  open();
  return {
    send: (value) => ws?.send(JSON.stringify(value)),
    close: () => {
      closed = true;
      ws?.close();
    },
  };
}
