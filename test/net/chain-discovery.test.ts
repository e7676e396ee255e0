// The Quick Start path: two fake nodes on one fake chain find each other through Hypermap
// (hns-indexer -> HnsUpdate -> net) and `hi` each other; no test code feeds the PKI.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SendErrorException } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createLogger } from '../../src/core/log.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { fromUtf8, NETWORK_PARAMS } from '../../src/core/types.js';
import { freePort } from '../chain/helpers.js';
import { TESTER } from './helpers.js';

describe('discovery through the fake chain', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kit-net-chain-'));
  const nodes: RunningNode[] = [];
  const prints = new Map<string, string[]>();

  before(async () => {
    const chainPort = await freePort();
    for (const name of ['quick-a.dev', 'quick-b.dev']) {
      const node = await bootNode({ home: join(tmp, name), port: 0, name, fakechainPort: chainPort, log: createLogger({ target: name, terminal: null, file: null }) });
      nodes.push(node);
      const lines: string[] = [];
      prints.set(name, lines);
      const kernel = node.kernel as Kernel;
      kernel.setPrinter((_v, t) => lines.push(t));
      await kernel.addNative({ id: TESTER, isPublic: true, handle: () => {} }, [{ issuer: { node: name, process: { processName: 'kernel', packageName: 'distro', publisherNode: 'sys' } }, params: NETWORK_PARAMS }]);
    }
  });

  after(async () => {
    for (const n of [...nodes].reverse()) await n.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('hi goes both ways once hns-indexer has told net about the other node', async () => {
    const [a, b] = nodes;
    const hiUntilAck = async (from: RunningNode, to: string, text: string) => {
      const end = Date.now() + 20_000;
      for (;;) {
        try {
          return fromUtf8((await from.kernel.request(TESTER, `${to}@net:distro:sys`, text, { timeoutSecs: 5 })).response.body);
        } catch (e) {
          // Offline until the indexer has seen the other node's notes.
          if (!(e instanceof SendErrorException) || e.sendError.kind !== 'offline' || Date.now() > end) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    assert.equal(await hiUntilAck(a, b.name, 'hello b'), 'ack');
    assert.equal(await hiUntilAck(b, a.name, 'hello a'), 'ack');
    assert.ok(prints.get(b.name)?.some((l) => l.includes('quick-a.dev: hello b')));
    assert.ok(prints.get(a.name)?.some((l) => l.includes('quick-b.dev: hello a')));
  });
});
