import { Args, Flags } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { nodePortFlag } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';

export default class ViewApi extends KitCommand {
  static override summary = SUMMARY['view-api'];
  static override aliases = ['v'];
  static override examples = ['<%= config.bin %> <%= command.id %> app-store:sys'];
  static override args = {
    package_id: Args.string({ description: 'Get API of this package (default: list all APIs)' }),
  };
  static override flags = {
    port: nodePortFlag,
    'download-from': Flags.string({ char: 'd', description: 'Download API from this node if not found', helpValue: '<NODE>' }),
  };

  async run(): Promise<void> {
    await this.parse(ViewApi);
    throw notYetAvailable('view-api');
  }
}
