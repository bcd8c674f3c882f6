// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title OpenAttestation document store views
/// @notice The two views OpenAttestation's verifier calls on a document's `documentStore` (DocumentStore
/// 3.x meaning). credreg gives every agency a store of its own that answers them in that agency's namespace.
interface IDocumentStore {
    /// @notice Whether the agency recorded this merkle root.
    /// @param root A batch's merkle root or a single document's target hash
    /// @return True if recorded by this store's agency
    function isIssued(bytes32 root) external view returns (bool);

    /// @notice Whether the agency (or the governor) revoked or suspended this hash, or it is a root of the
    /// agency made void by the agency's revocation cut-off or its signer key's compromise.
    /// @param hash A leaf, an intermediate node or a root
    /// @return True if revoked in that sense
    function isRevoked(bytes32 hash) external view returns (bool);
}
