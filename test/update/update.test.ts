import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, noticeEnabled, npmInstallArgs, registryUrl, scriptsToAllow } from '../../src/update/index.js';

test('versions compare numerically, a pre-release before its release', () => {
  assert.equal(compareVersions('0.10.0', '0.9.9'), 1);
  assert.equal(compareVersions('1.2.3', '1.2.3'), 0);
  assert.equal(compareVersions('1.0.0-rc.1', '1.0.0'), -1);
  assert.equal(compareVersions('v2.0.0', '1.99.99'), 1);
});

test('the notice is off in CI, without a terminal and when asked; KIT_UPDATE_NOTIFIER=1 forces it', () => {
  assert.equal(noticeEnabled({}, true), true);
  assert.equal(noticeEnabled({}, false), false);
  assert.equal(noticeEnabled({ CI: 'true' }, true), false);
  assert.equal(noticeEnabled({ NO_UPDATE_NOTIFIER: '1' }, true), false);
  assert.equal(noticeEnabled({ KIT_UPDATE_NOTIFIER: '0' }, true), false);
  assert.equal(noticeEnabled({ KIT_UPDATE_NOTIFIER: '1', CI: 'true' }, false), true);
});

test('npm install arguments follow how kit is installed', () => {
  assert.deepEqual(npmInstallArgs('kit', '1.2.0', { kind: 'global', prefix: '/usr/lib/node_modules' }), ['install', '-g', 'kit@1.2.0']);
  assert.deepEqual(npmInstallArgs('kit', '1.2.0', { kind: 'project', dir: '/p' }, ['--no-audit']), ['install', 'kit@1.2.0', '--no-audit']);
  // npm reads allowScripts only from a project's own package.json: a global install names them.
  assert.deepEqual(npmInstallArgs('@hyperware-kit/kit', '1.2.0', { kind: 'global', prefix: '/g' }, [], ['esbuild', 'better-sqlite3']), [
    'install',
    '-g',
    '--allow-scripts=esbuild,better-sqlite3',
    '@hyperware-kit/kit@1.2.0',
  ]);
  assert.deepEqual(npmInstallArgs('@hyperware-kit/kit', '1.2.0', { kind: 'project', dir: '/p' }, [], ['esbuild']), ['install', '@hyperware-kit/kit@1.2.0']);
  assert.ok(scriptsToAllow().includes('better-sqlite3'));
  assert.ok(!scriptsToAllow().includes('keccak'), 'a dev-only dependency whose script is denied is not allowed');
  assert.equal(registryUrl({ npm_config_registry: 'https://r.example/' }), 'https://r.example');
  assert.equal(registryUrl({ KIT_UPDATE_REGISTRY: 'http://x', npm_config_registry: 'https://r' }), 'http://x');
});
