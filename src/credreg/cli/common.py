"""What every command shares: settings, connecting to the registry, choosing a key, printing."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.redact import redact
from credreg.cli.timeparse import parse_time, show_time, show_window
from credreg.documents.scopes import ScopeFormatError, parse_scope
from credreg.errors import ConfigError, KeystoreError

if TYPE_CHECKING:
    # The command modules load on every start, `credreg --help` included: web3, eth-account and
    # pydantic-settings are imported where a command needs them, never here (tests/unit/test_cli_startup.py).
    from eth_account.signers.local import LocalAccount

    from credreg.config import Settings
    from credreg.registry import Registry

# No emoji codes: identifiers such as did:key:z6Mk… contain ":key:", which rich would print as a key emoji.
console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)


@dataclass
class State:
    settings: Settings
    _registry: Registry | None = field(default=None, init=False)

    def registry(self, *, audit: bool = False) -> Registry:
        """The registry the manifest names. An audit also reads a contract that does not answer VERSION()
        (a forged or foreign one: its provenance check says what it is); everything else refuses it."""
        if self._registry is None:
            from credreg.chain.manifest import Manifest
            from credreg.registry import Registry

            manifest = Manifest.load(self.settings.manifest_path)
            registry = Registry.connect(self.settings.effective_rpc_url, manifest, check=False)
            registry.check_deployment(require_version=not audit)
            self._registry = registry
        return self._registry


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        from credreg.config import Settings

        obj = State(Settings())
        ctx.find_root().obj = obj
    return obj


KeystoreOption = Annotated[
    Path | None,
    typer.Option(
        "--keystore",
        "-k",
        help="Encrypted key file; its password comes from $CREDREG_KEYSTORE_PASSWORD or a prompt.",
        show_default=False,
    ),
]
DevAccountOption = Annotated[
    int | None,
    typer.Option(
        "--dev-account",
        min=0,
        max=len(ANVIL_TEST_KEYS) - 1,
        help="Use well-known anvil test account N (dev chain only).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


_ROLES = {
    "governor": "主管部门（governor）",
    "agency signer": "评价机构签名密钥（agency signer）",
    "agency admin": "评价机构管理员（agency admin）",
    "relayer": "付费账户（relayer）",
    "deployer": "部署账户（deployer）",
}


def load_account(st: State, keystore: Path | None, dev_account: int | None, *, role: str) -> LocalAccount:
    """The key a command signs with: a keystore, or on the dev chain an anvil test account."""
    from eth_account import Account

    from credreg.chain.devchain import DEV_CHAIN_ID
    from credreg.chain.keystore import load_keystore, password_from_env_or_prompt

    if keystore is not None and dev_account is not None:
        raise ConfigError(
            "--keystore 与 --dev-account 只能给一个 / give either --keystore or --dev-account, not both"
        )
    if keystore is not None:
        return load_keystore(keystore, password_from_env_or_prompt(prompt=f"Password for {keystore}: "))
    if dev_account is not None:
        chain_id = st.registry().domain.chain_id
        if chain_id != DEV_CHAIN_ID:
            raise KeystoreError(
                f"--dev-account 使用公开的测试密钥，在链 {chain_id} 上不可用，请改用 --keystore 密钥文件 / "
                f"--dev-account uses public test keys and is refused on chain {chain_id}; use --keystore"
            )
        account: LocalAccount = Account.from_key(ANVIL_TEST_KEYS[dev_account])
        return account
    raise ConfigError(
        f"此命令需要{_ROLES.get(role, role)}的密钥：请加 --keystore 密钥文件（开发链上也可用 --dev-account N） / "
        f"this command needs the {role}'s key: give --keystore PATH (or --dev-account N on the dev chain)"
    )


def ledger_now(ctx: typer.Context) -> Callable[[], int]:
    return lambda: state(ctx).registry().block_time()


def check_time(text: str | None, field: str, *, allow_never: bool = False) -> None:
    """Refuse a malformed time before anything else happens (`now` is resolved later, from the ledger)."""
    if text is not None:
        parse_time(text, lambda: 0, field=field, allow_never=allow_never)


def when(ctx: typer.Context, text: str, field: str, *, allow_never: bool = False) -> int:
    """A time option read by the one rule (see `credreg.cli.timeparse`), `now` being the ledger's time."""
    return parse_time(
        text, ledger_now(ctx), zone=state(ctx).settings.zone, field=field, allow_never=allow_never
    )


def local_time(ctx: typer.Context, seconds: int, never: str = "-") -> str:
    return show_time(seconds, state(ctx).settings.zone, never=never)


def local_window(ctx: typer.Context, valid_from: int, valid_until: int) -> str:
    return show_window(valid_from, valid_until, state(ctx).settings.zone)


def scope_of(text: str, field: str = "SCOPE") -> str:
    """A scope id from `4-04-05-06/3` or a 0x id; a usage error (exit 2) naming `field` otherwise."""
    try:
        parsed = parse_scope(text, field=field)
    except ScopeFormatError as exc:
        raise typer.BadParameter(str(exc), param_hint=field) from None
    from credreg.documents.model import scope_id as scope_id_of

    return parsed if isinstance(parsed, str) else scope_id_of(parsed.occupation_code, parsed.level)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[red]错误 / error:[/red] {escape(redact(message))}", soft_wrap=True)
    raise typer.Exit(code)
