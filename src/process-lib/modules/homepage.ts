// Client for `homepage:homepage:sys`, as process_lib's `homepage` module (src/homepage.rs). The
// process needs the `homepage:homepage:sys` messaging capability (its manifest's
// request_capabilities). Both calls are fire-and-forget, as in process_lib: the homepage answers
// nothing, and a malformed entry is ignored there.

import { jsonBody } from '../json.js';
import { our, Request } from '../message.js';

function homepage() {
  return { node: our().node, process: { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' } };
}

/**
 * Put this process on the node's homepage: `label` under All Apps, with `icon` (an image as a
 * `data:` URL, e.g. `data:image/png;base64,…`), linking to `path` under the process's own prefix
 * (`/` opens `/<process id>/`), and `widget`, HTML shown in a sandboxed iframe. Call it at start:
 * the homepage does not keep its list across a node's restart.
 */
export function addToHomepage(label: string, icon?: string | null, path?: string | null, widget?: string | null): void {
  Request.to(homepage())
    .body(jsonBody({ Add: { label, icon: icon ?? null, path: path ?? null, widget: widget ?? null } }))
    .send();
}

/** Take this process off the homepage. */
export function removeFromHomepage(): void {
  Request.to(homepage()).body(jsonBody('Remove')).send();
}
