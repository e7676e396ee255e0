import { Args, Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { shutdownTrigger } from '../cli/lifecycle.js';
import { SUMMARY } from '../cli/messages.js';

/** The signals the real kit cleans up on (interop §7.5). */
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGPIPE'];

export default class RunTests extends KitCommand {
  static override summary = SUMMARY['run-tests'];
  static override description =
    "Runs the tests a tests.toml describes: per [[tests]], a fresh fake chain and fresh fake nodes (each its own OS process), setup packages installed, test packages run by tester:tester:sys on the first node, then test scripts. Exits 0 only if everything passed. Ctrl-C or a timeout stops every node, chain and script it started. runtime FetchVersion uses kit's embedded runtime.";
  static override aliases = ['t'];
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> test/tests.toml --junit target/junit.xml',
    '<%= config.bin %> <%= command.id %> --rerun',
  ];
  static override args = {
    path: Args.string({
      description: 'Path to tests configuration file, or a directory holding tests.toml or test/tests.toml [default: current directory]',
    }),
  };
  static override flags = {
    json: Flags.boolean({ description: 'Print a machine-readable JSON report on stdout (progress goes to stderr)' }),
    junit: Flags.string({ description: 'Write a JUnit XML report to FILE', helpValue: '<FILE>' }),
    rerun: Flags.boolean({ description: 'Run only the test packages that failed (or did not run) last time' }),
    release: Flags.boolean({
      description:
        'Build the packages with componentize-js, as `kit build` does [default: development builds, as `kit build --dev`: the same components, made in a fraction of the time]',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RunTests);
    const { runTestsCli } = await import('../run-tests/index.js');
    const abort = new AbortController();
    const shutdown = shutdownTrigger({ signals: SIGNALS });
    void shutdown.reason.then((reason) => {
      process.stderr.write(`\nkit cleanup got ${reason}: stopping every node, chain and script of this run\n`);
      abort.abort(reason);
    });
    try {
      const { code } = await runTestsCli({ path: args.path, json: flags.json, junit: flags.junit, rerun: flags.rerun, release: flags.release, signal: abort.signal });
      this.exit(code);
    } finally {
      shutdown.dispose();
    }
  }
}
