import { Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { nodePortFlag, packageDirArg, skipDepsCheckFlag } from '../cli/flags.js';
import { shutdownTrigger } from '../cli/lifecycle.js';
import { SUMMARY } from '../cli/messages.js';
import { nodeUrl } from '../node-client/rpc.js';
import { startDevUi } from '../ui/dev.js';

export default class DevUi extends KitCommand {
  static override summary = SUMMARY['dev-ui'];
  static override description =
    'Runs the Vite dev server of DIR/ui (npm install first when needed), proxying /our, /our.js, /login and the process paths to the node, and prints the URL to open. Edits to the UI show at once (hot reload); no kit build needed. Runs until Ctrl-C.';
  static override aliases = ['d'];
  static override examples = ['<%= config.bin %> <%= command.id %> my-chat -p 8081', '<%= config.bin %> <%= command.id %> -u http://localhost:8080 --ui-port 5173'];
  static override args = { dir: packageDirArg('The package directory to build (must contain a `ui` directory)') };
  static override flags = {
    port: nodePortFlag,
    url: Flags.string({ char: 'u', description: 'URL of the node (overrides --port)', helpValue: '<URL>' }),
    'ui-port': Flags.integer({ description: "Port of the dev server [default: the ui's own, 3000 in the template]", min: 1, max: 65535, helpValue: '<PORT>' }),
    release: Flags.boolean({ description: 'If set, create a production build' }),
    'skip-deps-check': skipDepsCheckFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DevUi);
    const node = (flags.url ?? nodeUrl(flags.port)).replace(/\/+$/, '');
    const shutdown = shutdownTrigger();
    const server = await startDevUi({ dir: args.dir ?? process.cwd(), nodeUrl: node, release: flags.release, uiPort: flags['ui-port'] });
    try {
      // Ctrl-C while Vite starts stops it too.
      const url = await Promise.race([server.ready, shutdown.reason.then(() => undefined)]);
      if (url === undefined) return;
      this.kitLog.info(`UI dev server ready: open ${url} (node ${node}; log in there first if the UI asks)`);
      const why = await Promise.race([shutdown.reason, server.exited.then(() => 'exited' as const)]);
      if (why === 'exited') this.error('the UI dev server stopped; its output is above', { exit: 1 });
    } finally {
      shutdown.dispose();
      await server.stop();
    }
  }
}
