// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// The implementation every token-bound account's registry-made clone delegates to: it runs in the
// TBA's context, keeps the TBA's real implementation in the TBA's EIP-1967 slot (set once, by
// Hypermap, when the entry is minted) and forwards every other call there. As on the real chain,
// each Hypermap entry has its own account proxy, so the TBA's address (the registry's CREATE2 of a
// clone of this proxy, salted with the entry's namehash) depends only on where the proxy sits.
contract AccountProxy {
    address internal constant HYPERMAP = 0x000000000044C6B8Cb4d8f0F889a3E47664EAeda;
    bytes32 internal constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    event Upgraded(address indexed implementation);

    error NotHypermap();
    error AlreadyInitialized();

    /// Hypermap sets the TBA's implementation and runs the mint's `initialization` on it (as the
    /// account itself, with Hypermap as the caller: the token is still Hypermap's at that moment).
    function initialize(address implementation, bytes calldata initialization) external {
        if (msg.sender != HYPERMAP) revert NotHypermap();
        bytes32 slot = IMPLEMENTATION_SLOT;
        address current;
        assembly {
            current := sload(slot)
        }
        if (current != address(0)) revert AlreadyInitialized();
        assembly {
            sstore(slot, implementation)
        }
        emit Upgraded(implementation);
        if (initialization.length > 0) {
            (bool ok, bytes memory ret) = implementation.delegatecall(initialization);
            if (!ok) {
                assembly {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
    }

    fallback() external payable {
        assembly {
            let impl := sload(0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc)
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), impl, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 { revert(0, returndatasize()) }
            default { return(0, returndatasize()) }
        }
    }
}
