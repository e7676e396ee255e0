// The shared type system of a node. The shapes are exactly jco's JS representation of
// hyperware.wit (camelCase records, `undefined` for none, `{tag, val}` variants, bigint u64),
// so values cross into and out of process workers with no conversion.

import { stringifyJsonExact } from './json.js';

export interface ProcessId {
  processName: string;
  packageName: string;
  publisherNode: string;
}

export interface PackageId {
  packageName: string;
  publisherNode: string;
}

export interface Address {
  node: string;
  process: ProcessId;
}

export interface LazyLoadBlob {
  mime?: string;
  bytes: Uint8Array;
}

export interface Capability {
  issuer: Address;
  /** A JSON document, encoded as a string. */
  params: string;
}

export interface Request {
  inherit: boolean;
  /** Seconds; undefined for fire-and-forget. */
  expectsResponse?: bigint;
  body: Uint8Array;
  metadata?: string;
  capabilities: Capability[];
}

export interface Response {
  inherit: boolean;
  body: Uint8Array;
  metadata?: string;
  capabilities: Capability[];
}

export type Message = { tag: 'request'; val: Request } | { tag: 'response'; val: [Response, Uint8Array | undefined] };

export type SendErrorKind = 'offline' | 'timeout';

export interface SendError {
  kind: SendErrorKind;
  target: Address;
  message: Message;
  lazyLoadBlob?: LazyLoadBlob;
}

export type OnExit =
  | { tag: 'none' }
  | { tag: 'restart' }
  | { tag: 'requests'; val: Array<[Address, Request, LazyLoadBlob | undefined]> };

/** What the kernel routes. `rsvp` is where a Response to this Request goes, if not the source. */
export interface KernelMessage {
  id: bigint;
  source: Address;
  target: Address;
  rsvp?: Address;
  message: Message;
  lazyLoadBlob?: LazyLoadBlob;
}

// ---------------------------------------------------------------------------
// Names

const PROCESS_OR_PACKAGE_NAME = /^[a-z0-9-]+$/;
const NODE_OR_PUBLISHER_NAME = /^[a-z0-9.-]+$/;

export class IdParseError extends Error {
  override name = 'IdParseError';
}

/** Hypermap-safe: package and process names use a-z, 0-9 and '-'; node and publisher names may add '.'. */
export function isSafeName(name: string, allowDots = false): boolean {
  return (allowDots ? NODE_OR_PUBLISHER_NAME : PROCESS_OR_PACKAGE_NAME).test(name);
}

export function isSafeProcessId(p: ProcessId): boolean {
  return isSafeName(p.processName) && isSafeName(p.packageName) && isSafeName(p.publisherNode, true);
}

/** Explains what a name may contain, for error messages. */
export function safeNameRule(allowDots = false): string {
  return allowDots
    ? "lowercase letters a-z, digits 0-9, '-' and '.'"
    : "lowercase letters a-z, digits 0-9 and '-' (no '.', no '_')";
}

export function parseProcessId(s: string): ProcessId {
  const parts = s.split(':');
  if (parts.length < 3) throw new IdParseError(`'${s}' is not a process ID: expected process:package:publisher`);
  if (parts.length > 3) throw new IdParseError(`'${s}' is not a process ID: too many ':' (expected process:package:publisher)`);
  if (parts.some((p) => p.length === 0)) throw new IdParseError(`'${s}' is not a process ID: empty segment`);
  return { processName: parts[0], packageName: parts[1], publisherNode: parts[2] };
}

export function parsePackageId(s: string): PackageId {
  const parts = s.split(':');
  if (parts.length !== 2 || parts.some((p) => p.length === 0))
    throw new IdParseError(`'${s}' is not a package ID: expected package:publisher`);
  return { packageName: parts[0], publisherNode: parts[1] };
}

export function parseAddress(s: string): Address {
  const at = s.indexOf('@');
  if (at <= 0 || s.indexOf('@', at + 1) !== -1)
    throw new IdParseError(`'${s}' is not an address: expected node@process:package:publisher`);
  return { node: s.slice(0, at), process: parseProcessId(s.slice(at + 1)) };
}

export function processIdToString(p: ProcessId): string {
  return `${p.processName}:${p.packageName}:${p.publisherNode}`;
}

export function packageIdToString(p: PackageId): string {
  return `${p.packageName}:${p.publisherNode}`;
}

export function addressToString(a: Address): string {
  return `${a.node}@${processIdToString(a.process)}`;
}

export function packageOf(p: ProcessId): PackageId {
  return { packageName: p.packageName, publisherNode: p.publisherNode };
}

export function sameProcess(a: ProcessId, b: ProcessId): boolean {
  return a.processName === b.processName && a.packageName === b.packageName && a.publisherNode === b.publisherNode;
}

export function sameAddress(a: Address, b: Address): boolean {
  return a.node === b.node && sameProcess(a.process, b.process);
}

/** `name:distro:sys`, the ID of a runtime module. */
export function systemProcess(name: string, pkg = 'distro', publisher = 'sys'): ProcessId {
  return { processName: name, packageName: pkg, publisherNode: publisher };
}

// ---------------------------------------------------------------------------
// Capabilities

/** Sorted-key JSON, so that capabilities compare by meaning, not by key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Identity of a capability: issuer plus params parsed as JSON (key order does not matter). */
/** Canonical params by their text: the same few (networking, messaging) are checked on every message. */
const canonicalParams = new Map<string, string>();

export function capabilityKey(cap: Capability): string {
  let params = canonicalParams.get(cap.params);
  if (params === undefined) {
    try {
      params = canonicalJson(JSON.parse(cap.params));
    } catch {
      params = cap.params;
    }
    if (canonicalParams.size >= 4096) canonicalParams.clear();
    canonicalParams.set(cap.params, params);
  }
  return `${addressToString(cap.issuer)} ${params}`;
}

export const MESSAGING_PARAMS = '"messaging"';
export const NETWORK_PARAMS = '"network"';

export function messagingCap(issuer: Address): Capability {
  return { issuer, params: MESSAGING_PARAMS };
}

// ---------------------------------------------------------------------------
// Bodies

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** JSON bytes; a bigint (a u64 above 2^53) is written as a bare integer, as serde writes a u64. */
export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(stringifyJsonExact(value));
}

export function parseJsonBytes<T = unknown>(b: Uint8Array): T {
  return JSON.parse(decoder.decode(b)) as T;
}

/** The largest message (body plus blob) that crosses the network: 10 MB, one WebSocket frame. */
// Message ids come from a pool filled 256 at a time: one getRandomValues per id was a
// measurable share of a process's per-message cost.
const idPool = new BigUint64Array(256);
let idNext = idPool.length;

/** A random u64, as message ids and unnamed processes' names are. */
export function randomU64(): bigint {
  if (idNext === idPool.length) {
    crypto.getRandomValues(idPool);
    idNext = 0;
  }
  return idPool[idNext++];
}

export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * The largest message the HTTP RPC takes for a process on this node. Local messages are not
 * bound by the network's frame: a package zip of several 12 MB components is larger than 10 MB.
 */
export const MAX_RPC_MESSAGE_BYTES = 48 * 1024 * 1024;
