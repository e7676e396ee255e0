// notifications:distro:sys — push notifications (hyperdrive/src/notifications.rs, the types in
// lib/src/notifications.rs). The same actions and answers as Hyperdrive: SendNotification ->
// "NotificationSent", GetPublicKey -> {"PublicKey": <VAPID P-256 key, base64url>} (made on first
// use), InitializeKeys -> "KeysInitialized", AddSubscription / RemoveSubscription /
// ClearSubscriptions / GetSubscription as the real module keeps them (a subscription older than 30
// days is dropped when another is added). Requests from other nodes are ignored, as there.
//
// A fake node has no push service to deliver to (that needs the browser vendor's servers on the
// internet), so instead it keeps every notification sent (the last 100, with the sender and the
// time) and the node's homepage shows them. Differences, on purpose: SendNotification is answered
// NotificationSent whether or not a browser subscribed (the homepage is always "subscribed"),
// where Hyperdrive answers nothing without keys or subscriptions; a body that is no
// NotificationsAction is answered {"Err": {"BadJson": …}} (Hyperdrive builds that error and drops
// it, so the caller times out); keys and subscriptions are kept in one state blob (Hyperdrive
// writes both under the same key, so one overwrites the other); a notification bigger than a push
// payload (4 KB) is refused with {"Err": {"BadRequest": …}} (Hyperdrive's push would fail later).

import { generateKeyPairSync } from 'node:crypto';
import type { KernelApi, NativeProcess } from '../kernel/api.js';
import { fromUtf8, type KernelMessage, parseJsonBytes, processIdToString, systemProcess } from '../../core/types.js';

export const NOTIFICATIONS_ID = systemProcess('notifications');
/** How many sent notifications a node keeps (the real homepage keeps 100 too). */
export const KEPT_NOTIFICATIONS = 100;
const MONTH_MS = 30 * 24 * 60 * 60 * 1000;
/** What a Web Push message may carry (RFC 8291 leaves 4 KB for the payload). */
const MAX_PAYLOAD_BYTES = 4096;

export interface PushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  created_at: number;
}

/** A notification a process sent, as the homepage shows it. */
export interface KeptNotification {
  id: number;
  /** The sender's process ID. */
  source: string;
  title: string;
  body: string;
  icon: string | null;
  data: unknown;
  /** Milliseconds since the epoch. */
  time: number;
}

interface VapidKeys {
  public_key: string;
  private_key: string;
}

interface Saved {
  vapid_keys: VapidKeys | null;
  subscriptions: PushSubscription[];
  kept: KeptNotification[];
}

export interface NotificationsModule extends NativeProcess {
  /** The notifications kept, newest first. */
  recent(): KeptNotification[];
  /** Forget the kept notifications (the homepage's "clear"). */
  clearKept(): void;
}

type NotificationsError =
  | { BadJson: { error: string } }
  | { KeyGenerationError: { error: string } }
  | { StateError: { error: string } }
  | { BadRequest: { error: string } };

class BadJson extends Error {}
class BadRequest extends Error {}

/** A P-256 key pair as the Web Push standard wants it: the raw uncompressed public point and the 32-byte scalar, base64url. */
export function generateVapidKeys(): VapidKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-65);
  const d = privateKey.export({ format: 'jwk' }).d as string;
  return { public_key: Buffer.from(raw).toString('base64url'), private_key: d };
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new BadJson(`${what} must be a string`);
  return v;
}

function parseSubscription(v: unknown): PushSubscription {
  const s = (v ?? {}) as Record<string, unknown>;
  const keys = (s.keys ?? {}) as Record<string, unknown>;
  if (typeof s.created_at !== 'number' || !Number.isInteger(s.created_at) || s.created_at < 0) throw new BadJson('subscription.created_at must be a u64');
  return {
    endpoint: str(s.endpoint, 'subscription.endpoint'),
    keys: { p256dh: str(keys.p256dh, 'subscription.keys.p256dh'), auth: str(keys.auth, 'subscription.keys.auth') },
    created_at: s.created_at,
  };
}

