// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// ERC-6551 registry: deterministic (CREATE2) token-bound account proxies, as the EIP specifies.
contract ERC6551Registry {
    event ERC6551AccountCreated(
        address account,
        address indexed implementation,
        bytes32 salt,
        uint256 chainId,
        address indexed tokenContract,
        uint256 indexed tokenId
    );

    error AccountCreationFailed();

    function createAccount(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        external
        returns (address acct)
    {
        bytes memory code = _creationCode(implementation, salt, chainId, tokenContract, tokenId);
        acct = _address(code, salt);
        if (acct.code.length > 0) return acct;
        address made;
        assembly {
            made := create2(0, add(code, 0x20), mload(code), salt)
        }
        if (made == address(0)) revert AccountCreationFailed();
        emit ERC6551AccountCreated(made, implementation, salt, chainId, tokenContract, tokenId);
        return made;
    }

    function account(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        external
        view
        returns (address)
    {
        return _address(_creationCode(implementation, salt, chainId, tokenContract, tokenId), salt);
    }

    function _creationCode(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            hex"3d60ad80600a3d3981f3363d3d373d3d3d363d73",
            implementation,
            hex"5af43d82803e903d91602b57fd5bf3",
            abi.encode(salt, chainId, tokenContract, tokenId)
        );
    }

    function _address(bytes memory code, bytes32 salt) internal view returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, keccak256(code))))));
    }
}
