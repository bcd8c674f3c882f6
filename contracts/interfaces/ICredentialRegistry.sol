// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IAccreditationRegistry} from "./IAccreditationRegistry.sol";

/// @title Credential registry
/// @notice Records credential roots signed by accredited agency signer keys, and their revocations and
/// suspensions. Only hashes are stored.
/// @dev A root is a single document's target hash or the merkle root of a batch (OpenAttestation v2 /
/// OpenZeppelin `MerkleProof` sorted-pair keccak256 tree). Records and statuses live in the issuing agency's
/// namespace: a root is recorded under the agency whose signer key signed it, and a status is kept per agency
/// and hash ("target": a root, an intermediate node or a leaf proved against one of that agency's roots).
/// Nothing one agency does can change what is recorded in another's. Signatures are EIP-712 (domain name
/// "credreg", version "2") in the compact EIP-2098 form (`r`, `vs`).
interface ICredentialRegistry is IAccreditationRegistry {
    /// @notice Status of a target hash. `Revoked` is final; `Suspended` can be reinstated.
    enum Status {
        None,
        Revoked,
        Suspended
    }

    /// @notice Answer of {credentialStatus}, most decisive first when several apply: not issued, bad proof,
    /// revoked (root, then node, then leaf), agency revoked at or before issuance, signer compromised at or
    /// before issuance, expired, suspended (root, then node, then leaf).
    enum Verdict {
        Valid,
        NotIssued,
        InvalidProof,
        RootRevoked,
        NodeRevoked,
        LeafRevoked,
        AgencyRevoked,
        SignerCompromised,
        Expired,
        RootSuspended,
        NodeSuspended,
        LeafSuspended
    }

    /// @notice The stored record of an agency's root, one storage slot. `issuedAt == 0` means not issued.
    struct Record {
        uint32 scopeIndex;
        uint32 signerIndex;
        uint40 issuedAt;
        uint40 validUntil;
    }

    /// @notice A root's record with indexes resolved.
    struct CredentialRecord {
        uint32 agencyId;
        bytes32 scopeId;
        address signer;
        uint40 issuedAt;
        uint40 validUntil;
    }

    /// @notice The status of a target hash in an agency's namespace, one storage slot.
    /// @dev `nonce` counts every change of this target and is part of the signed StatusChange, so each
    /// signature serves one change only. `byGovernor` tells whether the governor made the last change.
    struct TargetStatus {
        Status status;
        uint16 reason;
        uint32 nonce;
        uint40 since;
        bool byGovernor;
    }

    /// @notice Answer of {credentialStatus}.
    /// @dev `target` is the hash that decided the verdict (leaf, node or root; the leaf for a bad proof);
    /// `reason` and `since` come from that target's status, from the agency revocation (cut-off) or the signer
    /// compromise, or `since` is the expiry time. `record` is zero when not issued.
    struct CredentialState {
        Verdict verdict;
        bytes32 target;
        uint16 reason;
        uint40 since;
        CredentialRecord record;
    }

    /// @notice A root was issued.
    /// @param root The root
    /// @param agencyId The issuing agency
    /// @param signer The agency signer key that signed it
    /// @param scopeId The scope it was issued under
    /// @param issuedAt The block's time
    /// @param validUntil Expiry (exclusive), 0 for none
    event CredentialIssued(
        bytes32 indexed root,
        uint32 indexed agencyId,
        address indexed signer,
        bytes32 scopeId,
        uint40 issuedAt,
        uint40 validUntil
    );

    /// @notice The status of a target in an agency's namespace changed.
    /// @param root The agency's root the target was proved against
    /// @param agencyId The agency whose namespace it is (the root's issuing agency)
    /// @param actor The agency signer key that signed the change, or the governor
    /// @param target The hash whose status changed
    /// @param action 1 revoke, 2 suspend, 3 reinstate
    /// @param reason Reason code
    /// @param nonce The target's nonce after the change
    /// @param since The block's time, recorded as the status's `since`
    /// @param byGovernor True if the governor made the change
    event CredentialStatusChanged(
        bytes32 indexed root,
        uint32 indexed agencyId,
        address indexed actor,
        bytes32 target,
        uint8 action,
        uint16 reason,
        uint32 nonce,
        uint40 since,
        bool byGovernor
    );

    /// @notice The root is zero.
    error CredentialRegistryZeroRoot();

    /// @notice The agency already recorded this root (roots are write-once).
    /// @param agencyId The agency
    /// @param root The root
    /// @param issuedAt When it was issued
    error CredentialRegistryAlreadyIssued(uint32 agencyId, bytes32 root, uint40 issuedAt);

