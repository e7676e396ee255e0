// Talking to the node from its pages: same-origin fetches with the login cookie, errors that say
// what the node answered.

export class NodeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function check(res: Response, what: string): Promise<Response> {
  if (res.ok) return res;
  const text = (await res.text().catch(() => '')).trim();
  throw new NodeError(res.status, `${what}: ${res.status}${text ? ` ${text.slice(0, 300)}` : ''}`);
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await check(await fetch(url, { credentials: 'include' }), `GET ${url}`);
  return (await res.json()) as T;
}

/** Send `body` as JSON with `method`; the answer's text (often empty). */
export async function send(method: string, url: string, body?: unknown): Promise<string> {
  const res = await check(
    await fetch(url, {
      method,
      credentials: 'include',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    `${method} ${url}`,
  );
  return res.text();
}

/** The node's name (GET /our). */
export async function ourNode(): Promise<string> {
  const res = await check(await fetch('/our', { credentials: 'include' }), 'GET /our');
  return res.text();
}

export const shortHash = (h: string) => (h.length > 14 ? `${h.replace(/^0x/, '').slice(0, 12)}…` : h);

export interface PackageId {
  package_name: string;
  publisher_node: string;
}

export const packageIdString = (p: PackageId) => `${p.package_name}:${p.publisher_node}`;
