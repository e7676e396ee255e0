import { createInterface } from 'node:readline/promises';
import { Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { KitError } from '../cli/errors.js';
import { SUMMARY } from '../cli/messages.js';
import { type Check, formatChecks, missingRequired, neededLanguages, runChecks, runInstall } from '../setup/index.js';

export default class Setup extends KitCommand {
  static override summary = SUMMARY.setup;
  static override description =
    'Checks every tool kit uses (Node.js, npm, anvil, Chromium for UI tests, cargo and the wasm32-wasip1 target, Python and componentize-py, Docker) and prints what is present and what is missing, with the command that installs each. Node.js, npm and anvil are required; Rust and Python only when the package in the current folder has Rust or Python processes (or --toolchain is given), since TypeScript and JavaScript processes need neither; Docker never (this kit does not use it). Missing tools kit can install in your own toolchains (the wasm target, componentize-py, Rust via rustup) are installed after a [Y/n] prompt, or at once with --non-interactive. Exits 1 while a required tool is missing.';
  static override flags = {
    verbose: Flags.boolean({ char: 'v', description: 'If set, output stdout and stderr' }),
    'docker-optional': Flags.boolean({ char: 'd', description: 'Accepted as in the real kit: this kit never requires Docker' }),
    'python-optional': Flags.boolean({ char: 'p', description: 'If set, do not require Python' }),
    'foundry-optional': Flags.boolean({ char: 'f', description: 'If set, do not require Foundry' }),
    'javascript-optional': Flags.boolean({ char: 'j', description: 'If set, do not require JavaScript tools' }),
    'non-interactive': Flags.boolean({ description: 'If set, install missing dependencies without asking' }),
    toolchain: Flags.string({
      description: 'Rust toolchain to check and install for, e.g. +1.85.1 [default: the toolchain `cargo` runs, which kit build uses]',
      helpValue: '<TOOLCHAIN>',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Setup);
    const opts = {
      dockerOptional: flags['docker-optional'],
      pythonOptional: flags['python-optional'],
      foundryOptional: flags['foundry-optional'],
      javascriptOptional: flags['javascript-optional'],
      toolchain: flags.toolchain,
      needs: neededLanguages(process.cwd(), flags.toolchain),
    };
    this.log("Checking kit's dependencies...");
    let checks = await runChecks(opts);
    this.log(formatChecks(checks));

    const installable = missingRequired(checks).filter((c): c is Check & { autoInstall: string } => c.autoInstall !== undefined);
    if (installable.length > 0) {
      const names = installable.map((c) => c.name).join(', ');
      let go = flags['non-interactive'];
      if (!go && process.stdin.isTTY) {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = (await rl.question(`Install ${names} now? [Y/n] `)).trim().toLowerCase();
        rl.close();
        go = answer === '' || answer === 'y' || answer === 'yes';
      } else if (!go) {
        this.log(`kit can install ${names} itself: run \`kit setup --non-interactive\` (or the install commands above).`);
      }
      if (go) {
        for (const c of installable) {
          this.log(`Installing ${c.name}: ${c.autoInstall}`);
          if (!(await runInstall(c.autoInstall))) this.warn(`installing ${c.name} failed; run \`${c.install}\` yourself`);
        }
        checks = await runChecks(opts);
        this.log('After installing:');
        this.log(formatChecks(checks));
      }
    }

    const missing = missingRequired(checks);
    if (missing.length > 0) {
      throw new KitError(`${missing.length} required dependenc${missing.length === 1 ? 'y is' : 'ies are'} missing: ${missing.map((c) => c.name).join(', ')}`, {
        hint: 'install them with the commands above; -p, -f and -j make Python, Foundry and JavaScript tools optional',
      });
    }
    this.log('All required dependencies are present.');
  }
}