    /// @notice The agency never recorded this root.
    /// @param agencyId The agency
    /// @param root The root
    error CredentialRegistryNotIssued(uint32 agencyId, bytes32 root);

    /// @notice A credential's expiry must be 0 (none) or after the block's time.
    /// @param validUntil The expiry given
    /// @param blockTime The block's time
    error CredentialRegistryInvalidValidUntil(uint40 validUntil, uint40 blockTime);

    /// @notice The signature is malformed (no signer can be recovered, or `s` is in the upper half).
    /// @param r The r given
    /// @param vs The vs given
    error CredentialRegistryInvalidSignature(bytes32 r, bytes32 vs);

    /// @notice The recovered key is not a signer of the agency concerned (or of any agency when issuing). A
    /// signature over other data, another chain, another contract or a used nonce recovers such a key.
    /// @param signer The recovered key
    /// @param agencyId The agency it belongs to, 0 if none
    error CredentialRegistryUnknownSigner(address signer, uint32 agencyId);

    /// @notice The signer key is outside its window at the block's time.
    /// @param signer The signer key
    /// @param validFrom Start of its window
    /// @param validUntil End of its window, 0 for open-ended
    error CredentialRegistrySignerNotValid(address signer, uint40 validFrom, uint40 validUntil);

    /// @notice The signer key was reported compromised.
    /// @param signer The signer key
    /// @param since The compromise time
    error CredentialRegistrySignerCompromised(address signer, uint40 since);

    /// @notice The agency may not do this in its current state.
    /// @param agencyId The agency
    /// @param state Its state
    error CredentialRegistryAgencyNotActive(uint32 agencyId, AgencyState state);

    /// @notice The agency is not accredited for the scope at the block's time.
    /// @param agencyId The agency
    /// @param scopeId The scope
    /// @param validFrom Start of its accreditation window (0 with `validUntil` 0 if never accredited)
    /// @param validUntil End of its accreditation window, 0 for open-ended
    error CredentialRegistryNotAccredited(uint32 agencyId, bytes32 scopeId, uint40 validFrom, uint40 validUntil);

    /// @notice The signed deadline has passed (a deadline equal to the block's time is still good).
    /// @param deadline The deadline
    /// @param blockTime The block's time
    error CredentialRegistryExpiredSignature(uint64 deadline, uint40 blockTime);

    /// @notice The proof does not lead from the target to the root.
    /// @param root The root
    /// @param target The target
    error CredentialRegistryInvalidProof(bytes32 root, bytes32 target);

    /// @notice The action is not 1 (revoke), 2 (suspend) or 3 (reinstate).
    /// @param action The action given
    error CredentialRegistryInvalidAction(uint8 action);

    /// @notice The action does not apply to the target's current status (revoked is final, only a
    /// suspended target can be reinstated, only an unrestricted one suspended).
    /// @param target The target
    /// @param status Its current status
    /// @param action The action given
    error CredentialRegistryInvalidTransition(bytes32 target, Status status, uint8 action);

    /// @notice The governor suspended this target; only the governor may reinstate it.
    /// @param agencyId The agency
    /// @param target The target
    error CredentialRegistryStatusHeldByGovernor(uint32 agencyId, bytes32 target);

    /// @notice Records a root in the namespace of the agency whose signer key signed it. Anyone may relay the
    /// signature until its deadline.
    /// @dev Signed as `Issue(bytes32 root,bytes32 scope,uint40 validUntil,uint64 deadline)`. At the block's
    /// time the signer must be in its window and never reported compromised, its agency active and accredited
    /// for the scope. Another agency having recorded the same hash does not matter.
    /// @param root A single document's target hash or a batch's merkle root, new for this agency
    /// @param scopeId The scope of the assessment
    /// @param validUntil Expiry (exclusive), 0 for none
    /// @param deadline Last block time at which the signature is accepted
    /// @param r Signature r
    /// @param vs Signature vs (EIP-2098)
    function issue(bytes32 root, bytes32 scopeId, uint40 validUntil, uint64 deadline, bytes32 r, bytes32 vs)
        external;

