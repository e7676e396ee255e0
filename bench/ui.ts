// The node's homepage in a browser (issue 17): `homepage_first_paint_ms` is the time from
// submitting the login page to the homepage painted with its apps (the login POST, the redirect,
// the page and its scripts, GET /apps, React's render, the frame after it), in Debian's Chromium,
// a fresh browser context (no cache, no cookie) each turn. Its floor, measured in the same run and
// the same way: a form submitted to a bare node:http server on loopback that redirects to a static
// page holding the same marker, painted. Both are timed inside the page (submit and paint as
// performance.timeOrigin + performance.now()), so the browser driver's polling does not count.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createLogger } from '../src/core/log.js';
import { bootNode } from '../src/runtime/node.js';
import type { BenchContext } from './run.js';
import { median } from './util.js';

const CHROMIUM = process.env.KIT_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TURNS = 7;
const quiet = createLogger({ target: 'bench::ui', level: 'error', file: null, terminal: null });

/**
 * Runs in every document: the submit time goes to sessionStorage (it survives the navigation), and
 * once an app tile is in All Apps, two animation frames later (after its paint) the paint time.
 */
const PROBE = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  document.addEventListener('submit', () => sessionStorage.setItem('submitAt', String(now())), true);
  const done = () => requestAnimationFrame(() => requestAnimationFrame(() => { window.__paintedAt = now(); }));
  const seen = () => document.querySelector('[aria-label="All Apps"] .app');
  if (seen()) return done();
  const mo = new MutationObserver(() => { if (seen()) { mo.disconnect(); done(); } });
  mo.observe(document, { childList: true, subtree: true });
})();`;

/** A login-like form and a static "homepage" with the same marker. */
function floorServer(): Promise<Server> {
  const login = '<!doctype html><form method="POST" action="/login"><input name="password" aria-label="Password"><button>Log in</button></form>';
  const home = '<!doctype html><section aria-label="All Apps"><div class="app">App</div></section>';
  const server = createServer((req, res) => {
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        res.writeHead(303, { Location: '/home' });
        res.end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/home' ? home : login);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    console.log(`bench ui: skipped, no Chromium at ${CHROMIUM}`);
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'kit-bench-ui-'));
  const node = await bootNode({ home: join(root, 'home'), port: 0, name: 'fake.dev', log: quiet });
  const floor = await floorServer();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, chromiumSandbox: false });
  try {
    /** One turn: open `url` (a login form) in a fresh context, submit `password`, time to the painted apps. */
    const turn = async (url: string): Promise<number> => {
      const context = await browser.newContext();
      try {
        await context.addInitScript(PROBE);
        const page = await context.newPage();
        await page.goto(url);
        await page.getByLabel('Password').fill('secret');
        await page.getByRole('button', { name: 'Log in' }).click();
        // Page-side code as text: this file is compiled for Node, without the DOM's types.
        await page.waitForFunction('window.__paintedAt !== undefined', undefined, { timeout: 60_000 });
        return Number(await page.evaluate("window.__paintedAt - Number(sessionStorage.getItem('submitAt'))"));
      } finally {
        await context.close();
      }
    };
    const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}/`;
    const homeUrl = `http://127.0.0.1:${node.port}/`;
    // Warm both (Chromium's own first start, the node's first page) before measuring, then alternate.
    await turn(floorUrl);
    await turn(homeUrl);
    const floors: number[] = [];
    const homes: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      floors.push(await turn(floorUrl));
      homes.push(await turn(homeUrl));
    }
    const f = median(floors);
    const h = median(homes);
    ctx.add({ name: 'ui_floor_static_page_paint_ms', value: f, unit: 'ms', note: `form submit -> 303 -> static page painted, bare node:http on loopback, median of ${TURNS}` });
    ctx.add({
      name: 'homepage_first_paint_ms',
      value: h,
      unit: 'ms',
      note: `login submit -> homepage with its apps painted, fresh context, median of ${TURNS}; ${(h / f).toFixed(1)}x the floor`,
    });
    ctx.add({ name: 'homepage_first_paint_ratio', value: h / f, unit: 'x floor' });
  } finally {
    await browser.close();
    floor.close();
    await node.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
