// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Accreditation registry
/// @notice Who may issue what: occupation scopes, evaluation agencies, their signer keys and their
/// accreditations per scope, all kept by a governor (the contract owner).
/// @dev Every window is half-open in block-time seconds: valid when `validFrom <= t < validUntil`, and
/// `validUntil == 0` means open-ended. Identifiers (agencies, scope indexes, signer indexes) start at 1 so
/// that 0 always means "none".
interface IAccreditationRegistry {
    /// @notice Life cycle of an agency. `None` means the id was never registered.
    enum AgencyState {
        None,
        Active,
        Suspended,
        Revoked
    }

    /// @notice An occupation scope: an occupation code of the national classification and a level.
    /// `retiredAt` is the time the governor retired it (0 if in use): no agency can be accredited for it since.
    struct Scope {
        string occupationCode;
        uint8 level;
        uint32 index;
        string title;
        uint40 retiredAt;
    }

    /// @notice An evaluation agency. `reason` is the reason code of the last suspension or the revocation;
    /// `cutoff` is meaningful only once revoked: credentials issued at or after it are invalid.
    /// `documentStore` is the agency's own OpenAttestation document store, created at registration.
    struct Agency {
        string name;
        string registrationCode;
        address admin;
        AgencyState state;
        uint16 reason;
        uint40 cutoff;
        address documentStore;
    }

    /// @notice A signer key of an agency. `compromisedSince == 0` means never reported compromised.
    struct Signer {
        uint32 agencyId;
        uint32 index;
        uint40 validFrom;
        uint40 validUntil;
        uint40 compromisedSince;
    }

    /// @notice A key an agency signs W3C verifiable credentials with (an Ed25519 public key, listed here so
    /// that a verifier can bind the key to the agency from the registry alone). `agencyId == 0` means never
    /// added; `compromisedSince == 0` means never reported compromised.
    struct IssuerKey {
        uint32 agencyId;
        uint40 validFrom;
        uint40 validUntil;
        uint40 compromisedSince;
    }

    /// @notice The accreditation window of an agency for a scope. `scopeIndex == 0` means never accredited.
    struct Accreditation {
        uint32 scopeIndex;
        uint40 validFrom;
        uint40 validUntil;
    }

    /// @notice A scope was defined.
    /// @param scopeId keccak256(abi.encode(occupationCode, level))
    /// @param scopeIndex Sequential index of the scope, from 1
    /// @param occupationCode Occupation code in the national occupational classification
    /// @param level Qualification level
    /// @param title Human-readable title of the scope
    event ScopeDefined(
        bytes32 indexed scopeId, uint32 scopeIndex, string occupationCode, uint8 level, string title
    );

    /// @notice A scope was retired: no agency can be accredited for it from now on.
    /// @param scopeId The scope
    /// @param retiredAt The block's time
    event ScopeRetired(bytes32 indexed scopeId, uint40 retiredAt);

    /// @notice An agency was registered, active from this block.
    /// @param agencyId Sequential id of the agency, from 1
    /// @param admin Key that manages the agency's signers
    /// @param name Name of the agency
    /// @param registrationCode Unique registration code of the agency
    /// @param documentStore The agency's own OpenAttestation document store
    event AgencyRegistered(
        uint32 indexed agencyId,
        address indexed admin,
        string name,
        string registrationCode,
        address documentStore
    );

    /// @notice The admin key of an agency changed.
    /// @param agencyId The agency
    /// @param previousAdmin The admin before
    /// @param newAdmin The admin now
    /// @param actor Who made the change (the previous admin or the governor)
    event AgencyAdminTransferred(
        uint32 indexed agencyId, address indexed previousAdmin, address indexed newAdmin, address actor
    );

    /// @notice An agency was suspended: it may not issue until reinstated; issued credentials stay valid.
    /// @param agencyId The agency
    /// @param reason Reason code
    event AgencySuspended(uint32 indexed agencyId, uint16 reason);

    /// @notice A suspended agency was made active again.
    /// @param agencyId The agency
    event AgencyReinstated(uint32 indexed agencyId);

    /// @notice An agency was revoked for good; its credentials issued at or after `cutoff` are invalid.
    /// @param agencyId The agency
    /// @param cutoff Block time from which its credentials are invalid
    /// @param reason Reason code
    event AgencyRevoked(uint32 indexed agencyId, uint40 cutoff, uint16 reason);

    /// @notice An agency was accredited for a scope, or its accreditation window was replaced.
    /// @param agencyId The agency
    /// @param scopeId The scope
    /// @param validFrom Start of the window
    /// @param validUntil End of the window (exclusive), 0 for open-ended
    event AgencyAccredited(uint32 indexed agencyId, bytes32 indexed scopeId, uint40 validFrom, uint40 validUntil);

