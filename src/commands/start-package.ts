import { KitCommand } from '../cli/base.js';
import { nodePortFlag, packageDirArg } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';
import { nodeUrl } from '../node-client/rpc.js';
import { startPackage } from '../package/start.js';

export default class StartPackage extends KitCommand {
  static override summary = SUMMARY['start-package'];
  static override description =
    'Installs and starts the package built in DIR (pkg/ and target/<package>:<publisher>.zip, made by `kit build`) on the node at --port, through its App Store.';
  static override aliases = ['s'];
  static override examples = ['<%= config.bin %> <%= command.id %> foo', '<%= config.bin %> <%= command.id %> -p 8081'];
  static override args = { dir: packageDirArg('The package directory to start') };
  static override flags = { port: nodePortFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(StartPackage);
    await startPackage({ packageDir: args.dir ?? process.cwd(), url: nodeUrl(flags.port), log: this.kitLog });
  }
}
