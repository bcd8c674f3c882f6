// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Each function emits the event of the same name with its arguments as given; the interfaces document them.
// solhint-disable use-natspec

import {IAccreditationRegistry} from "../../../contracts/interfaces/IAccreditationRegistry.sol";
import {ICredentialRegistry} from "../../../contracts/interfaces/ICredentialRegistry.sol";

/// @title Permissive registry (test double)
/// @notice Emits the credential registry's events exactly as asked, checking nothing, so that tests can forge
/// histories the real contract refuses and show that an audit names each broken rule. An `issuedAt` or `since`
/// of 0 stands for this block's time, which a test cannot know before the block is mined.
contract PermissiveRegistry {
    /// @notice Same signature as OpenZeppelin's Ownable event, hence the same topic.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    /// @notice Same signature as OpenZeppelin's Ownable2Step event, hence the same topic.
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);

    constructor() {
        emit OwnershipTransferred(address(0), msg.sender);
    }

    function ownershipTransferStarted(address previousOwner, address newOwner) external {
        emit OwnershipTransferStarted(previousOwner, newOwner);
    }

    function ownershipTransferred(address previousOwner, address newOwner) external {
        emit OwnershipTransferred(previousOwner, newOwner);
    }

    function scopeDefined(
        bytes32 scopeId,
        uint32 scopeIndex,
        string calldata occupationCode,
        uint8 level,
        string calldata title
    ) external {
        emit IAccreditationRegistry.ScopeDefined(scopeId, scopeIndex, occupationCode, level, title);
    }

    function scopeRetired(bytes32 scopeId, uint40 retiredAt) external {
        emit IAccreditationRegistry.ScopeRetired(scopeId, retiredAt == 0 ? uint40(block.timestamp) : retiredAt);
    }

    function agencyRegistered(
        uint32 agencyId,
        address admin,
        string calldata name,
        string calldata code,
        address documentStore
    ) external {
        emit IAccreditationRegistry.AgencyRegistered(agencyId, admin, name, code, documentStore);
    }

    function agencyAdminTransferred(uint32 agencyId, address previousAdmin, address newAdmin, address actor)
        external
    {
        emit IAccreditationRegistry.AgencyAdminTransferred(agencyId, previousAdmin, newAdmin, actor);
    }

    function agencySuspended(uint32 agencyId, uint16 reason) external {
        emit IAccreditationRegistry.AgencySuspended(agencyId, reason);
    }

    function agencyReinstated(uint32 agencyId) external {
        emit IAccreditationRegistry.AgencyReinstated(agencyId);
    }

    function agencyRevoked(uint32 agencyId, uint40 cutoff, uint16 reason) external {
        emit IAccreditationRegistry.AgencyRevoked(agencyId, cutoff, reason);
    }

    function agencyAccredited(uint32 agencyId, bytes32 scopeId, uint40 validFrom, uint40 validUntil) external {
        emit IAccreditationRegistry.AgencyAccredited(agencyId, scopeId, validFrom, validUntil);
    }

    function accreditationWithdrawn(uint32 agencyId, bytes32 scopeId, uint40 validFrom, uint40 validUntil)
        external
    {
        emit IAccreditationRegistry.AccreditationWithdrawn(agencyId, scopeId, validFrom, validUntil);
    }

    function signerAdded(
        uint32 agencyId,
        address signer,
        uint32 signerIndex,
        uint40 validFrom,
        uint40 validUntil,
        address actor
    ) external {
        emit IAccreditationRegistry.SignerAdded(agencyId, signer, signerIndex, validFrom, validUntil, actor);
    }

    function signerRetired(uint32 agencyId, address signer, uint40 validFrom, uint40 validUntil, address actor)
        external
    {
        emit IAccreditationRegistry.SignerRetired(agencyId, signer, validFrom, validUntil, actor);
    }

    function signerCompromised(uint32 agencyId, address signer, uint40 since, address actor) external {
        emit IAccreditationRegistry.SignerCompromised(agencyId, signer, since, actor);
    }

    function issuerKeyAdded(uint32 agencyId, bytes32 publicKey, uint40 validFrom, uint40 validUntil, address actor)
        external
    {
        emit IAccreditationRegistry.IssuerKeyAdded(agencyId, publicKey, validFrom, validUntil, actor);
    }

    function issuerKeyCompromised(uint32 agencyId, bytes32 publicKey, uint40 since, address actor) external {
        emit IAccreditationRegistry.IssuerKeyCompromised(agencyId, publicKey, since, actor);
    }

    function credentialIssued(
        bytes32 root,
        uint32 agencyId,
        address signer,
        bytes32 scopeId,
        uint40 issuedAt,
        uint40 validUntil
    ) external {
        uint40 at = issuedAt == 0 ? uint40(block.timestamp) : issuedAt;
        emit ICredentialRegistry.CredentialIssued(root, agencyId, signer, scopeId, at, validUntil);
    }

    function credentialStatusChanged(
        bytes32 root,
        uint32 agencyId,
        address actor,
        bytes32 target,
        uint8 action,
        uint16 reason,
        uint32 nonce,
        uint40 since,
        bool byGovernor
    ) external {
        uint40 at = since == 0 ? uint40(block.timestamp) : since;
        emit ICredentialRegistry.CredentialStatusChanged(
            root, agencyId, actor, target, action, reason, nonce, at, byGovernor
        );
    }
}
