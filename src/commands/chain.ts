import { Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { KitError } from '../cli/errors.js';
import { shutdownTrigger } from '../cli/lifecycle.js';
import { SUMMARY } from '../cli/messages.js';

export default class Chain extends KitCommand {
  static override summary = SUMMARY.chain;
  static override description =
    "Starts anvil (chain id 31337) on --port with kit's Hypermap contracts and the `os` and `dev` names minted, and runs until Ctrl-C. If a chain already answers on the port, kit makes sure the contracts are there and reuses it.";
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
    const { startChain, ChainPortInUseError, AnvilError, ContractDeployError, ContractCompileError } = await import('../chain/index.js');
    const shutdown = shutdownTrigger();
    let chain: Awaited<ReturnType<typeof startChain>>;
    try {
      chain = await startChain({ port: flags.port, verbose: flags.verbose, tracing: flags.tracing });
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
      this.log(
        chain.deployed
          ? `A chain already answers on port ${flags.port}; deployed kit's contracts on it. Reusing it (kit did not start it and will not stop it).`
          : `A chain with kit's contracts already answers on port ${flags.port}; reusing it (kit did not start it and will not stop it).`,
      );
      return;
    }
    this.log(`Chain running on port ${flags.port} (${chain.url}, chain id 31337) with Hypermap deployed; Ctrl-C to stop`);
    const exited = new Promise<'exited'>((r) => chain.child?.once('exit', () => r('exited')));
    const reason = await Promise.race([shutdown.reason, exited]);
    shutdown.dispose();
    if (reason === 'exited') throw new KitError(`anvil on port ${flags.port} exited unexpectedly`);
    await chain.stop();
    this.log('Chain stopped');
  }
}
