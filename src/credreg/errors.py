"""Every error credreg raises, as one tree, so callers can catch as broadly or narrowly as they need.

CredregError
├── ConfigError             settings, deployment manifest or data directory unusable
├── DevChainError           the embedded dev chain cannot start or stop
│   ├── PortInUse
│   └── StateFileUnreadable
├── ToolchainError          Node.js, npm or the Solidity compiler missing or unusable
├── DocumentError           a certificate or wrapped document is unusable
│   ├── UnhashableValue     a value cannot be hashed reproducibly; `field` names where it is
│   ├── MalformedDocument   not a well-formed OpenAttestation v2 wrapped document; `field` names where
│   ├── DisclosureError     a field cannot be hidden; `field` names it
│   └── ResultsFileError    a results file has broken rows; `problems` names each row and field
├── KeystoreError           a keystore file cannot be read or decrypted
├── SafeTxError             a multisig (Safe) transaction file is unusable or lacks signatures
├── RequestRefused          the service refuses a signed request (credreg.service.intake)
└── ChainError              talking to the ledger failed
    ├── ChainUnreachable    the JSON-RPC endpoint does not answer (retry later)
    ├── WrongChain          the endpoint serves another chain than the manifest names
    │   └── WrongContractVersion  the ledger's registry is of a contract version this credreg cannot read
    ├── ContractRevert      the contract refused; `name` and `args` are its decoded custom error
    ├── TransactionFailed   a transaction was dropped, replaced or reverted without a known reason
    ├── UndecodableLog      a log that does not decode by its ABI (credreg.chain.codec)
    └── LogRangeRefused     the node refuses even the smallest log range (credreg.chain.logs)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credreg.chain.redact import redact


class CredregError(Exception):
    """Root of every error credreg raises on purpose. Credentials in URLs its message quotes are masked."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))


class ConfigError(CredregError):
    """Settings, the deployment manifest or the data directory cannot be used as they are."""


class ToolchainError(CredregError):
    """A build tool (Node.js, npm, the Solidity compiler) is missing or unusable."""


class DevChainError(CredregError):
    """The embedded dev chain cannot be started, reached or stopped."""


class PortInUse(DevChainError):
    """The dev chain's port is already taken by another process."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is already in use; stop what is listening there "
            f"or choose another port (--port / CREDREG_CHAIN_PORT)"
        )
        self.host = host
        self.port = port


class StateFileUnreadable(DevChainError):
    """The dev chain's saved state exists but cannot be loaded."""


class DocumentError(CredregError):
    """A certificate, a wrapped document or a results file is unusable."""


class UnhashableValue(DocumentError):
    """A value cannot be salted and hashed the same way by every OpenAttestation implementation."""

    def __init__(self, field: str, reason: str, *, document: int | None = None) -> None:
        where = f"document {document}, " if document is not None else ""
        super().__init__(f"{where}field {field!r}: {reason}")
        self.field = field
        self.reason = reason
        self.document = document


class MalformedDocument(DocumentError):
    """A file is not a well-formed OpenAttestation v2 wrapped document (or not a credreg one)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"malformed document at {field!r}: {reason}")
        self.field = field
        self.reason = reason


class DisclosureError(DocumentError):
    """A field cannot be hidden: it is unknown, already hidden, or needed to verify the document."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"cannot hide {field!r}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RowProblem:
    """One broken row of a results file; `row` is the file's line number, `field` the column."""

    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        zh = ([f"第 {self.row} 行"] if self.row is not None else []) + (
            [f"字段 {self.field}"] if self.field is not None else []
        )
        where = [f"row {self.row}"] if self.row is not None else []
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{'、'.join(zh) or '文件'} / {', '.join(where) or 'file'}: {self.message}"


class ResultsFileError(DocumentError):
    """A results file has broken rows; nothing from it was used.

    `problems` holds the first few problems found (all rows are checked), `total` how many there were;
    `row` and `field` are those of the first problem.
    """

    def __init__(self, source: str, problems: list[RowProblem], total: int) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        more = f"\n  …另有 / and {total - len(problems)} more" if total > len(problems) else ""
        super().__init__(
            f"{source}: 共 {total} 处问题，未读取任何行，请改正后重试 / {total} problem(s), nothing was read:\n"
            f"{lines}{more}"
        )
        self.source = source
        self.problems = tuple(problems)
        self.total = total
        self.row = problems[0].row if problems else None
        self.field = problems[0].field if problems else None


class KeystoreError(CredregError):
    """A keystore file is missing, malformed, or its password is wrong."""


class SafeTxError(CredregError):
    """A Safe transaction or signatures file is unusable, or it does not carry enough owners' signatures."""


class ChainError(CredregError):
    """Talking to the ledger failed."""


class ChainUnreachable(ChainError):
    """The JSON-RPC endpoint does not answer; the same call may succeed later."""


class WrongChain(ChainError):
    """The endpoint serves a different chain, or lacks the contracts the manifest names."""


class WrongContractVersion(WrongChain):
    """The registry (or its manifest) is of another contract version than this credreg speaks."""

    def __init__(self, where: str, found: str, expected: str) -> None:
        super().__init__(
            f"{where} is credreg contract version {found}, but this credreg reads version {expected} only; "
            f"nothing was read from it. Point credreg at a registry of version {expected} (its manifest, "
            f"--registry or CREDREG_MANIFEST). A ledger of the earlier version stays readable with the credreg "
            f"release that deployed it; on the dev chain, remove ./.credreg and run `credreg run` again to start "
            f"a fresh ledger."
        )
        self.where = where
        self.found = found
        self.expected = expected


class TransactionFailed(ChainError):
    """A transaction did not make it onto the ledger, for a reason the contracts did not name."""


class ContractRevert(ChainError):
    """The contract refused a call with one of its custom errors, decoded.

    `name` is the Solidity error name (for example `CredentialRegistryNotAccredited`) and `args` its
    arguments by parameter name.
    """

    def __init__(self, name: str, args: dict[str, Any], message: str | None = None) -> None:
        shown = ", ".join(f"{k}={_show(v)}" for k, v in args.items())
        super().__init__(message or f"{name}({shown})")
        self.name = name
        self.args_by_name = args


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
