// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Token-bound account implementation (ERC-6551). A TBA is a registry-made proxy whose code ends
// with abi.encode(salt, chainId, tokenContract, tokenId); this code runs in the proxy's context.

interface IERC721Owner {
    function ownerOf(uint256 tokenId) external view returns (address);
}

interface IHypermapMint {
    function mint(address who, bytes calldata label, bytes calldata initialization, address implementation)
        external
        returns (address);
}

contract HyperAccount {
    error NotAuthorized();
    error InvalidOperation();

    uint256 public state;

    receive() external payable {}

    /// Accounts are ready at creation; Hypermap may call this as a mint's initialization.
    function initialize() external virtual {}

    function token() public view returns (uint256 chainId, address tokenContract, uint256 tokenId) {
        bytes memory footer = new bytes(0x60);
        assembly {
            extcodecopy(address(), add(footer, 0x20), 0x4d, 0x60)
        }
        return abi.decode(footer, (uint256, address, uint256));
    }

    function owner() public view returns (address) {
        (uint256 chainId, address tokenContract, uint256 tokenId) = token();
        if (chainId != block.chainid) return address(0);
        return IERC721Owner(tokenContract).ownerOf(tokenId);
    }

    function isValidSigner(address signer, bytes calldata) external view returns (bytes4) {
        return signer == owner() ? bytes4(0x523e3260) : bytes4(0);
    }

    /// operation 0 = CALL, 1 = DELEGATECALL (used to run Multicall3.aggregate as this account).
    function execute(address to, uint256 value, bytes calldata data, uint8 operation)
        external
        payable
        returns (bytes memory result)
    {
        if (msg.sender != owner()) revert NotAuthorized();
        state += 1;
        bool ok;
        if (operation == 0) {
            (ok, result) = to.call{value: value}(data);
        } else if (operation == 1) {
            (ok, result) = to.delegatecall(data);
        } else {
            revert InvalidOperation();
        }
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    function supportsInterface(bytes4 id) external pure returns (bool) {
        return id == 0x01ffc9a7 || id == 0x6faff5f1 || id == 0x51945447;
    }
}

/// The account of a TLD anyone may mint under (the fake chain's `os` and `dev`).
contract HyperAccountMinter is HyperAccount {
    function mint(address who, bytes calldata label, bytes calldata initialization, address implementation)
        external
        returns (address)
    {
        (,address tokenContract,) = token();
        return IHypermapMint(tokenContract).mint(who, label, initialization, implementation);
    }
}
