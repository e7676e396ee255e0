// Compile contracts/*.sol with the `solc` npm package. Artifacts (ABI + runtime bytecode) are build
// outputs cached under KIT_CACHE by a hash of the sources and the compiler version, so only the
// first run after a contract change pays for the (slow, wasm) compiler. `npm run build` also writes
// them next to this file (contracts.json), so an installed kit needs no solc (a dev dependency).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KIT_CACHE } from '../core/cache.js';

export interface ContractArtifact {
  abi: unknown[];
  /** Runtime bytecode, 0x-prefixed: what anvil_setCode installs. */
  deployedBytecode: `0x${string}`;
  /** Creation bytecode, 0x-prefixed: what a CREATE2 of the contract hashes (AccountProxy's). */
  bytecode: `0x${string}`;
}

export type Artifacts = Record<string, ContractArtifact>;

export class ContractCompileError extends Error {
  override name = 'ContractCompileError';
}

/** kit's contracts/ folder (next to package.json). */
export function contractsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'contracts'))) return join(dir, 'contracts');
    const up = dirname(dir);
    if (up === dir) throw new ContractCompileError('cannot find kit\'s contracts/ folder');
    dir = up;
  }
}

function readSources(): Record<string, string> {
  const dir = contractsDir();
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.sol')) out[f] = readFileSync(join(dir, f), 'utf8');
  return out;
}

interface ShippedArtifacts {
  /** contractsHash() when they were compiled. */
  hash: string;
  solc: string;
  artifacts: Artifacts;
}

const SHIPPED = fileURLToPath(new URL('./contracts.json', import.meta.url));

function readShipped(): ShippedArtifacts | undefined {
  try {
    return JSON.parse(readFileSync(SHIPPED, 'utf8')) as ShippedArtifacts;
  } catch {
    return undefined;
  }
}

function installedSolc(): { version: string; compile(input: string): string } | undefined {
  const req = createRequire(import.meta.url);
  try {
    const version = (req('solc/package.json') as { version: string }).version;
    return { version, compile: (input) => (req('solc') as { compile(input: string): string }).compile(input) };
  } catch {
    return undefined;
  }
}

/** The compiler's version: the installed solc's, else the one the shipped artifacts were made with. */
function solcVersion(): string {
  return installedSolc()?.version ?? readShipped()?.solc ?? 'none';
}

/** A hash of everything that decides the artifacts (sources + compiler); also keys the chain state cache. */
export function contractsHash(): string {
  const h = createHash('sha256');
  h.update(solcVersion());
  for (const [name, text] of Object.entries(readSources())) h.update(`\0${name}\0${text}`);
  return h.digest('hex').slice(0, 16);
}

let memo: { hash: string; artifacts: Artifacts } | undefined;

/** Compiled contracts, keyed by contract name (Hypermap, HyperAccount, HyperAccountMinter, ...). */
export function loadArtifacts(): Artifacts {
  const hash = contractsHash();
  if (memo?.hash === hash) return memo.artifacts;
  const cacheDir = join(KIT_CACHE, 'contracts');
  const file = join(cacheDir, `artifacts-${hash}.json`);
  if (existsSync(file)) {
    const artifacts = JSON.parse(readFileSync(file, 'utf8')) as Artifacts;
    memo = { hash, artifacts };
    return artifacts;
  }
  const shipped = readShipped();
  if (shipped?.hash === hash) {
    memo = { hash, artifacts: shipped.artifacts };
    return shipped.artifacts;
  }
  const artifacts = compile(readSources());
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(artifacts));
  renameSync(tmp, file);
  memo = { hash, artifacts };
  return artifacts;
}

/** `npm run build`: the artifacts next to this module, for installs without solc; returns the path. */
export function writeShippedArtifacts(): string {
  const shipped: ShippedArtifacts = { hash: contractsHash(), solc: solcVersion(), artifacts: loadArtifacts() };
  writeFileSync(SHIPPED, `${JSON.stringify(shipped)}\n`);
  return SHIPPED;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
}

function compile(sources: Record<string, string>): Artifacts {
  const solc = installedSolc();
  if (!solc)
    throw new ContractCompileError(
      `kit's contracts/ differ from the ones this kit was built with (${SHIPPED}), and solc, which compiles them, is a development dependency that is not installed here: reinstall kit, or run \`npm install && npm run build\` in a source checkout`,
    );
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, { content: v }])),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new ContractCompileError(`compiling contracts/ failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const artifacts: Artifacts = {};
  for (const file of Object.values(out.contracts)) {
    for (const [name, c] of Object.entries(file)) {
      artifacts[name] = { abi: c.abi, deployedBytecode: `0x${c.evm.deployedBytecode.object}`, bytecode: `0x${c.evm.bytecode.object}` };
    }
  }
  return artifacts;
}
