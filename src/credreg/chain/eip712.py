"""EIP-712 signatures over issuance and status-change requests, made with an agency signer key.

A signed request can travel anywhere (to the service, through an e-mail) and be relayed by any account: the
contract recovers the signer and checks it belongs to an accredited agency. Signatures are sent in the
compact EIP-2098 form (`r`, `vs`).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from credreg.documents._keccak import checksum_address

if TYPE_CHECKING:  # eth_account takes a fifth of a second to import: only signing and recovering need it
    from eth_account.signers.local import LocalAccount

DOMAIN_NAME = "credreg"
DOMAIN_VERSION = "2"

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"

ISSUE_TYPES: dict[str, list[dict[str, str]]] = {
    "Issue": [
        {"name": "root", "type": "bytes32"},
        {"name": "scope", "type": "bytes32"},
        {"name": "validUntil", "type": "uint40"},
        {"name": "deadline", "type": "uint64"},
    ]
}
STATUS_CHANGE_TYPES: dict[str, list[dict[str, str]]] = {
    "StatusChange": [
        {"name": "agencyId", "type": "uint32"},
        {"name": "root", "type": "bytes32"},
        {"name": "target", "type": "bytes32"},
        {"name": "action", "type": "uint8"},
        {"name": "reason", "type": "uint16"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint64"},
    ]
}
# Not a contract type: the service checks it before it lists a directly issued batch's leaves.
BATCH_LEAVES_TYPES: dict[str, list[dict[str, str]]] = {
    "BatchLeaves": [
        {"name": "agencyId", "type": "uint32"},
        {"name": "root", "type": "bytes32"},
        {"name": "leavesHash", "type": "bytes32"},
    ]
}


class StatusAction(IntEnum):
    """What a status change does to a root, an intermediate node or a leaf."""

    REVOKE = 1
    SUSPEND = 2
    REINSTATE = 3


class CompactSignature(BaseModel):
    """An EIP-2098 signature: `vs` carries the recovery bit in its top bit."""

    model_config = ConfigDict(frozen=True)

    r: str = Field(pattern=HEX32)
    vs: str = Field(pattern=HEX32)

    @classmethod
    def from_vrs(cls, v: int, r: int, s: int) -> CompactSignature:
        vs = s | ((v - 27) << 255)
        return cls(r=f"0x{r:064x}", vs=f"0x{vs:064x}")

    def to_vrs(self) -> tuple[int, int, int]:
        vs = int(self.vs, 16)
        return 27 + (vs >> 255), int(self.r, 16), vs & ((1 << 255) - 1)


class Domain(BaseModel):
    """Which deployment a signature is good for: chain id and registry address."""

    model_config = ConfigDict(frozen=True)

    chain_id: int = Field(ge=1)
    registry: str = Field(pattern=ADDRESS)

    def as_eip712(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": checksum_address(self.registry),
        }


class IssueRequest(BaseModel):
    """An agency's request to record `root` for `scope_id`, valid until `valid_until` (0: no expiry).

    The signature is good until `deadline` (block time, inclusive): one that was made and never sent cannot be
    relayed later by whoever kept it."""

    model_config = ConfigDict(frozen=True)

    root: str = Field(pattern=HEX32)
    scope_id: str = Field(pattern=HEX32)
    valid_until: int = Field(0, ge=0, lt=2**40)
    deadline: int = Field(ge=0, lt=2**64)

    def message(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "scope": self.scope_id,
            "validUntil": self.valid_until,
            "deadline": self.deadline,
        }


class StatusChangeRequest(BaseModel):
    """An agency's request to revoke, suspend or reinstate `target` (the root, a node or a leaf of it), in
    that agency's namespace."""

    model_config = ConfigDict(frozen=True)

    agency_id: int = Field(ge=1, lt=2**32)
    root: str = Field(pattern=HEX32)
    target: str = Field(pattern=HEX32)
    action: StatusAction
    reason: int = Field(0, ge=0, lt=2**16)
    nonce: int = Field(ge=0, lt=2**32)
    deadline: int = Field(ge=0, lt=2**64)

    def message(self) -> dict[str, Any]:
        return {
            "agencyId": self.agency_id,
            "root": self.root,
            "target": self.target,
            "action": int(self.action),
            "reason": self.reason,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }


class BatchLeavesRequest(BaseModel):
    """An agency's word that `leaves_hash` (keccak256 of its leaves, 32 bytes each, in order) are the leaves of
    its batch `root`."""

    model_config = ConfigDict(frozen=True)

    agency_id: int = Field(ge=1, lt=2**32)
    root: str = Field(pattern=HEX32)
    leaves_hash: str = Field(pattern=HEX32)

    def message(self) -> dict[str, Any]:
        return {"agencyId": self.agency_id, "root": self.root, "leavesHash": self.leaves_hash}


AnyRequest = IssueRequest | StatusChangeRequest | BatchLeavesRequest


def _typed(domain: Domain, request: AnyRequest) -> Any:
    from eth_account.messages import encode_typed_data

    types = (
        ISSUE_TYPES
        if isinstance(request, IssueRequest)
        else STATUS_CHANGE_TYPES
        if isinstance(request, StatusChangeRequest)
        else BATCH_LEAVES_TYPES
    )
    return encode_typed_data(
        domain.as_eip712(), types, {k: _bytes_or_int(v) for k, v in request.message().items()}
    )


def _bytes_or_int(value: Any) -> Any:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else value


def sign(account: LocalAccount, domain: Domain, request: AnyRequest) -> CompactSignature:
    signed = account.sign_message(_typed(domain, request))
    return CompactSignature.from_vrs(signed.v, signed.r, signed.s)


def recover(domain: Domain, request: AnyRequest, signature: CompactSignature) -> str:
    """The address that made `signature` over `request` for `domain`."""
    from eth_account import Account

    return str(Account.recover_message(_typed(domain, request), vrs=signature.to_vrs()))
