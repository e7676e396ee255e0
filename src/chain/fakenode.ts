// What bootNode does with --fakechain-port: get a chain (start one if none answers), load or make
// the networking key, and register the node's name on Hypermap.

import { AnvilError } from './anvil.js';
import { ContractDeployError } from './deploy.js';
import { probeChain } from './rpc.js';
import { type Chain, ChainPortInUseError, chainUrl, startChain } from './start.js';
import { loadOrCreateNetKey, type NetKey } from '../core/net-key.js';
import { type Registration, registerName } from './register.js';

export class FakeChainUnavailableError extends Error {
  override name = 'FakeChainUnavailableError';
  constructor(
    readonly port: number,
    why: string,
    /** A chain answered on the port but is not usable (vs. none answers and none could start). */
    readonly answered = false,
  ) {
    super(
      answered
        ? `the chain on port ${port} cannot serve fake nodes: ${why}`
        : `no chain answers on port ${port} and kit could not start one (${why}); start one with \`kit chain -p ${port}\` in another terminal, or pass another --fakechain-port`,
    );
  }
}

export interface FakeNodeChainOptions {
  home: string;
  name: string;
  password: string;
  chainPort: number;
  /** The net module's WS port (direct node); without it no `~ws-port` note is written. */
  wsPort?: number;
  /** Indirect node: its routers. */
  routers?: string[];
  /** The net module's key; otherwise the one its key store keeps in home (made if absent). */
  netKey?: NetKey;
}

export interface FakeNodeChain {
  chain: Chain;
  netKey: NetKey;
  registration: Registration;
}

export async function connectFakeChain(port: number): Promise<Chain> {
  try {
    return await startChain({ port });
  } catch (e) {
    if (e instanceof ChainPortInUseError || e instanceof AnvilError || e instanceof ContractDeployError) {
      throw new FakeChainUnavailableError(port, (e as Error).message, e instanceof ContractDeployError && (await probeChain(chainUrl(port))) !== undefined);
    }
    throw e;
  }
}

export async function registerFakeNode(opts: FakeNodeChainOptions): Promise<FakeNodeChain> {
  const chain = await connectFakeChain(opts.chainPort);
  try {
    const netKey = opts.netKey ?? loadOrCreateNetKey(opts.home, opts.password);
    const registration = await registerName({
      chainUrl: chain.url,
      name: opts.name,
      publicKeyHex: netKey.publicKeyHex,
      wsPort: opts.wsPort,
      routers: opts.routers,
    });
    return { chain, netKey, registration };
  } catch (e) {
    await chain.stop();
    throw e;
  }
}
