import { Args, Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';
import {
  AVAILABLE_LANGUAGES,
  createPackage,
  DEFAULT_LANGUAGE,
  DEFAULT_TEMPLATE,
  LANGUAGES,
  TEMPLATE_PUBLISHER,
  TEMPLATES,
  UI_TEMPLATES,
} from '../templates/index.js';

export default class New extends KitCommand {
  static override summary = SUMMARY.new;
  static override aliases = ['n'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> my-chat-app',
    '<%= config.bin %> <%= command.id %> my-echo -t echo -l javascript',
    '<%= config.bin %> <%= command.id %> files -t file-transfer -a my-files -u me.os',
  ];
  static override args = {
    dir: Args.string({ description: 'Path to create template directory at (must contain only a-z, 0-9, `-`)', required: true }),
  };
  static override flags = {
    package: Flags.string({
      char: 'a',
      description: 'Name of the package (must contain only a-z, 0-9, `-`) [default: DIR]',
      helpValue: '<PACKAGE>',
    }),
    publisher: Flags.string({
      char: 'u',
      description: 'Name of the publisher (must contain only a-z, 0-9, `-`, `.`)',
      default: TEMPLATE_PUBLISHER,
      helpValue: '<PUBLISHER>',
    }),
    language: Flags.string({
      char: 'l',
      description: `Programming language of the template [possible values: ${AVAILABLE_LANGUAGES.join(', ')}]`,
      default: DEFAULT_LANGUAGE,
      options: [...LANGUAGES],
      helpValue: '<LANGUAGE>',
    }),
    template: Flags.string({
      char: 't',
      description: `Template to create [possible values: ${TEMPLATES.join(', ')}]`,
      default: DEFAULT_TEMPLATE,
      options: [...TEMPLATES],
      helpValue: '<TEMPLATE>',
    }),
    ui: Flags.boolean({ description: `If set, use the template with UI (${UI_TEMPLATES.join(', ')}, TypeScript)` }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(New);
    const made = await createPackage({
      dir: args.dir,
      packageName: flags.package,
      publisher: flags.publisher,
      language: flags.language,
      template: flags.template,
      ui: flags.ui,
    });
    this.kitLog.info(
      `Template directory created successfully at ${made.dir} (${made.language} ${made.template}, package ${made.packageName}:${made.publisher}).`,
    );
  }
}
