// The node a user opens in a browser, as the book has it: two fake nodes on one fake chain (each
// `kit boot-fake-node` in its own OS process), the book's homepage example (test/fixtures/packages/
// homepage-demo: "Adding a Homepage Icon and Widget", in TypeScript through kit/process) built with
// `kit build` and run on fake.dev, and Debian's Chromium: fake.dev's App Store page publishes it
// (the book's "Using the App Store GUI"); on fake2.dev the banner URL opens the login page, then
// the homepage; the App Store page lists the
// package, refuses a mirror's zip that is not the published version and says why, installs the
// real one (mirror, capabilities, approve); the homepage then shows the app's icon under All Apps
// and its widget, sandboxed; the icon opens the app; a notification it sends shows on the
// homepage; settings shows who the node is, its peers and providers; uninstalling through the App
// Store takes it off the homepage. A failing step leaves screenshots and says where.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { REPO, runKit } from '../helpers/kit.js';
import { launchChromium, NO_CHROMIUM, stepper } from './browser.js';
import { bootFakeNode, type FakeNode, freePort } from './helpers.js';

const PKG = 'homepage-demo';
const PUBLISHER = 'fake.dev';
const ID = `${PKG}:${PUBLISHER}`;
const PROCESS = `${PKG}:${ID}`;
/** homepage:homepage:sys's widget sandbox (hyperdrive/packages/homepage/ui/.../Widget.tsx). */
const WIDGET_SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-popups allow-modals';

