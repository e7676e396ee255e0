import { Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { packageDirArg, wholeNumberFlag } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';
import { DEFAULT_FAKE_RPC, publish } from '../publish/index.js';

export default class Publish extends KitCommand {
  static override summary = SUMMARY.publish;
  static override aliases = ['p'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> --metadata-uri https://raw.githubusercontent.com/path/to/metadata.json --keystore-path ~/.foundry/keystores/dev --rpc wss://base-mainnet.g.alchemy.com/v2/<KEY> --real',
  ];
  static override args = { dir: packageDirArg('The package directory to publish') };
  static override flags = {
    'keystore-path': Flags.string({
      char: 'k',
      description: 'Path to private key keystore (choose 1 of `k`, `l`, `t`, `s`)',
      helpValue: '<PATH>',
    }),
    ledger: Flags.boolean({ char: 'l', description: 'Use Ledger private key (choose 1 of `k`, `l`, `t`, `s`)' }),
    trezor: Flags.boolean({ char: 't', description: 'Use Trezor private key (choose 1 of `k`, `l`, `t`, `s`)' }),
    safe: Flags.string({ char: 's', description: 'Publish through this Safe (choose 1 of `k`, `l`, `t`, `s`)', helpValue: '<SAFE_ADDR>' }),
    'metadata-uri': Flags.string({ char: 'u', description: 'URI where metadata lives', required: true, helpValue: '<URI>' }),
    rpc: Flags.string({
      char: 'r',
      description: `Ethereum Base mainnet RPC endpoint (wss://; ws://, http:// and https:// also work); required with --real [default: ${DEFAULT_FAKE_RPC}, the fake chain]`,
      helpValue: '<RPC_URI>',
    }),
    real: Flags.boolean({ char: 'e', description: 'If set, deploy to real network [default: fake node]' }),
    unpublish: Flags.boolean({ description: 'If set, unpublish existing published package [default: publish a package]' }),
    'gas-limit': wholeNumberFlag({
      char: 'g',
      name: 'gas-limit',
      description: 'The ETH transaction gas limit',
      default: 1_000_000,
      helpValue: '<GAS_LIMIT>',
    }),
    'priority-fee': wholeNumberFlag({
      char: 'p',
      name: 'priority-fee',
      description: 'The ETH transaction max priority fee per gas [default: estimated from network conditions]',
      helpValue: '<MAX_PRIORITY_FEE_PER_GAS>',
    }),
    'fee-per-gas': wholeNumberFlag({
      char: 'f',
      name: 'fee-per-gas',
      description: 'The ETH transaction max fee per gas [default: estimated from network conditions]',
      helpValue: '<MAX_FEE_PER_GAS>',
    }),
    mock: Flags.boolean({ char: 'm', description: "If set, don't actually publish: just dry-run" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Publish);
    await publish({
      dir: args.dir ?? process.cwd(),
      metadataUri: flags['metadata-uri'],
      rpc: flags.rpc,
      real: flags.real,
      unpublish: flags.unpublish,
      keystorePath: flags['keystore-path'],
      ledger: flags.ledger,
      trezor: flags.trezor,
      safe: flags.safe,
      gasLimit: flags['gas-limit'],
      priorityFee: flags['priority-fee'],
      feePerGas: flags['fee-per-gas'],
      mock: flags.mock,
      log: this.kitLog,
    });
  }
}
