// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

import {AccreditationRegistry} from "./AccreditationRegistry.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";

/// @title Credential registry
/// @notice The one deployed credreg contract: accreditation (inherited) and credential roots with their
/// revocations and suspensions.
/// @dev EIP-712 is implemented here rather than with OpenZeppelin's `EIP712`, whose import chain (through
/// `Strings` and `Bytes`) uses `mcopy` and does not compile for the london EVM that Besu and GoQuorum run.
contract CredentialRegistry is ICredentialRegistry, AccreditationRegistry, IERC5267 {
    /// @notice EIP-712 type hash of `Issue(bytes32 root,bytes32 scope,uint40 validUntil)`.
    bytes32 public constant ISSUE_TYPEHASH = keccak256("Issue(bytes32 root,bytes32 scope,uint40 validUntil)");

    /// @notice EIP-712 type hash of
    /// `StatusChange(bytes32 root,bytes32 target,uint8 action,uint16 reason,uint32 nonce,uint64 deadline)`.
    bytes32 public constant STATUS_CHANGE_TYPEHASH = keccak256(
        "StatusChange(bytes32 root,bytes32 target,uint8 action,uint16 reason,uint32 nonce,uint64 deadline)"
    );

    /// @inheritdoc ICredentialRegistry
    string public constant VERSION = "1.0.0";

    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("credreg");
    bytes32 private constant _VERSION_HASH = keccak256("1");

    uint8 private constant _REVOKE = 1;
    uint8 private constant _SUSPEND = 2;
    uint8 private constant _REINSTATE = 3;

    // Both mappings are written only by `_storeRecord` and `_storeStatus`, one SSTORE of the whole slot in
    // assembly, which slither cannot see: its "never initialized" finding on them is a false positive (the
    // tests read every record and status back through the getters after writing it).
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 root => Record) private _records;
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 target => TargetStatus) private _statuses;

    uint256 private immutable _CACHED_CHAIN_ID;
    bytes32 private immutable _CACHED_DOMAIN_SEPARATOR;

    /// @notice Deploys an empty registry.
    /// @param governor The initial owner; may be a multisig contract
    constructor(address governor) AccreditationRegistry(governor) {
        _CACHED_CHAIN_ID = block.chainid;
        _CACHED_DOMAIN_SEPARATOR = _buildDomainSeparator();
    }

    /// @inheritdoc ICredentialRegistry
    function issue(bytes32 root, bytes32 scopeId, uint40 validUntil, bytes32 r, bytes32 vs) external {
        Record storage entry = _records[root];
        uint40 blockTime = uint40(block.timestamp);
        if (root == 0 || entry.issuedAt != 0 || (validUntil != 0 && validUntil <= blockTime)) {
            _rejectIssue(root, entry.issuedAt, validUntil, blockTime);
        }
        address signer = _recover(_issueHash(root, scopeId, validUntil), r, vs);
        uint256 key = _signerWord(signer);
        uint32 agencyId = uint32(key);
        if (agencyId == 0 || !_signerUsable(key, blockTime)) _rejectSigner(signer, key);
        {
            AgencyState state = AgencyState(uint8(_agencyWord(agencyId) >> 160));
            if (state != AgencyState.Active) revert CredentialRegistryAgencyNotActive(agencyId, state);
        }
        uint256 window = _accreditationWord(agencyId, scopeId);
        if (uint32(window) == 0 || !_inWindow(uint40(window >> 32), uint40(window >> 72), blockTime)) {
            revert CredentialRegistryNotAccredited(agencyId, scopeId, uint40(window >> 32), uint40(window >> 72));
        }
        _storeRecord(entry, agencyId, uint32(window), uint32(key >> 32), blockTime, validUntil);
        emit CredentialIssued(root, agencyId, signer, scopeId, blockTime, validUntil);
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
        if (block.timestamp > deadline) revert CredentialRegistryExpiredSignature(deadline, _blockTime());
        bytes32 structHash = _statusChangeHash(root, target, action, reason, _statuses[target].nonce, deadline);
        _changeStatus(root, target, proof, action, reason, _recover(structHash, r, vs), false);
    }

    /// @inheritdoc ICredentialRegistry
    function governorSetStatus(bytes32 root, bytes32 target, bytes32[] calldata proof, uint8 action, uint16 reason)
        external
        onlyOwner
    {
        _changeStatus(root, target, proof, action, reason, msg.sender, true);
    }

    /// @inheritdoc ICredentialRegistry
    function credentialStatus(bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (CredentialState memory state)
    {
        Record memory entry = _records[root];
        if (entry.issuedAt == 0) return _decided(state, Verdict.NotIssued, root, 0, 0);
        state.record = _resolve(entry);

        bytes32[] memory path = new bytes32[](proof.length + 1);
        bytes32 node = leaf;
        path[0] = node;
        for (uint256 i = 0; i < proof.length; ++i) {
            node = Hashes.commutativeKeccak256(node, proof[i]);
            path[i + 1] = node;
        }
        if (node != root) return _decided(state, Verdict.InvalidProof, leaf, 0, 0);

        (Verdict verdict, bytes32 target, TargetStatus memory status) =
            _highest(path, entry.agencyId, Status.Revoked);
        if (verdict != Verdict.Valid) return _decided(state, verdict, target, status.reason, status.since);
        uint16 reason;
        uint40 since;
        (verdict, reason, since) = _invalidation(entry);
        if (verdict != Verdict.Valid) return _decided(state, verdict, root, reason, since);
        if (entry.validUntil != 0 && entry.validUntil <= _blockTime()) {
            return _decided(state, Verdict.Expired, root, 0, entry.validUntil);
        }
        (verdict, target, status) = _highest(path, entry.agencyId, Status.Suspended);
        if (verdict != Verdict.Valid) return _decided(state, verdict, target, status.reason, status.since);
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
        (Verdict verdict,,) = _invalidation(entry);
        return verdict != Verdict.Valid;
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
        return _hashTypedDataV4(_issueHash(root, scopeId, validUntil));
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
        return _hashTypedDataV4(_statusChangeHash(root, target, action, reason, nonce, deadline));
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
        return (hex"0f", "credreg", "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    function _domainSeparatorV4() private view returns (bytes32) {
        // The cached value is only right on the chain the contract was deployed on (a fork changes the id).
        return block.chainid == _CACHED_CHAIN_ID ? _CACHED_DOMAIN_SEPARATOR : _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev The EIP-712 digest of `structHash`, for the digest views; `_recover` computes the same inline.
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

    /// @dev keccak256(abi.encode(ISSUE_TYPEHASH, root, scopeId, validUntil)), hashed in place without
    /// allocating memory (part of what keeps `issue` under its gas target).
    function _issueHash(bytes32 root, bytes32 scopeId, uint40 validUntil) private pure returns (bytes32 hash) {
        bytes32 typeHash = ISSUE_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            mstore(add(ptr, 0x20), root)
            mstore(add(ptr, 0x40), scopeId)
            mstore(add(ptr, 0x60), validUntil)
            hash := keccak256(ptr, 0x80)
        }
    }

    function _statusChangeHash(
        bytes32 root,
        bytes32 target,
        uint8 action,
        uint16 reason,
        uint32 nonce,
        uint64 deadline
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(STATUS_CHANGE_TYPEHASH, root, target, action, reason, nonce, deadline));
    }

    /// @dev The signer of an EIP-2098 compact signature over the EIP-712 digest of `structHash`. Same checks as
    /// OpenZeppelin's `ECDSA.tryRecover` (upper-half `s` rejected, no zero address), but hashing and calling
    /// the precompile in one block saves the ~550 gas of its memory handling and calls that `issue` cannot
    /// spare.
    function _recover(bytes32 structHash, bytes32 r, bytes32 vs) private view returns (address signer) {
        bytes32 domainSeparator = _domainSeparatorV4();
        bool malformed;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domainSeparator)
            mstore(add(ptr, 0x22), structHash)
            let digest := keccak256(ptr, 0x42)
            let s := and(vs, 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
            mstore(ptr, digest)
            mstore(add(ptr, 0x20), add(shr(255, vs), 27))
            mstore(add(ptr, 0x40), r)
            mstore(add(ptr, 0x60), s)
            mstore(0x00, 0) // the precompile returns nothing for an unrecoverable signature
            pop(staticcall(gas(), 0x01, ptr, 0x80, 0x00, 0x20))
            signer := mload(0x00)
            malformed := or(iszero(signer), gt(s, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0))
        }
        if (malformed) revert CredentialRegistryInvalidSignature(r, vs);
    }

    /// @dev Whether a packed {Signer} word is in its window at `blockTime` and was never reported compromised.
    function _signerUsable(uint256 key, uint40 blockTime) private pure returns (bool) {
        return uint40(key >> 144) == 0 && _inWindow(uint40(key >> 64), uint40(key >> 104), blockTime);
    }

    /// @dev Reverts with the reason a signer key (packed {Signer} word) cannot sign now.
    function _rejectSigner(address signer, uint256 key) private pure {
        if (uint32(key) == 0) revert CredentialRegistryUnknownSigner(signer, 0);
        uint40 compromisedSince = uint40(key >> 144);
        if (compromisedSince != 0) revert CredentialRegistrySignerCompromised(signer, compromisedSince);
        revert CredentialRegistrySignerNotValid(signer, uint40(key >> 64), uint40(key >> 104));
    }

    function _rejectIssue(bytes32 root, uint40 issuedAt, uint40 validUntil, uint40 blockTime) private pure {
        if (root == 0) revert CredentialRegistryZeroRoot();
        if (issuedAt != 0) revert CredentialRegistryAlreadyIssued(root, issuedAt);
        revert CredentialRegistryInvalidValidUntil(validUntil, blockTime);
    }

    /// @dev Applies a status change by `actor`, an already recovered signer key or the governor.
    function _changeStatus(
        bytes32 root,
        bytes32 target,
        bytes32[] calldata proof,
        uint8 action,
        uint16 reason,
        address actor,
        bool byGovernor
    ) private {
        uint32 agencyId = _records[root].agencyId;
        if (agencyId == 0) revert CredentialRegistryNotIssued(root);
        if (MerkleProof.processProofCalldata(proof, target) != root) {
            revert CredentialRegistryInvalidProof(root, target);
        }
        TargetStatus storage slot = _statuses[target];
        TargetStatus memory status = slot;
        if (!byGovernor) {
            _requireAgencySigner(actor, agencyId, action);
            if (status.status != Status.None && status.setByAgency != agencyId) {
                revert CredentialRegistryStatusHeldByOther(target, status.setByAgency);
            }
        }
        _transition(target, status, action, reason, byGovernor ? 0 : agencyId);
        _storeStatus(slot, status);
        emit CredentialStatusChanged(
            root, agencyId, actor, target, action, reason, status.nonce, status.since, byGovernor
        );
    }

    function _requireAgencySigner(address signer, uint32 agencyId, uint8 action) private view {
        uint256 key = _signerWord(signer);
        if (uint32(key) != agencyId) revert CredentialRegistryUnknownSigner(signer, uint32(key));
        if (!_signerUsable(key, _blockTime())) _rejectSigner(signer, key);
        AgencyState state = AgencyState(uint8(_agencyWord(agencyId) >> 160));
        // A suspended agency may still withdraw its credentials but not restore them.
        if (state == AgencyState.Revoked || (state == AgencyState.Suspended && action == _REINSTATE)) {
            revert CredentialRegistryAgencyNotActive(agencyId, state);
        }
    }

    /// @dev Moves `status` (in memory) to its state after `action`, or reverts if the action does not apply.
    function _transition(bytes32 target, TargetStatus memory status, uint8 action, uint16 reason, uint32 setBy)
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
        status.setByAgency = setBy;
    }

    // The two writers below store a whole record in one SSTORE. Assigning a struct, or its members one by one,
    // compiles to one read-modify-write per member (about 1,000 gas more per call with this compiler), which
    // the gas targets cannot afford. The bit layout is Solidity's own for these structs (first member in the
    // lowest bits), so the getters, which read through the structs, see exactly what was written.

    function _storeRecord(
        Record storage entry,
        uint32 agencyId,
        uint32 scopeIndex,
        uint32 signerIndex,
        uint40 issuedAt,
        uint40 validUntil
    ) private {
        uint256 word = uint256(agencyId) | (uint256(scopeIndex) << 32) | (uint256(signerIndex) << 64)
            | (uint256(issuedAt) << 96) | (uint256(validUntil) << 136);
        assembly ("memory-safe") {
            sstore(entry.slot, word)
        }
    }

    function _storeStatus(TargetStatus storage slot, TargetStatus memory status) private {
        uint256 word = uint256(uint8(status.status)) | (uint256(status.reason) << 8) | (uint256(status.nonce) << 24)
            | (uint256(status.since) << 56) | (uint256(status.setByAgency) << 96);
        assembly ("memory-safe") {
            sstore(slot.slot, word)
        }
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

    /// @dev The highest hash on `path` (leaf first, root last) with status `wanted` that counts for a root of
    /// `agencyId`: set by the governor or by that agency. A status set by another agency can only come from
    /// that agency issuing a copy of this hash, and must not reach this agency's credential.
    function _highest(bytes32[] memory path, uint32 agencyId, Status wanted)
        private
        view
        returns (Verdict verdict, bytes32 target, TargetStatus memory status)
    {
        uint256 top = path.length - 1;
        uint8 base = uint8(wanted == Status.Revoked ? Verdict.RootRevoked : Verdict.RootSuspended);
        for (uint256 i = path.length; i > 0; --i) {
            target = path[i - 1];
            status = _statuses[target];
            if (status.status == wanted && (status.setByAgency == 0 || status.setByAgency == agencyId)) {
                uint8 level = i - 1 == top ? 0 : (i == 1 ? 2 : 1);
                return (Verdict(base + level), target, status);
            }
        }
        return (Verdict.Valid, bytes32(0), status);
    }

    /// @dev Whether a root is void through its agency's revocation cut-off or its signer's compromise.
    function _invalidation(Record memory entry) private view returns (Verdict, uint16, uint40) {
        (AgencyState state, uint16 reason, uint40 cutoff) = _agencyFields(entry.agencyId);
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
