// `kit publish -l/--ledger`: the publish transaction signed by a Ledger's Ethereum app, on Ledger
// Live's first account (m/44'/60'/0'/0/0), as the real kit signs (alloy's LedgerHDPath::LedgerLive(0)).
// @ledgerhq/hw-app-eth speaks the app's protocol; it is an optional dependency, loaded only here.
// The USB transport (@ledgerhq/hw-transport-node-hid) is a native module that builds against
// libusb/libudev, so it is not installed with kit: `kit publish -l` says how to add it. Tests pass
// a transport of their own (publish's `ledgerTransport`).

import { createRequire } from 'node:module';
import { type Hex, serializeTransaction, type TransactionSerializableEIP1559 } from 'viem';
import { KitError } from '../cli/errors.js';

export const LEDGER_PATH = "44'/60'/0'/0/0";
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

function loadEthApp(): new (transport: LedgerTransport) => EthApp {
  try {
    const mod = require('@ledgerhq/hw-app-eth') as { default: new (t: LedgerTransport) => EthApp };
    return mod.default;
  } catch (e) {
    throw new LedgerError('--ledger needs @ledgerhq/hw-app-eth, an optional dependency of kit that is not installed here', {
      cause: e,
      hint: 'reinstall kit without --omit=optional (npm install -g), or publish with --keystore-path or --safe',
    });
  }
}

/** The USB transport, if the user installed it next to kit. Checked before anything else is done. */
export function usbTransportInstalled(): boolean {
  try {
    require.resolve(USB_TRANSPORT);
    return true;
  } catch {
    return false;
  }
}

export function usbTransportMissing(): LedgerError {
  return new LedgerError(`--ledger talks to the device over USB through ${USB_TRANSPORT}, which is not installed with kit (it is a native module)`, {
    hint: `install it into kit's folder (for a global install: \`npm install --prefix "$(npm root -g)/kit" ${USB_TRANSPORT}\`; building it needs libusb and libudev headers, e.g. \`apt-get install libusb-1.0-0-dev libudev-dev\`), or publish with --keystore-path or --safe`,
  });
}

async function openUsb(): Promise<LedgerTransport> {
  if (!usbTransportInstalled()) throw usbTransportMissing();
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
