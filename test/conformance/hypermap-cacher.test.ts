// hypermap-cacher:hypermap-cacher:sys (and binding-cacher) from inside a component, as Hyperdrive's
// answer (hyperdrive/packages/hypermap-cacher/hypermap-cacher/src/lib.rs, api
// hypermap-cacher:sys-v1.wit) and as process_lib's Hypermap bootstrap reads them
// (process_lib src/hypermap.rs get_bootstrap_log_cache ~732, validate_log_cache): GetLogsByRange
// gives signed caches of Hypermap's logs, and each cache's signature verifies with sign:sign:sys
// exactly the way validate_log_cache checks it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keccak256, toBytes } from 'viem';
import { HYPERMAP, namehash } from '../../src/core/hypermap.js';
import { MINT_TOPIC } from '../../src/runtime/modules/eth/ask.js';
import { freePort } from '../e2e/helpers.js';
import { bootConformanceNode, type ConformanceNode } from './harness.js';

const CACHER = 'hypermap-cacher:hypermap-cacher:sys';
const BINDING = 'binding-cacher:hypermap-cacher:sys';
const SIGN = 'sign:sign:sys';

interface LogCache {
  metadata: { chainId: string; fromBlock: string; toBlock: string; timeCreated: string; createdBy: string; signature: string };
  logs: Array<{ address: string; topics: string[]; blockNumber: string }>;
}

