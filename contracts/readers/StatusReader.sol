// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICredentialRegistry} from "../interfaces/ICredentialRegistry.sol";

/// @title Credential status reader
/// @notice Answers many {ICredentialRegistry-credentialStatus} queries in one `eth_call`. It is never deployed:
/// its creation code and constructor arguments are sent as a call without a recipient, and the constructor
/// returns the ABI-encoded `CredentialState[]` where a deployment would return runtime code.
/// @dev Query `i` is `(agencyIds[i], roots[i], leaves[i], proof)`, its proof being `proofWords` from
/// `proofEnds[i - 1]` (0 for the first query) up to `proofEnds[i]`. Parallel arrays rather than an array of
/// structs: two words fewer a query, and a creation call's code and arguments may not exceed 49,152 bytes
/// (EIP-3860). Each element of the answer is the 9 static words one `credentialStatus` call returns. Arrays
/// shorter than `agencyIds`, or proof ends out of order or past `proofWords`, fail Solidity's own bounds and
/// arithmetic checks (a panic): it declares no error, as nothing it reverts with reaches a person.
contract StatusReader {
    /// @notice Reads the status of each query from `registry` and returns them all.
    /// @param registry The credential registry to read
    /// @param agencyIds The issuing agency of each query
    /// @param roots The root of each query
    /// @param leaves The leaf of each query
    /// @param proofEnds Where each query's proof ends in `proofWords`
    /// @param proofWords The queries' proofs, one after the other
    constructor(
        ICredentialRegistry registry,
        uint32[] memory agencyIds,
        bytes32[] memory roots,
        bytes32[] memory leaves,
        uint256[] memory proofEnds,
        bytes32[] memory proofWords
    ) {
        uint256 count = agencyIds.length;
        ICredentialRegistry.CredentialState[] memory states = new ICredentialRegistry.CredentialState[](count);
        uint256 start = 0;
        for (uint256 i = 0; i < count; ++i) {
            uint256 end = proofEnds[i];
            bytes32[] memory proof = new bytes32[](end - start);
            for (uint256 j = 0; j < proof.length; ++j) {
                proof[j] = proofWords[start + j];
            }
            states[i] = registry.credentialStatus(agencyIds[i], roots[i], leaves[i], proof);
            start = end;
        }
        bytes memory answer = abi.encode(states);
        assembly ("memory-safe") {
            return(add(answer, 32), mload(answer))
        }
    }
}