    /// @notice An accreditation was withdrawn: its window now ends at this block's time.
    /// @param agencyId The agency
    /// @param scopeId The scope
    /// @param validFrom Start of the window after the change
    /// @param validUntil End of the window after the change (this block's time)
    event AccreditationWithdrawn(
        uint32 indexed agencyId, bytes32 indexed scopeId, uint40 validFrom, uint40 validUntil
    );

    /// @notice A signer key was added to an agency; it belongs to that agency forever.
    /// @param agencyId The agency
    /// @param signer The signer key
    /// @param signerIndex Sequential index of the signer, from 1
    /// @param validFrom Start of the signer's window
    /// @param validUntil End of the signer's window, 0 for open-ended
    /// @param actor Who added it (the agency admin or the governor)
    event SignerAdded(
        uint32 indexed agencyId,
        address indexed signer,
        uint32 signerIndex,
        uint40 validFrom,
        uint40 validUntil,
        address actor
    );

    /// @notice A signer key was retired: its window now ends at this block's time. Credentials it already
    /// signed are untouched.
    /// @param agencyId The agency
    /// @param signer The signer key
    /// @param validFrom Start of the window after the change
    /// @param validUntil End of the window after the change (this block's time)
    /// @param actor Who retired it (the agency admin or the governor)
    event SignerRetired(
        uint32 indexed agencyId, address indexed signer, uint40 validFrom, uint40 validUntil, address actor
    );

    /// @notice A signer key was reported compromised: credentials it signed at or after `since` are invalid.
    /// @param agencyId The agency
    /// @param signer The signer key
    /// @param since Compromise time (may be reported again, only earlier)
    /// @param actor Who reported it (the agency admin or the governor)
    event SignerCompromised(uint32 indexed agencyId, address indexed signer, uint40 since, address actor);

    /// @notice A verifiable-credential issuer key was added to an agency; it belongs to that agency forever.
    /// @param agencyId The agency
    /// @param publicKey The Ed25519 public key
    /// @param validFrom Start of the key's window
    /// @param validUntil End of the key's window, 0 for open-ended
    /// @param actor Who added it (the agency admin or the governor)
    event IssuerKeyAdded(
        uint32 indexed agencyId, bytes32 indexed publicKey, uint40 validFrom, uint40 validUntil, address actor
    );

    /// @notice An issuer key was retired: its window now ends at this block's time.
    /// @param agencyId The agency
    /// @param publicKey The key
    /// @param validFrom Start of the window after the change
    /// @param validUntil End of the window after the change (this block's time)
    /// @param actor Who retired it (the agency admin or the governor)
    event IssuerKeyRetired(
        uint32 indexed agencyId, bytes32 indexed publicKey, uint40 validFrom, uint40 validUntil, address actor
    );

    /// @notice An issuer key was reported compromised: credentials it signed at or after `since` are invalid.
    /// @param agencyId The agency
    /// @param publicKey The key
    /// @param since Compromise time (may be reported again, only earlier)
    /// @param actor Who reported it (the agency admin or the governor)
    event IssuerKeyCompromised(uint32 indexed agencyId, bytes32 indexed publicKey, uint40 since, address actor);

    /// @notice The governor tried to renounce ownership, which would freeze the registry.
    error AccreditationRegistryRenounceDisabled();

    /// @notice The caller is neither the agency's admin nor the governor.
    /// @param caller The caller
    /// @param agencyId The agency concerned
    error AccreditationRegistryUnauthorized(address caller, uint32 agencyId);

    /// @notice An address argument was the zero address.
    error AccreditationRegistryZeroAddress();

    /// @notice A scope needs a non-empty occupation code and title.
    /// @param occupationCode The occupation code given
    /// @param level The level given
    /// @param title The title given
    error AccreditationRegistryInvalidScope(string occupationCode, uint8 level, string title);

    /// @notice The scope is already defined.
    /// @param scopeId The scope
    error AccreditationRegistryScopeAlreadyDefined(bytes32 scopeId);

    /// @notice The scope was never defined.
    /// @param scopeId The scope
    error AccreditationRegistryUnknownScope(bytes32 scopeId);

    /// @notice The scope was retired.
    /// @param scopeId The scope
    /// @param retiredAt When it was retired
    error AccreditationRegistryScopeRetired(bytes32 scopeId, uint40 retiredAt);

    /// @notice An agency needs a non-empty name and registration code and a non-zero admin.
    /// @param name The name given
    /// @param registrationCode The registration code given
    /// @param admin The admin given
    error AccreditationRegistryInvalidAgency(string name, string registrationCode, address admin);

    /// @notice Another agency already holds this registration code.
    /// @param registrationCode The registration code
    /// @param agencyId The agency holding it
    error AccreditationRegistryRegistrationCodeTaken(string registrationCode, uint32 agencyId);

