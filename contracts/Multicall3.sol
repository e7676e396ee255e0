// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Multicall3's `aggregate`: run calls in order, revert with the first failing call's reason.
// TBAs DELEGATECALL it so that every inner call comes from the TBA itself.
contract Multicall3 {
    struct Call {
        address target;
        bytes callData;
    }

    function aggregate(Call[] calldata calls) external payable returns (uint256 blockNumber, bytes[] memory returnData) {
        blockNumber = block.number;
        returnData = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (!ok) {
                assembly {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
            returnData[i] = ret;
        }
    }

    function getBlockNumber() external view returns (uint256) {
        return block.number;
    }
}
