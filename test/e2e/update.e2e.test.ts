// `kit update` and the update notice against an npm-registry stand-in on loopback (a plain HTTP
// server answering GET /<name>/latest as the npm registry does): the versions it tells, the
// clear messages for 404 / another project under the same name / no network, and a notice that
// appears only from a cached answer and never makes a command fail offline.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO, runKit } from '../helpers/kit.js';
import { freePort } from './helpers.js';

const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };

let answer: { status: number; body: unknown } = { status: 404, body: {} };
let server: Server;
let registry: string;
let dir: string;

function kitManifest(version: string) {
  return { name: PKG.name, version, oclif: { bin: 'kit' }, exports: { '.': './dist/src/index.js', './process': './dist/src/process-lib/index.js' } };
}

before(async () => {
  server = createServer((req, res) => {
    // A scoped name travels as @scope%2Fname, as npm's registry takes it.
    if (decodeURIComponent(req.url ?? '') !== `/${PKG.name}/latest`) {
      res.writeHead(404).end('{}');
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  registry = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  dir = mkdtempSync(join(tmpdir(), 'kit-update-'));
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kit update', () => {
  test('tells the installed and the newest version', async () => {
    answer = { status: 200, body: kitManifest('99.1.0') };
    const r = await runKit(['update', '--check'], { env: { KIT_UPDATE_REGISTRY: registry } });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, new RegExp(`installed: ${PKG.name} ${PKG.version.replaceAll('.', '\\.')}`));
    assert.match(r.stdout, new RegExp(`newest on ${registry}: 99\\.1\\.0`));
    assert.match(r.stdout, /kit 99\.1\.0 is available/);
  });

  test('a source checkout is not changed: kit prints the git commands for --branch', async () => {
    answer = { status: 200, body: kitManifest('99.1.0') };
    const r = await runKit(['update', '--branch', 'main'], { env: { KIT_UPDATE_REGISTRY: registry } });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /runs from a source checkout/);
    assert.match(r.stdout, new RegExp(`git -C ${REPO} pull origin main`));
  });

  test('the same version is up to date', async () => {
    answer = { status: 200, body: kitManifest(PKG.version) };
    const r = await runKit(['update'], { env: { KIT_UPDATE_REGISTRY: registry } });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /kit is up to date\./);
  });

  test('404, another project under the name, and no network are clear errors', async () => {
    answer = { status: 404, body: { error: 'Not found' } };
    const missing = await runKit(['update'], { env: { KIT_UPDATE_REGISTRY: registry } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`has no package named "${PKG.name}" \\(HTTP 404\\)`));
    assert.doesNotMatch(missing.stderr, /at .*\.js:\d+/, 'no stack trace');

    answer = { status: 200, body: { name: PKG.name, version: '2.0.31', bin: { kit: 'cli.js' } } };
    const other = await runKit(['update'], { env: { KIT_UPDATE_REGISTRY: registry } });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /\(version 2\.0\.31\) is a different project, not this kit/);

    const closed = `http://127.0.0.1:${await freePort()}`;
    const offline = await runKit(['update'], { env: { KIT_UPDATE_REGISTRY: closed } });
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, new RegExp(`could not reach the npm registry at ${closed} \\(ECONNREFUSED\\)`));
    assert.match(offline.stderr, /hint: check your network/);
  });
});

describe('the update notice', () => {
  async function waitForFile(path: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!existsSync(path) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(path), `${path} was written by the background check`);
  }

  test('appears from the cached answer after a background check', async () => {
    answer = { status: 200, body: kitManifest('99.2.0') };
    const cache = join(dir, 'cache-newer');
    const env = { KIT_CACHE: cache, KIT_UPDATE_REGISTRY: registry, KIT_UPDATE_NOTIFIER: '1' };
    const first = await runKit(['help'], { env });
    assert.equal(first.code, 0, first.output);
    assert.doesNotMatch(first.stderr, /is available/, 'the first run only starts the check');
    await waitForFile(join(cache, 'update-check.json'));

    const second = await runKit(['help'], { env });
    assert.equal(second.code, 0);
    assert.match(second.stderr, new RegExp(`kit 99\\.2\\.0 is available \\(you have ${PKG.version.replaceAll('.', '\\.')}\\): run \`kit update\``));

    // Off without a terminal (these runs have none) unless forced, and off when asked.
    const notForced = await runKit(['help'], { env: { KIT_CACHE: cache, KIT_UPDATE_REGISTRY: registry } });
    assert.doesNotMatch(notForced.stderr, /is available/);
    const off = await runKit(['help'], { env: { ...env, KIT_UPDATE_NOTIFIER: '0' } });
    assert.doesNotMatch(off.stderr, /is available/);
    const inCi = await runKit(['help'], { env: { KIT_CACHE: cache, KIT_UPDATE_REGISTRY: registry, CI: 'true' } });
    assert.doesNotMatch(inCi.stderr, /is available/);
  });

  test('offline, commands run as usual and nothing is said', async () => {
    const cache = join(dir, 'cache-offline');
    const env = { KIT_CACHE: cache, KIT_UPDATE_REGISTRY: `http://127.0.0.1:${await freePort()}`, KIT_UPDATE_NOTIFIER: '1' };
    const first = await runKit(['help'], { env });
    assert.equal(first.code, 0, first.output);
    assert.equal(first.stderr, '');
    await waitForFile(join(cache, 'update-check.json'));
    const second = await runKit(['help'], { env });
    assert.equal(second.code, 0);
    assert.equal(second.stderr, '');
  });
});
