// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {AccreditationRegistry} from "./AccreditationRegistry.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";

/// @title Credential registry
/// @notice The one deployed credreg contract: accreditation (inherited) and credential roots with their
/// revocations and suspensions.
contract CredentialRegistry is ICredentialRegistry, AccreditationRegistry, EIP712 {
    /// @notice EIP-712 type hash of `Issue(bytes32 root,bytes32 scope,uint40 validUntil)`.
    bytes32 public constant ISSUE_TYPEHASH = keccak256("Issue(bytes32 root,bytes32 scope,uint40 validUntil)");

    /// @notice EIP-712 type hash of
    /// `StatusChange(bytes32 root,bytes32 target,uint8 action,uint16 reason,uint32 nonce,uint64 deadline)`.
    bytes32 public constant STATUS_CHANGE_TYPEHASH = keccak256(
        "StatusChange(bytes32 root,bytes32 target,uint8 action,uint16 reason,uint32 nonce,uint64 deadline)"
    );

    /// @inheritdoc ICredentialRegistry
    string public constant VERSION = "1.0.0";

    uint8 private constant _REVOKE = 1;
    uint8 private constant _SUSPEND = 2;
    uint8 private constant _REINSTATE = 3;

    mapping(bytes32 root => Record) private _records;
    mapping(bytes32 target => TargetStatus) private _statuses;

    /// @param governor The initial owner; may be a multisig contract
    constructor(address governor) AccreditationRegistry(governor) EIP712("credreg", "1") {}

    /// @inheritdoc ICredentialRegistry
    function issue(bytes32 root, bytes32 scopeId, uint40 validUntil, bytes32 r, bytes32 vs) external {
        if (root == 0) revert CredentialRegistryZeroRoot();
        uint40 existing = _records[root].issuedAt;
        if (existing != 0) revert CredentialRegistryAlreadyIssued(root, existing);
        uint40 blockTime = _blockTime();
        if (validUntil != 0 && validUntil <= blockTime) {
            revert CredentialRegistryInvalidValidUntil(validUntil, blockTime);
        }

        address signer = _recover(keccak256(abi.encode(ISSUE_TYPEHASH, root, scopeId, validUntil)), r, vs);
        Signer memory key = _signerOf(signer);
        if (key.agencyId == 0) revert CredentialRegistryUnknownSigner(signer, 0);
        _requireSignerValid(signer, key, blockTime);
        AgencyState state = _agencyRecord(key.agencyId).state;
        if (state != AgencyState.Active) revert CredentialRegistryAgencyNotActive(key.agencyId, state);
        Accreditation memory window = _accreditationOf(key.agencyId, scopeId);
        if (window.scopeIndex == 0 || !_inWindow(window.validFrom, window.validUntil, blockTime)) {
            revert CredentialRegistryNotAccredited(key.agencyId, scopeId, window.validFrom, window.validUntil);
        }

        _records[root] = Record({
            agencyId: key.agencyId,
            scopeIndex: window.scopeIndex,
            signerIndex: key.index,
            issuedAt: blockTime,
            validUntil: validUntil
        });
        emit CredentialIssued(root, key.agencyId, signer, scopeId, blockTime, validUntil);
    }

    /// @inheritdoc ICredentialRegistry
    function setStatus(
        bytes32 root,
        bytes32 target,
        bytes32[] calldata proof,
        uint8 action,
        uint16 reason,
        uint64 deadline,
        bytes32 r,
        bytes32 vs
    ) external {
        uint40 blockTime = _blockTime();
        if (blockTime > deadline) revert CredentialRegistryExpiredSignature(deadline, blockTime);
        uint32 agencyId = _requireTarget(root, target, proof);
        TargetStatus memory current = _statuses[target];
        Status next = _nextStatus(target, current.status, action);

        address signer = _recover(
            keccak256(abi.encode(STATUS_CHANGE_TYPEHASH, root, target, action, reason, current.nonce, deadline)),
            r,
            vs
        );
        Signer memory key = _signerOf(signer);
        if (key.agencyId != agencyId) revert CredentialRegistryUnknownSigner(signer, key.agencyId);
        _requireSignerValid(signer, key, blockTime);
        AgencyState state = _agencyRecord(agencyId).state;
        // A suspended agency may still withdraw its credentials but not restore them.
        if (state == AgencyState.Revoked || (state == AgencyState.Suspended && action == _REINSTATE)) {
            revert CredentialRegistryAgencyNotActive(agencyId, state);
        }
        if (current.status != Status.None && current.setByAgency != agencyId) {
            revert CredentialRegistryStatusHeldByOther(target, current.setByAgency);
        }
        _writeStatus(root, target, current.nonce, next, action, reason, agencyId, signer, agencyId);
    }

    /// @inheritdoc ICredentialRegistry
    function governorSetStatus(bytes32 root, bytes32 target, bytes32[] calldata proof, uint8 action, uint16 reason)
        external
        onlyOwner
    {
        uint32 agencyId = _requireTarget(root, target, proof);
        TargetStatus memory current = _statuses[target];
        Status next = _nextStatus(target, current.status, action);
        _writeStatus(root, target, current.nonce, next, action, reason, agencyId, msg.sender, 0);
    }

    /// @inheritdoc ICredentialRegistry
    function credentialStatus(bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (CredentialState memory state)
    {
        Record memory entry = _records[root];
        if (entry.issuedAt == 0) {
            state.verdict = Verdict.NotIssued;
            state.target = root;
            return state;
        }
        state.record = _resolve(entry);

        uint256 depth = proof.length;
        bytes32[] memory path = new bytes32[](depth + 1);
        bytes32 node = leaf;
        path[0] = node;
        for (uint256 i = 0; i < depth; ++i) {
            node = Hashes.commutativeKeccak256(node, proof[i]);
            path[i + 1] = node;
        }
        if (node != root) {
            state.verdict = Verdict.InvalidProof;
            state.target = leaf;
            return state;
        }

        // Walk from the root down so that the highest revocation or suspension is the one reported.
        Verdict suspension = Verdict.Valid;
        TargetStatus memory suspended;
        bytes32 suspendedTarget;
        for (uint256 i = depth + 1; i > 0; --i) {
            bytes32 target = path[i - 1];
            TargetStatus memory status = _statuses[target];
            if (status.status == Status.None) continue;
            // A status set by another agency can only come from that agency issuing a copy of this hash.
            if (status.setByAgency != 0 && status.setByAgency != entry.agencyId) continue;
            uint256 level = i - 1 == depth ? 0 : (i == 1 ? 2 : 1);
            if (status.status == Status.Revoked) {
                return _decided(state, Verdict(uint8(Verdict.RootRevoked) + level), target, status.reason, status.since);
            }
            if (suspension == Verdict.Valid) {
                suspension = Verdict(uint8(Verdict.RootSuspended) + level);
                suspended = status;
                suspendedTarget = target;
            }
        }

        AgencyRecord memory issuer = _agencyRecord(entry.agencyId);
        if (issuer.state == AgencyState.Revoked && issuer.cutoff <= entry.issuedAt) {
            return _decided(state, Verdict.AgencyRevoked, root, issuer.reason, issuer.cutoff);
        }
        uint40 compromisedSince = _signerOf(state.record.signer).compromisedSince;
        if (compromisedSince != 0 && compromisedSince <= entry.issuedAt) {
            return _decided(state, Verdict.SignerCompromised, root, 0, compromisedSince);
        }
        if (entry.validUntil != 0 && entry.validUntil <= _blockTime()) {
            return _decided(state, Verdict.Expired, root, 0, entry.validUntil);
        }
        if (suspension != Verdict.Valid) {
            return _decided(state, suspension, suspendedTarget, suspended.reason, suspended.since);
        }
        return state;
    }

    /// @inheritdoc ICredentialRegistry
    function isIssued(bytes32 root) external view returns (bool) {
        return _records[root].issuedAt != 0;
    }

    /// @inheritdoc ICredentialRegistry
    function isRevoked(bytes32 hash) external view returns (bool) {
        if (_statuses[hash].status != Status.None) return true;
        Record memory entry = _records[hash];
        if (entry.issuedAt == 0) return false;
        AgencyRecord memory issuer = _agencyRecord(entry.agencyId);
        if (issuer.state == AgencyState.Revoked && issuer.cutoff <= entry.issuedAt) return true;
        uint40 compromisedSince = _signerOf(_signerAt(entry.signerIndex)).compromisedSince;
        return compromisedSince != 0 && compromisedSince <= entry.issuedAt;
    }

    /// @inheritdoc ICredentialRegistry
    function record(bytes32 root) external view returns (CredentialRecord memory) {
        Record memory entry = _records[root];
        if (entry.issuedAt == 0) return CredentialRecord(0, 0, address(0), 0, 0);
        return _resolve(entry);
    }

    /// @inheritdoc ICredentialRegistry
    function statusOf(bytes32 target) external view returns (TargetStatus memory) {
        return _statuses[target];
    }

    /// @inheritdoc ICredentialRegistry
    function issueDigest(bytes32 root, bytes32 scopeId, uint40 validUntil) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ISSUE_TYPEHASH, root, scopeId, validUntil)));
    }

    /// @inheritdoc ICredentialRegistry
    function statusChangeDigest(
        bytes32 root,
        bytes32 target,
        uint8 action,
        uint16 reason,
        uint32 nonce,
        uint64 deadline
    ) external view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(STATUS_CHANGE_TYPEHASH, root, target, action, reason, nonce, deadline))
        );
    }

    /// @inheritdoc ICredentialRegistry
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _recover(bytes32 structHash, bytes32 r, bytes32 vs) private view returns (address signer) {
        ECDSA.RecoverError failure;
        (signer, failure,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), r, vs);
        if (failure != ECDSA.RecoverError.NoError) revert CredentialRegistryInvalidSignature(r, vs);
    }

    function _requireSignerValid(address signer, Signer memory key, uint40 blockTime) private pure {
        if (key.compromisedSince != 0) revert CredentialRegistrySignerCompromised(signer, key.compromisedSince);
        if (!_inWindow(key.validFrom, key.validUntil, blockTime)) {
            revert CredentialRegistrySignerNotValid(signer, key.validFrom, key.validUntil);
        }
    }

    /// @dev Checks that `root` is issued and `proof` leads from `target` to it; returns the root's agency.
    function _requireTarget(bytes32 root, bytes32 target, bytes32[] calldata proof) private view returns (uint32) {
        uint32 agencyId = _records[root].agencyId;
        if (agencyId == 0) revert CredentialRegistryNotIssued(root);
        if (MerkleProof.processProofCalldata(proof, target) != root) revert CredentialRegistryInvalidProof(root, target);
        return agencyId;
    }

    function _nextStatus(bytes32 target, Status current, uint8 action) private pure returns (Status) {
        if (action == _REVOKE) {
            if (current != Status.Revoked) return Status.Revoked;
        } else if (action == _SUSPEND) {
            if (current == Status.None) return Status.Suspended;
        } else if (action == _REINSTATE) {
            if (current == Status.Suspended) return Status.None;
        } else {
            revert CredentialRegistryInvalidAction(action);
        }
        revert CredentialRegistryInvalidTransition(target, current, action);
    }

    function _writeStatus(
        bytes32 root,
        bytes32 target,
        uint32 nonce,
        Status next,
        uint8 action,
        uint16 reason,
        uint32 agencyId,
        address actor,
        uint32 setByAgency
    ) private {
        uint32 newNonce = nonce + 1;
        _statuses[target] = TargetStatus({
            status: next, reason: reason, nonce: newNonce, since: _blockTime(), setByAgency: setByAgency
        });
        emit CredentialStatusChanged(root, agencyId, actor, target, action, reason, newNonce, setByAgency == 0);
    }

    function _resolve(Record memory entry) private view returns (CredentialRecord memory) {
        return CredentialRecord({
            agencyId: entry.agencyId,
            scopeId: _scopeIdAt(entry.scopeIndex),
            signer: _signerAt(entry.signerIndex),
            issuedAt: entry.issuedAt,
            validUntil: entry.validUntil
        });
    }

    function _decided(CredentialState memory state, Verdict verdict, bytes32 target, uint16 reason, uint40 since)
        private
        pure
        returns (CredentialState memory)
    {
        state.verdict = verdict;
        state.target = target;
        state.reason = reason;
        state.since = since;
        return state;
    }
}
