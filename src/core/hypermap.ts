// Hypermap facts shared by kit chain, fake-node registration, the eth module and hns-indexer:
// addresses (interop §6.3), the ABI surface (§6.5), namehash and note encodings.

import { concat, keccak256, parseAbi, stringToBytes, toHex } from 'viem';

export const CHAIN_ID = 31337;
export const HYPERMAP = '0x000000000044C6B8Cb4d8f0F889a3E47664EAeda' as const;
export const HYPERMAP_IMPL = '0x000000000013a0486EBDc2DB1D7B4d1f7fCA92eD' as const;
export const ERC6551_REGISTRY = '0x000000006551c19487814612e58FE06813775758' as const;
export const MULTICALL3 = '0xcA11bde05977b3631167028862bE2a173976CA11' as const;
export const HYPERACCOUNT_IMPL = '0x0000000000EDAd72076CBe7b9Cfa3751D5a85C97' as const;
/** TLD accounts anyone can mint under (kit places this code at the real HyperAccountMinter's address). */
export const HYPERACCOUNT_MINTER = '0xE01dCbD3Ed5f709874A1eA7a25677de18C8661c9' as const;
/**
 * The zeroth entry's TBA and `os`'s: Hyperdrive (`fakenet.rs`) sends every fake-node mint to the
 * `os` account here, and the real kit takes a chain with code at it as set up.
 */
export const ZEROTH_TBA = '0x809A598d9883f2Fb6B77382eBfC9473Fd6A857c9' as const;
export const OS_TBA = '0x9b3853358ede717fc7D4806cF75d7A4d4517A9C9' as const;
/** The real chain's account proxies of those two entries (the TBAs above follow from them). */
export const ZEROTH_ACCOUNT_PROXY = '0x157AB34BE9584FEFD9420eFCd72F689E9917f051' as const;
export const OS_ACCOUNT_PROXY = '0x0df6BDeE3e7107421d56BEF382546f581e55b3DE' as const;
export const EIP1967_IMPL_SLOT = '0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc' as const;
/** anvil account #0: owns Hypermap's root and signs fake-node registrations. */
export const ANVIL_OWNER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as const;
export const ANVIL_OWNER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
/**
 * Top-level names minted when a chain starts: `os` (the real kit's, where Hyperdrive registers
 * every fake node), then `dev` (kit's own fake nodes, `fake.dev` as in the book).
 */
export const TLDS = ['os', 'dev'] as const;

export const hypermapAbi = parseAbi([
  'event Mint(bytes32 indexed parenthash, bytes32 indexed childhash, bytes indexed labelhash, bytes label)',
  'event Note(bytes32 indexed parenthash, bytes32 indexed notehash, bytes indexed labelhash, bytes label, bytes data)',
  'event Fact(bytes32 indexed parenthash, bytes32 indexed facthash, bytes indexed labelhash, bytes label, bytes data)',
  'event Gene(bytes32 indexed entry, address indexed gene)',
  'event Zero(address indexed zeroTba)',
  'event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)',
  'event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId)',
  'event ApprovalForAll(address indexed owner, address indexed operator, bool approved)',
  'error AlreadyInitialized()',
  'error InvalidLabel()',
  'error NotAnEntry()',
  'error AlreadyExists()',
  'error FactImmutable()',
  'error GeneAlreadySet()',
  'error NotTokenOwner()',
  'error NonexistentToken()',
  'error UnsafeRecipient()',
  'function initialize(address owner)',
  'function owner() view returns (address)',
  'function mint(address who, bytes label, bytes initialization, address implementation) returns (address tba)',
  'function note(bytes label, bytes data) returns (bytes32)',
  'function fact(bytes label, bytes data) returns (bytes32)',
  'function gene(address gene)',
  'function get(bytes32 namehash) view returns (address tba, address owner, bytes data)',
  'function tbaOf(uint256 entry) view returns (address)',
  'function geneOf(bytes32 entry) view returns (address)',
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function balanceOf(address owner) view returns (uint256)',
  'function ownerOf(uint256 tokenId) view returns (address)',
  'function approve(address to, uint256 tokenId)',
  'function getApproved(uint256 tokenId) view returns (address)',
  'function setApprovalForAll(address operator, bool approved)',
  'function isApprovedForAll(address owner, address operator) view returns (bool)',
  'function transferFrom(address from, address to, uint256 tokenId)',
  'function safeTransferFrom(address from, address to, uint256 tokenId)',
  'function supportsInterface(bytes4 id) view returns (bool)',
]);

export const accountAbi = parseAbi([
  'error NotAuthorized()',
  'error InvalidOperation()',
  'function execute(address to, uint256 value, bytes data, uint8 operation) payable returns (bytes)',
  'function token() view returns (uint256 chainId, address tokenContract, uint256 tokenId)',
  'function owner() view returns (address)',
  'function state() view returns (uint256)',
  'function initialize()',
  'function mint(address who, bytes label, bytes initialization, address implementation) returns (address)',
]);

export const multicallAbi = parseAbi([
  'struct Call { address target; bytes callData; }',
  'function aggregate(Call[] calls) payable returns (uint256 blockNumber, bytes[] returnData)',
]);

export const registryAbi = parseAbi([
  'function account(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId) view returns (address)',
]);

export type Hex = `0x${string}`;

/** ENS-style namehash over '.'-separated labels: namehash("a.b") = keccak(namehash("b") ‖ keccak("a")). */
export function namehash(name: string): Hex {
  let node: Hex = `0x${'00'.repeat(32)}`;
  if (name === '') return node;
  for (const label of name.split('.').reverse()) node = keccak256(concat([node, keccak256(stringToBytes(label))]));
  return node;
}

export function labelhash(label: string): Hex {
  return keccak256(stringToBytes(label));
}

/** `~ip` data: 4 (IPv4) big-endian bytes. */
export function encodeIpv4(ip: string): Hex {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return toHex(Uint8Array.from(parts));
}

/** Port notes: 2 big-endian bytes. */
export function encodePort(port: number): Hex {
  return toHex(Uint8Array.from([(port >> 8) & 0xff, port & 0xff]));
}

/** `~routers` data: concatenated 32-byte namehashes of the router names (what hns-indexer decodes). */
export function encodeRouters(routers: string[]): Hex {
  return routers.length === 0 ? '0x' : concat(routers.map(namehash));
}
