import { Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { KitError } from '../cli/errors.js';
import { releaseFlag, rpcFlag, runtimePathFlag, runtimeVersionFlag, verbosityFlag } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';
import {
  NO_REAL_RUNTIME_HINT,
  NO_REAL_RUNTIME_MESSAGE,
  prepareRealRuntime,
  realNodeArgs,
  runRuntime,
  splitExtraArgs,
} from '../real-runtime/index.js';

export default class BootRealNode extends KitCommand {
  static override summary = SUMMARY['boot-real-node'];
  static override description =
    'Runs a real Hyperdrive connected to the live network, in the foreground (you register or log in through its web UI at http://localhost:PORT). --runtime-path is required in this build: a Hyperdrive repo (built with cargo, debug unless --release) or a Hyperdrive binary. Arguments after `--` go to Hyperdrive. The home folder is never deleted.';
  static override aliases = ['e'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> --home ~/my-new-node.os --runtime-path ~/git/hyperdrive',
    '<%= config.bin %> <%= command.id %> --home ~/my-node.os -r ./hyperdrive -p 8081 -- --ws-port 9001',
  ];
  // Arguments after `--` are handed to Hyperdrive.
  static override strict = false;
  static override flags = {
    'runtime-path': runtimePathFlag,
    version: runtimeVersionFlag,
    port: Flags.integer({
      char: 'p',
      description: 'The port to run the real node on',
      default: 8080,
      min: 1,
      max: 65535,
      helpValue: '<NODE_PORT>',
    }),
    home: Flags.string({ char: 'o', description: 'Path to home directory for real node', required: true, helpValue: '<HOME>' }),
    rpc: rpcFlag,
    release: releaseFlag,
    verbosity: verbosityFlag,
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(BootRealNode);
    const runtimePath = flags['runtime-path'];
    if (runtimePath === undefined) {
      const asked = flags.version === 'latest' ? '' : ` (--version ${flags.version} names a release this kit cannot fetch)`;
      throw new KitError(`${NO_REAL_RUNTIME_MESSAGE}${asked}`, { hint: NO_REAL_RUNTIME_HINT });
    }
    if (flags.version !== 'latest') this.warn(`--version ${flags.version} is ignored: --runtime-path overrides it`);
    const runtime = await prepareRealRuntime({
      runtimePath,
      release: flags.release,
      verbose: true,
      onStep: (c) => this.log(`Building Hyperdrive: ${c}`),
    });
    const args = realNodeArgs({
      home: flags.home,
      port: flags.port,
      verbosity: flags.verbosity,
      rpc: flags.rpc,
      extra: splitExtraArgs(this.argv, argv as string[]),
    });
    this.log(`Running ${runtime.binary} ${args.join(' ')}`);
    const code = await runRuntime(runtime.binary, args);
    if (code !== 0) this.exit(code);
  }
}
