// The App Store's three processes from inside a component, with the request shapes of
// app-store:sys-v2.wit (hyperdrive/packages/app-store/api/app-store:sys-v2.wit) and the answers
// Hyperdrive's processes give: main (app-store/src/lib.rs), downloads (downloads/src/lib.rs),
// chain (chain/src/lib.rs). The cases that need another node are in
// test/runtime/app-store-mirror.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../e2e/helpers.js';
import { bootConformanceNode, type ConformanceNode, PUBLISHER } from './harness.js';

const MAIN = 'main:app-store:sys';
const DOWNLOADS = 'downloads:app-store:sys';
const CHAIN = 'chain:app-store:sys';
const OURS = { package_name: 'app-conf', publisher_node: PUBLISHER };
const NOPE = { package_name: 'nope', publisher_node: 'nobody.os' };

describe('conformance: app-store', { timeout: 300_000 }, () => {
  let c: ConformanceNode;
  const driver = () => c.driver('driver', 'app-conf');

  before(async () => {
    c = await bootConformanceNode(
      [
        {
          name: 'app-conf',
          processes: [
            {
              name: 'driver',
              request_capabilities: ['http-server:distro:sys', MAIN, DOWNLOADS, CHAIN],
              grant_capabilities: ['http-server:distro:sys', MAIN, DOWNLOADS, CHAIN],
            },
          ],
        },
      ],
      { fakechainPort: await freePort() },
    );
  });
  after(async () => {
    await c?.stop();
  });

  describe('main:app-store:sys (app-store/src/lib.rs handle_local_request)', () => {
    it('Apis lists package IDs as records; GetApi of a package without one answers Failure', async () => {
      const apis = (await driver().json(MAIN, '"Apis"')) as { ApisResponse: { apis: unknown[] } };
      assert.ok(Array.isArray(apis.ApisResponse.apis));
      assert.deepEqual(await driver().json(MAIN, { GetApi: NOPE }), { GetApiResponse: 'Failure' });
    });

    it('NewPackage without a blob answers NoBlob; Uninstall of what is not installed answers Failure', async () => {
      assert.deepEqual(await driver().json(MAIN, { NewPackage: { package_id: NOPE, mirror: false } }), { NewPackageResponse: 'NoBlob' });
      assert.deepEqual(await driver().json(MAIN, { Uninstall: NOPE }), { UninstallResponse: 'Failure' });
    });
  });

  describe('downloads:app-store:sys (downloads/src/lib.rs)', () => {
    it('GetFiles(null) lists the package folders with whether they are mirrored; GetFiles(id) the zips with size and manifest', async () => {
      const all = (await driver().json(DOWNLOADS, { GetFiles: null })) as { GetFiles: Array<{ Dir?: { name: string; mirroring: boolean } }> };
      // kit start-package sent NewPackage with mirror: true.
      assert.ok(all.GetFiles.some((e) => e.Dir?.name === `app-conf:${PUBLISHER}` && e.Dir.mirroring === true), JSON.stringify(all));
      const mine = (await driver().json(DOWNLOADS, { GetFiles: OURS })) as { GetFiles: Array<{ File?: { name: string; size: number; manifest: string } }> };
      const zip = mine.GetFiles.find((e) => e.File)?.File;
      assert.ok(zip);
      assert.match(zip.name, /^[0-9a-f]{64}\.zip$/);
      assert.ok(zip.size > 0);
      assert.equal(JSON.parse(zip.manifest)[0].process_name, 'driver');
    });

    it('MirrorCheck answers "Success" for a mirrored package and {"Err": "NotMirroring"} otherwise', async () => {
      assert.equal(await driver().json(DOWNLOADS, { MirrorCheck: OURS }), 'Success');
      assert.deepEqual(await driver().json(DOWNLOADS, { MirrorCheck: NOPE }), { Err: 'NotMirroring' });
    });

    it('LocalDownload sends no Response (the transfer runs on; completion goes to main as DownloadComplete)', async () => {
      const r = await driver().send(DOWNLOADS, { LocalDownload: { package_id: NOPE, download_from: 'nobody.os', desired_version_hash: 'a'.repeat(64) } }, { timeout: 2 });
      assert.ok('sendError' in r && r.sendError.kind === 'timeout', JSON.stringify(r));
    });

    it('StopMirroring / StartMirroring answer "Success"', async () => {
      assert.equal(await driver().json(DOWNLOADS, { StopMirroring: OURS }), 'Success');
      assert.deepEqual(await driver().json(DOWNLOADS, { MirrorCheck: OURS }), { Err: 'NotMirroring' });
      assert.equal(await driver().json(DOWNLOADS, { StartMirroring: OURS }), 'Success');
      assert.equal(await driver().json(DOWNLOADS, { MirrorCheck: OURS }), 'Success');
    });
  });

  describe('chain:app-store:sys (chain/src/lib.rs handle_local_request)', () => {
    it('GetApps lists what is published; GetApp of an unpublished package answers {"GetApp": null}', async () => {
      const apps = (await driver().json(CHAIN, '"GetApps"')) as { GetApps: unknown[] };
      assert.ok(Array.isArray(apps.GetApps));
      assert.deepEqual(await driver().json(CHAIN, { GetApp: NOPE }), { GetApp: null });
    });

    it('StartAutoUpdate / StopAutoUpdate of a package that is not listed answer {"Err": "NoPackage"}', async () => {
      assert.deepEqual(await driver().json(CHAIN, { StartAutoUpdate: NOPE }), { Err: 'NoPackage' });
      assert.deepEqual(await driver().json(CHAIN, { StopAutoUpdate: NOPE }), { Err: 'NoPackage' });
    });
  });
});
