// Debian's Chromium through playwright-core, launched as this machine needs it (the env entry's
// machines/node.md), and failure screenshots: a browser step that throws saves each open page's
// screenshot in a folder of its own under the system temp dir and adds the paths to the error.

import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.KIT_CHROMIUM ?? '/usr/bin/chromium';
/** Why a browser suite cannot run here, or false. */
export const NO_CHROMIUM: string | false = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;
// Headless comes from playwright; the rest keeps Chromium off the network and out of the sandbox
// this machine cannot give it.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  // playwright gives each browser a fresh profile (a new --user-data-dir) of its own.
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, chromiumSandbox: false });
}

/**
 * `step(name, fn)` runs a browser step; when it throws, every page `pages()` returns is
 * screenshotted into `<tmp>/<prefix>-…/<name>-<n>.png` and the error names the files and adds
 * `context()` (e.g. the nodes' output).
 */
export function stepper(prefix: string, pages: () => Array<Page | undefined>, context: () => string = () => '') {
  let dir: string | undefined;
  return async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      dir ??= mkdtempSync(join(tmpdir(), `${prefix}-screenshots-`));
      mkdirSync(dir, { recursive: true });
      const shots: string[] = [];
      for (const [i, page] of pages().entries()) {
        if (!page || page.isClosed()) continue;
        const file = join(dir, `${name.replace(/[^\w-]+/g, '-')}-${i + 1}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
        shots.push(`${file} (${page.url()})`);
      }
      (e as Error).message += `\nscreenshots: ${shots.join(', ') || 'none (no open page)'}\n${context()}`;
      throw e;
    }
  };
}
