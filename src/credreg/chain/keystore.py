"""Agency and governor keys in encrypted keystore files (the standard Ethereum v3 format).

Passwords come from an environment variable or an interactive prompt, never from a command-line argument,
and are never logged.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from credreg.chain.manifest import write_atomically
from credreg.errors import KeystoreError

PASSWORD_ENV = "CREDREG_KEYSTORE_PASSWORD"  # noqa: S105 - the variable's name, not a password


def password_from_env_or_prompt(
    env: str = PASSWORD_ENV, *, confirm: bool = False, prompt: str = "Keystore password: "
) -> str:
    value = os.environ.get(env)
    if value:
        return value
    try:
        password = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat password: ") != password:
            raise KeystoreError("the two passwords differ")
    except EOFError as exc:
        raise KeystoreError(f"no password: set {env} or run interactively") from exc
    if not password:
        raise KeystoreError("an empty password is not allowed")
    return password


def create_keystore(path: Path, password: str, private_key: str | None = None) -> LocalAccount:
    """Create a new key (or import `private_key`) and store it encrypted at `path`; refuses to overwrite."""
    if path.exists():
        raise KeystoreError(f"{path} already exists; refusing to overwrite a key")
    account: LocalAccount = Account.from_key(private_key) if private_key else Account.create()
    encrypted = Account.encrypt(account.key, password)
    write_atomically(path, json.dumps(encrypted, indent=2) + "\n")
    path.chmod(0o600)
    return account


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt the keystore at `path`; a wrong password or a damaged file raises KeystoreError."""
    try:
        keyfile = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeystoreError(f"keystore {path} does not exist") from exc
    except OSError as exc:
        raise KeystoreError(f"keystore {path} cannot be read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise KeystoreError(f"keystore {path} is not valid JSON: {exc}") from exc
    crypto = keyfile.get("crypto", keyfile.get("Crypto")) if isinstance(keyfile, dict) else None
    if not isinstance(crypto, dict):
        raise KeystoreError(
            f"keystore {path} is not an Ethereum keystore: expected a JSON object with a 'crypto' section, "
            f"as `credreg keys new` writes"
        )
    try:
        key = Account.decrypt(keyfile, password)
    except ValueError as exc:
        raise KeystoreError(f"cannot decrypt keystore {path}: wrong password or damaged file") from exc
    except (KeyError, TypeError) as exc:
        raise KeystoreError(f"keystore {path} is not an Ethereum keystore (missing {exc})") from exc
    except NotImplementedError as exc:  # eth-account's answer to a keystore version it does not know
        raise KeystoreError(
            f"keystore {path} has version {keyfile.get('version')!r}; only version 3 keystores are read"
        ) from exc
    account: LocalAccount = Account.from_key(key)
    return account
