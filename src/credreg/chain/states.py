"""The contract's enumerations, as Python enums with the same numeric values, and its time-window rule."""

from __future__ import annotations

from enum import IntEnum


class AgencyState(IntEnum):
    """`IAccreditationRegistry.AgencyState`; NONE means the id was never registered."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class Status(IntEnum):
    """`ICredentialRegistry.Status` of a root, node or leaf hash in its agency's namespace."""

    NONE = 0
    REVOKED = 1
    SUSPENDED = 2


class Verdict(IntEnum):
    """`ICredentialRegistry.Verdict`: the one-call answer of `credentialStatus`, most decisive first."""

    VALID = 0
    NOT_ISSUED = 1
    INVALID_PROOF = 2
    ROOT_REVOKED = 3
    NODE_REVOKED = 4
    LEAF_REVOKED = 5
    AGENCY_REVOKED = 6
    SIGNER_COMPROMISED = 7
    EXPIRED = 8
    ROOT_SUSPENDED = 9
    NODE_SUSPENDED = 10
    LEAF_SUSPENDED = 11

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


def in_window(valid_from: int, valid_until: int, moment: int) -> bool:
    """The contract's windows are half-open, `valid_from <= moment < valid_until`; 0 as the end means none."""
    return valid_from <= moment and (valid_until == 0 or moment < valid_until)
