import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  compareSemver,
  type Metadata,
  MetadataError,
  parseSemver,
  readAndUpdateMetadata,
  readMetadata,
  zipFilename,
} from '../../src/package/metadata.js';

function metadataText(current: string, hashes: Record<string, string>, eol = '\n'): string {
  return [
    '{',
    '  "name": "chat",',
    '  "description": "",',
    '  "properties": {',
    '    "package_name": "chat",',
    '    "publisher": "template.os",',
    `    "current_version": "${current}",`,
    '    "mirrors": [],',
    `    "code_hashes": ${JSON.stringify(hashes)},`,
    '    "wit_version": 1,',
    '    "dependencies": []',
    '  }',
    '}',
  ].join(eol);
}

describe('metadata.json', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kit-metadata-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('current version already newest: file untouched', async () => {
    const text = metadataText('0.1.0', { '0.1.0': '' });
    await writeFile(join(dir, 'metadata.json'), text);
    const m = await readAndUpdateMetadata(dir);
    assert.equal(m.properties.current_version, '0.1.0');
    assert.equal(await readFile(join(dir, 'metadata.json'), 'utf8'), text);
  });

  test('a newer listed version moves current_version up and normalises line ends', async () => {
    await writeFile(join(dir, 'metadata.json'), metadataText('0.1.0', { '0.1.0': 'aa', '0.10.0': '', '0.9.9': '' }, '\r\n'));
    const m = await readAndUpdateMetadata(dir);
    assert.equal(m.properties.current_version, '0.10.0');
    const after = await readFile(join(dir, 'metadata.json'), 'utf8');
    assert.equal(after, `${metadataText('0.10.0', { '0.1.0': 'aa', '0.10.0': '', '0.9.9': '' })}\n`);
    assert.equal((await readMetadata(dir)).properties.current_version, '0.10.0');
  });

  test('a current version newer than every listed one is an error', async () => {
    await writeFile(join(dir, 'metadata.json'), metadataText('0.2.0', { '0.1.0': '' }));
    await assert.rejects(readAndUpdateMetadata(dir), {
      message: `${join(dir, 'metadata.json')} has a current_version (0.2.0) that does not exist: newest listed version 0.1.0`,
    });
  });

  test('no semver key in code_hashes is an error', async () => {
    await writeFile(join(dir, 'metadata.json'), metadataText('0.1.0', { latest: '' }));
    await assert.rejects(readAndUpdateMetadata(dir), { message: `${join(dir, 'metadata.json')} doesn't list versions` });
  });

  test('missing file and missing fields say what is wrong', async () => {
    await assert.rejects(readMetadata(join(dir, 'nope')), (e: unknown) => e instanceof MetadataError && /no such file/.test(e.message));
    await writeFile(join(dir, 'metadata.json'), '{"properties": {"package_name": "x"}}');
    await assert.rejects(readMetadata(dir), /properties.publisher must be a string/);
  });
});

describe('zip name', () => {
  const meta = (package_name: string, publisher: string) =>
    ({ properties: { package_name, publisher, current_version: '0.1.0', mirrors: [], code_hashes: {} } }) as Metadata;
  test("drops the publisher's last dot-segment, as kit's Path::with_extension does", () => {
    assert.equal(zipFilename('/p', meta('chat', 'template.os')), '/p/target/chat:template.zip');
    assert.equal(zipFilename('/p', meta('tester', 'sys')), '/p/target/tester:sys.zip');
    assert.equal(zipFilename('/p', meta('pkg', 'my.node.os')), '/p/target/pkg:my.node.zip');
  });
});

describe('semver', () => {
  test('orders by precedence and rejects non-versions', () => {
    const v = (s: string) => parseSemver(s)!;
    assert.ok(compareSemver(v('0.10.0'), v('0.9.0')) > 0);
    assert.ok(compareSemver(v('1.0.0-alpha'), v('1.0.0')) < 0);
    assert.ok(compareSemver(v('1.0.0-alpha.2'), v('1.0.0-alpha.10')) < 0);
    assert.ok(compareSemver(v('1.0.0-alpha'), v('1.0.0-alpha.1')) < 0);
    assert.equal(compareSemver(v('1.2.3'), v('1.2.3')), 0);
    assert.equal(parseSemver('v1.0.0'), undefined);
    assert.equal(parseSemver('01.0.0'), undefined);
    assert.equal(parseSemver('1.0'), undefined);
  });
});
