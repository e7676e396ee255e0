// kit/process: the library TypeScript and JavaScript processes import instead of the raw WIT.
// `kit build` bundles it into each process; it talks to the node only through the host functions
// of hyperware:process/standard@1.0.0. See README.md for a tour with examples.

export type {
  Address,
  Capability,
  LazyLoadBlob,
  Message as WitMessage,
  OnExit,
  PackageId,
  ProcessId,
  Request as WitRequest,
  Response as WitResponse,
  SendError as WitSendError,
  SendErrorKind,
} from '../core/types.js';
export {
  capability,
  dropCapabilities,
  getCapability,
  hasCapability,
  messagingCapability,
  ourCapabilities,
  sameParams,
  saveCapabilities,
} from './capabilities.js';
export {
  BuildError,
  EthError,
  HttpClientError,
  HttpServerError,
  JsonDecodeError,
  KvError,
  MessageSendError,
  ModuleError,
  ProcessLibError,
  SpawnError,
  SqliteError,
  UnexpectedResponseError,
  VfsError,
} from './errors.js';
export {
  address,
  addressFromWitJson,
  addressToString,
  addressToWitJson,
  IdParseError,
  idString,
  inPackage,
  isSafeName,
  moduleAddress,
  packageIdJson,
  packageIdToString,
  packageOf,
  parseAddress,
  parsePackageId,
  parseProcessId,
  processId,
  processIdToString,
  safeNameRule,
  sameAddress,
  sameProcess,
  systemProcessId,
  toAddress,
  type WitAddressJson,
} from './ids.js';
export { fromUtf8, isBytes, jsonBody, parseJson, toBytes, toJson, utf8 } from './json.js';
export {
  awaitMessage,
  blob,
  getBlob,
  getBlobJson,
  hasBlob,
  lastBlob,
  Message,
  our,
  print,
  println,
  Request,
  Response,
  requestJson,
  respond,
  respondJson,
  type SendOptions,
  sendAndAwaitResponse,
  sendJson,
  sendRequest,
} from './message.js';
export * as eth from './modules/eth.js';
export * as fdManager from './modules/fd-manager.js';
export * as httpClient from './modules/http-client.js';
export * as homepage from './modules/homepage.js';
export * as httpServer from './modules/http-server.js';
export * as kernel from './modules/kernel.js';
export * as kv from './modules/kv.js';
export * as net from './modules/net.js';
export * as sqlite from './modules/sqlite.js';
export * as terminal from './modules/terminal.js';
export * as timer from './modules/timer.js';
export * as vfs from './modules/vfs.js';
export {
  callInit,
  features,
  getOnExit,
  hasFeature,
  OnExits,
  ownWasmPath,
  type SpawnOptions,
  script,
  setOnExit,
  spawn,
} from './process.js';
export { clearState, getState, getTypedState, setState } from './state.js';
export {
  assert,
  assertBytesEqual,
  assertEqual,
  type FailResponse,
  fail,
  parseStackLocation,
  type RunRequest,
  type SourceLocation,
  setTestName,
  type TestContext,
  TestFailure,
  type TesterRequest,
  type TesterResponse,
  testPackage,
} from './testing.js';
