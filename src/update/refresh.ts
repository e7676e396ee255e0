// Run detached by the update notice: asks the registry (3 s timeout) and writes the answer to
// the cache, so a later command can say a new kit is out. Silent: no terminal, never an error.

import { refreshNoticeCache } from './index.js';

try {
  await refreshNoticeCache();
} catch {
  // offline, read-only cache, ...: the next command tries again
}
