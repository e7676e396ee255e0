#!/usr/bin/env node
// `kit-hyperdrive`: kit's embedded fake node behind Hyperdrive's command line, so the real kit
// runs it as its runtime: `kit boot-fake-node --runtime-path <this file>` or, in tests.toml,
// `runtime = { RepoPath = "<this file>" }`. `kit-hyperdrive --help` lists the flags it takes.

import { main } from '../dist/src/node-cli/main.js';

// stdin (the node's terminal) would keep the process alive once the node is down.
process.exit(await main(process.argv.slice(2)));
