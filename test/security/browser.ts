// Debian's Chromium through playwright-core, started as the project's standards say (fresh
// profile, no network services), and a small HTTP server standing for another origin.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser.js';

export { CHROMIUM, NO_CHROMIUM } from '../e2e/browser.js';

export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'kit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, chromiumSandbox: false });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Another origin: a server on 127.0.0.2 (a different host, so a different site than localhost). */
export async function otherOrigin(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ origin: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', () => r()));
  return { origin: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, server, hits };
}