    /// @notice The agency id was never registered.
    /// @param agencyId The agency id
    error AccreditationRegistryUnknownAgency(uint32 agencyId);

    /// @notice The agency is not in the state the operation needs.
    /// @param agencyId The agency
    /// @param state Its current state
    error AccreditationRegistryInvalidAgencyState(uint32 agencyId, AgencyState state);

    /// @notice A revocation cut-off may not lie in the future.
    /// @param cutoff The cut-off given
    /// @param blockTime The block's time
    error AccreditationRegistryInvalidCutoff(uint40 cutoff, uint40 blockTime);

    /// @notice A window must end after it starts (or be open-ended).
    /// @param validFrom The start given
    /// @param validUntil The end given
    error AccreditationRegistryInvalidWindow(uint40 validFrom, uint40 validUntil);

    /// @notice The agency was never accredited for the scope.
    /// @param agencyId The agency
    /// @param scopeId The scope
    error AccreditationRegistryNotAccredited(uint32 agencyId, bytes32 scopeId);

    /// @notice The window already ended.
    /// @param validUntil Its end
    /// @param blockTime The block's time
    error AccreditationRegistryWindowEnded(uint40 validUntil, uint40 blockTime);

    /// @notice The signer key already belongs to an agency (a key belongs to one agency forever).
    /// @param signer The signer key
    /// @param agencyId The agency it belongs to
    error AccreditationRegistrySignerAlreadyRegistered(address signer, uint32 agencyId);

    /// @notice The signer key was never added.
    /// @param signer The signer key
    error AccreditationRegistryUnknownSigner(address signer);

    /// @notice A compromise time must be non-zero, not in the future, and earlier than one already reported.
    /// @param signer The signer key
    /// @param since The compromise time given
    /// @param current The compromise time already reported, 0 if none
    /// @param blockTime The block's time
    error AccreditationRegistryInvalidCompromiseTime(address signer, uint40 since, uint40 current, uint40 blockTime);

    /// @notice The issuer key already belongs to an agency (a key belongs to one agency forever), or is zero.
    /// @param publicKey The key
    /// @param agencyId The agency it belongs to, 0 for the zero key
    error AccreditationRegistryIssuerKeyAlreadyRegistered(bytes32 publicKey, uint32 agencyId);

    /// @notice The issuer key was never added.
    /// @param publicKey The key
    error AccreditationRegistryUnknownIssuerKey(bytes32 publicKey);

    /// @notice A compromise time must be non-zero, not in the future, and earlier than one already reported.
    /// @param publicKey The issuer key
    /// @param since The compromise time given
    /// @param current The compromise time already reported, 0 if none
    /// @param blockTime The block's time
    error AccreditationRegistryInvalidIssuerKeyCompromiseTime(
        bytes32 publicKey, uint40 since, uint40 current, uint40 blockTime
    );

    /// @notice Defines a scope. Governor only.
    /// @param occupationCode Occupation code in the national occupational classification
    /// @param level Qualification level
    /// @param title Human-readable title
    /// @return scopeId keccak256(abi.encode(occupationCode, level))
    function defineScope(string calldata occupationCode, uint8 level, string calldata title)
        external
        returns (bytes32 scopeId);

    /// @notice Retires a scope defined by mistake or no longer in use: no agency can be accredited for it
    /// from now on (withdraw existing accreditations with {withdrawAccreditation}). Governor only.
    /// @param scopeId A defined scope, not yet retired
    function retireScope(bytes32 scopeId) external;

    /// @notice Registers an agency, active at once, and creates its OpenAttestation document store.
    /// Governor only.
    /// @param name Name of the agency
    /// @param registrationCode Unique registration code
    /// @param admin Key that manages the agency's signers
    /// @return agencyId Sequential id, from 1
    function registerAgency(string calldata name, string calldata registrationCode, address admin)
        external
        returns (uint32 agencyId);

    /// @notice Accredits an agency for a scope over a window, replacing any earlier window. Governor only.
    /// @param agencyId The agency (not revoked)
    /// @param scopeId A defined scope
    /// @param validFrom Start of the window
    /// @param validUntil End of the window (exclusive), 0 for open-ended
    function accredit(uint32 agencyId, bytes32 scopeId, uint40 validFrom, uint40 validUntil) external;

    /// @notice Ends an accreditation window at this block's time. Governor only.
    /// @param agencyId The agency
    /// @param scopeId The scope
    function withdrawAccreditation(uint32 agencyId, bytes32 scopeId) external;

    /// @notice Suspends an active agency: no issuance until reinstated. Governor only.
    /// @param agencyId The agency
    /// @param reason Reason code
    function suspendAgency(uint32 agencyId, uint16 reason) external;

    /// @notice Makes a suspended agency active again. Governor only.
    /// @param agencyId The agency
    function reinstateAgency(uint32 agencyId) external;

