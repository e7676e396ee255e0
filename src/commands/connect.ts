import { Args, Flags } from '@oclif/core';
import { KitCommand, notYetAvailable } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';

export default class Connect extends KitCommand {
  static override summary = SUMMARY.connect;
  static override args = {
    local_port: Args.integer({ description: 'Local port to bind', default: 9090, min: 1, max: 65535 }),
  };
  static override flags = {
    disconnect: Flags.boolean({
      char: 'd',
      description: 'If set, disconnect an existing tunnel [default: connect a new tunnel]',
    }),
    host: Flags.string({ char: 'o', description: 'Host URL/IP node is running on (not required for disconnect)', helpValue: '<HOST>' }),
    port: Flags.integer({ char: 'p', description: 'Remote (host) port node is running on', min: 1, max: 65535, helpValue: '<HOST_PORT>' }),
  };

  async run(): Promise<void> {
    await this.parse(Connect);
    throw notYetAvailable('connect');
  }
}
