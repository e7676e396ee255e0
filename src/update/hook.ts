// oclif init hook: the update notice. It reads only the cached registry answer (never the
// network), starts a detached refresher when that answer is a day old, and prints the notice on
// stderr as kit exits. Off for `kit update` itself, in CI, without a terminal, or with
// KIT_UPDATE_NOTIFIER=0; nothing here can fail or slow a command.

import { spawn } from 'node:child_process';
import type { Hook } from '@oclif/core';
import { noticeEnabled, noticeFromCache, refresherScript } from './index.js';

const hook: Hook<'init'> = async (opts) => {
  if (opts.id === 'update' || !noticeEnabled()) return;
  try {
    const { notice, refresh } = noticeFromCache(opts.config.version);
    if (refresh) spawn(process.execPath, [refresherScript()], { detached: true, stdio: 'ignore' }).unref();
    if (notice) process.once('exit', () => process.stderr.write(`\n${notice}\n`));
  } catch {
    // a notice is never worth a failure
  }
};

export default hook;
