import { Args, Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { nodePortFlag } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';
import { nodeUrl } from '../node-client/rpc.js';
import { formatApiFiles, getApi, listApis } from '../package/view-api.js';

export default class ViewApi extends KitCommand {
  static override summary = SUMMARY['view-api'];
  static override aliases = ['v'];
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> app-store:sys'];
  static override args = {
    package_id: Args.string({ description: 'Get API of this package (default: list all APIs)' }),
  };
  static override flags = {
    port: nodePortFlag,
    'download-from': Flags.string({ char: 'd', description: 'Download API from this node if not found', helpValue: '<NODE>' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ViewApi);
    const url = nodeUrl(flags.port);
    if (args.package_id === undefined) {
      const apis = await listApis(url);
      this.log(JSON.stringify({ ApisResponse: { apis } }, null, 2));
      return;
    }
    const files = await getApi({ url, packageId: args.package_id, downloadFrom: flags['download-from'], note: (t) => this.log(t) });
    this.log(formatApiFiles(files));
  }
}
