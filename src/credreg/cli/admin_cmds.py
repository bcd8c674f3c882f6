"""Governor and agency-admin commands: scopes, agencies, accreditations, signer keys, and key files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credreg.cli.common import (
    DevAccountOption,
    JsonOption,
    KeystoreOption,
    check_time,
    console,
    load_account,
    local_time,
    local_window,
    print_json,
    scope_of,
    state,
    when,
)
from credreg.cli.safe_cmds import UnsignedTxOption, address_arg, write_unsigned_tx
from credreg.documents.scopes import SCOPE_EXAMPLE, ScopeFormatError, check_scope
from credreg.errors import ConfigError
from credreg.labels import AGENCY_STATES, REASON_CODES, level_words, reason_words

if TYPE_CHECKING:
    from credreg.registry import AgencyAdmin, Governor


keys_app = typer.Typer(
    help="Create and inspect encrypted key files (governor, agency admin, agency signer).\n\n"
    "Example: credreg keys new agency-signer.json"
)
scope_app = typer.Typer(
    help="Governor: define occupation scopes (occupation code + level).\n\nExample: credreg scope list"
)
agency_app = typer.Typer(
    help="Governor: register, accredit, suspend, reinstate and revoke agencies.\n\n"
    "Example: credreg agency show 1"
)
governor_app = typer.Typer(
    help="Governor: show the governor, and hand the role to another key or a Safe multisig.\n\n"
    "Example: credreg governor show"
)
signer_app = typer.Typer(
    help="Agency admin: add, retire and report compromised signer keys.\n\nExample: credreg signer show 0x9f…"
)


@keys_app.command("new")
def keys_new(path: Path) -> None:
    """Create a new key, encrypted with a password from $CREDREG_KEYSTORE_PASSWORD or a prompt.

    Example: credreg keys new agency-signer.json
    """
    from credreg.chain.keystore import create_keystore, password_from_env_or_prompt

    account = create_keystore(
        path, password_from_env_or_prompt(confirm=True, prompt=f"New password for {path}: ")
    )
    console.print(f"{account.address}  written to {path}")


@keys_app.command("address")
def keys_address(path: Path) -> None:
    """Print the address of a key file (asks for its password).

    Example: credreg keys address agency-signer.json
    """
    from credreg.chain.keystore import load_keystore, password_from_env_or_prompt

    console.print(load_keystore(path, password_from_env_or_prompt(prompt=f"Password for {path}: ")).address)


def _governor(ctx: typer.Context, keystore: Path | None, dev_account: int | None) -> Governor:
    from credreg.registry import Governor

    st = state(ctx)
    return Governor(
        st.registry(), load_account(st, keystore, dev_account, role="governor"), st.settings.confirmations
    )


def _checked_scope(occupation_code: str, level: int) -> str:
    """The scope id of a code and level checked against the national form (exit 2 naming the part)."""
    from credreg.registry import scope_id_of

    try:
        checked = check_scope(occupation_code, level)
    except ScopeFormatError as exc:
        hint = "OCCUPATION_CODE" if exc.field == "occupation code" else "LEVEL"
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    return scope_id_of(checked.occupation_code, checked.level)


ScopeArg = Annotated[
    str, typer.Argument(help=f"A scope as occupation-code/level, e.g. {SCOPE_EXAMPLE}, or its 0x id.")
]
LevelArg = Annotated[int, typer.Argument(help="1 (一级/高级技师, highest) to 5 (五级/初级工).")]
FromOpt = Annotated[
    str,
    typer.Option("--from", help="Start: now, or an ISO date/date-time, e.g. 2026-01-01 or 2026-01-01T09:00."),
]
UntilOpt = Annotated[
    str, typer.Option("--until", help="End (exclusive): an ISO date/date-time, or never for no end.")
]
SinceOpt = Annotated[
    str,
    typer.Option(help="Credentials it signed at or after this time become invalid: now or an ISO time."),
]


def _window(ctx: typer.Context, valid_from: str, valid_until: str) -> tuple[int, int]:
    """The --from/--until pair as ledger seconds; a malformed --until is refused before the chain is asked."""
    check_time(valid_until, "--until", allow_never=True)
    return when(ctx, valid_from, "--from"), when(ctx, valid_until, "--until", allow_never=True)


@scope_app.command("define")
def scope_define(
    ctx: typer.Context,
    occupation_code: Annotated[str, typer.Argument(help="National occupation code D-DD-DD-DD.")],
    level: LevelArg,
    title: str,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Define a scope: an occupation code of the national classification at a level.

    Example: credreg scope define 4-04-05-01 3 "区块链工程技术人员 三级" -k governor.json
    """
    from credreg.registry import scope_id_of

    _checked_scope(occupation_code, level)
    if unsigned_tx:
        what = f"define scope {scope_id_of(occupation_code, level)} ({occupation_code} level {level})"
        write_unsigned_tx(ctx, unsigned_tx, what, "defineScope", occupation_code, level, title)
        return
    scope_id = _governor(ctx, keystore, dev_account).define_scope(occupation_code, level, title)
    console.print(f"已定义职业范围 / scope defined: {occupation_code}/{level} ({level_words(level)}) {title}")
    console.print(f"  {scope_id}")


