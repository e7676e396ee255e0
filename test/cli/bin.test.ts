// The real `kit` binary, spawned as a user runs it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { kit, ROOT } from './helpers/cli.js';

const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

describe('kit binary', () => {
  test('--help lists every command once, with its aliases', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await kit([flag]);
      assert.equal(r.code, 0, r.stderr);
      for (const [id, alias] of [
        ['boot-fake-node', 'f'],
        ['inject-message', 'i'],
        ['start-package', 's'],
        ['remove-package', 'r'],
        ['publish', 'p'],
        ['view-api', 'v'],
      ]) {
        assert.match(r.stdout, new RegExp(`^  ${id} .*\\[aliases: ${alias}\\]$`, 'm'), `${flag}: ${id}`);
      }
      assert.match(r.stdout, /^ {2}reset-cache +Reset kit cache/m);
      assert.doesNotMatch(r.stdout, /^ {2}f +Boot/m, 'aliases are not listed as commands');
    }
  });

  test('a command’s help shows its usage, flags and defaults', async () => {
    const r = await kit(['f', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /-f, --fake-node-name=<NODE_NAME>/);
    assert.match(r.stdout, /\[default: fake\.dev\]/);
    assert.match(r.stdout, /\[default: \/tmp\/hyperware-fake-node\]/);
    assert.match(r.stdout, /--detached/);
  });

  test('kit new --help names the templates and languages to choose from', async () => {
    const r = await kit(['new', '--help']);
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.replace(/\s+/g, ' ');
    assert.match(text, /\[possible values: blank, chat, echo, fibonacci, file-transfer\]/);
    assert.match(text, /\[possible values: typescript, javascript\]/);
  });

  test('--version and -v print "kit <version>"', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await kit([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `kit ${VERSION}\n`);
    }
  });

  test('an unknown command fails and names it', async () => {
    const r = await kit(['frobnicate']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /command frobnicate not found/);
  });

  test('flags are checked first: publish needs --metadata-uri, and exactly one signer', async () => {
    let r = await kit(['publish']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Missing required flag metadata-uri/);
    r = await kit(['publish', '-u', 'https://x/metadata.json', '-r', 'ws://localhost:8545']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /one and only one of `--keystore-path`, `--ledger`, `--trezor`, or `--safe`/);
    r = await kit(['publish', '-u', 'https://x/metadata.json', '--trezor']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Trezor hardware wallets are not supported in this build/);
  });
});
