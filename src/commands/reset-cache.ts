import { KitCommand } from '../cli/base.js';
import { SUMMARY } from '../cli/messages.js';
import { resetCache } from '../package/reset-cache.js';

export default class ResetCache extends KitCommand {
  static override summary = SUMMARY['reset-cache'];
  static override description = 'Empties kit\'s cache folder (KIT_CACHE, default /tmp/hyperdrive-kit-cache): compiled components, transpile cache, fetched APIs, logs. What running kit processes still use is kept (a running chain\'s record and leases, a live `kit connect` tunnel\'s record); a running node makes again what it needs.';

  async run(): Promise<void> {
    await this.parse(ResetCache);
    this.log('Resetting cache...');
    const { dir, removed, kept } = await resetCache();
    const keptText = kept.length > 0 ? `; kept ${kept.join(', ')}, in use by running kit processes` : '';
    this.log(`Done resetting cache (${removed} entr${removed === 1 ? 'y' : 'ies'} removed from ${dir}${keptText}).`);
  }
}
