import { Flags } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';

export default class Chain extends KitCommand {
  static override summary = SUMMARY.chain;
  static override aliases = ['c'];
  static override flags = {
    port: Flags.integer({ char: 'p', description: 'Port to run the chain on', default: 8545, min: 1, max: 65535, helpValue: '<PORT>' }),
    verbose: Flags.boolean({ char: 'v', description: 'If set, output stdout and stderr' }),
    tracing: Flags.boolean({ char: 't', description: 'If set, enable anvil tracing' }),
  };

  async run(): Promise<void> {
    await this.parse(Chain);
    throw notYetAvailable('chain');
  }
}
