import { Args, Flags } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';

export default class Update extends KitCommand {
  static override summary = SUMMARY.update;
  // Extra ARGS are handed to the installer verbatim.
  static override strict = false;
  static override args = { args: Args.string({ description: 'Additional arguments for the installer' }) };
  static override flags = {
    branch: Flags.string({ description: 'Branch name', default: 'master', helpValue: '<BRANCH>' }),
  };

  async run(): Promise<void> {
    await this.parse(Update);
    throw notYetAvailable('update');
  }
}
