// A stand-in for a node's RPC endpoint (a test double for the CLI tests only): it records every
// message kit sends to POST /rpc:distro:sys/message and answers as a node would, with the
// body bytes as a number array and the blob double-encoded (bytes -> base64 text -> bytes).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  path: string;
  contentType: string | undefined;
  json: {
    node: string | null;
    process: string;
    inherit: boolean;
    expects_response: number | null;
    body: string;
    metadata: string | null;
    context: string | null;
    mime: string | null;
    data: string | null;
  };
}

export interface Answer {
  status?: number;
  /** Raw HTTP body (status != 200, or a deliberately malformed answer). */
  raw?: string;
  /** The Response body; objects are sent as their JSON text. */
  body?: unknown;
  blob?: Uint8Array;
  mime?: string | null;
}

export type Handler = (msg: ReceivedMessage['json']) => Answer;

export interface FakeRpc {
  url: string;
  port: number;
  received: ReceivedMessage[];
  close(): Promise<void>;
}

export function answerJson(a: Answer): string {
  const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? null);
  const blob = a.blob
    ? { mime: a.mime ?? null, bytes: Array.from(Buffer.from(Buffer.from(a.blob).toString('base64'), 'latin1')) }
    : null;
  return JSON.stringify({ body: Array.from(Buffer.from(text, 'utf8')), lazy_load_blob: blob });
}

/** `get`: the status a GET of a path gets (a page a process binds, or 404 while nothing is bound). */
export async function startFakeRpc(handler: Handler, opts: { get?: (path: string) => number } = {}): Promise<FakeRpc> {
  const received: ReceivedMessage[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && opts.get) {
      res.writeHead(opts.get(req.url ?? '/')).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let json: ReceivedMessage['json'];
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], json });
      const a = handler(json);
      const status = a.status ?? 200;
      if (status !== 200 || a.raw !== undefined) {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(a.raw ?? '');
      } else if (json.expects_response === null) {
        res.writeHead(200).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end(answerJson(a));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
