import { Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { nodePortFlag, packageDirArg } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';
import { nodeUrl } from '../node-client/rpc.js';
import { removePackage } from '../package/start.js';

export default class RemovePackage extends KitCommand {
  static override summary = SUMMARY['remove-package'];
  static override description =
    'Uninstalls a package from the node at --port. The package is named by --package and --publisher, or else by DIR/metadata.json.';
  static override aliases = ['r'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> foo',
    '<%= config.bin %> <%= command.id %> --package foo --publisher template.os',
  ];
  static override args = { dir: packageDirArg('The package directory to remove (Overridden by PACKAGE/PUBLISHER)') };
  static override flags = {
    package: Flags.string({ char: 'a', description: 'Name of the package (Overrides DIR)', helpValue: '<PACKAGE>' }),
    publisher: Flags.string({ char: 'u', description: 'Name of the publisher (Overrides DIR)', helpValue: '<PUBLISHER>' }),
    port: nodePortFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RemovePackage);
    await removePackage({
      packageDir: args.dir ?? process.cwd(),
      packageName: flags.package,
      publisher: flags.publisher,
      url: nodeUrl(flags.port),
      log: this.kitLog,
    });
  }
}
