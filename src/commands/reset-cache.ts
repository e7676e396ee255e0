import { KitCommand, notYetAvailable } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';

export default class ResetCache extends KitCommand {
  static override summary = SUMMARY['reset-cache'];

  async run(): Promise<void> {
    await this.parse(ResetCache);
    throw notYetAvailable('reset-cache');
  }
}
