// homepage:homepage:sys — the node's homepage (hyperdrive/packages/homepage/homepage/src/lib.rs,
// API in homepage:sys-v2.wit; process_lib src/homepage.rs sends it Add and Remove). It serves the
// homepage page at `/` (its paths are not prefixed with its process ID) and keeps the apps that
// added themselves:
//   {"Add": {"label", "icon", "path", "widget"}}   the sender's entry (icon: a data: URL; path is
//                                                 put under /<process id>/; widget: HTML)
//   "Remove"                                      the sender's entry
//   {"RemoveOther": "<process id>"}               another's, with the RemoveOther capability
//                                                 attached (the App Store sends it on uninstall)
//   {"SetStylesheet": "<css>"}                    with the SetStylesheet capability
//   "GetApps" -> {"GetApps": [app…]}               "GetPushSubscription" -> {"PushSubscription": null}
// A Request without its capability is ignored, as in Hyperdrive. HTTP, as there: GET /apps,
// /version, POST /favorite [id, bool], POST /order [[id, n]…] (the order is the process's
// persisted state), /hyperware.css (unauthenticated, for apps' pages and widgets too) and
// /api/notifications/* passed on to notifications:distro:sys. Ours adds GET
// /api/notifications/list and POST /api/notifications/clear: what the node kept of the
// notifications processes sent (a fake node has no push service; see modules/notifications.ts).
// Like Hyperdrive's, the app list itself is not persisted: apps add themselves when they start.

import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import type { KeptNotification } from '../../modules/notifications.js';
import { type Capability, type KernelMessage, type ProcessId, parseJsonBytes, processIdToString, systemProcess } from '../../../core/types.js';
import { type IncomingHttp, jsonBlob, NativeHttp } from '../native-http.js';
import { nodeUiFile, serveNodePage } from '../node-ui.js';
import { CLOCK_WIDGET } from './clock.js';

