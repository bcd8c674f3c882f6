// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

import {IAccreditationRegistry} from "./interfaces/IAccreditationRegistry.sol";

/// @title Accreditation registry
/// @notice Scopes, agencies, signer keys and accreditations, kept by the governor (the owner).
/// @dev Abstract: {CredentialRegistry} inherits it so that issuing checks accreditation with plain storage
/// reads. The three records an issuance reads (signer, agency, accreditation) are one slot each.
abstract contract AccreditationRegistry is IAccreditationRegistry, Ownable2Step {
    /// @dev The part of an agency read on every issuance, one slot; names live in {AgencyNames}.
    struct AgencyRecord {
        address admin;
        AgencyState state;
        uint16 reason;
        uint40 cutoff;
    }

    struct AgencyNames {
        string name;
        string registrationCode;
        address documentStore;
    }

    mapping(bytes32 scopeId => Scope) private _scopes;
    bytes32[] private _scopeIds;

    uint32 private _agencyCount;
    mapping(uint32 agencyId => AgencyRecord) private _agencies;
    mapping(uint32 agencyId => AgencyNames) private _agencyNames;
    mapping(bytes32 registrationCodeHash => uint32 agencyId) private _agencyByCode;

    mapping(address signer => Signer) private _signers;
    address[] private _signerKeys;

    mapping(bytes32 publicKey => IssuerKey) private _issuerKeys;

    mapping(uint32 agencyId => mapping(bytes32 scopeId => Accreditation)) private _accreditations;

    /// @notice Sets the initial governor.
    /// @param governor The initial owner; may be a multisig contract
    constructor(address governor) Ownable(governor) {}

    /// @notice Renouncing would leave agencies and credentials without a governor for good.
    function renounceOwnership() public view override onlyOwner {
        revert AccreditationRegistryRenounceDisabled();
    }

    /// @inheritdoc IAccreditationRegistry
    function defineScope(string calldata occupationCode, uint8 level, string calldata title)
        external
        onlyOwner
        returns (bytes32 scopeId)
    {
        if (bytes(occupationCode).length == 0 || bytes(title).length == 0) {
            revert AccreditationRegistryInvalidScope(occupationCode, level, title);
        }
        scopeId = _scopeId(occupationCode, level);
        if (_scopes[scopeId].index != 0) revert AccreditationRegistryScopeAlreadyDefined(scopeId);
        _scopeIds.push(scopeId);
        uint32 index = uint32(_scopeIds.length);
        _scopes[scopeId] =
            Scope({occupationCode: occupationCode, level: level, index: index, title: title, retiredAt: 0});
        emit ScopeDefined(scopeId, index, occupationCode, level, title);
    }

    /// @inheritdoc IAccreditationRegistry
    function retireScope(bytes32 scopeId) external onlyOwner {
        Scope storage entry = _requireScopeInUse(scopeId);
        uint40 blockTime = _blockTime();
        entry.retiredAt = blockTime;
        emit ScopeRetired(scopeId, blockTime);
    }

    /// @inheritdoc IAccreditationRegistry
    function registerAgency(string calldata name, string calldata registrationCode, address admin)
        external
        onlyOwner
        returns (uint32 agencyId)
    {
        if (bytes(name).length == 0 || bytes(registrationCode).length == 0 || admin == address(0)) {
            revert AccreditationRegistryInvalidAgency(name, registrationCode, admin);
        }
        bytes32 codeHash = keccak256(bytes(registrationCode));
        uint32 holder = _agencyByCode[codeHash];
        if (holder != 0) revert AccreditationRegistryRegistrationCodeTaken(registrationCode, holder);
        agencyId = ++_agencyCount;
        _agencyByCode[codeHash] = agencyId;
        _agencies[agencyId] = AgencyRecord({admin: admin, state: AgencyState.Active, reason: 0, cutoff: 0});
        address documentStore = _createDocumentStore(agencyId);
        _agencyNames[agencyId] =
            AgencyNames({name: name, registrationCode: registrationCode, documentStore: documentStore});
        emit AgencyRegistered(agencyId, admin, name, registrationCode, documentStore);
    }

    /// @inheritdoc IAccreditationRegistry
    function accredit(uint32 agencyId, bytes32 scopeId, uint40 validFrom, uint40 validUntil) external onlyOwner {
        _requireNotRevoked(agencyId);
        uint32 scopeIndex = _requireScopeInUse(scopeId).index;
        _requireWindow(validFrom, validUntil);
        _accreditations[agencyId][scopeId] =
            Accreditation({scopeIndex: scopeIndex, validFrom: validFrom, validUntil: validUntil});
        emit AgencyAccredited(agencyId, scopeId, validFrom, validUntil);
    }

    /// @inheritdoc IAccreditationRegistry
    function withdrawAccreditation(uint32 agencyId, bytes32 scopeId) external onlyOwner {
        Accreditation storage entry = _accreditations[agencyId][scopeId];
        if (entry.scopeIndex == 0) revert AccreditationRegistryNotAccredited(agencyId, scopeId);
        (uint40 validFrom, uint40 validUntil) = _endWindow(entry.validFrom, entry.validUntil);
        entry.validFrom = validFrom;
        entry.validUntil = validUntil;
        emit AccreditationWithdrawn(agencyId, scopeId, validFrom, validUntil);
    }

    /// @inheritdoc IAccreditationRegistry
    function suspendAgency(uint32 agencyId, uint16 reason) external onlyOwner {
        AgencyRecord storage entry = _agencies[agencyId];
        if (entry.state != AgencyState.Active) revert AccreditationRegistryInvalidAgencyState(agencyId, entry.state);
        entry.state = AgencyState.Suspended;
        entry.reason = reason;
        emit AgencySuspended(agencyId, reason);
    }

    /// @inheritdoc IAccreditationRegistry
    function reinstateAgency(uint32 agencyId) external onlyOwner {
        AgencyRecord storage entry = _agencies[agencyId];
        if (entry.state != AgencyState.Suspended) {
            revert AccreditationRegistryInvalidAgencyState(agencyId, entry.state);
        }
        entry.state = AgencyState.Active;
        emit AgencyReinstated(agencyId);
    }

    /// @inheritdoc IAccreditationRegistry
    function revokeAgency(uint32 agencyId, uint40 cutoff, uint16 reason) external onlyOwner {
        AgencyRecord storage entry = _agencies[agencyId];
        AgencyState state = entry.state;
        if (state != AgencyState.Active && state != AgencyState.Suspended) {
            revert AccreditationRegistryInvalidAgencyState(agencyId, state);
        }
        uint40 blockTime = _blockTime();
        if (cutoff > blockTime) revert AccreditationRegistryInvalidCutoff(cutoff, blockTime);
        entry.state = AgencyState.Revoked;
        entry.reason = reason;
        entry.cutoff = cutoff;
        emit AgencyRevoked(agencyId, cutoff, reason);
    }

    /// @inheritdoc IAccreditationRegistry
    function addSigner(uint32 agencyId, address signer, uint40 validFrom, uint40 validUntil) external {
        _requireAdminOrGovernor(agencyId);
        _requireNotRevoked(agencyId);
        if (signer == address(0)) revert AccreditationRegistryZeroAddress();
        uint32 holder = _signers[signer].agencyId;
        if (holder != 0) revert AccreditationRegistrySignerAlreadyRegistered(signer, holder);
        _requireWindow(validFrom, validUntil);
        _signerKeys.push(signer);
        uint32 index = uint32(_signerKeys.length);
        _signers[signer] = Signer({
            agencyId: agencyId, index: index, validFrom: validFrom, validUntil: validUntil, compromisedSince: 0
        });
        emit SignerAdded(agencyId, signer, index, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc IAccreditationRegistry
    function retireSigner(address signer) external {
        Signer storage entry = _signers[signer];
        uint32 agencyId = entry.agencyId;
        if (agencyId == 0) revert AccreditationRegistryUnknownSigner(signer);
        _requireAdminOrGovernor(agencyId);
        (uint40 validFrom, uint40 validUntil) = _endWindow(entry.validFrom, entry.validUntil);
        entry.validFrom = validFrom;
        entry.validUntil = validUntil;
        emit SignerRetired(agencyId, signer, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc IAccreditationRegistry
    function reportCompromised(address signer, uint40 since) external {
        Signer storage entry = _signers[signer];
        uint32 agencyId = entry.agencyId;
        if (agencyId == 0) revert AccreditationRegistryUnknownSigner(signer);
        _requireAdminOrGovernor(agencyId);
        uint40 current = entry.compromisedSince;
        uint40 blockTime = _blockTime();
        if (!_isLaterCompromiseReport(since, current, blockTime)) {
            revert AccreditationRegistryInvalidCompromiseTime(signer, since, current, blockTime);
        }
        entry.compromisedSince = since;
        emit SignerCompromised(agencyId, signer, since, msg.sender);
    }

    /// @inheritdoc IAccreditationRegistry
    function addIssuerKey(uint32 agencyId, bytes32 publicKey, uint40 validFrom, uint40 validUntil) external {
        _requireAdminOrGovernor(agencyId);
        _requireNotRevoked(agencyId);
        uint32 holder = _issuerKeys[publicKey].agencyId;
        if (publicKey == 0 || holder != 0) revert AccreditationRegistryIssuerKeyAlreadyRegistered(publicKey, holder);
        _requireWindow(validFrom, validUntil);
        _issuerKeys[publicKey] =
            IssuerKey({agencyId: agencyId, validFrom: validFrom, validUntil: validUntil, compromisedSince: 0});
        emit IssuerKeyAdded(agencyId, publicKey, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc IAccreditationRegistry
    function retireIssuerKey(bytes32 publicKey) external {
        IssuerKey storage entry = _issuerKeys[publicKey];
        uint32 agencyId = entry.agencyId;
        if (agencyId == 0) revert AccreditationRegistryUnknownIssuerKey(publicKey);
        _requireAdminOrGovernor(agencyId);
        (uint40 validFrom, uint40 validUntil) = _endWindow(entry.validFrom, entry.validUntil);
        entry.validFrom = validFrom;
        entry.validUntil = validUntil;
        emit IssuerKeyRetired(agencyId, publicKey, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc IAccreditationRegistry
    function reportIssuerKeyCompromised(bytes32 publicKey, uint40 since) external {
        IssuerKey storage entry = _issuerKeys[publicKey];
        uint32 agencyId = entry.agencyId;
        if (agencyId == 0) revert AccreditationRegistryUnknownIssuerKey(publicKey);
        _requireAdminOrGovernor(agencyId);
        uint40 current = entry.compromisedSince;
        uint40 blockTime = _blockTime();
        if (!_isLaterCompromiseReport(since, current, blockTime)) {
            revert AccreditationRegistryInvalidIssuerKeyCompromiseTime(publicKey, since, current, blockTime);
        }
        entry.compromisedSince = since;
        emit IssuerKeyCompromised(agencyId, publicKey, since, msg.sender);
    }

    /// @inheritdoc IAccreditationRegistry
    function transferAgencyAdmin(uint32 agencyId, address newAdmin) external {
        _requireAdminOrGovernor(agencyId);
        if (newAdmin == address(0)) revert AccreditationRegistryZeroAddress();
        AgencyRecord storage entry = _agencies[agencyId];
        address previousAdmin = entry.admin;
        entry.admin = newAdmin;
        emit AgencyAdminTransferred(agencyId, previousAdmin, newAdmin, msg.sender);
    }

    /// @inheritdoc IAccreditationRegistry
    function scopeIdOf(string calldata occupationCode, uint8 level) external pure returns (bytes32) {
        return _scopeId(occupationCode, level);
    }

    /// @inheritdoc IAccreditationRegistry
    function scope(bytes32 scopeId) external view returns (Scope memory) {
        return _scopes[scopeId];
    }

    /// @inheritdoc IAccreditationRegistry
    function scopeIdAt(uint32 scopeIndex) external view returns (bytes32) {
        return _scopeIdAt(scopeIndex);
    }

    /// @inheritdoc IAccreditationRegistry
    function scopeCount() external view returns (uint32) {
        return uint32(_scopeIds.length);
    }

    /// @inheritdoc IAccreditationRegistry
    function agency(uint32 agencyId) external view returns (Agency memory) {
        AgencyRecord memory entry = _agencies[agencyId];
        AgencyNames storage names = _agencyNames[agencyId];
        return Agency({
            name: names.name,
            registrationCode: names.registrationCode,
            admin: entry.admin,
            state: entry.state,
            reason: entry.reason,
            cutoff: entry.cutoff,
            documentStore: names.documentStore
        });
    }

    /// @inheritdoc IAccreditationRegistry
    function agencyCount() external view returns (uint32) {
        return _agencyCount;
    }

    /// @inheritdoc IAccreditationRegistry
    function agencyIdByRegistrationCode(string calldata registrationCode) external view returns (uint32) {
        return _agencyByCode[keccak256(bytes(registrationCode))];
    }

    /// @inheritdoc IAccreditationRegistry
    function signerRecord(address signer) external view returns (Signer memory) {
        return _signers[signer];
    }

    /// @inheritdoc IAccreditationRegistry
    function signerAt(uint32 signerIndex) external view returns (address) {
        return _signerAt(signerIndex);
    }

    /// @inheritdoc IAccreditationRegistry
    function signerCount() external view returns (uint32) {
        return uint32(_signerKeys.length);
    }

    /// @inheritdoc IAccreditationRegistry
    function issuerKey(bytes32 publicKey) external view returns (IssuerKey memory) {
        return _issuerKeys[publicKey];
    }

    /// @inheritdoc IAccreditationRegistry
    function accreditation(uint32 agencyId, bytes32 scopeId) external view returns (Accreditation memory) {
        return _accreditations[agencyId][scopeId];
    }

    /// @inheritdoc IAccreditationRegistry
    function isAccredited(uint32 agencyId, bytes32 scopeId) external view returns (bool) {
        Accreditation memory entry = _accreditations[agencyId][scopeId];
        return _agencies[agencyId].state == AgencyState.Active && entry.scopeIndex != 0
            && _inWindow(entry.validFrom, entry.validUntil, _blockTime());
    }

    // The readers below serve the issuance and status-change paths; each record is one slot.

    function _signer(address signer) internal view returns (Signer memory) {
        return _signers[signer];
    }

    function _agencyState(uint32 agencyId) internal view returns (AgencyState) {
        return _agencies[agencyId].state;
    }

    function _accreditationOf(uint32 agencyId, bytes32 scopeId) internal view returns (Accreditation memory) {
        return _accreditations[agencyId][scopeId];
    }

    function _agencyFields(uint32 agencyId) internal view returns (AgencyState state, uint16 reason, uint40 cutoff) {
        AgencyRecord storage entry = _agencies[agencyId];
        return (entry.state, entry.reason, entry.cutoff);
    }

    function _compromisedSince(address signer) internal view returns (uint40) {
        return _signers[signer].compromisedSince;
    }

    function _scopeIdAt(uint32 scopeIndex) internal view returns (bytes32) {
        return scopeIndex == 0 || scopeIndex > _scopeIds.length ? bytes32(0) : _scopeIds[scopeIndex - 1];
    }

    function _signerAt(uint32 signerIndex) internal view returns (address) {
        return signerIndex == 0 || signerIndex > _signerKeys.length ? address(0) : _signerKeys[signerIndex - 1];
    }

    function _blockTime() internal view returns (uint40) {
        return uint40(block.timestamp);
    }

    /// @dev `validFrom <= t < validUntil`, with `validUntil == 0` open-ended.
    function _inWindow(uint40 validFrom, uint40 validUntil, uint40 t) internal pure returns (bool) {
        unchecked {
            // validUntil - 1 wraps 0 round to the largest uint40: one comparison instead of two branches.
            return validFrom <= t && t <= validUntil - 1;
        }
    }

    /// @dev Creates the agency's OpenAttestation document store; called once, at registration.
    function _createDocumentStore(uint32 agencyId) internal virtual returns (address);

    function _scopeId(string calldata occupationCode, uint8 level) private pure returns (bytes32) {
        return keccak256(abi.encode(occupationCode, level));
    }

    /// @dev Ends a window at the block's time; a window that had not started yet becomes empty.
    function _endWindow(uint40 validFrom, uint40 validUntil) private view returns (uint40, uint40) {
        uint40 blockTime = _blockTime();
        if (validUntil != 0 && validUntil <= blockTime) revert AccreditationRegistryWindowEnded(validUntil, blockTime);
        return (validFrom > blockTime ? blockTime : validFrom, blockTime);
    }

    /// @dev 0 is reserved for "never compromised", and a compromise can only be found to have begun earlier.
    function _isLaterCompromiseReport(uint40 since, uint40 current, uint40 blockTime) private pure returns (bool) {
        return since != 0 && since <= blockTime && (current == 0 || since < current);
    }

    function _requireScopeInUse(bytes32 scopeId) private view returns (Scope storage entry) {
        entry = _scopes[scopeId];
        if (entry.index == 0) revert AccreditationRegistryUnknownScope(scopeId);
        if (entry.retiredAt != 0) revert AccreditationRegistryScopeRetired(scopeId, entry.retiredAt);
    }

    function _requireAdminOrGovernor(uint32 agencyId) private view {
        AgencyRecord storage entry = _agencies[agencyId];
        if (entry.state == AgencyState.None) revert AccreditationRegistryUnknownAgency(agencyId);
        if (msg.sender != entry.admin && msg.sender != owner()) {
            revert AccreditationRegistryUnauthorized(msg.sender, agencyId);
        }
    }

    function _requireNotRevoked(uint32 agencyId) private view {
        AgencyState state = _agencies[agencyId].state;
        if (state == AgencyState.None) revert AccreditationRegistryUnknownAgency(agencyId);
        if (state == AgencyState.Revoked) revert AccreditationRegistryInvalidAgencyState(agencyId, state);
    }

    function _requireWindow(uint40 validFrom, uint40 validUntil) private pure {
        if (validUntil != 0 && validUntil <= validFrom) {
            revert AccreditationRegistryInvalidWindow(validFrom, validUntil);
        }
    }
}
