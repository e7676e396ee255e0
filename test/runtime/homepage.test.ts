// The homepage's and settings' HTTP APIs on a booted node, as their pages (and Hyperdrive's) call
// them: homepage:homepage:sys (hyperdrive/packages/homepage/homepage/src/lib.rs) — /apps, /order
// kept in the process state across a restart, /favorite, /version, /hyperware.css without a login,
// the /api/notifications/* endpoints passed on to notifications:distro:sys; settings:settings:sys
// (hyperdrive/packages/settings/settings/src/lib.rs) — GET /ask, POST /ask with settings requests,
// SetStylesheet reaching the homepage with its capability.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/core/log.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';

const quiet = createLogger({ terminal: null, file: null });

interface App {
  id: string;
  order: number;
  favorite: boolean;
}

async function login(base: string): Promise<string> {
  const r = await fetch(`${base}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
  return (r.headers.get('set-cookie') ?? '').split(';')[0];
}

describe('homepage and settings over HTTP', { timeout: 120_000 }, () => {
  let work: string;
  let node: RunningNode;
  let cookie: string;
  const boot = () => bootNode({ home: join(work, 'home'), port: 0, name: 'fake.dev', persist: true, log: quiet });
  const get = (path: string) => fetch(`${node.url}${path}`, { headers: { cookie } });
  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${node.url}${path}`, { method, headers: { cookie, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  /** The apps, once the App Store and Settings have added themselves. */
  const apps = async (): Promise<App[]> => {
    for (let i = 0; i < 200; i++) {
      const list = (await (await get('/apps')).json()) as App[];
      if (list.length >= 3) return list;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the App Store and Settings never added themselves to the homepage');
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-homepage-'));
    node = await boot();
    cookie = await login(node.url);
  });
  after(async () => {
    await node?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('GET /apps lists the Clock, the App Store and Settings; /version answers; /hyperware.css needs no login', async () => {
    const list = await apps();
    assert.deepEqual(
      list.map((a) => a.id),
      ['homepage:homepage:sys', 'main:app-store:sys', 'settings:settings:sys'],
    );
    assert.equal(await (await get('/version')).text(), '1.9.2');
    const css = await fetch(`${node.url}/hyperware.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  });

  it('POST /favorite [id, bool] docks an app; a malformed body is 400, another method 405', async () => {
    assert.equal((await post('/favorite', ['homepage:homepage:sys', true])).status, 200);
    assert.equal((await apps()).find((a) => a.id === 'homepage:homepage:sys')?.favorite, true);
    assert.equal((await post('/favorite', { id: 'x' })).status, 400);
    assert.equal((await get('/favorite')).status, 405);
  });

  it('POST /order [[id, n]…] reorders, and the order is the process state: it survives a restart', async () => {
    const order = [
      ['settings:settings:sys', 0],
      ['main:app-store:sys', 1],
      ['homepage:homepage:sys', 2],
    ];
    assert.equal((await post('/order', order)).status, 200);
    const byId = (list: App[]) => Object.fromEntries(list.map((a) => [a.id, a.order]));
    assert.deepEqual(byId(await apps()), Object.fromEntries(order));
    assert.equal((await post('/order', [['x', -1]])).status, 400);
    await node.stop();
    node = await boot();
    cookie = await login(node.url);
    assert.deepEqual(byId(await apps()), Object.fromEntries(order));
  });

  it('the notification endpoints pass the real requests on and answer as the real homepage', async () => {
    const key = (await (await get('/api/notifications/vapid-key')).json()) as { publicKey: string };
    assert.equal(Buffer.from(key.publicKey, 'base64url').length, 65);
    assert.deepEqual(await (await get('/api/notifications/test-vapid')).json(), {
      publicKey: key.publicKey,
      keyLength: key.publicKey.length,
      note: 'Decode this key client-side to validate format',
    });
    const sub = { endpoint: 'https://push.example/a', keys: { p256dh: 'k', auth: 'a' }, created_at: 1 };
    assert.deepEqual(await (await post('/api/notifications/subscribe', { ...sub, created_at: Date.now() })).json(), { success: true });
    const info = (await (await post('/api/notifications/subscription-info', { endpoint: sub.endpoint })).json()) as { subscription: { endpoint: string } };
    assert.equal(info.subscription.endpoint, sub.endpoint);
    assert.deepEqual(await (await post('/api/notifications/unsubscribe', { endpoint: sub.endpoint })).json(), { success: true });
    assert.deepEqual(await (await post('/api/notifications/subscription-info', { endpoint: sub.endpoint })).json(), { subscription: null });
    const missing = await post('/api/notifications/unsubscribe', {});
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), { error: 'Missing endpoint in request body' });
    assert.equal((await get('/api/notifications/subscribe')).status, 405);
    assert.deepEqual(await (await post('/api/notifications/unsubscribe-all', {})).json(), { success: true });
    assert.deepEqual(await (await get('/api/notifications/list')).json(), []);
  });

  it('settings: GET /ask is the state its page shows, gathered from net, eth and the kernel', async () => {
    const s = (await (await get('/settings:settings:sys/ask')).json()) as Record<string, unknown>;
    assert.equal(s.our, 'fake.dev@settings:settings:sys');
    assert.match(String(s.diagnostics), /fake\.dev/);
    assert.ok(Array.isArray(s.eth_rpc_providers));
    assert.equal(typeof (s.eth_rpc_access_settings as { public?: unknown }).public, 'boolean');
    assert.ok('homepage:homepage:sys' in (s.process_map as object));
    assert.deepEqual(s.peers, []);
    // No chain: no Hypermap entry.
    assert.equal(s.our_tba, '0x0000000000000000000000000000000000000000');
  });

  it('settings: POST /ask answers Ok(None) as an empty 200, errors as the SettingsError', async () => {
    const peer = await post('/settings:settings:sys/ask', { PeerId: 'nobody.dev' });
    assert.equal(peer.status, 200);
    assert.equal(await peer.text(), '');
    assert.equal(await (await post('/settings:settings:sys/ask', { Nope: 1 })).json(), 'MalformedRequest');
    assert.equal(await (await post('/settings:settings:sys/ask', { EthConfig: { AddProvider: { chain_id: 'x' } } })).json(), 'MalformedRequest');
  });

  it('settings: SetStylesheet writes the stylesheet and the homepage serves it (its SetStylesheet capability)', async () => {
    const css = 'body { color: rebeccapurple; }';
    assert.equal((await post('/settings:settings:sys/ask', { SetStylesheet: css })).status, 200);
    for (let i = 0; i < 200; i++) {
      if ((await (await fetch(`${node.url}/hyperware.css`)).text()) === css) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail('/hyperware.css never became the new stylesheet');
  });
});