    /// @notice Revokes an agency for good. Governor only.
    /// @param agencyId The agency (active or suspended)
    /// @param cutoff Credentials issued at or after this time become invalid; not in the future
    /// @param reason Reason code
    function revokeAgency(uint32 agencyId, uint40 cutoff, uint16 reason) external;

    /// @notice Adds a signer key to an agency. Agency admin or governor; the agency must not be revoked.
    /// @param agencyId The agency
    /// @param signer A key that never belonged to any agency
    /// @param validFrom Start of the key's window
    /// @param validUntil End of the key's window, 0 for open-ended
    function addSigner(uint32 agencyId, address signer, uint40 validFrom, uint40 validUntil) external;

    /// @notice Ends a signer key's window at this block's time. Agency admin or governor.
    /// @param signer The signer key
    function retireSigner(address signer) external;

    /// @notice Reports a signer key compromised since a time. Agency admin or governor.
    /// @param signer The signer key
    /// @param since Non-zero, not in the future, and earlier than any time reported before
    function reportCompromised(address signer, uint40 since) external;

    /// @notice Lists a key the agency signs verifiable credentials with. Agency admin or governor; the agency
    /// must not be revoked.
    /// @param agencyId The agency
    /// @param publicKey An Ed25519 public key that never belonged to any agency
    /// @param validFrom Start of the key's window
    /// @param validUntil End of the key's window, 0 for open-ended
    function addIssuerKey(uint32 agencyId, bytes32 publicKey, uint40 validFrom, uint40 validUntil) external;

    /// @notice Ends an issuer key's window at this block's time. Agency admin or governor.
    /// @param publicKey The key
    function retireIssuerKey(bytes32 publicKey) external;

    /// @notice Reports an issuer key compromised since a time. Agency admin or governor.
    /// @param publicKey The key
    /// @param since Non-zero, not in the future, and earlier than any time reported before
    function reportIssuerKeyCompromised(bytes32 publicKey, uint40 since) external;

    /// @notice Hands an agency to a new admin key. Agency admin or governor.
    /// @param agencyId The agency
    /// @param newAdmin The new admin, non-zero
    function transferAgencyAdmin(uint32 agencyId, address newAdmin) external;

    /// @notice Computes a scope id the way the registry does.
    /// @param occupationCode Occupation code
    /// @param level Level
    /// @return keccak256(abi.encode(occupationCode, level))
    function scopeIdOf(string calldata occupationCode, uint8 level) external pure returns (bytes32);

    /// @notice A defined scope.
    /// @param scopeId The scope
    /// @return The scope; `index == 0` if not defined
    function scope(bytes32 scopeId) external view returns (Scope memory);

    /// @notice The scope id with a given index.
    /// @param scopeIndex The index, from 1
    /// @return The scope id, 0 if none
    function scopeIdAt(uint32 scopeIndex) external view returns (bytes32);

    /// @notice Number of scopes defined.
    /// @return The count, also the highest scope index
    function scopeCount() external view returns (uint32);

    /// @notice An agency.
    /// @param agencyId The agency id
    /// @return The agency; `state == None` if not registered
    function agency(uint32 agencyId) external view returns (Agency memory);

    /// @notice Number of agencies registered.
    /// @return The count, also the highest agency id
    function agencyCount() external view returns (uint32);

    /// @notice The agency holding a registration code.
    /// @param registrationCode The registration code
    /// @return The agency id, 0 if none
    function agencyIdByRegistrationCode(string calldata registrationCode) external view returns (uint32);

    /// @notice A signer key's record.
    /// @param signer The signer key
    /// @return The record; `agencyId == 0` if never added
    function signerRecord(address signer) external view returns (Signer memory);

    /// @notice The signer key with a given index.
    /// @param signerIndex The index, from 1
    /// @return The signer key, the zero address if none
    function signerAt(uint32 signerIndex) external view returns (address);

    /// @notice Number of signer keys added.
    /// @return The count, also the highest signer index
    function signerCount() external view returns (uint32);

    /// @notice An issuer key's record.
    /// @param publicKey The key
    /// @return The record; `agencyId == 0` if never added
    function issuerKey(bytes32 publicKey) external view returns (IssuerKey memory);

    /// @notice The accreditation window of an agency for a scope.
    /// @param agencyId The agency
    /// @param scopeId The scope
    /// @return The accreditation; `scopeIndex == 0` if never accredited
    function accreditation(uint32 agencyId, bytes32 scopeId) external view returns (Accreditation memory);

    /// @notice Whether an agency may issue for a scope at this block's time: active, and accredited now.
    /// @param agencyId The agency
    /// @param scopeId The scope
    /// @return True if it may
    function isAccredited(uint32 agencyId, bytes32 scopeId) external view returns (bool);
}