export const HOMEPAGE_PROCESS: ProcessId = { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' };
const HOMEPAGE_ID = 'homepage:homepage:sys';
/** Hyperdrive's DEFAULT_FAVES: docked on every homepage. */
const DEFAULT_FAVES = ['main:app-store:sys', 'settings:settings:sys'];
/** The Hyperdrive release whose homepage this follows (GET /version). */
const FOLLOWS_VERSION = '1.9.2';
const STYLESHEET = '/homepage:sys/pkg/hyperware.css';
const PERSISTED_STYLESHEET = '/homepage:sys/pkg/persisted-hyperware.css';
const NOTIFICATIONS = systemProcess('notifications');

/** homepage:sys-v2.wit `app`, serialized as Hyperdrive does. */
export interface HomepageApp {
  id: string;
  process: string;
  package_name: string;
  publisher: string;
  path: string | null;
  label: string;
  base64_icon: string | null;
  widget: string | null;
  order: number;
  favorite: boolean;
}

export interface HomepageOptions {
  /** The process's persisted state (Hyperdrive's set_state/get_state): the app order. */
  state: { get(): Uint8Array | undefined; set(bytes: Uint8Array): void };
  /** What notifications:distro:sys kept, for the homepage to show. */
  notifications?: { recent(): KeptNotification[]; clearKept(): void };
}

/** Whether `caps` holds homepage's capability `kind` ("RemoveOther" or "SetStylesheet"). */
function holds(caps: Capability[], our: string, kind: string): boolean {
  return caps.some((c) => {
    if (c.issuer.node !== our || processIdToString(c.issuer.process) !== HOMEPAGE_ID) return false;
    try {
      return JSON.parse(c.params) === kind;
    } catch {
      return false;
    }
  });
}

const optionalString = (v: unknown): string | null | undefined => (v === undefined || v === null ? null : typeof v === 'string' ? v : undefined);

export function createHomepage(opts: HomepageOptions): NativeProcess {
  let kernel: KernelApi;
  let http: NativeHttp;
  /** Keyed by process ID, iterated in key order (Hyperdrive's BTreeMap). */
  const apps = new Map<string, HomepageApp>();
  let order: Record<string, number> = {};
  let ready: Promise<void> = Promise.resolve();
  const sorted = () => [...apps.keys()].sort().map((k) => apps.get(k) as HomepageApp);
  const enc = new TextEncoder();

  async function vfs(path: string, action: unknown, blob?: Uint8Array): Promise<Uint8Array | undefined> {
    const r = await kernel.request(HOMEPAGE_PROCESS, { node: kernel.our, process: systemProcess('vfs') }, JSON.stringify({ path, action }), {
      blob: blob && { bytes: blob },
      timeoutSecs: 5,
    });
    const body = parseJsonBytes(r.response.body);
    if (body && typeof body === 'object' && 'Err' in body) throw new Error(`vfs ${path}: ${JSON.stringify((body as { Err: unknown }).Err)}`);
    return r.blob?.bytes;
  }

  async function bindStylesheet(css: Uint8Array): Promise<void> {
    // Not authenticated, so that apps on subdomains (and widgets) can use it too.
    await http.bind('/hyperware.css', { authenticated: false, content: { bytes: css, mime: 'text/css; charset=utf-8' } });
  }

  async function setUp(): Promise<void> {
    try {
      const saved = opts.state.get();
      if (saved) order = JSON.parse(new TextDecoder().decode(saved)) as Record<string, number>;
    } catch {
      order = {};
    }
    await serveNodePage(http, 'index', '');
    for (const path of ['/version', '/apps', '/favorite', '/order']) await http.bind(path);
    for (const p of ['vapid-key', 'subscribe', 'unsubscribe', 'subscription-info', 'unsubscribe-all', 'test-vapid', 'list', 'clear'])
      await http.bind(`/api/notifications/${p}`);
    // The stylesheet: the user's (persisted) one if there is one, else the shipped one.
    await vfs('/homepage:sys/pkg', 'CreateDrive');
    let css: Uint8Array | undefined;
    try {
      css = await vfs(PERSISTED_STYLESHEET, 'Read');
    } catch {
      css = nodeUiFile('hyperware.css') ?? enc.encode(':root{}');
      await vfs(STYLESHEET, 'Write', css);
      await vfs(PERSISTED_STYLESHEET, 'Write', css);
    }
    await bindStylesheet(css ?? new Uint8Array());
    // As Hyperdrive's homepage, it puts a clock on itself.
    add(HOMEPAGE_PROCESS, { label: 'Clock', icon: null, path: null, widget: CLOCK_WIDGET });
  }

  function add(source: ProcessId, a: { label: string; icon: string | null; path: string | null; widget: string | null }): void {
    const id = processIdToString(source);
    apps.set(id, {
      id,
      process: source.processName,
      package_name: source.packageName,
      publisher: source.publisherNode,
      path: a.path === null ? null : `/${id}/${a.path.startsWith('/') ? a.path.slice(1) : a.path}`,
      label: a.label,
      base64_icon: a.icon,
      widget: a.widget,
      order: order[id] ?? apps.size,
      favorite: DEFAULT_FAVES.includes(id),
    });
  }

  function serveIpc(km: KernelMessage): void {
    if (km.message.tag !== 'request' || km.source.node !== kernel.our) return;
    let req: unknown;
    try {
      req = parseJsonBytes(km.message.val.body);
    } catch {
      req = undefined;
    }
    const answer = (body: unknown) => {
      if (km.message.tag === 'request' && (km.message.val.expectsResponse !== undefined || km.rsvp)) kernel.respond(HOMEPAGE_PROCESS, km, JSON.stringify(body));
    };
    const caps = km.message.val.capabilities;
    const from = processIdToString(km.source.process);
    if (req === 'Remove') {
      apps.delete(from);
      delete order[from];
      return;
    }
    if (req === 'GetApps') {
      answer({ GetApps: sorted() });
      return;
    }
    if (req === 'GetPushSubscription') {
      answer({ PushSubscription: null });
      return;
    }
    const r = (req && typeof req === 'object' ? req : {}) as Record<string, unknown>;
    if ('Add' in r) {
      const a = (r.Add ?? {}) as Record<string, unknown>;
      const icon = optionalString(a.icon);
      const path = optionalString(a.path);
      const widget = optionalString(a.widget);
      if (typeof a.label !== 'string' || icon === undefined || path === undefined || widget === undefined) {
        kernel.print(1, `homepage: ignoring a malformed Add from ${from}: expected {"Add": {"label": string, "icon", "path", "widget": string or null}}`);
        return;
      }
      add(km.source.process, { label: a.label, icon, path, widget });
      return;
    }
    if ('RemoveOther' in r && typeof r.RemoveOther === 'string') {
      if (!holds(caps, kernel.our, 'RemoveOther')) {
        kernel.print(1, `homepage: ignoring RemoveOther from ${from}, which did not attach the RemoveOther capability`);
        return;
      }
      apps.delete(r.RemoveOther);
      delete order[r.RemoveOther];
      return;
    }
    if ('SetStylesheet' in r && typeof r.SetStylesheet === 'string') {
      if (!holds(caps, kernel.our, 'SetStylesheet')) {
        kernel.print(1, `homepage: ignoring SetStylesheet from ${from}, which did not attach the SetStylesheet capability`);
        return;
      }
      const css = enc.encode(r.SetStylesheet);
      void vfs(PERSISTED_STYLESHEET, 'Write', css)
        .then(() => bindStylesheet(css))
        .catch((e) => kernel.print(0, `homepage: could not set the stylesheet: ${(e as Error).message}`));
      return;
    }
    kernel.print(1, `homepage: ignoring a request that is not a homepage request from ${from}`);
  }

  /** Pass a request on to notifications:distro:sys and give its answer back. */
  async function notifications(action: unknown): Promise<unknown> {
    const r = await kernel.request(HOMEPAGE_PROCESS, { node: kernel.our, process: NOTIFICATIONS }, JSON.stringify(action), { timeoutSecs: 5 });
    return parseJsonBytes(r.response.body);
  }

  async function serveHttp(km: KernelMessage, req: IncomingHttp): Promise<void> {
    const method = req.method.toUpperCase();
    const body = jsonBlob(km);
    const fail = (error: string) => http.respond(km, 500, { error });
    switch (req.bound_path) {
      case '/apps':
        return http.respond(km, 200, sorted());
      case '/version':
        return http.respond(km, 200, FOLLOWS_VERSION);
      case '/favorite': {
        if (method !== 'POST') return http.respond(km, 405);
        const t = body as [unknown, unknown] | undefined;
        if (!Array.isArray(t) || t.length !== 2 || typeof t[0] !== 'string' || typeof t[1] !== 'boolean') return http.respond(km, 400);
        const app = apps.get(t[0]);
        if (app) app.favorite = t[1];
        return http.respond(km, 200);
      }
      case '/order': {
        if (method !== 'POST') return http.respond(km, 405);
        const list = body as Array<[unknown, unknown]> | undefined;
        if (!Array.isArray(list) || !list.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1]) && (e[1] as number) >= 0))
          return http.respond(km, 400);
        for (const [id, n] of list as Array<[string, number]>) {
          const app = apps.get(id);
          if (app) app.order = n;
        }
        order = Object.fromEntries(list as Array<[string, number]>);
        opts.state.set(enc.encode(JSON.stringify(order)));
        return http.respond(km, 200);
      }
      case '/api/notifications/vapid-key':
      case '/api/notifications/test-vapid': {
        let r: unknown;
        try {
          r = await notifications('GetPublicKey');
        } catch {
          return fail('Failed to contact notifications server');
        }
        const key = (r as { PublicKey?: unknown } | null)?.PublicKey;
        if (typeof key !== 'string') return fail('Unexpected response from notifications service');
        if (req.bound_path.endsWith('vapid-key')) return http.respond(km, 200, { publicKey: key });
        return http.respond(km, 200, { publicKey: key, keyLength: key.length, note: 'Decode this key client-side to validate format' });
      }
      case '/api/notifications/subscribe':
      case '/api/notifications/unsubscribe':
      case '/api/notifications/subscription-info': {
        if (method !== 'POST') return http.respond(km, 405);
        if (!body || typeof body !== 'object') return http.respond(km, 400);
        const b = body as Record<string, unknown>;
        const kind = req.bound_path.slice('/api/notifications/'.length);
        if (kind !== 'subscribe' && typeof b.endpoint !== 'string') return http.respond(km, 400, { error: 'Missing endpoint in request body' });
        const action =
          kind === 'subscribe'
            ? { AddSubscription: { subscription: b } }
            : kind === 'unsubscribe'
              ? { RemoveSubscription: { endpoint: b.endpoint } }
              : { GetSubscription: { endpoint: b.endpoint } };
        let r: unknown;
        try {
          r = await notifications(action);
        } catch {
          return fail('Failed to contact notifications server');
        }
        if (r === 'SubscriptionAdded' || r === 'SubscriptionRemoved') return http.respond(km, 200, { success: true });
        if (r && typeof r === 'object' && 'SubscriptionInfo' in r) return http.respond(km, 200, { subscription: (r as { SubscriptionInfo: unknown }).SubscriptionInfo });
        if (r && typeof r === 'object' && 'Err' in r) return fail(`Failed to ${kind === 'subscribe' ? 'add' : 'remove'} subscription: ${JSON.stringify((r as { Err: unknown }).Err)}`);
        return fail('Unexpected response from notifications service');
      }
      case '/api/notifications/unsubscribe-all': {
        if (method !== 'POST') return http.respond(km, 405);
        try {
          if ((await notifications('ClearSubscriptions')) !== 'SubscriptionsCleared') return fail('Unexpected response from notifications service');
        } catch {
          return fail('Failed to contact notifications server');
        }
        return http.respond(km, 200, { success: true });
      }
      case '/api/notifications/list':
        return http.respond(km, 200, opts.notifications?.recent() ?? []);
      case '/api/notifications/clear':
        if (method !== 'POST') return http.respond(km, 405);
        opts.notifications?.clearKept();
        return http.respond(km, 200, { success: true });
    }
    return http.respond(km, 404);
  }

  return {
    id: HOMEPAGE_PROCESS,
    start(k) {
      kernel = k;
      http = new NativeHttp(k, HOMEPAGE_PROCESS);
      ready = setUp().catch((e) => k.print(0, `homepage: could not set up: ${(e as Error).message}`));
    },
    async handle(km) {
      await ready;
      const req = http.parse(km);
      if (!req) return serveIpc(km);
      if (http.track(req) || !('Http' in req)) return;
      await serveHttp(km, req.Http);
    },
  };
}
