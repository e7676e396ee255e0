// A node in an OS process of its own, for tests that kill it and benches that time it from
// outside: `node node-child.js <home> <port> [<max zip bytes> <max zip ratio>]` boots a persisted
// node (bootNode, what `kit boot-fake-node --persist` runs, without a chain) and prints
// `ready <port>` once it serves; SIGTERM stops it cleanly.

import { bootNode } from '../../src/runtime/node.js';

const [home, port, maxBytes, maxRatio] = process.argv.slice(2);
const zipLimits = maxBytes ? { maxBytes: Number(maxBytes), maxRatio: Number(maxRatio) } : undefined;
const node = await bootNode({ home, port: Number(port), name: 'fake.dev', persist: true, zipLimits });
process.stdout.write(`ready ${node.port}\n`);
process.once('SIGTERM', () => {
  node.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
