// What the file-transfer processes say to each other (api/file-transfer:template.os-v0.wit),
// and startDownload(), which hands one file's transfer to a new worker process.
// A library, not a process: it has no lib.ts, so kit build bundles it into the processes that import it.
import {
  type Address,
  addressFromWitJson,
  addressToWitJson,
  ourCapabilities,
  ownWasmPath,
  packageOf,
  packageIdToString,
  Request,
  respondJson,
  spawn,
  type WitAddressJson,
} from 'kit/process';

export interface FileInfo {
  /** The file's VFS path, e.g. `file-transfer:template.os/files/a.txt`. */
  name: string;
  size: number;
}

export type TransferRequest = 'ListFiles';
export type TransferResponse = { ListFiles: FileInfo[] };

export interface DownloadRequest {
  name: string;
  target: WitAddressJson;
  is_requestor: boolean;
}

export interface ProgressRequest {
  name: string;
  progress: number;
}

export type WorkerRequest = { Download: DownloadRequest } | { Progress: ProgressRequest };
export type WorkerResponse = { Download: { Ok: null } | { Err: string } } | 'Progress';

/** Between the two workers of a transfer. */
export type InternalRequest = { Chunk: { name: string; offset: number; length: number } } | { Size: number };

export const WORKER_WASM = 'file-transfer-worker.wasm';
export const CHUNK_SIZE = 1024 * 1024;

/** The drive files are shared from and downloaded to: `/<package>:<publisher>/files`. */
export function filesDrive(our: Address): string {
  return `/${packageIdToString(packageOf(our))}/files`;
}

/** A file name is one path segment: no folders, no way out of the drive. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && !name.includes('/') && !name.includes('\\') && name !== '.' && name !== '..';
}

/**
 * Answer a Download request by starting a worker for it. On the requesting node the worker
 * fetches `request.target`'s copy; on the providing node (`is_requestor` false) it sends the
 * file to `source`, the requesting worker.
 */
export function startDownload(our: Address, source: Address, request: DownloadRequest): void {
  let worker: Address;
  try {
    worker = {
      node: our.node,
      process: spawn({ wasmPath: ownWasmPath(our, WORKER_WASM), requestCapabilities: ourCapabilities() }),
    };
  } catch (e) {
    respondJson({ Download: { Err: e instanceof Error ? e.message : String(e) } } satisfies WorkerResponse);
    return;
  }
  respondJson({ Download: { Ok: null } } satisfies WorkerResponse);
  const peer = request.is_requestor ? addressFromWitJson(request.target) : source;
  const job: WorkerRequest = {
    Download: { name: request.name, target: addressToWitJson(peer), is_requestor: request.is_requestor },
  };
  Request.to(worker).json(job).expectsResponse(5).send();
}
