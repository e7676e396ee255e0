import { buildPackage } from '../build/build.js';
import { buildFlags, buildOptionsFromFlags } from '../build/flags.js';
import { KitCommand } from '../cli/base.js';
import { packageDirArg } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';
import { nodeUrl } from '../node-client/rpc.js';
import { startPackage } from '../package/start.js';

export default class BuildStartPackage extends KitCommand {
  static override summary = SUMMARY['build-start-package'];
  static override description = 'Runs `kit build` on DIR, then `kit start-package` on the node at --port (which also serves dependency APIs).';
  static override aliases = ['bs'];
  static override examples = ['<%= config.bin %> <%= command.id %> foo', '<%= config.bin %> <%= command.id %> -p 8081 --no-ui'];
  static override args = { dir: packageDirArg('The package directory to build, install and start on the node') };
  static override flags = buildFlags;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(BuildStartPackage);
    const built = await buildPackage(buildOptionsFromFlags(args.dir, flags, this.kitLog));
    await startPackage({ packageDir: built.packageDir, url: nodeUrl(flags.port), log: this.kitLog });
  }
}
