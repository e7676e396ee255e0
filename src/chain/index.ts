// The chain library as one import: start a chain, deploy and read kit's contracts, register
// fake nodes. Each part lives in its own file; this file only gathers them.

export { AnvilError, anvilBinary } from './anvil.js';
export { ContractCompileError, loadArtifacts } from './compile.js';
export { type ChainClients, type ChainReport, ContractDeployError, chainClients, describeChain, hasContracts, prepareChain } from './deploy.js';
export * from '../core/hypermap.js';
export { probeChain, rpcCall } from './rpc.js';

export { type Chain, ChainPortInUseError, chainUrl, describeFoundChain, type StartChainOptions, startChain } from './start.js';
export { liveLeases, readSharedAnvil, stopSharedAnvil } from './lease.js';
export { loadOrCreateNetKey, type NetKey, NetKeyError } from '../core/net-key.js';
export { NameTakenError, type Registration, RegistrationError, registerName } from './register.js';
export { connectFakeChain, FakeChainUnavailableError, type FakeNodeChain, registerFakeNode } from './fakenode.js';
