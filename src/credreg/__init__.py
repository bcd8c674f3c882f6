"""credreg: a permissioned-ledger registry of skill credentials.

Accredited evaluation agencies record certificate hashes on an EVM chain; employers verify a certificate
in one call; auditors replay the whole history from genesis. Only hashes go on chain.
"""

from credreg.errors import (
    ChainError,
    ChainUnreachable,
    ConfigError,
    ContractRevert,
    CredregError,
    DevChainError,
    DisclosureError,
    DocumentError,
    KeystoreError,
    MalformedDocument,
    PortInUse,
    ResultsFileError,
    RowProblem,
    SafeTxError,
    StateFileUnreadable,
    ToolchainError,
    TransactionFailed,
    UnhashableValue,
    WrongChain,
)

__version__ = "0.1.0"

__all__ = [
    "ChainError",
    "ChainUnreachable",
    "ConfigError",
    "ContractRevert",
    "CredregError",
    "DevChainError",
    "DisclosureError",
    "DocumentError",
    "KeystoreError",
    "MalformedDocument",
    "PortInUse",
    "ResultsFileError",
    "RowProblem",
    "SafeTxError",
    "StateFileUnreadable",
    "ToolchainError",
    "TransactionFailed",
    "UnhashableValue",
    "WrongChain",
    "__version__",
]
