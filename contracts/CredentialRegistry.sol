// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

import {AccreditationRegistry} from "./AccreditationRegistry.sol";
import {AgencyDocumentStore} from "./AgencyDocumentStore.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";

/// @title Credential registry
/// @notice The one deployed credreg contract: accreditation (inherited) and, per agency, credential roots with
/// their revocations and suspensions.
/// @dev Every record and status is keyed by the issuing agency first, so what one agency records can never
/// change what is known about another agency's credentials (docs/architecture.md says why that is sound).
/// EIP-712 is implemented here rather than with OpenZeppelin's `EIP712`, whose import chain (through
/// `Strings` and `Bytes`) uses `mcopy` and does not compile for the london EVM that Besu and GoQuorum run.
contract CredentialRegistry is ICredentialRegistry, AccreditationRegistry, IERC5267 {
    /// @notice EIP-712 type hash of `Issue(bytes32 root,bytes32 scope,uint40 validUntil,uint64 deadline)`.
    bytes32 public constant ISSUE_TYPEHASH =
        keccak256("Issue(bytes32 root,bytes32 scope,uint40 validUntil,uint64 deadline)");

    /// @notice EIP-712 type hash of `StatusChange(uint32 agencyId,bytes32 root,bytes32 target,uint8 action,
    /// uint16 reason,uint32 nonce,uint64 deadline)`.
    bytes32 public constant STATUS_CHANGE_TYPEHASH = keccak256(
        "StatusChange(uint32 agencyId,bytes32 root,bytes32 target,uint8 action,uint16 reason,uint32 nonce,"
        "uint64 deadline)"
    );

    /// @inheritdoc ICredentialRegistry
    string public constant VERSION = "2.0.0";

    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("credreg");
    bytes32 private constant _VERSION_HASH = keccak256("2");

    uint8 private constant _REVOKE = 1;
    uint8 private constant _SUSPEND = 2;
    uint8 private constant _REINSTATE = 3;

    mapping(uint32 agencyId => mapping(bytes32 root => Record)) private _records;
    mapping(uint32 agencyId => mapping(bytes32 target => TargetStatus)) private _statuses;

    uint256 private immutable _CACHED_CHAIN_ID;
    bytes32 private immutable _CACHED_DOMAIN_SEPARATOR;
    address private immutable _DOCUMENT_STORE_TEMPLATE;

    /// @notice Deploys an empty registry.
    /// @param governor The initial owner; may be a multisig contract
    constructor(address governor) AccreditationRegistry(governor) {
        _CACHED_CHAIN_ID = block.chainid;
        _CACHED_DOMAIN_SEPARATOR = _buildDomainSeparator();
        _DOCUMENT_STORE_TEMPLATE = address(new AgencyDocumentStore());
    }

    /// @inheritdoc ICredentialRegistry
    function issue(bytes32 root, bytes32 scopeId, uint40 validUntil, uint64 deadline, bytes32 r, bytes32 vs)
        external
    {
        uint40 blockTime = _blockTime();
        if (blockTime > deadline) revert CredentialRegistryExpiredSignature(deadline, blockTime);
        if (root == 0) revert CredentialRegistryZeroRoot();
        if (validUntil != 0 && validUntil <= blockTime) {
            revert CredentialRegistryInvalidValidUntil(validUntil, blockTime);
        }
        address signer = _recover(_issueHash(root, scopeId, validUntil, deadline), r, vs);
        Signer memory key = _signer(signer);
        uint32 agencyId = key.agencyId;
        // Comparisons with 0 below test the registry's "none" (ids start at 1, a compromise time of 0 means
        // never), not a balance: slither's strict-equality warning does not apply.
        // slither-disable-next-line incorrect-equality
        if (agencyId == 0 || !_signerUsable(key, blockTime)) _rejectSigner(signer, key);
        {
            AgencyState state = _agencyState(agencyId);
            if (state != AgencyState.Active) revert CredentialRegistryAgencyNotActive(agencyId, state);
        }
        Accreditation memory window = _accreditationOf(agencyId, scopeId);
        // slither-disable-next-line incorrect-equality
        if (window.scopeIndex == 0 || !_inWindow(window.validFrom, window.validUntil, blockTime)) {
            revert CredentialRegistryNotAccredited(agencyId, scopeId, window.validFrom, window.validUntil);
        }
        Record storage entry = _records[agencyId][root];
        if (entry.issuedAt != 0) revert CredentialRegistryAlreadyIssued(agencyId, root, entry.issuedAt);
        _records[agencyId][root] = Record({
            scopeIndex: window.scopeIndex,
            signerIndex: key.index,
            issuedAt: blockTime,
            validUntil: validUntil
        });
        emit CredentialIssued(root, agencyId, signer, scopeId, blockTime, validUntil);
    }

    /// @inheritdoc ICredentialRegistry
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
    ) external {
        if (block.timestamp > deadline) revert CredentialRegistryExpiredSignature(deadline, _blockTime());
        uint32 nonce = _statuses[agencyId][target].nonce;
        address signer =
            _recover(_statusChangeHash(agencyId, root, target, action, reason, nonce, deadline), r, vs);
        _requireAgencySigner(signer, agencyId, action);
        _changeStatus(agencyId, root, target, proof, action, reason, signer, false);
    }

    /// @inheritdoc ICredentialRegistry
    function governorSetStatus(
        uint32 agencyId,
        bytes32 root,
        bytes32 target,
        bytes32[] calldata proof,
        uint8 action,
        uint16 reason
    ) external onlyOwner {
        _changeStatus(agencyId, root, target, proof, action, reason, msg.sender, true);
    }

    /// @inheritdoc ICredentialRegistry
    function credentialStatus(uint32 agencyId, bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (CredentialState memory state)
    {
        Record memory entry = _records[agencyId][root];
        if (entry.issuedAt == 0) return _decided(state, Verdict.NotIssued, root, 0, 0);
        state.record = _resolve(agencyId, entry);

        bytes32[] memory path = new bytes32[](proof.length + 1);
        bytes32 node = leaf;
        path[0] = node;
        for (uint256 i = 0; i < proof.length; ++i) {
            node = Hashes.commutativeKeccak256(node, proof[i]);
            path[i + 1] = node;
        }
        if (node != root) return _decided(state, Verdict.InvalidProof, leaf, 0, 0);

        (Verdict verdict, bytes32 target, TargetStatus memory status) = _highest(path, agencyId, Status.Revoked);
        if (verdict != Verdict.Valid) return _decided(state, verdict, target, status.reason, status.since);
        uint16 reason;
        uint40 since;
        (verdict, reason, since) = _invalidation(agencyId, entry);
        if (verdict != Verdict.Valid) return _decided(state, verdict, root, reason, since);
        if (entry.validUntil != 0 && entry.validUntil <= _blockTime()) {
            return _decided(state, Verdict.Expired, root, 0, entry.validUntil);
        }
        (verdict, target, status) = _highest(path, agencyId, Status.Suspended);
        if (verdict != Verdict.Valid) return _decided(state, verdict, target, status.reason, status.since);
        return state;
    }

    /// @inheritdoc ICredentialRegistry
    function isIssued(uint32 agencyId, bytes32 root) external view returns (bool) {
        return _records[agencyId][root].issuedAt != 0;
    }

    /// @inheritdoc ICredentialRegistry
    function isRevoked(uint32 agencyId, bytes32 hash) external view returns (bool) {
        if (_statuses[agencyId][hash].status != Status.None) return true;
        Record memory entry = _records[agencyId][hash];
        if (entry.issuedAt == 0) return false;
        (Verdict verdict,,) = _invalidation(agencyId, entry);
        return verdict != Verdict.Valid;
    }

    /// @inheritdoc ICredentialRegistry
    function record(uint32 agencyId, bytes32 root) external view returns (CredentialRecord memory) {
        Record memory entry = _records[agencyId][root];
        if (entry.issuedAt == 0) return CredentialRecord(0, 0, address(0), 0, 0);
        return _resolve(agencyId, entry);
    }

    /// @inheritdoc ICredentialRegistry
    function statusOf(uint32 agencyId, bytes32 target) external view returns (TargetStatus memory) {
        return _statuses[agencyId][target];
    }

    /// @inheritdoc ICredentialRegistry
    function issueDigest(bytes32 root, bytes32 scopeId, uint40 validUntil, uint64 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(_issueHash(root, scopeId, validUntil, deadline));
    }

    /// @inheritdoc ICredentialRegistry
    function statusChangeDigest(
        uint32 agencyId,
        bytes32 root,
        bytes32 target,
        uint8 action,
        uint16 reason,
        uint32 nonce,
        uint64 deadline
    ) external view returns (bytes32) {
        return _hashTypedDataV4(_statusChangeHash(agencyId, root, target, action, reason, nonce, deadline));
    }

    /// @inheritdoc ICredentialRegistry
    function DOMAIN_SEPARATOR() external view returns (bytes32) { // solhint-disable-line func-name-mixedcase
        return _domainSeparatorV4();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", "credreg", "2", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @dev Each agency's store is a clone of the template, at the CREATE2 address given by the registry and
    /// the agency id (its only immutable argument).
    function _createDocumentStore(uint32 agencyId) internal override returns (address) {
        return Clones.cloneDeterministicWithImmutableArgs(
            _DOCUMENT_STORE_TEMPLATE, abi.encodePacked(agencyId), bytes32(uint256(agencyId))
        );
    }

    function _domainSeparatorV4() private view returns (bytes32) {
        // The cached value is only right on the chain the contract was deployed on (a fork changes the id).
        return block.chainid == _CACHED_CHAIN_ID ? _CACHED_DOMAIN_SEPARATOR : _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev The EIP-712 digest of `structHash`, computed as OpenZeppelin's `MessageHashUtils.toTypedDataHash`
    /// does (that library cannot be imported: its `Strings` dependency uses `mcopy`, which london lacks).
    function _hashTypedDataV4(bytes32 structHash) private view returns (bytes32 digest) {
        bytes32 domainSeparator = _domainSeparatorV4();
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domainSeparator)
            mstore(add(ptr, 0x22), structHash)
            digest := keccak256(ptr, 0x42)
        }
    }

    function _issueHash(bytes32 root, bytes32 scopeId, uint40 validUntil, uint64 deadline)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(ISSUE_TYPEHASH, root, scopeId, validUntil, deadline));
    }

    function _statusChangeHash(
        uint32 agencyId,
        bytes32 root,
        bytes32 target,
        uint8 action,
        uint16 reason,
        uint32 nonce,
        uint64 deadline
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(STATUS_CHANGE_TYPEHASH, agencyId, root, target, action, reason, nonce, deadline));
    }

    /// @dev The signer of an EIP-2098 compact signature over the EIP-712 digest of `structHash`.
    function _recover(bytes32 structHash, bytes32 r, bytes32 vs) private view returns (address signer) {
        ECDSA.RecoverError recoverError;
        // The third value only details the error, which is reported here as the signature given.
        // slither-disable-next-line unused-return
        (signer, recoverError,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), r, vs);
        if (recoverError != ECDSA.RecoverError.NoError) revert CredentialRegistryInvalidSignature(r, vs);
    }

    /// @dev Whether a signer key is in its window at `blockTime` and was never reported compromised.
    function _signerUsable(Signer memory key, uint40 blockTime) private pure returns (bool) {
        // slither-disable-next-line incorrect-equality
        return key.compromisedSince == 0 && _inWindow(key.validFrom, key.validUntil, blockTime);
    }

    /// @dev Reverts with the reason a signer key cannot sign now.
    function _rejectSigner(address signer, Signer memory key) private pure {
        // slither-disable-next-line incorrect-equality
        if (key.agencyId == 0) revert CredentialRegistryUnknownSigner(signer, 0);
        if (key.compromisedSince != 0) revert CredentialRegistrySignerCompromised(signer, key.compromisedSince);
        revert CredentialRegistrySignerNotValid(signer, key.validFrom, key.validUntil);
    }

    function _requireAgencySigner(address signer, uint32 agencyId, uint8 action) private view {
        Signer memory key = _signer(signer);
        if (key.agencyId != agencyId || agencyId == 0) revert CredentialRegistryUnknownSigner(signer, key.agencyId);
        if (!_signerUsable(key, _blockTime())) _rejectSigner(signer, key);
        AgencyState state = _agencyState(agencyId);
        // A suspended agency may still withdraw its credentials but not restore them.
        if (state == AgencyState.Revoked || (state == AgencyState.Suspended && action == _REINSTATE)) {
            revert CredentialRegistryAgencyNotActive(agencyId, state);
        }
    }

    /// @dev Applies a status change in `agencyId`'s namespace by `actor`: a signer key of that agency,
    /// already checked, or the governor.
    function _changeStatus(
        uint32 agencyId,
        bytes32 root,
        bytes32 target,
        bytes32[] calldata proof,
        uint8 action,
        uint16 reason,
        address actor,
        bool byGovernor
    ) private {
        if (_records[agencyId][root].issuedAt == 0) revert CredentialRegistryNotIssued(agencyId, root);
        if (MerkleProof.processProofCalldata(proof, target) != root) {
            revert CredentialRegistryInvalidProof(root, target);
        }
        TargetStatus storage slot = _statuses[agencyId][target];
        TargetStatus memory status = slot;
        if (!byGovernor && action == _REINSTATE && status.byGovernor) {
            revert CredentialRegistryStatusHeldByGovernor(agencyId, target);
        }
        _transition(target, status, action, reason, byGovernor);
        _statuses[agencyId][target] = status;
        emit CredentialStatusChanged(
            root, agencyId, actor, target, action, reason, status.nonce, status.since, byGovernor
        );
    }

    /// @dev Moves `status` (in memory) to its state after `action`, or reverts if the action does not apply.
    function _transition(bytes32 target, TargetStatus memory status, uint8 action, uint16 reason, bool byGovernor)
        private
        view
    {
        Status current = status.status;
        if (action == _REVOKE) {
            if (current == Status.Revoked) revert CredentialRegistryInvalidTransition(target, current, action);
            status.status = Status.Revoked;
        } else if (action == _SUSPEND) {
            if (current != Status.None) revert CredentialRegistryInvalidTransition(target, current, action);
            status.status = Status.Suspended;
        } else if (action == _REINSTATE) {
            if (current != Status.Suspended) revert CredentialRegistryInvalidTransition(target, current, action);
            status.status = Status.None;
        } else {
            revert CredentialRegistryInvalidAction(action);
        }
        status.reason = reason;
        ++status.nonce;
        status.since = _blockTime();
        status.byGovernor = byGovernor;
    }

    function _resolve(uint32 agencyId, Record memory entry) private view returns (CredentialRecord memory) {
        return CredentialRecord({
            agencyId: agencyId,
            scopeId: _scopeIdAt(entry.scopeIndex),
            signer: _signerAt(entry.signerIndex),
            issuedAt: entry.issuedAt,
            validUntil: entry.validUntil
        });
    }

    /// @dev The highest hash on `path` (leaf first, root last) with status `wanted` in the agency's namespace.
    function _highest(bytes32[] memory path, uint32 agencyId, Status wanted)
        private
        view
        returns (Verdict verdict, bytes32 target, TargetStatus memory status)
    {
        uint256 top = path.length - 1;
        uint8 base = uint8(wanted == Status.Revoked ? Verdict.RootRevoked : Verdict.RootSuspended);
        for (uint256 i = path.length; i > 0; --i) {
            target = path[i - 1];
            status = _statuses[agencyId][target];
            if (status.status == wanted) {
                uint8 level = i - 1 == top ? 0 : (i == 1 ? 2 : 1);
                return (Verdict(base + level), target, status);
            }
        }
        return (Verdict.Valid, bytes32(0), status);
    }

    /// @dev Whether an agency's root is void through the agency's revocation cut-off or its signer's compromise.
    function _invalidation(uint32 agencyId, Record memory entry) private view returns (Verdict, uint16, uint40) {
        (AgencyState state, uint16 reason, uint40 cutoff) = _agencyFields(agencyId);
        if (state == AgencyState.Revoked && cutoff <= entry.issuedAt) return (Verdict.AgencyRevoked, reason, cutoff);
        uint40 compromisedSince = _compromisedSince(_signerAt(entry.signerIndex));
        if (compromisedSince != 0 && compromisedSince <= entry.issuedAt) {
            return (Verdict.SignerCompromised, 0, compromisedSince);
        }
        return (Verdict.Valid, 0, 0);
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
