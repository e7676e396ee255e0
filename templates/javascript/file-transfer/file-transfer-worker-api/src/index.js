// What the file-transfer processes say to each other (api/file-transfer:template.os-v0.wit),
// and startDownload(), which hands one file's transfer to a new worker process.
// A library, not a process: it has no lib.js, so kit build bundles it into the processes that import it.
import {
  addressFromWitJson,
  addressToWitJson,
  ourCapabilities,
  ownWasmPath,
  packageOf,
  packageIdToString,
  Request,
  respondJson,
  spawn,
} from 'kit/process';

// The messages (JSON bodies):
//   to the main process:  "ListFiles"  ->  {"ListFiles": [{"name": "<vfs path>", "size": <bytes>}]}
//   to a main process or a worker:
//     {"Download": {"name": "<file>", "target": <address>, "is_requestor": <bool>}}
//         ->  {"Download": {"Ok": null}} or {"Download": {"Err": "<why>"}}
//     {"Progress": {"name": "<file>", "progress": <percent>}}  ->  "Progress" (if a response is expected)
//   between the two workers of a transfer: {"Size": <bytes>}, then {"Chunk": {"name", "offset", "length"}}
//   with the chunk's bytes in the blob.
// An <address> is {"node": "...", "process": {"process_name", "package_name", "publisher_node"}}.

export const WORKER_WASM = 'file-transfer-worker.wasm';
export const CHUNK_SIZE = 1024 * 1024;

/** The drive files are shared from and downloaded to: `/<package>:<publisher>/files`. */
export function filesDrive(our) {
  return `/${packageIdToString(packageOf(our))}/files`;
}

/** A file name is one path segment: no folders, no way out of the drive. */
export function isPlainName(name) {
  return name.length > 0 && !name.includes('/') && !name.includes('\\') && name !== '.' && name !== '..';
}

/**
 * Answer a Download request by starting a worker for it. On the requesting node the worker
 * fetches `request.target`'s copy; on the providing node (`is_requestor` false) it sends the
 * file to `source`, the requesting worker.
 */
export function startDownload(our, source, request) {
  let worker;
  try {
    worker = {
      node: our.node,
      process: spawn({ wasmPath: ownWasmPath(our, WORKER_WASM), requestCapabilities: ourCapabilities() }),
    };
  } catch (e) {
    respondJson({ Download: { Err: e instanceof Error ? e.message : String(e) } });
    return;
  }
  respondJson({ Download: { Ok: null } });
  const peer = request.is_requestor ? addressFromWitJson(request.target) : source;
  const job = {
    Download: { name: request.name, target: addressToWitJson(peer), is_requestor: request.is_requestor },
  };
  Request.to(worker).json(job).expectsResponse(5).send();
}
