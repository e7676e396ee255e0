// The scripts a real node ships in terminal:sys and hns-indexer:sys, typed into a node's terminal
// (two in-process nodes on one fake chain, so there is a peer, an indexer and an eth provider).
// Each prints what the real script prints (hyperdrive/packages/terminal/<script>/src/lib.rs,
// hyperdrive/packages/hns-indexer/<script>/src/lib.rs), and runs as a `<u64>:<package>` process
// with its scripts.json capabilities, gone once it is done.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/core/log.js';
import { fromUtf8, type KernelMessage } from '../../src/core/types.js';
import { HYPERMAP, namehash } from '../../src/core/hypermap.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { freePort } from '../chain/helpers.js';

interface Typed {
  node: RunningNode;
  printed: () => string;
  type(line: string, expected: RegExp, ms?: number): Promise<string>;
}

async function boot(home: string, name: string, chainPort: number): Promise<Typed> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const node = await bootNode({ home, port: 0, name, fakechainPort: chainPort, terminal: { input, output }, log: createLogger({ target: name, terminal: null, file: null }) });
  return {
    node,
    printed: () => out,
    async type(line, expected, ms = 30_000) {
      const start = out.length;
      input.write(`${line}\n`);
      const end = Date.now() + ms;
      while (!expected.test(out.slice(start))) {
        if (Date.now() > end) assert.fail(`after typing ${JSON.stringify(line)} the terminal printed:\n${out.slice(start)}\n(expected ${expected})`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return out.slice(start);
    },
  };
}

describe('the real terminal scripts', { timeout: 300_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kit-scripts-'));
  let a: Typed;
  let b: Typed;

  before(async () => {
    const chainPort = await freePort();
    a = await boot(join(tmp, 'a'), 'scripts-a.dev', chainPort);
    b = await boot(join(tmp, 'b'), 'scripts-b.dev', chainPort);
    // Connect them: `hi` until b answers (the indexers need a moment to see each other).
    const end = Date.now() + 30_000;
    while (!/response from scripts-b\.dev: ack/.test(a.printed())) {
      assert.ok(Date.now() < end, `a never reached b:\n${a.printed()}`);
      await a.type('hi scripts-b.dev hello', /response from|offline|timed out/);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    await b?.node.stop();
    await a?.node.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("the book's `cat terminal:sys/pkg/scripts.json` shows the terminal package's scripts", async () => {
    const out = await a.type('cat terminal:sys/pkg/scripts.json', /"top\.wasm"/);
    assert.match(out, /"m\.wasm": \{\n\s+"root": true,\n\s+"public": true,\n\s+"request_networking": true/);
    assert.match(out, /"peers\.wasm"/);
    await a.type('cat /hns-indexer:sys/pkg/scripts.json', /"node-info\.wasm"/);
  });

  it('peers lists the connected peers with their networking key and routing (peers/src/lib.rs)', async () => {
    const out = await a.type('peers', /identities of current connected peers:/);
    const key = b.node.net.publicKeyHex;
    await a.type('', /$/, 10);
    assert.match(a.printed(), new RegExp(`scripts-b\\.dev:\\n {4}networking key: (0x)?${key}\\n {4}routing: Direct \\{ ip: "127\\.0\\.0\\.1", ports: \\{"ws": ${b.node.net.port}\\} \\}`));
    assert.match(out, /terminal:sys: identities of current connected peers:/);
  });

  it('peer shows one identity, or says there is none (peer/src/lib.rs)', async () => {
    await a.type('peer scripts-b.dev', /peer identity for scripts-b\.dev:\n {4}networking key: .*\n {4}routing: Direct/);
    await a.type('peer nobody.dev', /no PKI entry found with name nobody\.dev/);
  });

  it('net-diagnostics prints net\'s diagnostics (net-diagnostics/src/lib.rs)', async () => {
    // hyperdrive/src/net/mod.rs GetDiagnostics: the contract address, our Identity, the peers
    await a.type('net-diagnostics', /our Identity: Identity \{ name: "scripts-a\.dev"/);
  });

  it('get-providers, add-rpcurl-provider, remove-provider configure eth as the real scripts do', async () => {
    await a.type('get-providers', /Found \d+ provider\(s\):\n\n1\. Chain ID: 31337\n {3}Trusted: (true|false)\n {3}Type: RPC URL\n/);
    await a.type('add-rpcurl-provider ftp://nope', /Error: URL must start with http:\/\/, https:\/\/, ws:\/\/, or wss:\/\//);
    await a.type('add-rpcurl-provider http://localhost:1 --chain-id 5 --auth-type bearer --auth-value tok', /Successfully added RPC URL provider: http:\/\/localhost:1 on chain 5 with authentication/);
    const listed = await a.type('get-providers', /Chain ID: 5\n {3}Trusted: true\n {3}Type: RPC URL\n {3}URL: "http:\/\/localhost:1"\n {3}Auth: Configured/);
    assert.match(listed, /Found \d+ provider\(s\)/);
    await a.type('remove-provider 5 http://localhost:1', /Successfully removed provider 'http:\/\/localhost:1' from chain 5/);
    await a.type('add-node-provider 8453 other.hypr abc 10.0.0.1 9000', /Successfully added node provider: other\.hypr \(10\.0\.0\.1:9000\) on chain 8453 with trusted=false/);
    await a.type('remove-provider 8453 other.hypr', /Successfully removed provider 'other\.hypr' from chain 8453/);
    await a.type('remove-provider', /Usage: remove-provider <chain_id> <provider_name_or_url>/);
  });

  it('clear-state deletes a process\'s state (clear-state/src/lib.rs)', async () => {
    await a.type('clear-state', /Clear the state of the given process\.\nUsage: clear-state <process-id>/);
    await a.type('clear-state not-a-pid', /'not-a-pid' is not a process-id/);
    await a.type('clear-state sign:sign:sys', /Deleted state of process sign:sign:sys/);
  });

  it('hfetch:terminal:sys sums the node up (hfetch/src/lib.rs)', async () => {
    const out = await a.type('hfetch:terminal:sys', /running processes/);
    assert.match(out, /scripts-a\.dev/);
    assert.match(out, new RegExp(`pubkey: (0x)?${a.node.net.publicKeyHex}`));
    assert.match(out, /routing: direct at 127\.0\.0\.1 with ws/);
    assert.match(out, /\d+ eth providers for chain IDs 31337/);
  });

  it('node-info, state, get-block and namehash-to-name read the chain through hns-indexer and eth', async () => {
    const info = await a.type('node-info:hns-indexer:sys scripts-b.dev', /node info: Some\(/);
    assert.match(a.printed(), /WitHnsUpdate \{\n {8}name: "scripts-b\.dev",\n {8}public_key: "(0x)?[0-9a-f]{64}",\n {8}ips: \[\n {12}"127\.0\.0\.1",\n {8}\],/);
    assert.match(info, /hns-indexer:sys: node info/);
    await a.type('node-info:hns-indexer:sys nobody.dev', /node info: None/);
    const state = await a.type('state:hns-indexer:sys', /known nodes as of block \d+/);
    assert.match(state, new RegExp(`CA: ${HYPERMAP}`));
    assert.match(state, /running on chain id 31337/);
    assert.match(a.printed(), / {5}scripts-b\.dev/);
    await a.type('get-block:hns-indexer:sys 31337', /latest block number: \d+/);
    await a.type(`namehash-to-name:terminal:sys ${namehash('scripts-b.dev')}`, new RegExp(`${namehash('scripts-b.dev')}: scripts-b\\.dev`));
  });

  it('reset:hns-indexer:sys sends Reset as <u64>:hns-indexer:sys with the root capability attached, and says how it went', async () => {
    // What hns-indexer checks (hns-indexer/src/lib.rs handle_indexer_request): the sender's package
    // is hns-indexer:sys and the request carries its root capability.
    const indexer = (a.node.kernel as unknown as Kernel).table.get('hns-indexer:hns-indexer:sys')?.native;
    assert.ok(indexer);
    const seen: KernelMessage[] = [];
    const handle = indexer.handle.bind(indexer);
    indexer.handle = (km) => {
      seen.push(km);
      return handle(km);
    };
    try {
      await a.type('reset:hns-indexer:sys', /hns-indexer:sys: (hns-indexer reset: re-indexing the chain|reset refused: .+)/);
    } finally {
      indexer.handle = handle;
    }
    const reset = seen.find((km) => km.message.tag === 'request' && fromUtf8(km.message.val.body) === '"Reset"');
    assert.ok(reset, 'hns-indexer got "Reset"');
    assert.match(reset.source.process.processName, /^\d+$/);
    assert.equal(`${reset.source.process.packageName}:${reset.source.process.publisherNode}`, 'hns-indexer:sys');
    const caps = (reset.message.val as { capabilities: Array<{ issuer: { process: { processName: string } }; params: string }> }).capabilities;
    assert.deepEqual(
      caps.map((c) => [c.issuer.process.processName, c.params]),
      [['hns-indexer', '{"root":true}']],
    );
  });

  it('each run is its own <u64> process, gone when done', async () => {
    const kernel = a.node.kernel as unknown as Kernel;
    await a.type('peers', /identities of current connected peers/);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      kernel.processIds().filter((id) => /^\d+:(terminal|hns-indexer):sys$/.test(id)),
      [],
    );
  });
});
