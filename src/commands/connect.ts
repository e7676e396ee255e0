import { Args, Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { KitError } from '../cli/errors.js';
import { SUMMARY } from '../cli/messages.js';
import { connect, disconnect } from '../connect/index.js';

export default class Connect extends KitCommand {
  static override summary = SUMMARY.connect;
  static override description =
    'Opens `ssh -L LOCAL_PORT:localhost:HOST_PORT HOST` in the background, so kit commands given `-p LOCAL_PORT` reach the node on HOST. Without --port, kit first asks HOST (one short ssh session) which port in 8080-8999 its node listens on. kit records the ssh process it started; `--disconnect` stops only that one. Set KIT_SSH_COMMAND (e.g. "ssh -F ./ssh_config") to run ssh with other options.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --host my-node-host',
    '<%= config.bin %> <%= command.id %> 9091 --host user@203.0.113.7 --port 8080',
    '<%= config.bin %> <%= command.id %> 9090 --disconnect',
  ];
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
    const { args, flags } = await this.parse(Connect);
    const localPort = args.local_port;
    if (flags.disconnect) {
      const { record, wasRunning } = await disconnect(localPort);
      this.log(
        wasRunning
          ? `Disconnected the tunnel on port ${localPort} (to ${record.host}:${record.hostPort}, ssh pid ${record.pid}).`
          : `The tunnel on port ${localPort} (ssh pid ${record.pid}) had already exited; removed its record.`,
      );
      return;
    }
    if (!flags.host) {
      throw new KitError('--host is required to open a tunnel', { hint: `e.g. \`kit connect ${localPort} --host <SSH address or ~/.ssh/config Host>\`` });
    }
    if (flags.port === undefined) this.log(`Asking ${flags.host} which port its node listens on...`);
    const record = await connect({ localPort, host: flags.host, hostPort: flags.port });
    this.log(`Connected: localhost:${localPort} -> ${record.host} localhost:${record.hostPort} (ssh pid ${record.pid}).`);
    this.log(`Use it with kit commands via \`-p ${localPort}\`, e.g. \`kit view-api -p ${localPort}\`.`);
    this.log(`Disconnect with \`kit connect ${localPort} --disconnect\`.`);
  }
}