export function createNotifications(): NotificationsModule {
  let kernel: KernelApi;
  let saved: Saved = { vapid_keys: null, subscriptions: [], kept: [] };
  let nextId = 1;
  let ready: Promise<void> = Promise.resolve();
  const state = () => ({ node: kernel.our, process: systemProcess('state') });

  async function load(): Promise<void> {
    try {
      const r = await kernel.request(NOTIFICATIONS_ID, state(), JSON.stringify({ GetState: 'notifications:distro:sys' }), { timeoutSecs: 5 });
      if (r.blob) {
        const s = JSON.parse(fromUtf8(r.blob.bytes)) as Partial<Saved>;
        saved = { vapid_keys: s.vapid_keys ?? null, subscriptions: s.subscriptions ?? [], kept: s.kept ?? [] };
        nextId = Math.max(0, ...saved.kept.map((k) => k.id)) + 1;
      }
    } catch {
      kernel.print(2, 'notifications: no saved keys found in state, will generate on first use');
    }
  }

  function save(): void {
    kernel.tell(NOTIFICATIONS_ID, state(), JSON.stringify({ SetState: 'notifications:distro:sys' }), {
      blob: { mime: 'application/octet-stream', bytes: new TextEncoder().encode(JSON.stringify(saved)) },
    });
  }

  function keys(regenerate: boolean): VapidKeys {
    if (!saved.vapid_keys || regenerate) {
      saved.vapid_keys = generateVapidKeys();
      save();
    }
    return saved.vapid_keys;
  }

  /** One NotificationsAction; the answer to send. */
  function act(source: string, action: unknown): unknown {
    if (action === 'GetPublicKey') return { PublicKey: keys(false).public_key };
    if (action === 'InitializeKeys') {
      keys(true);
      return 'KeysInitialized';
    }
    if (action === 'ClearSubscriptions') {
      saved.subscriptions = [];
      save();
      return 'SubscriptionsCleared';
    }
    if (!action || typeof action !== 'object' || Array.isArray(action) || Object.keys(action).length !== 1)
      throw new BadJson(`expected a NotificationsAction (e.g. {"SendNotification": {"title", "body", "icon", "data"}}), got ${JSON.stringify(action)?.slice(0, 100)}`);
    const [variant, v] = Object.entries(action as Record<string, unknown>)[0];
    const f = (v ?? {}) as Record<string, unknown>;
    switch (variant) {
      case 'SendNotification': {
        const icon = f.icon ?? null;
        if (icon !== null && typeof icon !== 'string') throw new BadJson('icon must be a string or null');
        const kept: KeptNotification = {
          id: nextId++,
          source,
          title: str(f.title, 'title'),
          body: str(f.body, 'body'),
          icon,
          data: f.data ?? null,
          time: Date.now(),
        };
        // Push services take at most 4 KB of payload; a node keeping 100 of them stays small.
        const size = new TextEncoder().encode(JSON.stringify({ title: kept.title, body: kept.body, icon, data: kept.data })).length;
        if (size > MAX_PAYLOAD_BYTES)
          throw new BadRequest(`a notification's title, body, icon and data take at most ${MAX_PAYLOAD_BYTES} bytes as JSON (a push payload); this one takes ${size}`);
        saved.kept = [kept, ...saved.kept].slice(0, KEPT_NOTIFICATIONS);
        save();
        kernel.print(2, `notifications: kept "${kept.title}" from ${source} for the homepage (a fake node has no push service)`);
        return 'NotificationSent';
      }
      case 'AddSubscription': {
        const sub = parseSubscription(f.subscription);
        const now = Date.now();
        if (sub.created_at === 0) sub.created_at = now;
        const at = saved.subscriptions.findIndex((s) => s.endpoint === sub.endpoint);
        if (at >= 0) saved.subscriptions[at] = sub;
        else saved.subscriptions.push(sub);
        saved.subscriptions = saved.subscriptions.filter((s) => now - s.created_at <= MONTH_MS);
        save();
        return 'SubscriptionAdded';
      }
      case 'RemoveSubscription': {
        const endpoint = str(f.endpoint, 'endpoint');
        const before = saved.subscriptions.length;
        saved.subscriptions = saved.subscriptions.filter((s) => s.endpoint !== endpoint);
        if (saved.subscriptions.length < before) save();
        return 'SubscriptionRemoved';
      }
      case 'GetSubscription': {
        const endpoint = str(f.endpoint, 'endpoint');
        return { SubscriptionInfo: saved.subscriptions.find((s) => s.endpoint === endpoint) ?? null };
      }
      default:
        throw new BadJson(`unknown variant ${variant}`);
    }
  }

  async function handle(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    if (km.source.node !== kernel.our) {
      kernel.print(2, `notifications: got request from ${km.source.node}, but requests must come from our node ${kernel.our}`);
      return;
    }
    await ready;
    const wantsAnswer = km.message.val.expectsResponse !== undefined || km.rsvp !== undefined;
    let answer: unknown;
    try {
      let action: unknown;
      try {
        action = parseJsonBytes(km.message.val.body);
      } catch (e) {
        throw new BadJson(`parse into NotificationsAction failed: ${(e as Error).message}`);
      }
      answer = act(processIdToString(km.source.process), action);
    } catch (e) {
      const err: NotificationsError = e instanceof BadJson ? { BadJson: { error: e.message } } : { BadRequest: { error: (e as Error).message } };
      kernel.print(0, `notifications: error handling request: ${JSON.stringify(err)}`);
      answer = { Err: err };
    }
    if (wantsAnswer) kernel.respond(NOTIFICATIONS_ID, km, JSON.stringify(answer));
  }

  return {
    id: NOTIFICATIONS_ID,
    start(k) {
      kernel = k;
      ready = load();
    },
    handle,
    recent: () => saved.kept,
    clearKept() {
      saved.kept = [];
      save();
    },
  };
}
