// `kit dev-ui` argument handling, as a user meets it before any UI server starts.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kit } from './helpers/cli.js';

describe('kit dev-ui', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kit-dev-ui-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a package folder that does not exist is named as missing, not as one without a UI', async () => {
    const r = await kit(['d', join(dir, 'my-chatt')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /package directory .*my-chatt does not exist/);
    assert.match(r.stderr, /hint: Pass the folder of a package made with `kit new <dir> --ui`/);
  });
});
