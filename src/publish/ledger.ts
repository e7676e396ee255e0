// `kit publish -l/--ledger`: the publish transaction signed by a Ledger's Ethereum app, on Ledger
// Live's first account (m/44'/60'/0'/0/0), as the real kit signs (alloy's LedgerHDPath::LedgerLive(0)).
// @ledgerhq/hw-app-eth speaks the app's protocol and @ledgerhq/hw-transport-node-hid the USB; neither
// is installed with kit (together about 30 MB, and the transport is a native module that builds
// against libusb/libudev), so `kit publish -l` says how to add them next to kit. Tests pass a
// transport of their own (publish's `ledgerTransport`).

import { createRequire } from 'node:module';
import { type Hex, serializeTransaction, type TransactionSerializableEIP1559 } from 'viem';
import { kitRoot } from '../build/paths.js';
import { KitError } from '../cli/errors.js';

export const LEDGER_PATH = "44'/60'/0'/0/0";
const ETH_APP = '@ledgerhq/hw-app-eth';
const USB_TRANSPORT = '@ledgerhq/hw-transport-node-hid';

/** What hw-app-eth needs of a transport (a @ledgerhq/hw-transport instance). */
export interface LedgerTransport {
  close(): Promise<void>;
}

export interface HardwareSigner {
  address: Hex;
  signTransaction(tx: TransactionSerializableEIP1559): Promise<Hex>;
  close(): Promise<void>;
}

interface EthApp {
  getAddress(path: string, display?: boolean, chaincode?: boolean): Promise<{ address: string }>;
  signTransaction(path: string, rawTxHex: string, resolution: null): Promise<{ v: string; r: string; s: string }>;
}

export class LedgerError extends KitError {
  override name = 'LedgerError';
}

const require = createRequire(import.meta.url);

function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** What `--ledger` needs that is not installed here (hw-app-eth without a transport of our own, and the USB transport). */
function missingLedgerPackages(withUsb: boolean): string[] {
  return [ETH_APP, ...(withUsb ? [USB_TRANSPORT] : [])].filter((name) => !installed(name));
}

/** Before anything else is done: a LedgerError naming what to install, or undefined when `--ledger` can work. */
export function ledgerPackagesMissing(withUsb = true): LedgerError | undefined {
  const missing = missingLedgerPackages(withUsb);
  if (missing.length === 0) return undefined;
  let root = '<kit folder>';
  try {
    root = kitRoot();
  } catch {
    // keep the placeholder
  }
  const native = missing.includes(USB_TRANSPORT) ? ` (${USB_TRANSPORT} is a native module: it needs libusb and libudev headers, e.g. \`apt-get install libusb-1.0-0-dev libudev-dev\`)` : '';
  return new LedgerError(`--ledger needs ${missing.join(' and ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed with kit`, {
    hint: `install ${missing.length === 1 ? 'it' : 'them'} into kit's folder: \`npm install --prefix "${root}" --omit=dev --no-save ${missing.join(' ')}\`${native}; or publish with --keystore-path or --safe`,
  });
}

function loadEthApp(): new (transport: LedgerTransport) => EthApp {
  const missing = ledgerPackagesMissing(false);
  if (missing) throw missing;
  return (require(ETH_APP) as { default: new (t: LedgerTransport) => EthApp }).default;
}

async function openUsb(): Promise<LedgerTransport> {
  const missing = ledgerPackagesMissing(true);
  if (missing) throw missing;
  const mod = require(USB_TRANSPORT) as { default: { create(openTimeout?: number, listenTimeout?: number): Promise<LedgerTransport> } };
  try {
    return await mod.default.create(3_000, 15_000);
  } catch (e) {
    throw new LedgerError(`no Ledger found over USB: ${(e as Error).message}`, { cause: e, hint: 'connect and unlock the Ledger, and open its Ethereum app' });
  }
}

function deviceError(what: string, e: unknown): LedgerError {
  const err = e as Error & { statusCode?: number; statusText?: string };
  const status = err.statusCode === undefined ? '' : ` (status 0x${err.statusCode.toString(16)}${err.statusText ? ` ${err.statusText}` : ''})`;
  const hint =
    err.statusCode === 0x6985
      ? 'the transaction was rejected on the device'
      : err.statusCode === 0x6a80
        ? 'enable "Blind signing" in the Ethereum app\'s settings: Hypermap calls are not clear-signed'
        : 'unlock the Ledger and open its Ethereum app';
  return new LedgerError(`Ledger: ${what} failed: ${err.message}${status}`, { cause: e, hint });
}

/** A signer on the Ledger's first Ledger Live account; `transport` replaces USB (tests). */
export async function ledgerSigner(transport?: LedgerTransport): Promise<HardwareSigner> {
  const Eth = loadEthApp();
  const t = transport ?? (await openUsb());
  const eth = new Eth(t);
  let address: string;
  try {
    ({ address } = await eth.getAddress(LEDGER_PATH, false, false));
  } catch (e) {
    await t.close().catch(() => {});
    throw deviceError('reading the address', e);
  }
  return {
    address: address as Hex,
    async signTransaction(tx) {
      const unsigned = serializeTransaction(tx);
      let sig: { v: string; r: string; s: string };
      try {
        // null resolution: blind signing, and no request to Ledger's metadata service.
        sig = await eth.signTransaction(LEDGER_PATH, unsigned.slice(2), null);
      } catch (e) {
        throw deviceError('signing', e);
      }
      return serializeTransaction(tx, { r: `0x${sig.r.padStart(64, '0')}`, s: `0x${sig.s.padStart(64, '0')}`, yParity: Number.parseInt(sig.v, 16) });
    },
    close: () => t.close(),
  };
}
