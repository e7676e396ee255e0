import { Flags } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { packageDirArg, wholeNumberFlag } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';

export default class Publish extends KitCommand {
  static override summary = SUMMARY.publish;
  static override aliases = ['p'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> --metadata-uri https://raw.githubusercontent.com/path/to/metadata.json --keystore-path ~/.foundry/keystores/dev --rpc wss://opt-mainnet.g.alchemy.com/v2/<KEY> --real',
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
    rpc: Flags.string({ char: 'r', description: 'Ethereum Optimism mainnet RPC endpoint (wss://)', required: true, helpValue: '<RPC_URI>' }),
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
    await this.parse(Publish);
    throw notYetAvailable('publish');
  }
}
