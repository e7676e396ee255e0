import { KitCommand } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';
import { resetCache } from '../package/view-api.js';

export default class ResetCache extends KitCommand {
  static override summary = SUMMARY['reset-cache'];
  static override description = 'Empties kit\'s cache folder (KIT_CACHE, default /tmp/hyperdrive-kit-cache): compiled components, transpile cache, fetched APIs, logs.';

  async run(): Promise<void> {
    await this.parse(ResetCache);
    this.log('Resetting cache...');
    const { dir, removed } = await resetCache();
    this.log(`Done resetting cache (${removed} entr${removed === 1 ? 'y' : 'ies'} removed from ${dir}).`);
  }
}
