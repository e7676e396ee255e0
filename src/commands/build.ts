import { buildPackage } from '../build/build.js';
import { buildFlags, buildOptionsFromFlags } from '../build/flags.js';
import { KitCommand } from '../cli/base.js';
import { packageDirArg } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';

export default class Build extends KitCommand {
  static override summary = SUMMARY.build;
  static override description =
    'Builds each process in DIR (src/lib.ts, lib.js, lib.rs or lib.py) into pkg/<process>.wasm, builds the UI, and zips pkg/ into target/<package>:<publisher>.zip. Only processes whose inputs changed are rebuilt; --force rebuilds all.';
  static override aliases = ['b'];
  static override examples = ['<%= config.bin %> <%= command.id %> foo', '<%= config.bin %> <%= command.id %> --no-ui -i chat'];
  static override args = { dir: packageDirArg('The package directory to build') };
  static override flags = buildFlags;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build);
    await buildPackage(buildOptionsFromFlags(args.dir, flags, this.kitLog));
  }
}