    /// @notice Revokes, suspends or reinstates a root, a node or a leaf in an agency's namespace, signed by
    /// a signer key of that agency. Anyone may relay the signature.
    /// @dev Signed as `StatusChange(uint32 agencyId,bytes32 root,bytes32 target,uint8 action,uint16 reason,
    /// uint32 nonce,uint64 deadline)` with the target's current nonce in the agency's namespace. The signer must
    /// be valid now; a revoked agency can no longer change statuses, a suspended one can revoke and suspend but
    /// not reinstate; a suspension by the governor can only be lifted by the governor.
    /// @param agencyId The agency
    /// @param root A root the agency issued
    /// @param target The root, or a node or leaf proved against it
    /// @param proof Sibling hashes from `target` up to `root` (empty when `target == root`)
    /// @param action 1 revoke, 2 suspend, 3 reinstate
    /// @param reason Reason code
    /// @param deadline Last block time at which the signature is accepted
    /// @param r Signature r
    /// @param vs Signature vs (EIP-2098)
    function setStatus(
        uint32 agencyId,
        bytes32 root,
        bytes32 target,
        bytes32[] calldata proof,
        uint8 action,
        uint16 reason,
        uint64 deadline,
        bytes32 r,
        bytes32 vs
    ) external;

    /// @notice Revokes, suspends or reinstates a root, a node or a leaf in an agency's namespace, as the
    /// governor.
    /// @param agencyId The agency
    /// @param root A root the agency issued
    /// @param target The root, or a node or leaf proved against it
    /// @param proof Sibling hashes from `target` up to `root`
    /// @param action 1 revoke, 2 suspend, 3 reinstate
    /// @param reason Reason code
    function governorSetStatus(
        uint32 agencyId,
        bytes32 root,
        bytes32 target,
        bytes32[] calldata proof,
        uint8 action,
        uint16 reason
    ) external;

    /// @notice Whether a credential of an agency is valid now and, if not, why. One call per document.
    /// @param agencyId The agency that issued it (the document names it)
    /// @param root The root the credential was issued under
    /// @param leaf The credential's target hash (equal to `root` for a single document)
    /// @param proof Sibling hashes from `leaf` up to `root`
    /// @return state The verdict and the details behind it
    function credentialStatus(uint32 agencyId, bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (CredentialState memory state);

    /// @notice OpenAttestation `isIssued` in an agency's namespace (its document store calls this).
    /// @param agencyId The agency
    /// @param root The root
    /// @return True if the agency issued it
    function isIssued(uint32 agencyId, bytes32 root) external view returns (bool);

    /// @notice OpenAttestation `isRevoked` in an agency's namespace (its document store calls this): true if
    /// the hash is revoked or suspended there, or is a root of the agency invalidated by its revocation cut-off
    /// or its signer's compromise. Expiry does not count.
    /// @param agencyId The agency
    /// @param hash A leaf, node or root
    /// @return True if revoked in that sense
    function isRevoked(uint32 agencyId, bytes32 hash) external view returns (bool);

    /// @notice The stored record of an agency's root, indexes resolved.
    /// @param agencyId The agency
    /// @param root The root
    /// @return The record; `issuedAt == 0` if not issued
    function record(uint32 agencyId, bytes32 root) external view returns (CredentialRecord memory);

    /// @notice The status of a target hash in an agency's namespace, including the nonce a StatusChange
    /// signature must carry.
    /// @param agencyId The agency
    /// @param target The hash
    /// @return The status
    function statusOf(uint32 agencyId, bytes32 target) external view returns (TargetStatus memory);

    /// @notice The EIP-712 digest a signer signs to issue a root.
    /// @param root The root
    /// @param scopeId The scope
    /// @param validUntil Expiry, 0 for none
    /// @param deadline Last block time at which the signature is accepted
    /// @return The digest
    function issueDigest(bytes32 root, bytes32 scopeId, uint40 validUntil, uint64 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest a signer signs to change a status.
    /// @param agencyId The agency
    /// @param root The root
    /// @param target The target
    /// @param action 1 revoke, 2 suspend, 3 reinstate
    /// @param reason Reason code
    /// @param nonce The target's nonce
    /// @param deadline Last block time at which the signature is accepted
    /// @return The digest
    function statusChangeDigest(
        uint32 agencyId,
        bytes32 root,
        bytes32 target,
        uint8 action,
        uint16 reason,
        uint32 nonce,
        uint64 deadline
    ) external view returns (bytes32);

    /// @notice The EIP-712 domain separator for this chain and contract.
    /// @return The domain separator
    function DOMAIN_SEPARATOR() external view returns (bytes32); // solhint-disable-line func-name-mixedcase

    /// @notice Semantic version of this contract.
    /// @return The version
    function VERSION() external view returns (string memory); // solhint-disable-line func-name-mixedcase
}
