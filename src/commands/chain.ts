import { Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { KitError } from '../cli/errors.js';
import { shutdownTrigger } from '../cli/lifecycle.js';
import { SUMMARY } from '../cli/messages.js';

export default class Chain extends KitCommand {
  static override summary = SUMMARY.chain;
  static override description =
    "Starts anvil (chain id 31337) on --port with kit's Hypermap contracts laid out as the real kit lays out its own (the `os` account at 0x9b3853358ede717fc7D4806cF75d7A4d4517A9C9, where Hyperdrive registers fake nodes), mints `dev` for kit's own fake nodes, and runs until Ctrl-C. If a chain already answers on the port (started by a fake node, by the real kit or by anvil), kit sets it up if it lacks the `os` account, mints `dev` if missing, says what it found, and leaves it running.";
  static override aliases = ['c'];
  static override flags = {
    port: Flags.integer({ char: 'p', description: 'Port to run the chain on', default: 8545, min: 1, max: 65535, helpValue: '<PORT>' }),
    // The book lists -v for both --version and --verbose; -v stays --verbose.
    version: Flags.string({
      description: "Version of Hyperdrive to run chain for (kit's chain is the same for every version)",
      default: 'latest',
      helpValue: '<VERSION>',
    }),
    verbose: Flags.boolean({ char: 'v', description: 'If set, output stdout and stderr' }),
    tracing: Flags.boolean({ char: 't', description: 'If set, enable anvil tracing' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Chain);
    const { startChain, describeFoundChain, ChainPortInUseError, AnvilError, ContractDeployError, ContractCompileError } = await import('../chain/index.js');
    const shutdown = shutdownTrigger();
    let chain: Awaited<ReturnType<typeof startChain>>;
    try {
      chain = await startChain({ port: flags.port, verbose: flags.verbose, tracing: flags.tracing, lifetime: 'foreground' });
    } catch (e) {
      shutdown.dispose();
      if (e instanceof ChainPortInUseError) {
        throw new KitError(e.message, { hint: `free port ${flags.port} or run \`kit chain -p <another port>\`` });
      }
      if (e instanceof AnvilError || e instanceof ContractDeployError || e instanceof ContractCompileError) {
        throw new KitError(e.message);
      }
      throw e;
    }
    if (!chain.owned) {
      shutdown.dispose();
      this.log(`A chain already answers on port ${flags.port}; reusing it (kit chain did not start it and will not stop it).`);
      this.log(describeFoundChain(chain));
      return;
    }
    this.log(`Chain running on port ${flags.port} (${chain.url}, chain id 31337); Ctrl-C to stop`);
    this.log(describeFoundChain(chain));
    const exited = new Promise<'exited'>((r) => chain.child?.once('exit', () => r('exited')));
    const reason = await Promise.race([shutdown.reason, exited]);
    shutdown.dispose();
    if (reason === 'exited') throw new KitError(`anvil on port ${flags.port} exited unexpectedly`);
    await chain.stop();
    this.log('Chain stopped');
  }
}
