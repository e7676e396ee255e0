// Acting as a router (hyperdrive/src/net/utils.rs create_passthrough): a node that opens a
// connection to us with a RoutingRequest in clear wants us to join it to `target`. We do, within
// NetOptions.maxPassthroughs (Hyperdrive's --max-passthroughs; at the limit the oldest
// passthrough, pending or active, makes room):
// - when the target asked us for it already (the other half of a ConnectionRequest we sent), the
//   two connections are joined;
// - when the target is a direct node we can reach on the same transport, we connect to it and
//   join the two;
// - when the target is a node we route for (it connected with `proxy_request: true`), we send its
//   net a ConnectionRequest and wait for it to open the other half.
// Joined connections are piped as they come: the two ends run Noise through us, we see ciphertext.

import { ed25519 } from '@noble/curves/ed25519.js';
import type { Logger } from '../../../core/log.js';
import { CONNECT_TIMEOUT_MS, type Link } from './link.js';
import type { PeerConnection, Transport } from './peer.js';
import type { Identity, RoutingRequest } from './wire.js';
import { raiseWith } from '../../quotas.js';

export interface RouterEnv {
  our(): string;
  log(): Logger;
  identity(name: string): Identity | undefined;
  /** NetOptions.maxPassthroughs. */
  readonly maxPassthroughs: number;
  /** An open connection from `name` that asked us to route for it (`routing_for`). */
  routedPeer(name: string): PeerConnection | undefined;
  /** A raw connection to a direct node's advertised port for `transport`. */
  dial(id: Identity, transport: Transport): Promise<Link>;
  /** Ask `peer`'s net to open the other half of a passthrough for `from`. */
  sendConnectionRequest(peer: PeerConnection, from: string): void;
}

interface Pending {
  link: Link;
  since: number;
  timer: NodeJS.Timeout;
}

interface Active {
  since: number;
  links: [Link, Link];
}

const key = (from: string, target: string) => `${from} -> ${target}`;

export class Router {
  private readonly pending = new Map<string, Pending>();
  private readonly active = new Map<string, Active>();

  constructor(private readonly env: RouterEnv) {}

  /** Check a RoutingRequest (utils.rs validate_routing_request) and set up its passthrough. Throws why not. */
  async route(link: Link, rr: RoutingRequest): Promise<void> {
    const our = this.env.our();
    const from = this.env.identity(rr.source);
    if (!from) throw new Error(`routing request from unknown HNS name '${rr.source}'`);
    let ok = false;
    try {
      ok = ed25519.verify(rr.signature, new TextEncoder().encode(rr.target + our), Uint8Array.from(Buffer.from(from.networkingKey.replace(/^0x/, ''), 'hex')));
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`routing request from ${rr.source} has a bad signature`);
    const target = this.env.identity(rr.target);
    if (!target) throw new Error(`${rr.source} asked to be routed to unknown HNS name '${rr.target}'`);
    if (rr.target === rr.source) throw new Error(`${rr.source} asked to be routed to itself`);
    if (this.env.maxPassthroughs <= 0) {
      throw new Error(`passthrough for ${rr.source} denied: this node allows none (${raiseWith('maxPassthroughs')} allows some)`);
    }
    // Taken out before the count, so that the half that completes a pair is never refused.
    const reverse = this.pending.get(key(rr.target, rr.source));
    if (reverse) {
      this.pending.delete(key(rr.target, rr.source));
      clearTimeout(reverse.timer);
    }
    if (this.active.size + this.pending.size >= this.env.maxPassthroughs) this.evictOldest();
    if (reverse) {
      this.join(rr.target, rr.source, reverse.link, link);
      return;
    }
    const port = 'direct' in target.routing ? target.routing.direct.ports[link.transport] : undefined;
    if (port) {
      const other = await this.env.dial(target, link.transport);
      if (link.closed) {
        other.close(`${rr.source} left before its passthrough to ${rr.target} was up`);
        return;
      }
      this.join(rr.source, rr.target, link, other);
      return;
    }
    const peer = this.env.routedPeer(rr.target);
    if (!peer) throw new Error(`cannot route ${rr.source} to ${rr.target}: it is not a peer that asked us to route for it`);
    this.env.sendConnectionRequest(peer, rr.source);
    const k = key(rr.source, rr.target);
    this.pending.get(k)?.link.close('replaced by a newer routing request');
    const timer = setTimeout(() => {
      if (this.pending.get(k)?.link !== link) return;
      this.pending.delete(k);
      link.close(`${rr.target} did not answer a connection request for ${rr.source}`);
    }, CONNECT_TIMEOUT_MS);
    timer.unref?.();
    this.pending.set(k, { link, since: Date.now(), timer });
    link.onClose(() => {
      if (this.pending.get(k)?.link === link) {
        clearTimeout(timer);
        this.pending.delete(k);
      }
    });
  }

  private join(from: string, target: string, a: Link, b: Link): void {
    const k = key(from, target);
    const entry: Active = { since: Date.now(), links: [a, b] };
    this.active.set(k, entry);
    const done = () => {
      if (this.active.get(k) === entry) this.active.delete(k);
    };
    a.onClose(done);
    b.onClose(done);
    a.pipe(b);
  }

  private evictOldest(): void {
    let oldest: { k: string; since: number; active: boolean } | undefined;
    for (const [k, a] of this.active) if (!oldest || a.since < oldest.since) oldest = { k, since: a.since, active: true };
    for (const [k, p] of this.pending) if (!oldest || p.since < oldest.since) oldest = { k, since: p.since, active: false };
    if (!oldest) return;
    this.env.log().info(`net: at the limit of ${this.env.maxPassthroughs} passthroughs (${raiseWith('maxPassthroughs')} raises it): closing the oldest, ${oldest.k}`);
    if (oldest.active) {
      const a = this.active.get(oldest.k);
      this.active.delete(oldest.k);
      for (const l of a?.links ?? []) l.close('evicted: passthrough limit');
    } else {
      const p = this.pending.get(oldest.k);
      this.pending.delete(oldest.k);
      if (p) {
        clearTimeout(p.timer);
        p.link.close('evicted: passthrough limit');
      }
    }
  }

  /** The GetDiagnostics lines a router adds (hyperdrive/src/net/mod.rs). */
  diagnostics(): string[] {
    const lines: string[] = [];
    if (this.env.maxPassthroughs > 0) lines.push(`we allow ${this.env.maxPassthroughs} max passthroughs`);
    if (this.pending.size > 0) lines.push(`we have ${this.pending.size} pending passthroughs:`, ...[...this.pending.keys()].map((k) => `    ${k}`));
    if (this.active.size > 0) lines.push(`we have ${this.active.size} active passthroughs:`, ...[...this.active.keys()].map((k) => `    ${k}`));
    return lines;
  }

  stop(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.active.clear();
  }
}
