import { Flags } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { releaseFlag, rpcFlag, runtimePathFlag, runtimeVersionFlag, verbosityFlag } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';

export default class BootRealNode extends KitCommand {
  static override summary = SUMMARY['boot-real-node'];
  static override aliases = ['e'];
  static override examples = ['<%= config.bin %> <%= command.id %> --home ~/my-new-node.os'];
  static override flags = {
    'runtime-path': runtimePathFlag,
    version: runtimeVersionFlag,
    port: Flags.integer({
      char: 'p',
      description: 'The port to run the real node on',
      default: 8080,
      min: 1,
      max: 65535,
      helpValue: '<NODE_PORT>',
    }),
    home: Flags.string({ char: 'o', description: 'Path to home directory for real node', required: true, helpValue: '<HOME>' }),
    rpc: rpcFlag,
    release: releaseFlag,
    verbosity: verbosityFlag,
  };

  async run(): Promise<void> {
    await this.parse(BootRealNode);
    throw notYetAvailable('boot-real-node');
  }
}
