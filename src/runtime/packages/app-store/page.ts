// The App Store page of main:app-store:sys (Hyperdrive's http_api.rs init_frontend): the page at
// /main:app-store:sys/ (ui/node's app-store page, bound the way http-api.ts binds the API), a
// WebSocket at its root that gets `{"kind": "progress" | "complete", "data": …}` as downloads
// advance and end (lib.rs: Progress and DownloadComplete), and the App Store's icon and widget on
// the homepage.

import type { KernelApi } from '../../kernel/api.js';
import type { KernelMessage, ProcessId } from '../../../core/types.js';
import { NativeHttp } from '../native-http.js';
import { serveNodePage } from '../node-ui.js';

const HOMEPAGE: ProcessId = { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' };
const PREFIX = '/main:app-store:sys';

// Our own icon: a shopping bag.
const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#2454ff"/><path d="M18 24h28l-2 26H20z" fill="#fff"/><path d="M25 24v-4a7 7 0 0 1 14 0v4" stroke="#fff" stroke-width="4" fill="none"/></svg>';
export const APP_STORE_ICON = `data:image/svg+xml;base64,${Buffer.from(ICON_SVG).toString('base64')}`;

/** The widget: the newest published packages, linking to their page in the App Store. */
const WIDGET = `<html>
<head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/hyperware.css">
<style>
body{margin:0;padding:.5rem 1rem;font-family:system-ui,sans-serif;overflow-y:auto}
h3{margin:.25rem 0 .5rem}a{display:block;padding:.4rem 0;border-bottom:1px solid #8883;color:inherit;text-decoration:none}
a:hover{text-decoration:underline}small{display:block;opacity:.7}
</style>
</head>
<body>
<h3>Published apps</h3>
<div id="apps">Loading…</div>
<script>
fetch('${PREFIX}/apps', { credentials: 'include' }).then(function (r) { return r.json(); }).then(function (apps) {
  var box = document.getElementById('apps');
  box.textContent = apps.length ? '' : 'Nothing is published on this chain yet.';
  apps.slice(0, 8).forEach(function (app) {
    var id = app.package_id.package_name + ':' + app.package_id.publisher_node;
    var a = document.createElement('a');
    a.href = '${PREFIX}/#/app/' + id;
    a.textContent = (app.metadata && app.metadata.name) || id;
    var s = document.createElement('small');
    s.textContent = (app.metadata && app.metadata.description) || id;
    a.appendChild(s);
    // The homepage opens it (a sandboxed widget may not navigate the page itself).
    a.addEventListener('click', function (e) { e.preventDefault(); window.parent.postMessage({ type: 'HW_LINK_CLICKED', url: a.getAttribute('href') }, '*'); });
    box.appendChild(a);
  });
}).catch(function (e) { document.getElementById('apps').textContent = 'Could not list apps: ' + e; });
</script>
</body>
</html>`;

export class StorePage {
  private readonly http: NativeHttp;

  constructor(
    private readonly kernel: KernelApi,
    private readonly id: ProcessId,
  ) {
    this.http = new NativeHttp(kernel, id);
  }

  /** Bind the page and its WebSocket, and put the App Store on the homepage. */
  async start(): Promise<void> {
    await serveNodePage(this.http, 'app-store', PREFIX);
    await this.http.bindWebSocket('/');
    this.kernel.tell(this.id, { node: this.kernel.our, process: HOMEPAGE }, JSON.stringify({ Add: { label: 'App Store', icon: APP_STORE_ICON, path: '/', widget: WIDGET } }));
  }

  /** A WebSocket opening or closing on the page's socket: true when `km` was one. */
  track(km: KernelMessage): boolean {
    const req = this.http.parse(km);
    return !!req && this.http.track(req);
  }

  /** Tell the open pages how a download advances (downloads' Progress) or ended (DownloadComplete). */
  push(kind: 'progress' | 'complete', data: unknown): void {
    this.http.pushAll(JSON.stringify({ kind, data }));
  }
}
