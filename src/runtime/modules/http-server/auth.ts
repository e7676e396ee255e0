// Login for authenticated bindings (interop §1.9, book "HTTP API"): `GET /login` serves a small
// page, `POST /login` with the node's password sets the cookie `hyperware-auth_<node>` (or
// `hyperware-auth_<node>@<subdomain>` for a secure subdomain), a JWT signed by the node with
// HS256 over `{"username", "subdomain", "expiration"}`, valid 26 weeks as in Hyperdrive.
//
// Differences from Hyperdrive, on purpose: the password is checked (a real fake node accepts any,
// because simulation mode forces "secret"), and the cookie carries `HttpOnly; SameSite=Strict;
// Path=/` as attributes (Hyperdrive sends them as stray headers) without `Domain`, so a browser
// keeps it for the host it logged in to, on every port (a Vite dev server on localhost included).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Hyperdrive's login lifetime: 26 weeks. */
export const LOGIN_LIFETIME_SECS = 26 * 7 * 24 * 3600;
/** Hyperdrive's limit on a login body. */
export const LOGIN_BODY_LIMIT = 16 * 1024;

export interface JwtClaims {
  username: string;
  subdomain: string | null;
  expiration: number;
}

export interface NodeAuth {
  /** The cookie name for the node, or for one of its secure subdomains. */
  cookieName(subdomain?: string | null): string;
  /** A signed token for `subdomain` (null: the whole node). */
  sign(subdomain: string | null, nowSecs?: number): string;
  /** Whether `token` is a valid, unexpired login for the cookie called `label`. */
  verify(token: string, label: string, nowSecs?: number): boolean;
  /** Whether `password` is the node's password (constant time). */
  checkPassword(password: string): boolean;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function createNodeAuth(opts: { our: string; password: string; secret?: Uint8Array }): NodeAuth {
  const secret = Buffer.from(opts.secret ?? randomBytes(32));
  const base = `hyperware-auth_${opts.our}`;
  const mac = (input: string) => createHmac('sha256', secret).update(input).digest();
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const cookieName = (subdomain?: string | null) => (subdomain ? `${base}@${subdomain}` : base);
  return {
    cookieName,
    sign(subdomain, nowSecs = Math.floor(Date.now() / 1000)) {
      const claims: JwtClaims = { username: opts.our, subdomain, expiration: nowSecs + LOGIN_LIFETIME_SECS };
      const body = `${header}.${b64url(JSON.stringify(claims))}`;
      return `${body}.${b64url(mac(body))}`;
    },
    verify(token, label, nowSecs = Math.floor(Date.now() / 1000)) {
      const parts = token.split('.');
      if (parts.length !== 3) return false;
      const expected = mac(`${parts[0]}.${parts[1]}`);
      const given = Buffer.from(parts[2], 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
      let claims: Partial<JwtClaims>;
      try {
        claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
      } catch {
        return false;
      }
      if (claims.username !== opts.our || typeof claims.expiration !== 'number' || claims.expiration <= nowSecs) return false;
      return cookieName(claims.subdomain ?? null) === label;
    },
    checkPassword(password) {
      const a = mac(`password:${password}`);
      const b = mac(`password:${opts.password}`);
      return timingSafeEqual(a, b);
    },
  };
}

/** A browser loading a page (not fetch/XHR): it gets sent to /login rather than a bare 401. */
export function isPageLoad(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const dest = req.headers['sec-fetch-dest'];
  if (typeof dest === 'string') return dest === 'document';
  return (req.headers.accept ?? '').includes('text/html');
}

/** Where to send a browser that needs a login first. */
export function loginRedirect(pathAndQuery: string): string {
  return `/login?redirect=${encodeURIComponent(pathAndQuery)}`;
}

/**
 * Only same-origin paths are followed after login (an open redirect would hand the login to
 * another site). Browsers drop tabs and newlines anywhere in a URL and read a backslash as `/`,
 * so `/<TAB>/evil` or `/\evil` would become `//evil`, another host: any control character,
 * backslash or a second leading slash sends the browser home instead. Other characters a header
 * cannot carry as they are (spaces, non-ASCII) are percent-encoded.
 */
export function safeRedirect(target: string | null | undefined): string {
  if (!target?.startsWith('/') || target.startsWith('//')) return '/';
  if (/[\u0000-\u001f\u007f\\]/.test(target)) return '/';
  try {
    return target.replace(/[^\u0021-\u007e]/gu, (c) => encodeURIComponent(c));
  } catch {
    return '/'; // a lone surrogate: no URL
  }
}

/** Wrong passwords one client may try per LOGIN_WINDOW_MS before /login answers 429. */
export const LOGIN_FAILURES_PER_WINDOW = 10;
export const LOGIN_WINDOW_MS = 60_000;

/**
 * Counts wrong passwords per client address over a sliding window. Hyperdrive has no limit;
 * without one a page or a LAN peer can try a thousand passwords a second.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly perWindow = LOGIN_FAILURES_PER_WINDOW,
    private readonly windowMs = LOGIN_WINDOW_MS,
  ) {}

  /** Seconds until `client` may try again, or 0 when it may now. */
  retryAfterSecs(client: string, now = Date.now()): number {
    const recent = this.recent(client, now);
    if (recent.length < this.perWindow) return 0;
    return Math.max(1, Math.ceil((recent[0] + this.windowMs - now) / 1000));
  }

  failed(client: string, now = Date.now()): void {
    const recent = this.recent(client, now);
    recent.push(now);
    this.failures.set(client, recent);
    // Bounded memory: forget the oldest clients past a few thousand.
    if (this.failures.size > 4096) this.failures.delete(this.failures.keys().next().value as string);
  }

  private recent(client: string, now: number): number[] {
    const kept = (this.failures.get(client) ?? []).filter((t) => now - t < this.windowMs);
    if (kept.length === 0) this.failures.delete(client);
    return kept;
  }
}

export interface LoginAttempt {
  password: string | undefined;
  subdomain: string | null;
  /** Answer with a redirect (a form post, or ?redirect= given) rather than JSON. */
  form: boolean;
}

/**
 * Read a login body: Hyperdrive's JSON `{"password_hash", "subdomain"}` (on a fake node the
 * password is used as is as the hash, so the password itself is accepted there), or the login
 * page's form fields `password` and `subdomain`.
 */
export function parseLogin(contentType: string | undefined, body: string): LoginAttempt | undefined {
  // JSON whatever the content type says (curl -d sends JSON as a form).
  const looksJson = body.trimStart().startsWith('{');
  if (!looksJson && (contentType ?? '').includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    return { password: form.get('password') ?? undefined, subdomain: form.get('subdomain') || null, form: true };
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const password = typeof v.password_hash === 'string' ? v.password_hash : typeof v.password === 'string' ? v.password : undefined;
  const subdomain = typeof v.subdomain === 'string' && v.subdomain.length > 0 ? v.subdomain : null;
  return { password, subdomain, form: false };
}

export function authCookie(name: string, token: string): string {
  return `${name}=${token}; Path=/; Max-Age=${LOGIN_LIFETIME_SECS}; HttpOnly; SameSite=Strict`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The login page: one password field, posted as a form; `error` shows after a wrong password;
 * `subdomain` (a process id) logs in for that app's secure subdomain.
 */
export function loginPage(our: string, redirect: string, error?: string, subdomain: string | null = null): string {
  const action = `/login?redirect=${encodeURIComponent(redirect)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in to ${escapeHtml(our)}</title>
<style>
body{font-family:system-ui,sans-serif;display:flex;min-height:100vh;margin:0;align-items:center;justify-content:center;background:#f4f4f5}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;display:flex;flex-direction:column;gap:.75rem;min-width:18rem}
input,button{font:inherit;padding:.5rem}.error{color:#b91c1c}
</style>
</head>
<body>
<form method="POST" action="${escapeHtml(action)}">
<h1>${escapeHtml(our)}</h1>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus required>
${subdomain ? `<input type="hidden" name="subdomain" value="${escapeHtml(subdomain)}">\n` : ''}${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<button type="submit">Log in</button>
</form>
</body>
</html>
`;
}
