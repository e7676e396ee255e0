import { Flags } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { nodePortFlag, packageDirArg, skipDepsCheckFlag } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';

export default class DevUi extends KitCommand {
  static override summary = SUMMARY['dev-ui'];
  static override aliases = ['d'];
  static override args = { dir: packageDirArg('The package directory to build (must contain a `ui` directory)') };
  static override flags = {
    port: nodePortFlag,
    release: Flags.boolean({ description: 'If set, create a production build' }),
    'skip-deps-check': skipDepsCheckFlag,
  };

  async run(): Promise<void> {
    await this.parse(DevUi);
    throw notYetAvailable('dev-ui');
  }
}