describe('the node in a real browser: homepage, App Store, settings', { timeout: 25 * 60_000, skip: NO_CHROMIUM }, () => {
  let work: string;
  let node1: FakeNode;
  let node2: FakeNode;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let publisherPage: Page;
  let metadataUrl: string;
  let zipHash: string;
  let icon: string;
  let stored: string;
  let base: string;

  const step = stepper('kit-node-ui', () => [page, publisherPage], () => `fake.dev output:\n${node1?.output().slice(-3000)}\nfake2.dev output:\n${node2?.output().slice(-3000)}`);
  const kit = (args: string[]) => runKit(args, { cwd: work, timeoutMs: 15 * 60_000 });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-node-ui-'));
    const chainPort = await freePort();
    node1 = await bootFakeNode(await freePort(), join(work, 'node1'), {}, { chainPort });
    node2 = await bootFakeNode(await freePort(), join(work, 'node2'), {}, { chainPort, name: 'fake2' });
    base = `http://localhost:${node2.port}`;

    // The book's example, built and run on the publisher's node (which mirrors it).
    const dir = join(work, PKG);
    cpSync(join(REPO, 'test/fixtures/packages', PKG), dir, { recursive: true });
    icon = /'(data:image\/png;base64,[^']+)'/.exec(readFileSync(join(dir, PKG, 'src/icon.ts'), 'utf8'))?.[1] ?? '';
    let r = await kit(['build', dir]);
    assert.equal(r.code, 0, r.output);
    const zip = readdirSync(join(dir, 'target')).find((f) => f.endsWith('.zip'));
    assert.ok(zip, 'kit build made the zip');
    zipHash = createHash('sha256')
      .update(readFileSync(join(dir, 'target', zip)))
      .digest('hex');
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    meta.properties.code_hashes = { '0.1.0': zipHash };
    writeFileSync(join(dir, 'metadata.json'), `${JSON.stringify(meta, null, 2)}\n`);
    r = await kit(['start-package', dir, '-p', String(node1.port)]);
    assert.equal(r.code, 0, r.output);
    stored = join(node1.home, 'vfs', 'app-store:sys', 'downloads', ID, `${zipHash}.zip`);

    // Its metadata, served as a publisher serves it (GitHub's raw files allow any origin too); and
    // one that names another publisher.
    const metadata = readFileSync(join(dir, 'metadata.json'));
    const wrong = Buffer.from(metadata.toString().replace('"publisher": "fake.dev"', '"publisher": "someone.else"'));
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      res.end(req.url === '/wrong.json' ? wrong : metadata);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    metadataUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/metadata.json`;

    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    publisherPage = await (await browser.newContext()).newPage();
  });

  after(async () => {
    await browser?.close();
    server?.close();
    await node2?.stop();
    await node1?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const storePage = async () => {
    await page.goto(`${base}/main:app-store:sys/`);
    await page.getByRole('heading', { name: 'App Store' }).waitFor();
  };
  const listing = () => page.locator(`[data-listing="${ID}"]`);
  const allApps = () => page.getByRole('region', { name: 'All Apps' });

  it("publishes from the publisher's App Store page (the book's \"Using the App Store GUI\"), refusing metadata that is not its own", async () => {
    await step('publish', async () => {
      const p = publisherPage;
      await p.goto(`http://localhost:${node1.port}/main:app-store:sys/`);
      await p.getByLabel('Password').fill('secret');
      await p.getByRole('button', { name: 'Log in' }).click();
      const form = p.getByRole('region', { name: 'Publish' });
      await form.getByLabel('Package').fill(PKG);
      await form.getByLabel('Metadata URL').fill(metadataUrl.replace('metadata.json', 'wrong.json'));
      await form.getByRole('button', { name: 'Publish' }).click();
      await form.getByRole('alert').filter({ hasText: "Publishing failed: the metadata's publisher is someone.else, not this node (fake.dev)" }).waitFor();
      await form.getByLabel('Metadata URL').fill(metadataUrl);
      await form.getByRole('button', { name: 'Publish' }).click();
      await form.getByRole('status').filter({ hasText: new RegExp(`Published ${ID} \\(mint, transaction 0x[0-9a-f]{64}\\)`) }).waitFor({ timeout: 60_000 });
    });
  });

  it('the banner URL shows the login page without a session, then the homepage: App Store and Settings docked, the clock widget', async () => {
    await step('login', async () => {
      assert.match(node2.output(), new RegExp(`url: +http://localhost:${node2.port}`), 'boot-fake-node printed the URL');
      // Without a session the homepage's URL answers the login page (as Hyperdrive's http-server).
      await page.goto(`${base}/`);
      assert.equal(page.url(), `${base}/`);
      await page.getByLabel('Password').fill('secret');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${base}/`);
      await page.getByTestId('our-node').filter({ hasText: 'fake2.dev' }).waitFor();
      const dock = page.getByRole('navigation', { name: 'Dock' });
      await dock.locator('[data-app-id="main:app-store:sys"]').waitFor();
      await dock.locator('[data-app-id="settings:settings:sys"]').waitFor();
      await allApps().locator('[data-app-id="homepage:homepage:sys"]').getByText('Clock').waitFor();
      await page.frameLocator('iframe[title="Clock"]').locator('#time').filter({ hasText: /\d/ }).waitFor();
    });
  });

  it('the App Store lists the published package; a mirror whose zip is not the published version is refused, saying why', async () => {
    await step('refused', async () => {
      await storePage();
      await listing().getByText("the book's homepage icon and widget example").waitFor({ timeout: 60_000 });
      await listing().getByRole('combobox').filter({ hasText: 'fake.dev (online)' }).waitFor({ timeout: 30_000 });
      // The publisher's node now holds a zip that is not the one whose hash is on chain.
      const real = readFileSync(stored);
      const tampered = Buffer.from(real);
      tampered[tampered.length - 30] ^= 0xff;
      writeFileSync(stored, tampered);
      try {
        await listing().getByRole('button', { name: /^Download/ }).click();
        const alert = listing().getByRole('alert');
        await alert.waitFor({ timeout: 60_000 });
        assert.match((await alert.textContent()) ?? "", new RegExp(`Download failed: the mirror's zip hashes to [0-9a-f]{64}, not the published version hash ${zipHash}: it was refused`));
      } finally {
        writeFileSync(stored, real);
      }
    });
  });

  it('installs the published package through the page: download from the mirror, the capabilities it asks for, approve', async () => {
    await step('install', async () => {
      await listing().getByRole('button', { name: /^Download/ }).click();
      await listing().getByText('its sha256 matches the version hash on Hypermap').waitFor({ timeout: 60_000 });
      await listing().getByText('homepage:homepage:sys').waitFor();
      await listing().getByRole('button', { name: 'Approve and install' }).click();
      await listing().getByRole('status').filter({ hasText: `Installed ${ID}.` }).waitFor({ timeout: 120_000 });
      await page.getByRole('table', { name: 'Installed packages' }).locator(`[data-package="${ID}"]`).waitFor();
    });
  });

  it("the homepage shows the app's icon under All Apps and its widget in a sandboxed iframe; the icon opens the app", async () => {
    await step('homepage', async () => {
      await page.goto(`${base}/`);
      const tile = allApps().locator(`[data-app-id="${PROCESS}"]`);
      await tile.waitFor();
      assert.equal(await tile.getByRole('img', { name: 'My First App' }).getAttribute('src'), icon);
      const frame = page.locator('iframe[title="My First App"]');
      assert.equal(await frame.getAttribute('sandbox'), WIDGET_SANDBOX);
      await page.frameLocator('iframe[title="My First App"]').getByRole('heading', { name: 'Hello, Hyperware!' }).waitFor();
      // Docked with the heart, as the book says.
      await tile.getByRole('button', { name: 'Put My First App on the dock' }).click();
      await page.getByRole('navigation', { name: 'Dock' }).locator(`[data-app-id="${PROCESS}"]`).waitFor();
      await tile.getByRole('link').click();
      await page.waitForURL(`${base}/${PROCESS}/`);
      await page.getByRole('heading', { name: 'This is a website!' }).waitFor();
    });
  });

  it('a notification the app sends (notifications:distro:sys) shows on the homepage', async () => {
    await step('notification', async () => {
      await page.locator('#hello').fill('from the browser');
      await page.getByRole('button', { name: 'PUT' }).click();
      await page.getByText('sent: 200').waitFor();
      await page.goto(`${base}/`);
      await page.getByRole('button', { name: /Notifications/ }).click();
      const panel = page.getByRole('dialog', { name: 'Notifications' });
      const note = panel.locator('.note').filter({ hasText: 'from the browser' });
      await note.waitFor({ timeout: 30_000 });
      await note.getByText('My First App').waitFor();
      // The Hello it sent itself at start, too.
      await panel.locator('.note').filter({ hasText: 'hello world' }).waitFor();
    });
  });

  it('settings shows the identity, the peers and the ETH providers, and adds and removes a provider', async () => {
    await step('settings', async () => {
      await page.goto(`${base}/settings:settings:sys/`);
      await page.getByTestId('identity-name').filter({ hasText: 'fake2.dev' }).waitFor();
      const identity = page.getByRole('region', { name: 'Identity' });
      await identity.getByText(/^direct: 127\.0\.0\.1 ws \d+$/).waitFor();
      await page.getByRole('region', { name: 'Peers' }).locator('[data-peer="fake.dev"]').waitFor();
      const providers = page.getByRole('region', { name: 'ETH providers' });
      await providers.locator('[data-provider]').first().waitFor();
      await page.getByLabel('RPC URL').fill('http://127.0.0.1:9/');
      await page.getByRole('button', { name: 'Add provider' }).click();
      const added = providers.locator('[data-provider="http://127.0.0.1:9/"]');
      await added.waitFor();
      await added.getByRole('button', { name: 'Remove' }).click();
      await added.waitFor({ state: 'detached' });
    });
  });

  it('uninstalling through the App Store takes the app off the homepage (RemoveOther)', async () => {
    await step('uninstall', async () => {
      await storePage();
      const row = page.getByRole('table', { name: 'Installed packages' }).locator(`[data-package="${ID}"]`);
      await row.getByRole('button', { name: 'Uninstall' }).click();
      await row.getByRole('button', { name: 'Confirm uninstall' }).click();
      await row.waitFor({ state: 'detached', timeout: 60_000 });
      await page.goto(`${base}/`);
      await allApps().locator('[data-app-id="homepage:homepage:sys"]').waitFor();
      assert.equal(await page.locator(`[data-app-id="${PROCESS}"]`).count(), 0);
      assert.equal(await page.locator('iframe[title="My First App"]').count(), 0);
    });
  });
});
