// notifications:distro:sys from inside a component, with the shapes of Hyperdrive's
// lib/src/notifications.rs (NotificationsAction / NotificationsResponse) and the behaviour of
// hyperdrive/src/notifications.rs: VAPID keys made on first use, subscriptions kept by endpoint.
// What a fake node does instead of pushing (it keeps what is sent, for the homepage) is checked
// through the homepage's HTTP API.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootConformanceNode, type ConformanceNode, PUBLISHER } from './harness.js';

const NOTIFICATIONS = 'notifications:distro:sys';
const MONTH_MS = 30 * 24 * 60 * 60 * 1000;

const subscription = (endpoint: string, created_at: number) => ({ endpoint, keys: { p256dh: 'BPk', auth: 'c2VjcmV0' }, created_at });

describe('conformance: notifications', { timeout: 180_000 }, () => {
  let c: ConformanceNode;
  const driver = () => c.driver('driver', 'notify-conf');
  const ask = (body: unknown) => driver().json(NOTIFICATIONS, body);

  before(async () => {
    c = await bootConformanceNode([
      {
        name: 'notify-conf',
        processes: [
          // notifications answers: its Response needs the grant (as homepage's manifest grants it).
          { name: 'driver', request_capabilities: ['http-server:distro:sys', NOTIFICATIONS], grant_capabilities: ['http-server:distro:sys', NOTIFICATIONS] },
          { name: 'stranger', request_capabilities: ['http-server:distro:sys'], grant_capabilities: ['http-server:distro:sys'] },
        ],
      },
    ]);
  });
  after(async () => {
    await c?.stop();
  });

  it('GetPublicKey makes the VAPID keys on first use and answers the same key after (VapidKeys::generate: 65-byte uncompressed P-256 point, base64url)', async () => {
    const first = (await ask('"GetPublicKey"')) as { PublicKey: string };
    const raw = Buffer.from(first.PublicKey, 'base64url');
    assert.equal(raw.length, 65);
    assert.equal(raw[0], 0x04);
    assert.doesNotMatch(first.PublicKey, /[=+/]/, 'URL_SAFE_NO_PAD');
    assert.deepEqual(await ask('"GetPublicKey"'), first);
  });

  it('InitializeKeys answers "KeysInitialized" and replaces the keys', async () => {
    const before = (await ask('"GetPublicKey"')) as { PublicKey: string };
    assert.equal(await ask('"InitializeKeys"'), 'KeysInitialized');
    const after = (await ask('"GetPublicKey"')) as { PublicKey: string };
    assert.notEqual(after.PublicKey, before.PublicKey);
  });

  it('AddSubscription / GetSubscription / RemoveSubscription / ClearSubscriptions as the real module keeps them', async () => {
    assert.equal(await ask({ AddSubscription: { subscription: subscription('https://push.example/1', 0) } }), 'SubscriptionAdded');
    const info = (await ask({ GetSubscription: { endpoint: 'https://push.example/1' } })) as { SubscriptionInfo: { created_at: number } };
    // created_at 0 is set to now, in milliseconds.
    assert.ok(Math.abs(info.SubscriptionInfo.created_at - Date.now()) < 60_000, JSON.stringify(info));
    assert.deepEqual(info, { SubscriptionInfo: subscription('https://push.example/1', info.SubscriptionInfo.created_at) });
    // The same endpoint again replaces it.
    const now = Date.now();
    assert.equal(await ask({ AddSubscription: { subscription: subscription('https://push.example/1', now) } }), 'SubscriptionAdded');
    assert.deepEqual(await ask({ GetSubscription: { endpoint: 'https://push.example/1' } }), { SubscriptionInfo: subscription('https://push.example/1', now) });
    assert.equal(await ask({ RemoveSubscription: { endpoint: 'https://push.example/1' } }), 'SubscriptionRemoved');
    assert.deepEqual(await ask({ GetSubscription: { endpoint: 'https://push.example/1' } }), { SubscriptionInfo: null });
    // Removing what is not there answers the same.
    assert.equal(await ask({ RemoveSubscription: { endpoint: 'https://push.example/nothing' } }), 'SubscriptionRemoved');
    assert.equal(await ask({ AddSubscription: { subscription: subscription('https://push.example/2', now) } }), 'SubscriptionAdded');
    assert.equal(await ask('"ClearSubscriptions"'), 'SubscriptionsCleared');
    assert.deepEqual(await ask({ GetSubscription: { endpoint: 'https://push.example/2' } }), { SubscriptionInfo: null });
  });

  it('a subscription older than a month is dropped when another is added', async () => {
    const old = Date.now() - MONTH_MS - 60_000;
    assert.equal(await ask({ AddSubscription: { subscription: subscription('https://push.example/old', old) } }), 'SubscriptionAdded');
    // The old one itself was pruned at once: it is older than a month.
    assert.deepEqual(await ask({ GetSubscription: { endpoint: 'https://push.example/old' } }), { SubscriptionInfo: null });
  });

  it('SendNotification answers "NotificationSent"; the node keeps it, with its sender, and the homepage lists it', async () => {
    const sent = await ask({ SendNotification: { title: 'Build done', body: 'my-app built in 9 s', icon: null, data: { run: 7 } } });
    assert.equal(sent, 'NotificationSent');
    const base = c.node.url;
    const login = await fetch(`${base}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const list = (await (await fetch(`${base}/api/notifications/list`, { headers: { cookie } })).json()) as Array<Record<string, unknown>>;
    assert.equal(list.length, 1);
    assert.equal(list[0].title, 'Build done');
    assert.equal(list[0].body, 'my-app built in 9 s');
    assert.equal(list[0].source, `driver:notify-conf:${PUBLISHER}`);
    assert.deepEqual(list[0].data, { run: 7 });
    // The homepage's own notification endpoints pass the real requests on.
    const key = (await (await fetch(`${base}/api/notifications/vapid-key`, { headers: { cookie } })).json()) as { publicKey: string };
    assert.deepEqual(await ask('"GetPublicKey"'), { PublicKey: key.publicKey });
  });

  it('a body that is no NotificationsAction is answered {"Err": {"BadJson": …}} (Hyperdrive drops the error; we answer it)', async () => {
    const r = (await ask('{"SendNotification": {"body": "no title"}}')) as { Err: { BadJson: { error: string } } };
    assert.match(r.Err.BadJson.error, /title/);
    const r2 = (await ask('not json')) as { Err: { BadJson: { error: string } } };
    assert.match(r2.Err.BadJson.error, /parse into NotificationsAction failed/);
  });

  it('a notification bigger than a push payload (4 KB) is refused with BadRequest, and not kept', async () => {
    const r = (await ask({ SendNotification: { title: 'big', body: 'x'.repeat(5000), icon: null, data: null } })) as { Err: { BadRequest: { error: string } } };
    assert.match(r.Err.BadRequest.error, /at most 4096 bytes/);
  });

  it('notifications is not public: a process without its capability is refused by the kernel', async () => {
    const r = await c.driver('stranger', 'notify-conf').send(NOTIFICATIONS, '"GetPublicKey"');
    assert.ok('sendError' in r, JSON.stringify(r));
  });
});
