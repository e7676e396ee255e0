// Serving a package's web UI from its `pkg` drive, as hyperware_process_lib's `serve_ui` does:
// every file under `/<package>:<publisher>/pkg/<directory>` is bound (cached, so http-server
// answers GETs itself) at its path relative to that folder, and index.html also at each of
// `roots` (default `/`). `kit build` puts a package's built UI in pkg/ui.

import { bindAction, type BindOptions } from './http-server.js';
import { callModule } from './call.js';
import { HttpServerError } from '../errors.js';
import { packageOf } from '../ids.js';
import { our } from '../message.js';
import { createDrive, readDir, readFile } from './vfs.js';
import { mimeFor } from '../../core/mime.js';

export { mimeFor };

function bindStatic(path: string, bytes: Uint8Array, mime: string, options: BindOptions): void {
  const { value } = callModule('http-server', bindAction(path, options, true), (err) => new HttpServerError('http-server', err, String(err)), {
    blob: { bytes, mime },
  });
  if (value === null || typeof value !== 'object' || !('Ok' in value))
    throw new HttpServerError('http-server', value, `binding ${path} failed: ${JSON.stringify(value)}`);
}

/**
 * Serve the UI in the package's `pkg/<directory>` (default `ui`). Authenticated by default, like
 * the book's serve_ui; returns the paths bound (relative to the process's prefix).
 */
export function serveUi(directory = 'ui', roots: string[] = ['/'], options: BindOptions = {}): string[] {
  const drive = createDrive(packageOf(our()), 'pkg');
  const top = `${drive}/${directory.replace(/^\/+|\/+$/g, '')}`;
  const prefix = top.slice(1); // readDir answers paths without the leading '/'
  const bound: string[] = [];
  const queue = [top];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    for (const entry of readDir(dir)) {
      const full = `/${entry.path}`;
      if (entry.file_type === 'Directory') {
        queue.push(full);
        continue;
      }
      if (entry.file_type !== 'File') continue;
      const rel = entry.path.startsWith(prefix) ? entry.path.slice(prefix.length) : `/${entry.path}`;
      const bytes = readFile(full);
      const mime = mimeFor(rel);
      if (rel === '/index.html') {
        for (const root of roots) {
          bindStatic(root, bytes, mime, options);
          bound.push(root);
        }
      }
      bindStatic(rel, bytes, mime, options);
      bound.push(rel);
    }
  }
  return bound;
}

/**
 * Serve one file of the package's `pkg` drive (e.g. `ui/index.html`) at each of `paths`, as
 * process_lib's `serve_file`: cached by http-server, authenticated by default.
 */
export function serveFile(filePath: string, paths: string[], options: BindOptions = {}): void {
  const drive = createDrive(packageOf(our()), 'pkg');
  const full = `${drive}/${filePath.replace(/^\/+/, '')}`;
  const bytes = readFile(full);
  for (const path of paths) bindStatic(path, bytes, mimeFor(full), options);
}
