// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccountProxy} from "AccountProxy.sol";

// kit's own Hypermap for the fake chain: hierarchical names whose name-keys are ERC-721 tokens
// with ERC-6551 token-bound accounts (TBAs); notes (`~`, mutable) and facts (`!`, immutable)
// under a name; genes (a TBA implementation inherited by every child). ABI, events and namehash
// follow the real contract. The code is placed with anvil_setCode behind an ERC-1967 proxy, so
// there is no constructor and all state lives in the proxy's storage.

interface IERC6551Registry {
    function createAccount(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        external
        returns (address);
    function account(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        external
        view
        returns (address);
}

interface IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4);
}

interface IAccountProxy {
    function initialize(address implementation, bytes calldata initialization) external;
}

contract Hypermap {
    address internal constant REGISTRY = 0x000000006551c19487814612e58FE06813775758;
    address internal constant HYPERACCOUNT = 0x0000000000EDAd72076CBe7b9Cfa3751D5a85C97;
    // Where the real chain's account proxies of the zeroth entry and of `os` sit. Hyperdrive and the
    // real kit hard-code those two TBAs, which follow from these addresses; kit places this
    // repository's AccountProxy there, and Hypermap uses them for those two entries.
    address internal constant ZEROTH_ACCOUNT_PROXY = 0x157AB34BE9584FEFD9420eFCd72F689E9917f051;
    address internal constant OS_ACCOUNT_PROXY = 0x0df6BDeE3e7107421d56BEF382546f581e55b3DE;
    bytes32 internal constant OS = 0xdeeac81ae11b64e7cab86d089c306e5d223552a630f02633ce170d2786ff1bbd; // namehash("os")

    event Mint(bytes32 indexed parenthash, bytes32 indexed childhash, bytes indexed labelhash, bytes label);
    event Note(bytes32 indexed parenthash, bytes32 indexed notehash, bytes indexed labelhash, bytes label, bytes data);
    event Fact(bytes32 indexed parenthash, bytes32 indexed facthash, bytes indexed labelhash, bytes label, bytes data);
    event Gene(bytes32 indexed entry, address indexed gene);
    event Zero(address indexed zeroTba);
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    error AlreadyInitialized();
    error InvalidLabel();
    error NotAnEntry();
    error AlreadyExists();
    error FactImmutable();
    error GeneAlreadySet();
    error NotTokenOwner();
    error NonexistentToken();
    error UnsafeRecipient();

    struct Entry {
        address tba;
        address gene;
        bool exists;
        bytes data;
    }

    // Slot 0 holds the proxy's own address (set by kit with anvil_setStorageAt, as the real setup does).
    address internal self;
    address public owner;
    bool internal initialized;
    mapping(bytes32 => Entry) internal entries;
    mapping(address => bytes32) internal tbaEntry;
    mapping(address => bool) internal isTba;
    mapping(uint256 => address) internal owners;
    mapping(address => uint256) internal balances;
    mapping(uint256 => address) internal approvals;
    mapping(address => mapping(address => bool)) internal operators;

    /// Creates the root entry (namehash "" = 0, token 0) owned by `_owner`; its TBA mints the TLDs.
    function initialize(address _owner) external {
        if (initialized) revert AlreadyInitialized();
        initialized = true;
        owner = _owner;
        address tba = _createAccount(bytes32(0));
        entries[bytes32(0)] = Entry(tba, address(0), true, "");
        tbaEntry[tba] = bytes32(0);
        isTba[tba] = true;
        _mint(address(this), 0);
        IAccountProxy(tba).initialize(HYPERACCOUNT, "");
        _transfer(address(this), _owner, 0);
        emit Zero(tba);
    }

    // ---- Hypermap ----

    /// Mint `label` under the caller's entry (the caller must be an entry's TBA). The new token is
    /// held by Hypermap while `initialization` runs on the new TBA, then goes to `who`.
    function mint(address who, bytes calldata label, bytes calldata initialization, address implementation)
        external
        returns (address tba)
    {
        bytes32 parent = _callerEntry();
        if (!_validName(label)) revert InvalidLabel();
        bytes32 child = keccak256(abi.encodePacked(parent, keccak256(label)));
        if (entries[child].exists) revert AlreadyExists();
        address gene = entries[parent].gene;
        address impl = gene != address(0) ? gene : implementation;
        emit Mint(parent, child, label, label);
        tba = _createAccount(child);
        entries[child] = Entry(tba, gene, true, "");
        tbaEntry[tba] = child;
        isTba[tba] = true;
        _mint(address(this), uint256(child));
        IAccountProxy(tba).initialize(impl, initialization);
        _transfer(address(this), who, uint256(child));
    }

    /// Set (or replace) a mutable data-key `~label` under the caller's entry.
    function note(bytes calldata label, bytes calldata data) external returns (bytes32 notehash) {
        bytes32 parent = _callerEntry();
        if (!_validData(label, 0x7e)) revert InvalidLabel();
        notehash = keccak256(abi.encodePacked(parent, keccak256(label)));
        Entry storage e = entries[notehash];
        e.exists = true;
        e.data = data;
        emit Note(parent, notehash, label, label, data);
    }

    /// Set an immutable data-key `!label` under the caller's entry; a second write reverts.
    function fact(bytes calldata label, bytes calldata data) external returns (bytes32 facthash) {
        bytes32 parent = _callerEntry();
        if (!_validData(label, 0x21)) revert InvalidLabel();
        facthash = keccak256(abi.encodePacked(parent, keccak256(label)));
        Entry storage e = entries[facthash];
        if (e.exists) revert FactImmutable();
        e.exists = true;
        e.data = data;
        emit Fact(parent, facthash, label, label, data);
    }

    /// Set the caller entry's gene: every later child's TBA uses this implementation. Once only.
    function gene(address _gene) external {
        bytes32 entry = _callerEntry();
        if (entries[entry].gene != address(0)) revert GeneAlreadySet();
        entries[entry].gene = _gene;
        emit Gene(entry, _gene);
    }

    function get(bytes32 namehash) external view returns (address tba, address tokenOwner, bytes memory data) {
        Entry storage e = entries[namehash];
        tba = e.tba;
        tokenOwner = owners[uint256(namehash)];
        data = e.data;
    }

    function tbaOf(uint256 entry) external view returns (address) {
        return entries[bytes32(entry)].tba;
    }

    function geneOf(bytes32 entry) external view returns (address) {
        return entries[entry].gene;
    }

    // ---- ERC-721 ----

    function name() external pure returns (string memory) {
        return "Hypermap";
    }

    function symbol() external pure returns (string memory) {
        return "HYPR";
    }

    function tokenURI(uint256 tokenId) external view returns (string memory) {
        if (owners[tokenId] == address(0)) revert NonexistentToken();
        return "";
    }

    function supportsInterface(bytes4 id) external pure returns (bool) {
        return id == 0x01ffc9a7 || id == 0x80ac58cd || id == 0x5b5e139f;
    }

    function balanceOf(address who) external view returns (uint256) {
        return balances[who];
    }

    function ownerOf(uint256 tokenId) public view returns (address o) {
        o = owners[tokenId];
        if (o == address(0)) revert NonexistentToken();
    }

    function approve(address to, uint256 tokenId) external {
        address o = ownerOf(tokenId);
        if (msg.sender != o && !operators[o][msg.sender]) revert NotTokenOwner();
        approvals[tokenId] = to;
        emit Approval(o, to, tokenId);
    }

    function getApproved(uint256 tokenId) external view returns (address) {
        ownerOf(tokenId);
        return approvals[tokenId];
    }

    function setApprovalForAll(address operator, bool approved) external {
        operators[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function isApprovedForAll(address o, address operator) external view returns (bool) {
        return operators[o][operator];
    }

    function transferFrom(address from, address to, uint256 tokenId) public {
        address o = ownerOf(tokenId);
        if (o != from || (msg.sender != o && approvals[tokenId] != msg.sender && !operators[o][msg.sender])) {
            revert NotTokenOwner();
        }
        _transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        if (to.code.length > 0) {
            try IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data) returns (bytes4 r) {
                if (r != IERC721Receiver.onERC721Received.selector) revert UnsafeRecipient();
            } catch {
                revert UnsafeRecipient();
            }
        }
    }

    // ---- internals ----

    /// The entry's TBA: the registry's account for the entry's own account proxy, salted with the
    /// entry's namehash (the real chain's scheme). The zeroth and `os` entries use the proxies kit
    /// placed at the real addresses; every other entry gets one made here.
    function _createAccount(bytes32 entry) internal returns (address) {
        address proxy = entry == bytes32(0) ? ZEROTH_ACCOUNT_PROXY : entry == OS ? OS_ACCOUNT_PROXY : address(0);
        if (proxy == address(0) || proxy.code.length == 0) proxy = address(new AccountProxy{salt: entry}());
        return IERC6551Registry(REGISTRY).createAccount(proxy, entry, block.chainid, address(this), uint256(entry));
    }

    function _callerEntry() internal view returns (bytes32) {
        if (!isTba[msg.sender]) revert NotAnEntry();
        return tbaEntry[msg.sender];
    }

    function _mint(address to, uint256 tokenId) internal {
        owners[tokenId] = to;
        balances[to] += 1;
        emit Transfer(address(0), to, tokenId);
    }

    function _transfer(address from, address to, uint256 tokenId) internal {
        delete approvals[tokenId];
        balances[from] -= 1;
        balances[to] += 1;
        owners[tokenId] = to;
        emit Transfer(from, to, tokenId);
    }

    /// Name-keys: 1-63 characters from 0-9, a-z and '-'.
    function _validName(bytes calldata label) internal pure returns (bool) {
        uint256 n = label.length;
        if (n == 0 || n > 63) return false;
        for (uint256 i = 0; i < n; i++) {
            if (!_validChar(label[i])) return false;
        }
        return true;
    }

    /// Data-keys: the prefix ('~' note, '!' fact) then 1-62 valid characters (63 in all at most).
    function _validData(bytes calldata label, bytes1 prefix) internal pure returns (bool) {
        uint256 n = label.length;
        if (n < 2 || n > 63 || label[0] != prefix) return false;
        for (uint256 i = 1; i < n; i++) {
            if (!_validChar(label[i])) return false;
        }
        return true;
    }

    function _validChar(bytes1 c) internal pure returns (bool) {
        return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c == 0x2d;
    }
}
