// homepage:homepage:sys from inside a component, with the request shapes of homepage:sys-v2.wit
// (hyperdrive/packages/homepage/api/homepage:sys-v2.wit) as process_lib's homepage module sends
// them (process_lib src/homepage.rs: Add and Remove, fire-and-forget), and the answers and rules of
// hyperdrive/packages/homepage/homepage/src/lib.rs: the entry's id is the sender, its path is put
// under the sender's process ID, RemoveOther needs the RemoveOther capability attached, GetApps
// lists the apps by id.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HomepageApp } from '../../src/runtime/packages/homepage/index.js';
import { bootConformanceNode, type ConformanceNode, PUBLISHER } from './harness.js';

const HOMEPAGE = 'homepage:homepage:sys';
const A = `driver:homepage-conf:${PUBLISHER}`;


describe('conformance: homepage', { timeout: 180_000 }, () => {
  let c: ConformanceNode;
  const driver = () => c.driver('driver', 'homepage-conf');
  const apps = async (): Promise<HomepageApp[]> => ((await driver().json(HOMEPAGE, '"GetApps"')) as { GetApps: HomepageApp[] }).GetApps;
  /** Fire-and-forget, as process_lib's add_to_homepage (`.send()`); GetApps after it sees it (one mailbox, in order). */
  const tell = async (who: ReturnType<typeof driver>, body: unknown, attachAll = false) => {
    assert.deepEqual(await who.send(HOMEPAGE, body, { timeout: null, attachAll }), { sent: true });
  };

  before(async () => {
    c = await bootConformanceNode([
      {
        name: 'homepage-conf',
        processes: [
          // The homepage answers GetApps: its Response needs a grant (homepage's manifest).
          { name: 'driver', request_capabilities: ['http-server:distro:sys', HOMEPAGE], grant_capabilities: ['http-server:distro:sys', HOMEPAGE] },
          // The App Store's manifest asks for exactly this: homepage's RemoveOther capability.
          {
            name: 'remover',
            request_capabilities: ['http-server:distro:sys', HOMEPAGE, { process: HOMEPAGE, params: 'RemoveOther' }],
            grant_capabilities: ['http-server:distro:sys', HOMEPAGE],
          },
          // No homepage capability at all.
          { name: 'stranger', request_capabilities: ['http-server:distro:sys'], grant_capabilities: ['http-server:distro:sys'] },
        ],
      },
    ]);
  });
  after(async () => {
    await c?.stop();
  });

  it('Add keeps the sender as an app: id and names from the source, path under its process ID (lib.rs Request::Add)', async () => {
    await tell(driver(), { Add: { label: 'Driver', icon: 'data:image/png;base64,AAAA', path: '/', widget: '<html><body><h1>Hi</h1></body></html>' } });
    const mine = (await apps()).find((a) => a.id === A);
    assert.ok(mine, 'the app is listed');
    const others = (await apps()).filter((a) => a.id !== A).length;
    assert.deepEqual(mine, {
      id: A,
      process: 'driver',
      package_name: 'homepage-conf',
      publisher: PUBLISHER,
      path: `/${A}/`,
      label: 'Driver',
      base64_icon: 'data:image/png;base64,AAAA',
      widget: '<html><body><h1>Hi</h1></body></html>',
      // app_data.len() before the insert: the homepage's own Clock, the App Store, Settings.
      order: others,
      favorite: false,
    });
  });

  it('a path without a leading slash gets one; Add again replaces the entry; missing options are null', async () => {
    await tell(driver(), { Add: { label: 'Driver 2', path: 'api/ui' } });
    const list = await apps();
    const after = list.find((a) => a.id === A);
    assert.equal(after?.path, `/${A}/api/ui`);
    assert.equal(after?.label, 'Driver 2');
    assert.equal(after?.base64_icon, null);
    assert.equal(after?.widget, null);
    // Without a saved order the place is app_data.len() before the insert, which counts the old entry.
    assert.equal(after?.order, list.length);
  });

  it('GetApps lists by process ID, with the App Store and Settings docked by default (DEFAULT_FAVES)', async () => {
    const list = await apps();
    const ids = list.map((a) => a.id);
    assert.deepEqual(ids, [...ids].sort());
    assert.equal(list.find((a) => a.id === 'main:app-store:sys')?.favorite, true);
    assert.equal(list.find((a) => a.id === 'settings:settings:sys')?.favorite, true);
    assert.equal(list.find((a) => a.id === HOMEPAGE)?.label, 'Clock');
  });

  it('GetPushSubscription answers {"PushSubscription": null} (subscriptions live in notifications:distro:sys)', async () => {
    assert.deepEqual(await driver().json(HOMEPAGE, '"GetPushSubscription"'), { PushSubscription: null });
  });

  it('RemoveOther without the RemoveOther capability attached is ignored (lib.rs: "caps check")', async () => {
    const remover = c.driver('remover', 'homepage-conf');
    await tell(remover, { RemoveOther: A }); // holds it, but did not attach it
    assert.ok((await apps()).some((a) => a.id === A));
    await tell(driver(), { RemoveOther: 'settings:settings:sys' }, true); // attaches all it has: no RemoveOther among them
    assert.ok((await apps()).some((a) => a.id === 'settings:settings:sys'));
  });

  it('RemoveOther with the capability attached takes the other app off (what the App Store sends on uninstall)', async () => {
    const remover = c.driver('remover', 'homepage-conf');
    const held = await remover.capabilities();
    assert.ok(held.some((cap) => cap.issuer === `fake.dev@${HOMEPAGE}` && JSON.parse(cap.params) === 'RemoveOther'), JSON.stringify(held));
    await tell(remover, { RemoveOther: A }, true);
    assert.ok(!(await apps()).some((a) => a.id === A));
  });

  it('Remove takes the sender off; a malformed Add is ignored', async () => {
    await tell(driver(), { Add: { label: 'Back again', icon: null, path: null, widget: null } });
    assert.ok((await apps()).some((a) => a.id === A));
    await tell(driver(), '"Remove"');
    assert.ok(!(await apps()).some((a) => a.id === A));
    await tell(driver(), { Add: { icon: null } });
    assert.ok(!(await apps()).some((a) => a.id === A));
  });

  it('a process without the homepage capability cannot message it: the kernel refuses (homepage is not public)', async () => {
    const r = await c.driver('stranger', 'homepage-conf').send(HOMEPAGE, '"GetApps"');
    assert.ok('sendError' in r, JSON.stringify(r));
    assert.equal(r.sendError.kind, 'timeout');
    assert.ok(!(await apps()).some((a) => a.id === `stranger:homepage-conf:${PUBLISHER}`));
  });

  it('GET /apps answers the same list over HTTP, behind the login', async () => {
    const base = c.node.url;
    // Without a login, Hyperdrive's http-server answers the login page in its place.
    const anon = await fetch(`${base}/apps`);
    assert.match(anon.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await anon.text(), /type="password"/);
    const login = await fetch(`${base}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const r = await fetch(`${base}/apps`, { headers: { cookie } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), await apps());
  });
});