describe('conformance: hypermap-cacher', { timeout: 300_000 }, () => {
  let c: ConformanceNode;
  const driver = () => c.driver('driver', 'cacher-conf');

  before(async () => {
    c = await bootConformanceNode(
      [
        {
          name: 'cacher-conf',
          processes: [
            {
              name: 'driver',
              request_capabilities: ['http-server:distro:sys', CACHER, BINDING, SIGN],
              grant_capabilities: ['http-server:distro:sys', CACHER, BINDING, SIGN],
            },
          ],
        },
      ],
      { fakechainPort: await freePort() },
    );
    // Until its bootstrap is done it answers IsStarting (process_lib retries on that).
    const end = Date.now() + 60_000;
    while ((await driver().json(CACHER, '"GetStatus"')) === 'IsStarting') {
      assert.ok(Date.now() < end, 'the cacher never finished starting');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    await c?.stop();
  });

  it('GetStatus: the CacherStatus record (lib.rs handle_request GetStatus)', async () => {
    const s = (await driver().json(CACHER, '"GetStatus"')) as { GetStatus: Record<string, unknown> };
    assert.deepEqual(Object.keys(s.GetStatus).sort(), [
      'chain_id',
      'is_providing',
      'last_cached_block',
      'log_files_count',
      'manifest_filename',
      'next_cache_attempt_in_seconds',
      'our_address',
      'protocol_version',
    ]);
    assert.equal(s.GetStatus.chain_id, '31337');
    assert.equal(s.GetStatus.protocol_version, '0');
    assert.equal(s.GetStatus.manifest_filename, 'manifest-chain31337-protocol0.json');
    assert.equal(s.GetStatus.our_address, `fake.dev@${CACHER}`);
    assert.equal(s.GetStatus.is_providing, false);
    assert.equal(s.GetStatus.next_cache_attempt_in_seconds, 3600);
    assert.ok((s.GetStatus.last_cached_block as number) > 0);
  });

  it('GetLogsByRange: {"Ok": {"Logs": [block, JSON of log caches]}} holding Hypermap logs, signed as validate_log_cache checks', async () => {
    const r = (await driver().json(CACHER, { GetLogsByRange: { from_block: 0, to_block: null } })) as {
      GetLogsByRange: { Ok: { Logs: [number, string] } };
    };
    const [block, json] = r.GetLogsByRange.Ok.Logs;
    assert.ok(block > 0);
    const caches = JSON.parse(json) as LogCache[];
    assert.ok(caches.length >= 1);
    const logs = caches.flatMap((cache) => cache.logs);
    assert.ok(logs.every((l) => l.address === HYPERMAP.toLowerCase()), 'only Hypermap logs');
    const mint = logs.find((l) => l.topics[0] === MINT_TOPIC && l.topics[2] === namehash('fake.dev'));
    assert.ok(mint, "this node's own Mint on Hypermap is among them");
    for (const cache of caches) {
      assert.equal(cache.metadata.chainId, '31337');
      assert.equal(cache.metadata.createdBy, `fake.dev@${CACHER}`);
      assert.match(cache.metadata.timeCreated, /^\d{8}T\d{6}Z$/);
      // validate_log_cache: keccak256(serde_json::to_vec(logs) ++ from_block.to_be_bytes() ++ to_block.to_be_bytes()),
      // verified with sign's NetKeyVerify against createdBy.
      const be = (n: string) => {
        const b = Buffer.alloc(8);
        b.writeBigUInt64BE(BigInt(n));
        return b;
      };
      const hashed = toBytes(keccak256(Buffer.concat([Buffer.from(JSON.stringify(cache.logs)), be(cache.metadata.fromBlock), be(cache.metadata.toBlock)])));
      const signature = [...Buffer.from(cache.metadata.signature.replace(/^0x/, ''), 'hex')];
      const verified = await driver().json(SIGN, { NetKeyVerify: { node: cache.metadata.createdBy, signature } }, { blob: hashed, timeout: 10 });
      assert.deepEqual(verified, { NetKeyVerify: true });
    }
  });

  it('GetLogsByRange past what is cached answers {"Ok": {"Latest": last cached block}}', async () => {
    const r = (await driver().json(CACHER, { GetLogsByRange: { from_block: 1_000_000, to_block: null } })) as { GetLogsByRange: { Ok: { Latest: number } } };
    assert.equal(typeof r.GetLogsByRange.Ok.Latest, 'number');
  });

  it('GetManifest lists the cache files; GetLogCacheContent gives one back (WIT manifest record)', async () => {
    const m = (await driver().json(CACHER, '"GetManifest"')) as {
      GetManifest: { items: Array<[string, { metadata: Record<string, string>; is_empty: boolean; file_hash: string; file_name: string }]>; manifest_filename: string; chain_id: string; protocol_version: string };
    };
    assert.equal(m.GetManifest.chain_id, '31337');
    assert.equal(m.GetManifest.manifest_filename, 'manifest-chain31337-protocol0.json');
    const full = m.GetManifest.items.find(([, item]) => !item.is_empty);
    assert.ok(full);
    const [, item] = full;
    assert.deepEqual(Object.keys(item.metadata).sort(), ['chain_id', 'created_by', 'from_block', 'signature', 'time_created', 'to_block']);
    const content = (await driver().json(CACHER, { GetLogCacheContent: item.file_name })) as { GetLogCacheContent: { Ok: string } };
    assert.equal(keccak256(Buffer.from(content.GetLogCacheContent.Ok)), item.file_hash);
    assert.deepEqual(await driver().json(CACHER, { GetLogCacheContent: 'no-such-file.json' }), { GetLogCacheContent: { Ok: null } });
  });

  it('StartProviding / StopProviding answer {"<variant>": {"Ok": …}} from our own node', async () => {
    assert.deepEqual(await driver().json(CACHER, '"StartProviding"'), { StartProviding: { Ok: 'Provider mode enabled' } });
    assert.deepEqual(await driver().json(CACHER, '"StopProviding"'), { StopProviding: { Ok: 'Provider mode disabled' } });
  });

  it('binding-cacher speaks the same protocol; the fake chain has no bindings contract, so it has only a Latest block', async () => {
    const end = Date.now() + 60_000;
    while ((await driver().json(BINDING, '"GetStatus"')) === 'IsStarting') {
      assert.ok(Date.now() < end, 'the binding-cacher never finished starting');
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = (await driver().json(BINDING, { GetLogsByRange: { from_block: 0, to_block: null } })) as { GetLogsByRange: { Ok: { Latest: number } } };
    assert.equal(typeof r.GetLogsByRange.Ok.Latest, 'number');
  });

  it('a body that is no CacherRequest is answered at once with what to send', async () => {
    const r = (await driver().json(CACHER, { GetEverything: true })) as { Err: string };
    assert.match(r.Err, /GetLogsByRange/);
  });
});
