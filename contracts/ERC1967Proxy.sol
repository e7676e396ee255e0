// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Minimal ERC-1967 proxy: delegates everything to the implementation in the EIP-1967 slot.
contract ERC1967Proxy {
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
