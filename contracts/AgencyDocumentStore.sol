// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

import {IDocumentStore} from "./interfaces/IDocumentStore.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";

/// @title One agency's OpenAttestation document store
/// @notice The registry deploys this contract once, then gives every agency it registers a minimal clone of it
/// (EIP-1167 with the agency id as immutable argument, at a CREATE2 address fixed by the agency id). A store
/// holds nothing: it answers OpenAttestation's views from the registry, in its agency's namespace only, so a
/// document naming an agency's store verifies only if that agency recorded it.
contract AgencyDocumentStore is IDocumentStore {
    /// @notice The registry every clone reads.
    ICredentialRegistry public immutable REGISTRY;

    address private immutable _SELF;

    /// @notice Deployed by the registry's constructor.
    constructor() {
        REGISTRY = ICredentialRegistry(msg.sender);
        _SELF = address(this);
    }

    /// @inheritdoc IDocumentStore
    function isIssued(bytes32 root) external view returns (bool) {
        return REGISTRY.isIssued(agencyId(), root);
    }

    /// @inheritdoc IDocumentStore
    function isRevoked(bytes32 hash) external view returns (bool) {
        return REGISTRY.isRevoked(agencyId(), hash);
    }

    /// @notice The agency this store answers for; 0 (no agency) on the template itself.
    /// @return The agency id
    function agencyId() public view returns (uint32) {
        if (address(this) == _SELF) return 0;
        return uint32(bytes4(Clones.fetchCloneArgs(address(this))));
    }
}
