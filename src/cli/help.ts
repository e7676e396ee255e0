// `kit --help` lists each command once with its short names, as the real kit does
// ("boot-fake-node  Boot a fake node for development [aliases: f]"), instead of oclif's
// default of listing every alias as a command of its own.

import { type Command, Help } from '@oclif/core';

export default class KitHelp extends Help {
  private inCommandList = false;

  constructor(...args: ConstructorParameters<typeof Help>) {
    const [config, opts] = args;
    super(config, { ...opts, hideAliasesFromRoot: true });
  }

  protected override formatCommands(commands: Command.Loadable[]): string {
    this.inCommandList = true;
    try {
      return super.formatCommands(commands);
    } finally {
      this.inCommandList = false;
    }
  }

  protected override summary(c: Command.Loadable): string | undefined {
    const text = super.summary(c);
    const aliases = c.aliases ?? [];
    // Only in the list of commands: a command's own help has an ALIASES section.
    if (!this.inCommandList || !text || aliases.length === 0 || aliases.includes(c.id)) return text;
    return `${text} [aliases: ${aliases.join(', ')}]`;
  }
}
