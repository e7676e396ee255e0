// The node's own web pages (ui/node, built by Vite into dist/ui/node at `npm run build`): the
// homepage, the App Store page and the settings page. Each page is bound by the process that
// serves it, as Hyperdrive's serve_ui does: its HTML at `/` of the process and every built asset
// under `/assets/`, cached by http-server. One build serves all three: Vite writes relative asset
// URLs (`./assets/…`), which are made absolute here for the process's prefix.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mimeFor } from '../../core/mime.js';
import type { BindOptions, NativeHttp } from './native-http.js';

/** dist/src/runtime/packages -> dist/ui/node */
export const NODE_UI_DIR = fileURLToPath(new URL('../../../ui/node/', import.meta.url));

export type NodePage = 'index' | 'app-store' | 'settings';

interface UiFiles {
  pages: Map<string, string>;
  assets: Map<string, Uint8Array>;
}

let cached: UiFiles | undefined;

/** The built pages and assets, read once per node process; undefined when the UI was not built. */
export function nodeUiFiles(dir = NODE_UI_DIR): UiFiles | undefined {
  if (cached && dir === NODE_UI_DIR) return cached;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const pages = new Map<string, string>();
  for (const n of names) if (n.endsWith('.html')) pages.set(n.slice(0, -5), readFileSync(join(dir, n), 'utf8'));
  const assets = new Map<string, Uint8Array>();
  let assetNames: string[] = [];
  try {
    assetNames = readdirSync(join(dir, 'assets'));
  } catch {
    // a build without assets
  }
  for (const n of assetNames) assets.set(n, new Uint8Array(readFileSync(join(dir, 'assets', n))));
  const files = { pages, assets };
  if (dir === NODE_UI_DIR) cached = files;
  return files;
}

/** A static file of the build's root (e.g. hyperware.css), or undefined. */
export function nodeUiFile(name: string, dir = NODE_UI_DIR): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(join(dir, name)));
  } catch {
    return undefined;
  }
}

const notBuilt = (page: string) =>
  `<!doctype html><meta charset="utf-8"><title>${page}</title><p>This node's web UI was not built: run <code>npm run build</code> in kit's folder and boot the node again.</p>`;

/**
 * Bind `page` at `/` of the serving process and its assets under `/assets/`. `prefix` is where the
 * process's paths are served (`''` for the homepage, `/main:app-store:sys` for the App Store).
 */
export async function serveNodePage(http: NativeHttp, page: NodePage, prefix: string, opts: Omit<BindOptions, 'content'> = {}): Promise<void> {
  const files = nodeUiFiles();
  const html = files?.pages.get(page);
  const enc = new TextEncoder();
  if (!files || html === undefined) {
    await http.bind('/', { ...opts, content: { bytes: enc.encode(notBuilt(page)), mime: 'text/html; charset=utf-8' } });
    return;
  }
  const absolute = html.replaceAll('"./assets/', `"${prefix}/assets/`);
  await http.bind('/', { ...opts, content: { bytes: enc.encode(absolute), mime: 'text/html; charset=utf-8' } });
  for (const [name, bytes] of files.assets) await http.bind(`/assets/${name}`, { ...opts, content: { bytes, mime: mimeFor(name) } });
}
