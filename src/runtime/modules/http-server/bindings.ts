// Paths processes bind on the HTTP server (book "HTTP Server API", interop §10.6). Every path is
// prefixed with the binder's process ID (except homepage:homepage:sys); segments may be
// `:name` (one segment, passed as a url_param) or `*name` (the rest of the path).

import { type LazyLoadBlob, type ProcessId, processIdToString } from '../../../core/types.js';

export interface Binding {
  /** Undefined once unbound: the path then answers 404, as in Hyperdrive. */
  app?: ProcessId;
  /** The full bound path, e.g. `/chat:chat:template.os/messages`. */
  path: string;
  authenticated: boolean;
  localOnly: boolean;
  /** Set for SecureBind: requests must come through this subdomain. */
  secureSubdomain?: string;
  /** With `cache`, GET requests get these bytes without asking the process. */
  staticContent?: LazyLoadBlob;
}

export interface Route<T> {
  binding: T;
  params: Record<string, string>;
}

/** Strip one trailing '/', as Hyperdrive's `normalize_path` does. */
export function normalizePath(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/** `/<process_id>` + path, except for the homepage, which binds its paths as they are. */
export function formatPathWithProcess(process: ProcessId, path: string): string {
  const id = processIdToString(process);
  if (id === 'homepage:homepage:sys') return normalizePath(path);
  return path.startsWith('/') ? `/${id}${normalizePath(path)}` : `/${id}/${normalizePath(path)}`;
}

/** `<package>-<publisher>` with every non-alphanumeric character turned into '-'. */
export function secureSubdomain(process: ProcessId): string {
  return `${process.packageName}-${process.publisherNode}`.replace(/[^A-Za-z0-9]/g, '-');
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// Per-segment rank: a literal beats a `:param`, which beats a `*glob`.
const LITERAL = 3;
const PARAM = 2;
const GLOB = 1;

/** A small router: literal segments, `:param` segments and a trailing `*glob`. */
export class RouteTable<T> {
  private readonly routes = new Map<string, { pattern: string[]; value: T }>();

  /** Add or replace the binding at `path`. */
  set(path: string, value: T): void {
    const pattern = segments(path);
    this.routes.set(pattern.join('/'), { pattern, value });
  }

  *values(): IterableIterator<T> {
    for (const r of this.routes.values()) yield r.value;
  }

  /** The most specific binding matching `path`, with its url params. */
  recognize(path: string): Route<T> | undefined {
    const parts = segments(path).map(decode);
    let best: { route: Route<T>; score: number[] } | undefined;
    for (const { pattern, value } of this.routes.values()) {
      const m = match(pattern, parts);
      if (!m) continue;
      if (!best || compareScores(m.score, best.score) > 0) best = { route: { binding: value, params: m.params }, score: m.score };
    }
    return best?.route;
  }
}

function match(pattern: string[], parts: string[]): { params: Record<string, string>; score: number[] } | undefined {
  const params: Record<string, string> = {};
  const score: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith('*')) {
      if (i >= parts.length) return undefined; // a glob needs at least one segment
      params[p.slice(1)] = parts.slice(i).join('/');
      score.push(GLOB);
      return { params, score };
    }
    if (i >= parts.length) return undefined;
    if (p.startsWith(':')) {
      params[p.slice(1)] = parts[i];
      score.push(PARAM);
    } else if (decode(p) === parts[i]) {
      score.push(LITERAL);
    } else {
      return undefined;
    }
  }
  return pattern.length === parts.length ? { params, score } : undefined;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
