// net:distro:sys's options, and how a PKI entry (HnsUpdate) becomes an Identity to dial.

import type { NetKey } from '../../../core/net-key.js';
import { defaultQuotas } from '../../quotas.js';
import { MAX_NOISE_MESSAGE } from './noise.js';
import type { Transport } from './peer.js';
import type { HnsUpdate, Identity } from './wire.js';

/** A connection must be able to hold one handshake message and one Noise message. */
const MIN_BUFFERED_BYTES = 2 * MAX_NOISE_MESSAGE;

export interface NetOptions {
  /** WebSocket port (`~ws-port`); 0 or absent picks a free one (reusing the last one of a persisted home if free). */
  port?: number;
  /** The node password, which encrypts the networking key in home. */
  password?: string;
  /** Interface to listen on (WebSocket and TCP); loopback by default. Hyperdrive listens on 0.0.0.0. */
  host?: string;
  /** Use this key instead of the one kept in home (`loadOrCreateNetKey`). */
  netKey?: NetKey;
  /**
   * TCP port (`~tcp-port`, hyperdrive/src/net/tcp); 0 picks a free one. Absent: no TCP listener,
   * as Hyperdrive's simulation-mode (fake) nodes, which publish a WebSocket port only. Nodes that
   * publish a TCP port are reached over TCP either way.
   */
  tcpPort?: number;
  /** Passthroughs served as a router (Hyperdrive's `--max-passthroughs`, 0 there). Default: ../../quotas.ts's. */
  maxPassthroughs?: number;
  /** Authenticated connections one node may hold with us at once; beyond, its oldest closes. Default: quotas.ts's. */
  maxConnectionsPerPeer?: number;
  /**
   * Bytes one connection may hold: queued before it is set up, a message being received, or
   * waiting to be sent to a peer that does not read (that message comes back Offline). Default:
   * quotas.ts's; below 10,485,800 the largest messages the network carries are refused.
   */
  maxBufferedBytes?: number;
}

/** The quotas and the routing limit, checked: a bad value is refused with what to set. */
export function netLimits(opts: NetOptions): { maxPassthroughs: number; maxConnectionsPerPeer: number; maxBufferedBytes: number } {
  const defaults = defaultQuotas();
  return {
    maxPassthroughs: atLeast(opts.maxPassthroughs, defaults.maxPassthroughs, 'maxPassthroughs', 0),
    maxConnectionsPerPeer: atLeast(opts.maxConnectionsPerPeer, defaults.maxConnectionsPerPeer, 'maxConnectionsPerPeer', 1),
    maxBufferedBytes: atLeast(opts.maxBufferedBytes, defaults.maxBufferedBytes, 'maxBufferedBytes', MIN_BUFFERED_BYTES),
  };
}

function atLeast(v: number | undefined, fallback: number, what: string, min: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min) throw new Error(`NetOptions.${what} must be an integer of at least ${min}, not ${v}`);
  return v;
}

export function identityFrom(u: HnsUpdate): Identity {
  const networkingKey = u.publicKey.replace(/^0x/, '').toLowerCase();
  // As Hyperdrive: any IP makes a direct node, else it is reached through its routers.
  if (u.ips.length > 0) return { name: u.name, networkingKey, routing: { direct: { ip: u.ips[0], ports: u.ports } } };
  return { name: u.name, networkingKey, routing: { routers: u.routers } };
}

/** The transport to reach a direct node with: TCP when it publishes a TCP port (connect.rs), else WebSocket. */
export function transportFor(id: Identity): Transport | undefined {
  if (!('direct' in id.routing)) return undefined;
  const ports = id.routing.direct.ports;
  return ports.tcp ? 'tcp' : ports.ws ? 'ws' : undefined;
}
