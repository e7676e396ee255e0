import { Args, Flags } from '@oclif/core';
import { execa } from 'execa';
import { KitCommand } from '../cli/base.js';
import { KitError } from '../cli/errors.js';
import { SUMMARY } from '../cli/messages.js';
import { checkForUpdate, installKind, npmHasAllowScripts, npmInstallArgs, scriptsToAllow } from '../update/index.js';

export default class Update extends KitCommand {
  static override summary = SUMMARY.update;
  static override description =
    'Tells the installed version of kit and the newest on the npm registry (KIT_UPDATE_REGISTRY or npm’s registry), and installs the newest through npm when it is newer (globally if kit is installed globally, else in the project that has it). Extra ARGS go to `npm install`. --check only tells. A source checkout is not touched: kit prints the git commands for --branch instead.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --check'];
  // Extra ARGS are handed to the installer verbatim.
  static override strict = false;
  static override args = { args: Args.string({ description: 'Additional arguments for the installer' }) };
  static override flags = {
    branch: Flags.string({ description: 'Branch name (source checkouts: the branch to pull)', default: 'master', helpValue: '<BRANCH>' }),
    check: Flags.boolean({ description: 'Only tell the installed and the newest version; install nothing' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Update);
    const status = await checkForUpdate();
    this.log(`installed: ${status.name} ${status.installed}`);
    this.log(`newest on ${status.registry}: ${status.latest}`);
    if (!status.newer) {
      this.log('kit is up to date.');
      return;
    }
    if (flags.check) {
      this.log(`kit ${status.latest} is available: run \`kit update\` to install it.`);
      return;
    }
    const kind = await installKind();
    if (kind.kind === 'checkout') {
      this.log(`This kit runs from a source checkout (${kind.dir}); kit does not change it. To update it:`);
      this.log(`  git -C ${kind.dir} pull origin ${flags.branch} && npm --prefix ${kind.dir} ci && npm --prefix ${kind.dir} run build`);
      return;
    }
    const allow = kind.kind === 'global' && (await npmHasAllowScripts()) ? scriptsToAllow() : [];
    const args = npmInstallArgs(status.name, status.latest, kind, argv as string[], allow);
    this.log(`Updating: npm ${args.join(' ')}${kind.kind === 'project' ? ` (in ${kind.dir})` : ''}`);
    const r = await execa('npm', args, { cwd: kind.kind === 'project' ? kind.dir : undefined, stdio: 'inherit', reject: false });
    if (r.exitCode !== 0) {
      throw new KitError(`npm install failed (exit ${r.exitCode})`, { hint: `run \`npm ${args.join(' ')}\` yourself to see why` });
    }
    this.log(`kit ${status.latest} is installed.`);
  }
}
