import { Flags } from '@oclif/core';
import { buildFlags } from '../build/flags.js';
import { KitCommand } from '../cli/base.js';
import { packageDirArg } from '../cli/flags.js';
import { shutdownTrigger } from '../cli/lifecycle.js';
import { createLogger } from '../core/log.js';
import { DEFAULT_NODE_PORT, NODE_PORT_DESCRIPTION, SUMMARY } from '../cli/messages.js';
import { nodeUrl } from '../node-client/rpc.js';
import { watchPackage } from '../watch/index.js';

export default class Watch extends KitCommand {
  static override summary = SUMMARY.watch;
  static override description =
    'Builds DIR (a development build: see `kit build --dev`), installs it on the nodes at --port, then watches its files: on every save it rebuilds only the processes whose sources changed and swaps them on every node, keeping each process\'s state and capabilities, and prints one line per reload with its time. A build error is shown with its file and line and the nodes keep the last build. A change to pkg/manifest.json or metadata.json reinstalls the package. A ui/ keeps Vite\'s hot reload (as `kit dev-ui`). Runs until Ctrl-C.';
  static override aliases = ['w'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> my-package',
    '<%= config.bin %> <%= command.id %> -p 8080 -p 8081',
    '<%= config.bin %> <%= command.id %> --release',
  ];
  static override args = { dir: packageDirArg('The package directory to watch') };
  static override flags = {
    port: Flags.integer({
      char: 'p',
      multiple: true,
      min: 1,
      max: 65535,
      helpValue: '<NODE_PORT>',
      description: `${NODE_PORT_DESCRIPTION} (can specify multiple times) [default: ${DEFAULT_NODE_PORT}]`,
    }),
    url: Flags.string({ char: 'u', multiple: true, helpValue: '<URL>', description: 'URL of a node (can specify multiple times; added to --port)' }),
    release: Flags.boolean({
      description: 'Build with componentize-js on every change, as `kit build` does (5-15 s per process) [default: development builds]',
    }),
    'no-ui': Flags.boolean({ description: 'Do not run the UI dev server (ui/ is still built once for the install)' }),
    'ui-port': Flags.integer({ description: "Port of the UI dev server [default: the ui's own]", min: 1, max: 65535, helpValue: '<PORT>' }),
    features: buildFlags.features,
    world: buildFlags.world,
    'local-dependency': buildFlags['local-dependency'],
    'skip-deps-check': buildFlags['skip-deps-check'],
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Watch);
    const nodes = [...(flags.port ?? (flags.url?.length ? [] : [DEFAULT_NODE_PORT])).map(nodeUrl), ...(flags.url ?? []).map((u) => u.replace(/\/+$/, ''))];
    const shutdown = shutdownTrigger();
    const session = watchPackage({
      packageDir: args.dir ?? process.cwd(),
      nodes,
      dev: !flags.release,
      build: {
        features: flags.features,
        world: flags.world,
        localDependencies: flags['local-dependency'],
        skipDepsCheck: flags['skip-deps-check'],
        port: flags.port?.[0] ?? DEFAULT_NODE_PORT,
      },
      ui: !flags['no-ui'],
      uiPort: flags['ui-port'],
      print: (line) => this.log(line),
      // the builds' own lines go to the log file; the terminal gets one line per reload
      logger: createLogger({ target: 'kit::watch', terminal: null }),
    });
    session.uiUrl?.then(
      (url) => this.log(`UI dev server ready: open ${url} (hot reload; node ${nodes[0]})`),
      (e) => this.log(`the UI dev server did not start: ${e instanceof Error ? e.message : e}`),
    );
    try {
      await shutdown.reason;
    } finally {
      shutdown.dispose();
      await session.stop();
    }
  }
}