@scope_app.command("retire")
def scope_retire(
    ctx: typer.Context,
    scope: ScopeArg,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Retire a scope defined by mistake: no agency can be accredited for it from now on (withdraw existing
    accreditations with `credreg agency withdraw`).

    Example: credreg scope retire 2-02-10-09/2 -k governor.json
    """
    scope_id = scope_of(scope)
    if unsigned_tx:
        write_unsigned_tx(ctx, unsigned_tx, f"retire scope {scope} ({scope_id})", "retireScope", scope_id)
        return
    _governor(ctx, keystore, dev_account).retire_scope(scope_id)
    info = state(ctx).registry().scope(scope_id)
    console.print(
        f"已停用职业范围 / scope retired: {info.occupation_code}/{info.level} {info.title}, "
        f"{local_time(ctx, info.retired_at)}"
    )
    console.print("  不能再认定任何机构 / no agency can be accredited for it from now on")


@scope_app.command("id")
def scope_id(
    occupation_code: Annotated[str, typer.Argument(help="National occupation code D-DD-DD-DD.")],
    level: LevelArg,
) -> None:
    """Print the scope id of an occupation code and level (computed locally, no chain needed).

    Example: credreg scope id 4-04-05-01 3
    """
    console.print(_checked_scope(occupation_code, level))


@scope_app.command("list")
def scope_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every defined scope.

    Example: credreg scope list --json
    """
    from rich.table import Table

    registry = state(ctx).registry()
    scopes = [registry.scope(registry.scope_id_at(i)) for i in range(1, registry.scope_count() + 1)]
    if as_json:
        print_json([s.__dict__ for s in scopes])
        return
    table = Table("scope", "level 等级", "title 名称", "scope id", "retired 已停用")
    for s in scopes:
        retired = local_time(ctx, s.retired_at) if s.retired_at else ""
        table.add_row(f"{s.occupation_code}/{s.level}", level_words(s.level).zh, s.title, s.scope_id, retired)
    console.print(table)


@agency_app.command("register")
def agency_register(
    ctx: typer.Context,
    name: str,
    registration_code: str,
    admin: Annotated[str, typer.Option(help="Address of the agency's admin key.")],
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Register an evaluation agency; it is active at once but may issue only once accredited.

    Example: credreg agency register "Beijing Digital Skills Centre" BJ-0001 --admin 0xAb..  -k governor.json
    """
    if unsigned_tx:
        admin = address_arg(admin, "--admin")
        what = f"register agency {registration_code} ({name}) with admin {admin}"
        write_unsigned_tx(ctx, unsigned_tx, what, "registerAgency", name, registration_code, admin)
        return
    agency_id = _governor(ctx, keystore, dev_account).register_agency(name, registration_code, admin)
    console.print(f"已登记评价机构 / agency {agency_id} registered: {name}")


def _echo_accreditation(ctx: typer.Context, agency_id: int, scope: str) -> None:
    """What the ledger now holds for this accreditation, in local time with the zone named."""
    window = state(ctx).registry().accreditation(agency_id, scope)
    console.print(f"  账本记录 / on the ledger: {local_window(ctx, window.valid_from, window.valid_until)}")


@agency_app.command("accredit")
def agency_accredit(
    ctx: typer.Context,
    agency_id: int,
    scope: ScopeArg,
    valid_from: FromOpt = "now",
    valid_until: UntilOpt = "never",
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Accredit an agency for a scope over a window (replaces an earlier window).

    Times without an offset are in the zone of --tz (Asia/Shanghai by default).
    Example: credreg agency accredit 1 4-04-05-06/3 --from 2026-01-01 --until 2029-01-01 -k governor.json
    """
    scope_id = scope_of(scope)
    start, end = _window(ctx, valid_from, valid_until)
    if unsigned_tx:
        what = f"accredit agency {agency_id} for {scope} from {local_time(ctx, start)} until {local_time(ctx, end, never='open-ended')}"
        write_unsigned_tx(ctx, unsigned_tx, what, "accredit", agency_id, scope_id, start, end)
        return
    _governor(ctx, keystore, dev_account).accredit(agency_id, scope_id, start, end)
    console.print(f"已认定 / accredited: agency {agency_id} for {scope}")
    _echo_accreditation(ctx, agency_id, scope_id)


@agency_app.command("withdraw")
def agency_withdraw(
    ctx: typer.Context,
    agency_id: int,
    scope: ScopeArg,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Withdraw an accreditation now; credentials issued before stay valid.

    Example: credreg agency withdraw 1 4-04-05-06/3 -k governor.json
    """
    scope_id = scope_of(scope)
    if unsigned_tx:
        what = f"withdraw the accreditation of agency {agency_id} for {scope}"
        write_unsigned_tx(ctx, unsigned_tx, what, "withdrawAccreditation", agency_id, scope_id)
        return
    _governor(ctx, keystore, dev_account).withdraw_accreditation(agency_id, scope_id)
    console.print(f"已撤回认定 / accreditation withdrawn: agency {agency_id} for {scope}")
    _echo_accreditation(ctx, agency_id, scope_id)


ReasonOption = Annotated[int, typer.Option(min=0, max=65535, help="Reason code (see credreg reasons).")]


@agency_app.command("suspend")
def agency_suspend(
    ctx: typer.Context,
    agency_id: int,
    reason: ReasonOption = 0,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Suspend an agency: no new issuance until reinstated; its credentials stay valid.

    Example: credreg agency suspend 1 --reason 12 -k governor.json
    """
    if unsigned_tx:
        what = f"suspend agency {agency_id} (reason {reason})"
        write_unsigned_tx(ctx, unsigned_tx, what, "suspendAgency", agency_id, reason)
        return
    _governor(ctx, keystore, dev_account).suspend_agency(agency_id, reason)
    console.print(f"已暂停评价机构 / agency suspended: {agency_id} ({reason_words(reason)})")


@agency_app.command("reinstate")
def agency_reinstate(
    ctx: typer.Context,
    agency_id: int,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Reinstate a suspended agency.

    Example: credreg agency reinstate 1 -k governor.json
    """
    if unsigned_tx:
        write_unsigned_tx(ctx, unsigned_tx, f"reinstate agency {agency_id}", "reinstateAgency", agency_id)
        return
    _governor(ctx, keystore, dev_account).reinstate_agency(agency_id)
    console.print(f"已恢复评价机构 / agency reinstated: {agency_id}")


@agency_app.command("revoke")
def agency_revoke(
    ctx: typer.Context,
    agency_id: int,
    cutoff: Annotated[
        str,
        typer.Option(help="Credentials issued at or after this time become invalid: now or an ISO date."),
    ] = "now",
    reason: ReasonOption = 0,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Revoke an agency for good, invalidating its credentials from the cut-off on.

    Example: credreg agency revoke 1 --cutoff 2026-03-01 -k governor.json
    """
    moment = when(ctx, cutoff, "--cutoff")
    if unsigned_tx:
        what = f"revoke agency {agency_id} from {local_time(ctx, moment)} (reason {reason})"
        write_unsigned_tx(ctx, unsigned_tx, what, "revokeAgency", agency_id, moment, reason)
        return
    _governor(ctx, keystore, dev_account).revoke_agency(agency_id, moment, reason)
    info = state(ctx).registry().agency(agency_id)
    console.print(f"已撤销评价机构 / agency revoked: {agency_id} ({reason_words(reason)})")
    console.print(
        f"  账本记录 / on the ledger: 截止时间 / cut-off {local_time(ctx, info.cutoff)}; "
        "此后颁发的证书无效 / certificates issued from then on are invalid"
    )


@agency_app.command("show")
def agency_show(ctx: typer.Context, agency_id: int, as_json: JsonOption = False) -> None:
    """Show an agency: status, admin, and its accreditation per scope.

    Example: credreg agency show 1
    """
    registry = state(ctx).registry()
    info = registry.agency(agency_id)
    scopes = [registry.scope_id_at(i) for i in range(1, registry.scope_count() + 1)]
    accreditations = [a for a in (registry.accreditation(agency_id, s) for s in scopes) if a.scope_index]
    if as_json:
        print_json(
            {
                "agency": info.__dict__ | {"state": info.state.name.lower()},
                "accreditations": [a.__dict__ for a in accreditations],
            }
        )
        return
    standing = info.state.name.lower()
    console.print(f"agency {info.agency_id}: {info.name} ({info.registration_code})")
    console.print(
        f"  状态 / state {AGENCY_STATES[standing].zh} / {standing}, admin {info.admin}"
        + (f", 截止 / cut-off {local_time(ctx, info.cutoff)}" if info.cutoff else "")
    )
    for a in accreditations:
        scope = registry.scope(a.scope_id)
        console.print(
            f"  {scope.occupation_code}/{scope.level} {scope.title}: "
            f"{local_window(ctx, a.valid_from, a.valid_until)}"
        )


@agency_app.command("list")
def agency_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every agency and its status.

    Example: credreg agency list
    """
    from rich.table import Table

    registry = state(ctx).registry()
    agencies = [registry.agency(i) for i in range(1, registry.agency_count() + 1)]
    if as_json:
        print_json([a.__dict__ | {"state": a.state.name.lower()} for a in agencies])
        return
    table = Table("id", "name 名称", "registration 登记代码", "state 状态", "admin")
    for a in agencies:
        standing = a.state.name.lower()
        table.add_row(
            str(a.agency_id), a.name, a.registration_code, f"{AGENCY_STATES[standing].zh} {standing}", a.admin
        )
    console.print(table)


@governor_app.command("show")
def governor_show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the governor, and the proposed next governor while a hand-over is under way.

    Example: credreg governor show
    """
    registry = state(ctx).registry()
    current, pending = registry.governor(), str(registry.contract.functions.pendingOwner().call())
    pending = "" if int(pending, 16) == 0 else pending
    if as_json:
        print_json({"governor": current, "pending_governor": pending or None})
        return
    console.print(f"governor {current}" + (f", hand-over proposed to {pending}" if pending else ""))


@governor_app.command("transfer")
def governor_transfer(
    ctx: typer.Context,
    new_governor: Annotated[str, typer.Argument(help="Address of the next governor, e.g. a Safe.")],
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """Propose a new governor; it takes over only once it accepts (`credreg governor accept`).

    Example: credreg governor transfer 0xSafe… -k governor.json
    """
    new_governor = address_arg(new_governor, "the new governor")
    if unsigned_tx:
        what = f"propose {new_governor} as the next governor"
        write_unsigned_tx(ctx, unsigned_tx, what, "transferOwnership", new_governor)
        return
    _governor(ctx, keystore, dev_account).transfer_governor(new_governor)
    console.print(f"proposed {new_governor} as governor; it takes over when it accepts")


@governor_app.command("accept")
def governor_accept(
    ctx: typer.Context,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    unsigned_tx: UnsignedTxOption = None,
) -> None:
    """The proposed governor takes over; a Safe does so through `--unsigned-tx` and its owners.

    Example: credreg governor accept --unsigned-tx accept.json
    """
    if unsigned_tx:
        registry = state(ctx).registry()
        pending = str(registry.contract.functions.pendingOwner().call())
        if int(pending, 16) == 0:
            raise ConfigError(
                "no hand-over is under way: the governor first runs `credreg governor transfer`"
            )
        what = f"{pending} accepts the governor role"
        write_unsigned_tx(ctx, unsigned_tx, what, "acceptOwnership", safe=pending)
        return
    _governor(ctx, keystore, dev_account).accept_governor()
    console.print("governor role accepted")


def _admin(ctx: typer.Context, keystore: Path | None, dev_account: int | None) -> AgencyAdmin:
    from credreg.registry import AgencyAdmin

    st = state(ctx)
    return AgencyAdmin(
        st.registry(), load_account(st, keystore, dev_account, role="agency admin"), st.settings.confirmations
    )


def _echo_signer(ctx: typer.Context, signer: str) -> None:
    """What the ledger now holds for this key, in local time with the zone named."""
    info = state(ctx).registry().signer(signer)
    console.print(f"  账本记录 / on the ledger: {local_window(ctx, info.valid_from, info.valid_until)}")
    if info.compromised_since:
        console.print(
            f"  泄露时间 / compromised since {local_time(ctx, info.compromised_since)}: "
            "此后签署的证书无效 / what it signed from then on is invalid"
        )


@signer_app.command("add")
def signer_add(
    ctx: typer.Context,
    agency_id: int,
    signer: Annotated[str, typer.Argument(help="Address of the new signer key.")],
    valid_from: FromOpt = "now",
    valid_until: UntilOpt = "never",
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Add a signer key to an agency, valid over a window (key rotation: add the new, retire the old).

    Example: credreg signer add 1 0x9f… --until 2027-12-31 -k agency-admin.json
    """
    start, end = _window(ctx, valid_from, valid_until)
    _admin(ctx, keystore, dev_account).add_signer(agency_id, signer, start, end)
    console.print(f"已添加签名密钥 / signer added: {signer} to agency {agency_id}")
    _echo_signer(ctx, signer)


@signer_app.command("retire")
def signer_retire(
    ctx: typer.Context, signer: str, keystore: KeystoreOption = None, dev_account: DevAccountOption = None
) -> None:
    """Retire a signer key now; what it already signed stays valid.

    Example: credreg signer retire 0x9f… -k agency-admin.json
    """
    _admin(ctx, keystore, dev_account).retire_signer(signer)
    console.print(f"已停用签名密钥 / signer retired: {signer}")
    _echo_signer(ctx, signer)


@signer_app.command("compromised")
def signer_compromised(
    ctx: typer.Context,
    signer: str,
    since: SinceOpt = "now",
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Report a signer key compromised from a time on; earlier credentials stay valid.

    Add a new key afterwards (credreg signer add) so the agency can issue again.
    Example: credreg signer compromised 0x9f… --since 2026-05-01T08:00+08:00 -k agency-admin.json
    """
    moment = when(ctx, since, "--since")
    _admin(ctx, keystore, dev_account).report_compromised(signer, moment)
    console.print(f"已报告密钥泄露 / signer reported compromised: {signer}")
    _echo_signer(ctx, signer)
    console.print(
        "  下一步：由机构管理员添加新的签名密钥（credreg signer add）后方可继续颁发 / next: the agency admin "
        "adds a new signer key (credreg signer add) before issuing again"
    )


@signer_app.command("show")
def signer_show(ctx: typer.Context, signer: str, as_json: JsonOption = False) -> None:
    """Show a signer key's agency, window and compromise time.

    Example: credreg signer show 0x9f…
    """
    info = state(ctx).registry().signer(signer)
    if as_json:
        print_json(info.__dict__)
        return
    console.print(f"signer {info.address} of agency {info.agency_id}")
    _echo_signer(ctx, signer)


def sample_results(
    path: Annotated[Path, typer.Argument(help="CSV file to write.")],
    count: Annotated[int, typer.Option(min=1, max=1_000_000, help="Number of rows.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 2026,
    prefix: Annotated[str, typer.Option(help="Certificate number prefix.")] = "BJ",
) -> None:
    """Write a synthetic assessment results file (nobody in it is real), to try issuance with.

    Example: credreg sample-results results.csv --count 20
    """
    from credreg.samples import write_sample_results

    if path.exists():
        raise ConfigError(
            f"{path} 已存在，不会覆盖，请换一个文件名 / {path} already exists; refusing to overwrite it"
        )
    write_sample_results(path, count, seed=seed, prefix=prefix)
    console.print(f"wrote {count} results to {path}")


def reasons(as_json: JsonOption = False) -> None:
    """List the reason codes recorded with a revocation or suspension, in words.

    Example: credreg revoke C-2026-0001.json --reason 3 (3 = 考核舞弊 / cheating in the assessment)
    """
    from rich.table import Table

    if as_json:
        print_json({str(code): words._asdict() for code, words in REASON_CODES.items()})
        return
    table = Table("code 代码", "原因", "reason", box=None, padding=(0, 2, 0, 0))
    for code, words in REASON_CODES.items():
        table.add_row(str(code), words.zh, words.en)
    console.print(table)


# --- issuer keys: the Ed25519 keys an agency signs W3C verifiable credentials with ----------------------

issuer_key_app = typer.Typer(
    help="Agency admin: the keys the agency signs W3C verifiable credentials with, listed on the ledger.\n\n"
    "Example: credreg issuer-key add 1 issuer.pem -k agency-admin.json",
    no_args_is_help=True,
)


def _public_key(key: str) -> str:
    """A public key as the ledger's bytes32, from a key file (PEM), a did:key, or 0x and 64 hex digits."""
    from credreg.errors import DocumentError
    from credreg.hashes import hash32
    from credreg.vc.keys import public_key_from_did

    if key.startswith("did:key:"):
        return "0x" + public_key_from_did(key).hex()
    if Path(key).is_file():
        from credreg.cli.vc_cmds import load_issuer_key

        return load_issuer_key(Path(key)).public_key_hex
    try:
        return hash32(key)
    except DocumentError:
        raise typer.BadParameter(
            f"{key!r} 不是密钥文件、did:key 或 0x 加 64 位十六进制 / is not a key file, a did:key or 0x and 64 hex "
            "digits",
            param_hint="KEY",
        ) from None


KeyArg = Annotated[
    str, typer.Argument(metavar="KEY", help="The key file (PEM), its did:key, or its 0x public key.")
]


def _echo_issuer_key(ctx: typer.Context, public_key: str) -> None:
    from credreg.vc.keys import did_key

    info = state(ctx).registry().issuer_key(public_key)
    console.print(f"  {did_key(bytes.fromhex(public_key[2:]))}")
    console.print(
        f"  账本记录 / on the ledger: agency {info.agency_id}, {local_window(ctx, info.valid_from, info.valid_until)}"
    )
    if info.compromised_since:
        console.print(
            f"  泄露时间 / compromised since {local_time(ctx, info.compromised_since)}: "
            "此后签发的电子证书无效 / what it signed from then on is invalid"
        )


@issuer_key_app.command("new")
def issuer_key_new(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the new private key (PEM).")],
) -> None:
    """Create a new Ed25519 issuer key file, encrypted with a password from $CREDREG_VC_KEY_PASSWORD if set.

    Example: credreg issuer-key new issuer.pem
    """
    import os

    from cryptography.hazmat.primitives import serialization

    from credreg.chain.manifest import write_atomically
    from credreg.vc.keys import generate_key

    if path.exists():
        raise ConfigError(f"{path} 已存在，不会覆盖 / {path} already exists; refusing to overwrite it")
    key = generate_key()
    password = os.environ.get("CREDREG_VC_KEY_PASSWORD")
    encryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    pem = key.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    write_atomically(path, pem.decode("ascii"))
    path.chmod(0o600)
    console.print(f"已生成 / created {path}: {key.did}")
    console.print(f"  public key {key.public_key_hex}; list it with: credreg issuer-key add AGENCY {path}")


@issuer_key_app.command("add")
def issuer_key_add(
    ctx: typer.Context,
    agency_id: int,
    key: KeyArg,
    valid_from: FromOpt = "now",
    valid_until: UntilOpt = "never",
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """List a key the agency signs verifiable credentials with, valid over a window.

    Example: credreg issuer-key add 1 issuer.pem --until 2028-12-31 -k agency-admin.json
    """
    public_key = _public_key(key)
    start, end = _window(ctx, valid_from, valid_until)
    _admin(ctx, keystore, dev_account).add_issuer_key(agency_id, public_key, start, end)
    console.print(f"已登记电子证书签发密钥 / issuer key added to agency {agency_id}")
    _echo_issuer_key(ctx, public_key)


@issuer_key_app.command("retire")
def issuer_key_retire(
    ctx: typer.Context, key: KeyArg, keystore: KeystoreOption = None, dev_account: DevAccountOption = None
) -> None:
    """Retire an issuer key now; what it already signed stays valid.

    Example: credreg issuer-key retire issuer.pem -k agency-admin.json
    """
    public_key = _public_key(key)
    _admin(ctx, keystore, dev_account).retire_issuer_key(public_key)
    console.print("已停用电子证书签发密钥 / issuer key retired")
    _echo_issuer_key(ctx, public_key)


@issuer_key_app.command("compromised")
def issuer_key_compromised(
    ctx: typer.Context,
    key: KeyArg,
    since: SinceOpt = "now",
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Report an issuer key compromised from a time on; what it signed earlier stays valid.

    Example: credreg issuer-key compromised issuer.pem --since 2026-03-01 -k agency-admin.json
    """
    public_key = _public_key(key)
    moment = when(ctx, since, "--since")
    _admin(ctx, keystore, dev_account).report_issuer_key_compromised(public_key, moment)
    console.print("已报告泄露 / issuer key reported compromised")
    _echo_issuer_key(ctx, public_key)


@issuer_key_app.command("show")
def issuer_key_show(ctx: typer.Context, key: KeyArg) -> None:
    """Show what the ledger holds for an issuer key (the governor and anyone can see it).

    Example: credreg issuer-key show did:key:z6Mk…
    """
    _echo_issuer_key(ctx, _public_key(key))
