// The top of the `kit` binary as a user meets it: --version, `kit help [COMMAND]`, and shell
// completion from @oclif/plugin-autocomplete, checked by sourcing the generated bash function and
// completing command and flag names the way bash does.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO, runKit } from '../helpers/kit.js';

const VERSION = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;

describe('kit --version, help and completion', () => {
  let cacheHome: string;
  before(() => {
    cacheHome = mkdtempSync(join(tmpdir(), 'kit-completion-'));
  });
  after(() => rmSync(cacheHome, { recursive: true, force: true }));

  test('kit --version and -v print the version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await runKit([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `kit ${VERSION}\n`);
    }
  });

  test('kit help lists the commands and kit help COMMAND shows its flags', async () => {
    const all = await runKit(['help']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^ {2}connect +Connect \(or disconnect\) a ssh tunnel/m);
    assert.match(all.stdout, /^ {2}setup +Fetch & setup kit dependencies/m);
    assert.match(all.stdout, /^ {2}autocomplete /m);
    const one = await runKit(['help', 'boot-real-node']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /-o, --home=<HOME>/);
    assert.match(one.stdout, /-r, --runtime-path=<PATH>/);
    assert.match(one.stdout, /ALIASES\n {2}\$ kit e/);
  });

  /** What bash offers for the last word, after running the setup line the user adds to ~/.bashrc. */
  function complete(setupLine: string, words: string[]): string[] {
    const line = words.join(' ');
    const script = `${setupLine}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE='${line}'; COMP_POINT=${line.length}; _kit_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').filter(Boolean);
  }

  test('bash completion completes commands and their flags', { skip: spawnSync('bash', ['--version']).status === 0 ? false : 'no bash' }, async () => {
    const env = { XDG_CACHE_HOME: cacheHome };
    const setup = await runKit(['autocomplete', 'bash'], { env });
    assert.equal(setup.code, 0, setup.output);
    assert.match(setup.stdout, /kit autocomplete script bash/);
    assert.ok(existsSync(join(cacheHome, 'kit', 'autocomplete', 'functions', 'bash', 'kit.bash')));
    const script = await runKit(['autocomplete', 'script', 'bash'], { env });
    assert.match(script.stdout, /KIT_AC_BASH_SETUP_PATH=/);
    const rc = script.stdout.trim();

    assert.deepEqual(complete(rc, ['kit', 'conn']), ['connect']);
    assert.deepEqual(complete(rc, ['kit', 'boot-r']), ['boot-real-node']);
    assert.deepEqual(complete(rc, ['kit', 'connect', '--d']), ['--disconnect']);
    assert.deepEqual(complete(rc, ['kit', 'setup', '--non']), ['--non-interactive']);
  });
});
