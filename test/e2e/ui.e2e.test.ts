// A UI package as a user meets it: `kit new --ui`, `kit build` (UI and process), installed on two
// fake nodes (own OS processes, one private chain), and a real headless Chromium (Debian's, driven
// by playwright-core) that logs in to both nodes, chats from one UI to the other, then runs
// `kit dev-ui` and sees an edit to the UI hot-reloaded without a rebuild; and a UI that does not
// build leaves pkg/ as it was. On a failure each page's screenshot goes to SCREENSHOTS.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { REPO, runKit } from '../helpers/kit.js';
import { CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM } from './browser.js';
import { bootFakeNode, type FakeNode, freePort } from './helpers.js';

/** Where a failing test leaves its screenshots. */
export const SCREENSHOTS = join(REPO, 'test', '.cache', 'screenshots');
const PKG = 'my-app';
const APP = `${PKG}:${PKG}:template.os`;

describe('a UI package in a real browser', { timeout: 900_000, skip: NO_CHROMIUM }, () => {
  let work: string;
  let pkgDir: string;
  let node1: FakeNode;
  let node2: FakeNode;
  let browser: Browser;
  let ctx1: BrowserContext;
  let ctx2: BrowserContext;
  let page1: Page;
  let page2: Page;

  /** Run a browser step; on failure save each page's screenshot and say where. */
  async function step(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const shots: string[] = [];
      for (const [i, page] of [page1, page2].entries()) {
        if (!page || page.isClosed()) continue;
        const file = join(SCREENSHOTS, `ui-e2e-${name}-page${i + 1}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
        shots.push(file);
      }
      (e as Error).message += `\nscreenshots: ${shots.join(', ')}\nnode 1 output:\n${node1?.output().slice(-3000)}\nnode 2 output:\n${node2?.output().slice(-3000)}`;
      throw e;
    }
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-ui-e2e-'));
    pkgDir = join(work, PKG);
    const chainPort = await freePort();
    node1 = await bootFakeNode(await freePort(), join(work, 'node1'), {}, { chainPort });
    node2 = await bootFakeNode(await freePort(), join(work, 'node2'), {}, { chainPort, name: 'fake2' });
    let r = await runKit(['new', PKG, '--ui'], { cwd: work });
    assert.equal(r.code, 0, r.output);
    r = await runKit(['build', PKG], { cwd: work, timeoutMs: 800_000 });
    assert.equal(r.code, 0, r.output);
    assert.ok(existsSync(join(pkgDir, 'pkg', 'ui', 'index.html')), 'kit build put the built UI in pkg/ui');
    for (const node of [node1, node2]) {
      r = await runKit(['start-package', PKG, '-p', String(node.port)], { cwd: work });
      assert.equal(r.code, 0, r.output);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, chromiumSandbox: false });
    ctx1 = await browser.newContext();
    ctx2 = await browser.newContext();
    page1 = await ctx1.newPage();
    page2 = await ctx2.newPage();
  });

  after(async () => {
    await browser?.close();
    await node2?.stop();
    await node1?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Open the chat UI on a node: without the cookie the node answers with its login page (as Hyperdrive). */
  async function logIn(page: Page, node: FakeNode, name: string): Promise<void> {
    // The package binds its UI as its process starts, a moment after start-package returns.
    for (let i = 0; i < 400 && (await fetch(`http://localhost:${node.port}/${APP}/`)).status === 404; i++) await new Promise((r) => setTimeout(r, 50));
    const res = await page.goto(`http://localhost:${node.port}/${APP}/`);
    assert.equal(res?.status(), 200);
    assert.equal(page.url(), `http://localhost:${node.port}/${APP}/`, 'the login page is served at the app\'s own URL');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong password' }).waitFor();
    await page.getByLabel('Password').fill('secret');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`http://localhost:${node.port}/${APP}/`);
    // /our.js told the UI its node; the WebSocket is open.
    await page.getByTestId('our-node').filter({ hasText: name }).waitFor();
    await page.getByText('connected', { exact: true }).waitFor();
  }

  it('answers a browser with the login page, which takes the node password and sets the cookie', async () => {
    await step('login', async () => {
      await logIn(page1, node1, 'fake.dev');
      await logIn(page2, node2, 'fake2.dev');
      const cookies = await ctx1.cookies();
      assert.ok(
        cookies.some((c) => c.name === 'hyperware-auth_fake.dev' && c.httpOnly),
        JSON.stringify(cookies.map((c) => c.name)),
      );
    });
  });

  it('a message sent from one UI appears in the other, pushed over the WebSocket', async () => {
    await step('chat', async () => {
      await page1.getByLabel('Send to').fill('fake2.dev');
      await page1.getByLabel('Message').fill('hello from the browser');
      await page1.getByRole('button', { name: 'Send' }).click();
      await page2.locator('[data-peer="fake.dev"] .message', { hasText: 'fake.dev: hello from the browser' }).waitFor({ timeout: 30_000 });
      await page1.locator('[data-peer="fake2.dev"] .message', { hasText: 'fake.dev: hello from the browser' }).waitFor();
      // And back, without reloading either page.
      await page2.getByLabel('Send to').fill('fake.dev');
      await page2.getByLabel('Message').fill('hello back');
      await page2.getByRole('button', { name: 'Send' }).click();
      await page1.locator('[data-peer="fake2.dev"] .message', { hasText: 'fake2.dev: hello back' }).waitFor({ timeout: 30_000 });
      // The history survives a reload (GET /messages).
      await page2.reload();
      await page2.locator('[data-peer="fake.dev"] .message', { hasText: 'fake.dev: hello from the browser' }).waitFor();
    });
  });

  it('a message sent to its own node shows there (the process delivers it to itself)', async () => {
    await step('chat-self', async () => {
      await page1.getByLabel('Send to').fill('fake.dev');
      await page1.getByLabel('Message').fill('a note to myself');
      await page1.getByRole('button', { name: 'Send' }).click();
      await page1.locator('[data-peer="fake.dev"] .message', { hasText: 'fake.dev: a note to myself' }).waitFor({ timeout: 30_000 });
      // Kept, and the process still answers: the history has it after a reload.
      await page1.reload();
      await page1.locator('[data-peer="fake.dev"] .message', { hasText: 'fake.dev: a note to myself' }).waitFor();
    });
  });

  it('kit dev-ui serves the UI against the node and hot-reloads an edit without a rebuild', async () => {
    const uiPort = await freePort();
    let out = '';
    const child: ChildProcess = spawn(process.execPath, [join(REPO, 'bin/run.js'), 'dev-ui', PKG, '-p', String(node1.port), '--ui-port', String(uiPort)], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    const appFile = join(pkgDir, 'ui', 'src', 'App.tsx');
    const original = readFileSync(appFile, 'utf8');
    try {
      await step('dev-ui', async () => {
        const deadline = Date.now() + 120_000;
        let url: string | undefined;
        while (!url) {
          url = /UI dev server ready: open (\S+)/.exec(out)?.[1];
          if (child.exitCode !== null) assert.fail(`kit dev-ui exited ${child.exitCode}:\n${out}`);
          if (Date.now() > deadline) assert.fail(`kit dev-ui never printed its URL:\n${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(url, `http://localhost:${uiPort}/${APP}/`);
        // The cookie from logging in to the node on localhost works through the dev server's proxy.
        await page1.goto(url);
        await page1.getByRole('heading', { name: 'MyApp', exact: true }).waitFor();
        await page1.getByTestId('our-node').filter({ hasText: 'fake.dev' }).waitFor();
        await page1.getByText('connected', { exact: true }).waitFor();
        await page1.locator('[data-peer="fake2.dev"] .message', { hasText: 'fake2.dev: hello back' }).waitFor();
        // A marker on the page tells a reload from a hot update.
        await page1.evaluate(() => {
          (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
        });
        assert.ok(original.includes('<h1>MyApp</h1>'), 'the template has the heading this test edits');
        writeFileSync(appFile, original.replace('<h1>MyApp</h1>', '<h1>MyApp, edited live</h1>'));
        await page1.getByRole('heading', { name: 'MyApp, edited live' }).waitFor({ timeout: 30_000 });
        assert.equal(await page1.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded), true, 'hot update, not a reload');
        // The dev server answers the new source too.
        const src = await (await fetch(`${url}src/App.tsx`)).text();
        assert.match(src, /MyApp, edited live/);
      });
      await step('dev-ui-closed-tab', async () => {
        // A tab that goes away with its WebSocket open: its end of the proxied socket is reset
        // (a raw client, so that the reset is certain), then the node pushes a message to it.
        // Vite would print "ws proxy socket error" and a stack trace; the template's logger
        // keeps it quiet (ui/vite.config.ts).
        const cookie = (await ctx1.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
        const tab = connect(uiPort, '127.0.0.1');
        await once(tab, 'connect');
        tab.write(
          `GET /${APP}/ws HTTP/1.1\r\nHost: localhost:${uiPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nCookie: ${cookie}\r\n\r\n`,
        );
        // (Read with 'data', not for-await: leaving that loop would close the socket cleanly.)
        let answer = '';
        await new Promise<void>((resolve) =>
          tab.on('data', (chunk) => {
            answer += chunk;
            if (answer.includes('\r\n\r\n')) resolve();
          }),
        );
        assert.match(answer, /^HTTP\/1\.1 101/, 'the dev server proxied the WebSocket to the node');
        tab.resetAndDestroy();
        await page2.getByLabel('Send to').fill('fake.dev');
        await page2.getByLabel('Message').fill('after a tab closed');
        await page2.getByRole('button', { name: 'Send' }).click();
        await page1.locator('[data-peer="fake2.dev"] .message', { hasText: 'fake2.dev: after a tab closed' }).waitFor({ timeout: 30_000 });
        // The reset reaches the dev server at once; give its error event a moment to be logged.
        await new Promise((r) => setTimeout(r, 1000));
        assert.doesNotMatch(out, /ws proxy (socket )?error|EPIPE|ECONNRESET/, out);
      });
    } finally {
      writeFileSync(appFile, original);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
    }
    // kit dev-ui stopped Vite with it: the port is free again.
    await assert.rejects(fetch(`http://localhost:${uiPort}/`));
  });

  it('a UI that fails to build shows the error and leaves pkg/ as it was', async () => {
    const appFile = join(pkgDir, 'ui', 'src', 'App.tsx');
    const original = readFileSync(appFile, 'utf8');
    const builtIndex = readFileSync(join(pkgDir, 'pkg', 'ui', 'index.html'));
    const zip = join(pkgDir, 'target', `${PKG}:template.os.zip`);
    const zipBefore = existsSync(zip) ? readFileSync(zip) : undefined;
    writeFileSync(appFile, `${original}\nexport const broken: number = 'not a number';\n`);
    try {
      const r = await runKit(['build', PKG, '--ui-only'], { cwd: work, timeoutMs: 300_000 });
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /npm run build:copy failed, so pkg\/ was left as it was/);
      assert.match(r.output, /App\.tsx.*Type 'string' is not assignable to type 'number'/s);
      assert.deepEqual(readFileSync(join(pkgDir, 'pkg', 'ui', 'index.html')), builtIndex);
      if (zipBefore) assert.deepEqual(readFileSync(zip), zipBefore);
    } finally {
      writeFileSync(appFile, original);
    }
  });

  it('kit dev-ui on a package without ui/ says so', async () => {
    const r = await runKit(['new', 'no-ui'], { cwd: work });
    assert.equal(r.code, 0, r.output);
    const d = await runKit(['d', 'no-ui'], { cwd: work });
    assert.equal(d.code, 1, d.output);
    assert.match(d.output, /has no web UI: 'ui' directory not found or 'ui\/package\.json' does not exist/);
  });
});
