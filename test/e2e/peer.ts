// A real HTTP + WebSocket server on loopback for the http-client tests: it records what a
// component's requests and frames carried, answers 201 with `got <body>`, and lets the test push.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface PeerRequest {
  method?: string;
  url?: string;
  body: string;
  header?: string;
}

export interface TestPeer {
  /** http://127.0.0.1:<port> */
  readonly base: string;
  readonly seen: PeerRequest[];
  /** `open <x-ws header>`, then `text <frame>` / `bin <frame>` / `ping <data>` / `pong <data>` / `close` as they arrive. */
  readonly wsSeen: string[];
  /** The last WebSocket a client opened. */
  readonly socket: WebSocket | undefined;
  close(): Promise<void>;
}

export async function startTestPeer(opts: {
  replyHeaders: Record<string, string>;
  /** How a binary frame is written into wsSeen. */
  binary: (frame: Buffer) => string;
}): Promise<TestPeer> {
  const seen: PeerRequest[] = [];
  const wsSeen: string[] = [];
  let socket: WebSocket | undefined;
  const server = createServer((req, res) => {
    // /slow never answers: for request timeouts (the connection is dropped at close()).
    if (req.url?.startsWith('/slow')) return;
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body, header: req.headers['x-test'] as string | undefined });
      res.writeHead(201, opts.replyHeaders);
      res.end(`got ${body}`);
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    socket = ws;
    wsSeen.push(`open ${req.headers['x-ws'] ?? ''}`);
    ws.on('message', (d, bin) => wsSeen.push(`${bin ? 'bin' : 'text'} ${bin ? opts.binary(d as Buffer) : d.toString()}`));
    ws.on('ping', (d) => wsSeen.push(`ping ${d.toString()}`));
    ws.on('pong', (d) => wsSeen.push(`pong ${d.toString()}`));
    ws.on('close', () => wsSeen.push('close'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    wsSeen,
    get socket() {
      return socket;
    },
    async close() {
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
