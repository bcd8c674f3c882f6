"""What the credential-lifecycle tests share: a deployed registry with its people, chain-side helpers,
results files, and running the `credreg` command (in this process, or as the installed console script).

Roles are the well-known anvil test accounts: 0 governor, 1 agency admin, 2 agency signer, 3 relayer;
4 and 5 the admin and signer of a second agency; 6 a second signer of the first agency.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from support.registry import ANVIL_ACCOUNTS, AgencySpec, ChainControls, LedgerSpec, ScopeSpec, deploy_ledger
from web3 import Web3

from credreg.chain.events import iter_events
from credreg.cli import main
from credreg.documents.model import CHINA_STANDARD_TIME
from credreg.documents.results import RESULTS_COLUMNS
from credreg.issuance import IssueOutcome, issue_results_file
from credreg.registry import AgencyAdmin, Governor, Registry
from credreg.samples import BLOCKCHAIN_TECHNICIAN, sample_rows

ACCOUNTS = ANVIL_ACCOUNTS
GOVERNOR, ADMIN, SIGNER, RELAYER, OTHER_ADMIN, OTHER_SIGNER, SECOND_SIGNER = ACCOUNTS[:7]
IDENTITY_LOCATION = "registry.example.org"
SCOPE = BLOCKCHAIN_TECHNICIAN
DAY = 86_400
CONSOLE_SCRIPT = Path(sys.executable).with_name("credreg")


@dataclass
class World(ChainControls):
    """A registry on a real chain: one scope, agency 1 accredited for it, its signer key added."""

    url: str
    registry: Registry
    governor: Governor
    admin: AgencyAdmin
    scope_id: str
    agency_id: int

    @property
    def w3(self) -> Web3:
        return self.registry.w3

    def issue(
        self,
        results: Path,
        out: Path,
        *,
        signer: LocalAccount = SIGNER,
        relayer: LocalAccount = RELAYER,
    ) -> IssueOutcome:
        return issue_results_file(
            self.registry, signer, relayer, results, out, identity_location=IDENTITY_LOCATION
        )

    def issued_events(self, root: str) -> list[dict[str, Any]]:
        """Every CredentialIssued event for `root` since the deployment."""
        events = iter_events(
            self.registry.w3,
            self.registry.address,
            self.registry.events,
            self.registry.manifest.deployment_block,
            self.registry.head(),
        )
        return [
            e.args
            for e in events
            if e.name == "CredentialIssued"
            and e.args["root"] == root
            and e.args["agencyId"] == self.agency_id
        ]


LIFECYCLE = LedgerSpec(
    scopes=(ScopeSpec(SCOPE.occupation_code, SCOPE.level, "Blockchain engineering technician"),),
    agencies=(AgencySpec("Beijing Digital Skills Centre", "BJ-0001", admin=1, signers=(2,)),),
    since=DAY,
)


def set_up_registry(url: str) -> World:
    """Deploy a registry governed by account 0 and set up agency 1 with its admin and signer."""
    ledger = deploy_ledger(url, LIFECYCLE)
    registry = ledger.registry
    (agency,) = ledger.agencies
    return World(
        url,
        registry,
        Governor(registry, ledger.governor),
        AgencyAdmin(registry, agency.admin),
        ledger.scope_ids[0],
        agency.agency_id,
    )


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write results rows as a CSV file with the columns in their documented order."""
    columns = [c for c in RESULTS_COLUMNS if any(c in row for row in rows)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def sample_results(path: Path, count: int, *, prefix: str, seed: int = 2026, **kwargs: Any) -> Path:
    """`count` synthetic results whose certificate numbers start with `prefix` (distinct per batch)."""
    return write_rows(path, sample_rows(count, SCOPE, seed=seed, prefix=prefix, **kwargs))


def chain_date(timestamp: int) -> date:
    """The calendar day in China Standard Time, which certificates' dates are written in."""
    return datetime.fromtimestamp(timestamp, UTC).astimezone(CHINA_STANDARD_TIME).date()


def documents_in(out: Path, prefix: str) -> list[Path]:
    """The certificate files of a batch, in certificate-number order."""
    return sorted(out.glob(f"{prefix}*.json"))


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """Everything printed, with line wrapping undone."""
        return " ".join((self.out + " " + self.err).split())


class Cli:
    """Runs `credreg` commands in a working directory with CREDREG_* settings in the environment."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env

    def __call__(self, *args: str) -> Ran:
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            for name in [n for n in os.environ if n.startswith("CREDREG_") and n not in self.env]:
                patch.delenv(name)  # only the settings given here count
            for name, value in self.env.items():
                patch.setenv(name, value)
            patch.chdir(self.workdir)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(list(args))
        return Ran(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str) -> Ran:
        ran = self(*args)
        assert ran.code == 0, f"credreg {' '.join(args)} -> {ran.code}\n{ran.out}\n{ran.err}"
        return ran

    def fails(self, code: int, *args: str) -> Ran:
        ran = self(*args)
        assert ran.code == code, f"credreg {' '.join(args)} -> {ran.code}, not {code}\n{ran.out}\n{ran.err}"
        return ran

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self.fails(code, *args, "--json").out)

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """The installed console script, as a user runs it."""
        return subprocess.Popen(
            [str(CONSOLE_SCRIPT), *args],
            cwd=self.workdir,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")}, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
