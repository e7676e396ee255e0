import { Args } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';

export default class RunTests extends KitCommand {
  static override summary = SUMMARY['run-tests'];
  static override aliases = ['t'];
  static override args = {
    path: Args.string({
      description: 'Path to tests configuration file, or a directory holding tests.toml or test/tests.toml [default: current directory]',
    }),
  };

  async run(): Promise<void> {
    await this.parse(RunTests);
    throw notYetAvailable('run-tests');
  }
}
