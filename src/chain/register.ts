// Fake-node registration (interop §5.4, adapted): mint the node's name under its parent with
// `~net-key` and either `~ip` + `~ws-port` (direct) or `~routers` (indirect), all in one
// transaction: parent TBA -> Hypermap.mint with an initialization that DELEGATECALLs Multicall3
// to write the notes as the new TBA (Hyperdrive's fakenet.rs sends the same mint straight to the
// `os` account; kit goes through `execute` so any parent anvil #0 owns will do). A name already there is updated through its own TBA, unless
// another networking key holds it.

import { Socket } from 'node:net';
import { encodeFunctionData, type Hex, stringToHex, zeroAddress } from 'viem';
import { chainClients } from './deploy.js';
import {
  accountAbi,
  ANVIL_OWNER,
  encodeIpv4,
  encodePort,
  encodeRouters,
  HYPERACCOUNT_IMPL,
  HYPERMAP,
  hypermapAbi,
  MULTICALL3,
  multicallAbi,
  namehash,
} from '../core/hypermap.js';

export class NameTakenError extends Error {
  override name = 'NameTakenError';
  constructor(readonly nodeName: string) {
    super(
      `the name ${nodeName} is already registered on the chain with another networking key; pick another name with --fake-node-name, or boot with --persist and the home that holds its key`,
    );
  }
}

export class RegistrationError extends Error {
  override name = 'RegistrationError';
}

export interface RegisterOptions {
  chainUrl: string;
  /** Full node name, e.g. "fake.dev". */
  name: string;
  /** 32-byte Ed25519 public key, hex without 0x. */
  publicKeyHex: string;
  /** Direct node: our IP (default 127.0.0.1) and WS port; omitted port -> no `~ws-port` note. */
  ip?: string;
  wsPort?: number;
  /** Indirect node: router names (then no `~ip`/port notes). */
  routers?: string[];
  /** Whether the node that holds the name now is up; default: its `~ip`:`~ws-port` accepts TCP. */
  isAlive?: (ip: string | undefined, port: number | undefined) => Promise<boolean>;
}

export interface Registration {
  tba: Hex;
  /** False when the name existed and only its notes were rewritten. */
  minted: boolean;
  blockNumber: bigint;
}

export async function registerName(opts: RegisterOptions): Promise<Registration> {
  const c = chainClients(opts.chainUrl);
  const get = async (name: string) => {
    const [tba, owner, data] = await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(name)] });
    return { tba, owner, data };
  };
  const dot = opts.name.indexOf('.');
  if (dot <= 0) throw new RegistrationError(`node name ${opts.name} needs a parent, e.g. ${opts.name}.dev`);
  const label = opts.name.slice(0, dot);
  const parentName = opts.name.slice(dot + 1);
  const key = `0x${opts.publicKeyHex.toLowerCase()}` as Hex;
  if (key.length !== 66) throw new RegistrationError('the networking key must be 32 bytes');

  const note = (l: string, data: Hex) => ({
    target: HYPERMAP,
    callData: encodeFunctionData({ abi: hypermapAbi, functionName: 'note', args: [stringToHex(l), data] }),
  });
  // Hyperdrive's order (fakenet.rs): ~ip, ~ws-port, then ~net-key.
  const calls = [];
  if (opts.routers && opts.routers.length > 0) {
    calls.push(note('~routers', encodeRouters(opts.routers)));
  } else {
    calls.push(note('~ip', encodeIpv4(opts.ip ?? '127.0.0.1')));
    if (opts.wsPort !== undefined) calls.push(note('~ws-port', encodePort(opts.wsPort)));
  }
  calls.push(note('~net-key', key));
  const init = encodeFunctionData({
    abi: accountAbi,
    functionName: 'execute',
    args: [MULTICALL3, 0n, encodeFunctionData({ abi: multicallAbi, functionName: 'aggregate', args: [calls] }), 1],
  });

  const existing = await get(opts.name);
  let to: Hex;
  let data: Hex;
  let minted: boolean;
  if (existing.tba !== zeroAddress) {
    if (existing.owner.toLowerCase() !== ANVIL_OWNER.toLowerCase()) throw new NameTakenError(opts.name);
    const onchainKey = (await get(`~net-key.${opts.name}`)).data;
    if (onchainKey !== '0x' && onchainKey.toLowerCase() !== key) {
      // Another key holds the name. If that node is still up, refuse; a leftover of a node that is
      // gone (fake-node homes are wiped on exit) is taken over, as the real kit always does.
      const ip = (await get(`~ip.${opts.name}`)).data;
      const port = (await get(`~ws-port.${opts.name}`)).data;
      if (await (opts.isAlive ?? reachable)(decodeIp(ip), decodePort(port))) throw new NameTakenError(opts.name);
    }
    to = existing.tba;
    data = init;
    minted = false;
  } else {
    const parent = await get(parentName);
    if (parent.tba === zeroAddress) {
      throw new RegistrationError(`cannot register ${opts.name}: its parent ${parentName} is not on the chain (the fake chain mints os and dev)`);
    }
    const mint = encodeFunctionData({ abi: hypermapAbi, functionName: 'mint', args: [ANVIL_OWNER, stringToHex(label), init, HYPERACCOUNT_IMPL] });
    to = parent.tba;
    data = encodeFunctionData({ abi: accountAbi, functionName: 'execute', args: [HYPERMAP, 0n, mint, 0] });
    minted = true;
  }
  // anvil #0 is unlocked: anvil assigns the nonce, so nodes registering at once do not collide.
  const hash = await c.wallet.sendTransaction({ to, data, gas: 2_000_000n });
  const receipt = await c.public.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (receipt.status !== 'success') {
    // Two nodes racing for one name: the loser's mint reverts.
    if (minted && (await get(opts.name)).tba !== zeroAddress) throw new NameTakenError(opts.name);
    throw new RegistrationError(`registering ${opts.name} failed (transaction ${hash} reverted)`);
  }
  const tba = (await get(opts.name)).tba;
  return { tba, minted, blockNumber: receipt.blockNumber };
}

function decodeIp(data: Hex): string | undefined {
  return data.length === 10 ? [2, 4, 6, 8].map((i) => Number.parseInt(data.slice(i, i + 2), 16)).join('.') : undefined;
}

function decodePort(data: Hex): number | undefined {
  return data.length === 6 ? Number.parseInt(data.slice(2), 16) : undefined;
}

function reachable(ip: string | undefined, port: number | undefined): Promise<boolean> {
  if (!ip || !port) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, ip, () => done(true));
  });
}
