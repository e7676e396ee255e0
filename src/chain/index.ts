// The chain library as one import: start a chain, deploy and read kit's contracts, register
// fake nodes. Each part lives in its own file; this file only gathers them.

export { AnvilError, anvilBinary } from './anvil.js';
export { ContractCompileError, loadArtifacts } from './compile.js';
export { type ChainClients, ContractDeployError, chainClients, deployContracts, hasContracts } from './deploy.js';
export * from '../core/hypermap.js';
export { probeChain, rpcCall } from './rpc.js';

export { type Chain, ChainPortInUseError, chainUrl, type StartChainOptions, startChain } from './start.js';
export { loadOrCreateNetKey, type NetKey, NetKeyError } from '../core/net-key.js';
export { NameTakenError, type Registration, RegistrationError, registerName } from './register.js';
export { connectFakeChain, FakeChainUnavailableError, type FakeNodeChain, registerFakeNode } from './fakenode.js';
