import { Args, Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { nodePortFlag } from '../cli/flags.js';
import { SUMMARY } from '../cli/messages.js';
import { formatResponse, injectMessage, NON_BLOCK_SENT } from '../node-client/inject.js';
import { nodeUrl } from '../node-client/rpc.js';

export default class InjectMessage extends KitCommand {
  static override summary = SUMMARY['inject-message'];
  static override description =
    'Sends BODY_JSON to PROCESS on the node at --port and prints its Response (body, then blob as text when it is UTF-8, else as bytes). BODY_JSON must be valid JSON; it is sent exactly as typed.';
  static override aliases = ['i'];
  static override examples = [
    `<%= config.bin %> <%= command.id %> foo:foo:template.os '{"Send": {"target": "fake2.dev", "message": "hello world"}}'`,
    `<%= config.bin %> <%= command.id %> main:app-store:sys '"Apis"' -p 8081`,
  ];
  static override args = {
    process: Args.string({ required: true, description: 'PROCESS to send message to' }),
    body_json: Args.string({ required: true, description: 'Body in JSON format' }),
  };
  static override flags = {
    port: nodePortFlag,
    node: Flags.string({ char: 'n', description: 'Node ID (default: our)', helpValue: '<NODE_NAME>' }),
    blob: Flags.string({ char: 'b', description: 'Send file at Unix path as bytes blob', helpValue: '<PATH>' }),
    'non-block': Flags.boolean({ char: 'l', description: "If set, don't block on the full node response" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InjectMessage);
    const result = await injectMessage({
      url: nodeUrl(flags.port),
      process: args.process,
      body: args.body_json,
      node: flags.node,
      blobPath: flags.blob,
      nonBlock: flags['non-block'],
    });
    this.log(result.kind === 'response' ? formatResponse(result.response) : NON_BLOCK_SENT);
  }
}
