import { Flags } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';

export default class Setup extends KitCommand {
  static override summary = SUMMARY.setup;
  static override flags = {
    verbose: Flags.boolean({ char: 'v', description: 'If set, output stdout and stderr' }),
    'docker-optional': Flags.boolean({ char: 'd', description: 'If set, do not require Docker' }),
    'python-optional': Flags.boolean({ char: 'p', description: 'If set, do not require Python' }),
    'foundry-optional': Flags.boolean({ char: 'f', description: 'If set, do not require Foundry' }),
    'javascript-optional': Flags.boolean({ char: 'j', description: 'If set, do not require JavaScript tools' }),
    'non-interactive': Flags.boolean({ description: 'If set, install missing dependencies without asking' }),
    toolchain: Flags.string({ description: 'Rust toolchain to check and install', default: '+1.85.1', helpValue: '<TOOLCHAIN>' }),
  };

  async run(): Promise<void> {
    await this.parse(Setup);
    throw notYetAvailable('setup');
  }
}
