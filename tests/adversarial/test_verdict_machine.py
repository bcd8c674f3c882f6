"""Stateful adversarial property test: no agency changes what any verifier says of another agency's certificates.

Three accredited agencies and the governor act at random on a real anvil: agencies issue trees whose leaves
are fresh hashes or other agencies' roots, nodes and leaves (wrapping), squat other agencies' roots, revoke,
suspend and reinstate any hash of their own trees (also hashes they embedded from others), and try to change
statuses in other agencies' namespaces; the governor changes statuses and suspends, reinstates and revokes
agencies (with a cut-off in the past); signer keys are reported compromised; time moves on. A reference model
(verdict_model.py) says what each step must do: succeed, or revert with which error. After every step, for
every certificate issued so far, queried under every agency, the contract's `credentialStatus` (read through the
status reader, whose answers are checked byte for byte against one call a query), the model and the audit
replay's verdict agree, and so do the registry's and each agency's OpenAttestation store's
`isIssued` / `isRevoked` and the raw `statusOf` for every hash seen, in every namespace; the audit finds
nothing.

Size: `make test` runs 8 examples of up to 12 steps. The soak, `make soak` (CREDREG_SOAK=1), runs 200
examples of up to 50 steps; CREDREG_SOAK_EXAMPLES=N changes its number of examples. A failure is reproduced
with `pytest tests/adversarial --hypothesis-seed=N` (Hypothesis prints the failing steps); with `-s` a run
prints how often each kind of step succeeded or reverted, and which verdicts it compared.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from adversarial_world import AgencyKeys, Tree, ViewReader, World, hx
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from support.status_reads import assert_reader_reads_as_single_calls
from verdict_model import (
    ACTIONS,
    NOT_OWNER,
    AgencyModel,
    RegistryModel,
    SignerModel,
    fold_path,
)

from credreg.audit.replay import Replayer
from credreg.audit.report import report_from
from credreg.chain.eip712 import StatusAction
from credreg.errors import ContractRevert
from credreg.registry import Governor, Relayer

SOAK = os.environ.get("CREDREG_SOAK", "") not in ("", "0")
SOAK_EXAMPLES = int(os.environ.get("CREDREG_SOAK_EXAMPLES", "200"))
# `make test` always tries the same examples (a red build is then a regression, reproducible as it is); the
# soak explores new ones on every run.
SETTINGS = settings(
    max_examples=SOAK_EXAMPLES if SOAK else 8,
    stateful_step_count=50 if SOAK else 12,
    derandomize=not SOAK,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Certificates found by descending into trees a leaf embeds, per record: enough to reach nested hashes, few
# enough that a step's checks stay one quick batch.
MAX_DESCENTS = 8
FAR = 100_000
# What the steps did over a whole run, by rule and outcome ("ok" or the error's name).
OUTCOMES: Counter[tuple[str, str]] = Counter()
# The verdicts the checks compared, over a whole run (each certificate counted at every step).
VERDICTS: Counter[str] = Counter()


@dataclass(frozen=True)
class Issued:
    """A root recorded in one agency's namespace (a squat records another agency's tree)."""

    agency_id: int
    tree: Tree
    signer: str

    @property
    def root(self) -> bytes:
        return self.tree.root


class VerdictMachine(RuleBasedStateMachine):
    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        world = self.world
        world.restore()
        self.registry = world.registry()
        self.governor = Governor(self.registry, world.governor)
        # Each admin's one sender; Governor, so an admin can also try what only the governor may do.
        self.admins = {a.agency_id: Governor(self.registry, a.admin) for a in world.agencies}
        self.relayer = Relayer(self.registry, world.relayer)
        self.keys = {a.agency_id: a for a in world.agencies}
        self.views = ViewReader(self.registry, {a.agency_id: a.store for a in world.agencies})
        self.model = RegistryModel()
        for agency in world.agencies:
            self.model.agencies[agency.agency_id] = AgencyModel()
            self.model.admins[agency.admin.address] = agency.agency_id
            for signer in agency.signers:
                self.model.signers[signer.address] = SignerModel(agency.agency_id)
        self.issued: list[Issued] = []
        self.trees: dict[bytes, Tree] = {}
        self.replayer = Replayer(self.registry)
        self.fillers = 0

    # --- helpers -----------------------------------------------------------------------------------------------

    def now(self) -> int:
        return self.registry.latest_head().timestamp

    def act(self, what: str, expected: str | None, send: Any) -> int | None:
        """Run `send`; it must revert with `expected`, or succeed when that is None (then: the block's time)."""
        refused: ContractRevert | None = None
        try:
            receipt = send()
        except ContractRevert as exc:
            refused = exc
        if refused is not None:
            OUTCOMES[(what, refused.name)] += 1
            assert expected is not None, f"the model expected success; the contract reverted with {refused}"
            assert refused.name == expected, (
                f"the model expected {expected}; the contract reverted with {refused}"
            )
            return None
        OUTCOMES[(what, "ok")] += 1
        assert expected is None, f"the model expected {expected}; the transaction succeeded"
        return self.world.block_time(int(receipt["blockNumber"]))

    def certificates(self, record: Issued) -> list[tuple[bytes, list[bytes]]]:
        """The record's leaves with their proofs, and leaves of trees its leaves embed (proved through them)."""
        tree = record.tree
        found = [(leaf, tree.proofs[leaf]) for leaf in tree.leaves]
        deeper: dict[tuple[bytes, ...], tuple[bytes, list[bytes]]] = {}
        for leaf in tree.leaves:
            for other in self.trees.values():
                if other is tree or leaf not in other.below:
                    continue
                for sub, partial in other.below[leaf]:
                    if partial:
                        proof = partial + tree.proofs[leaf]
                        deeper.setdefault((sub, *proof), (sub, proof))
        return found + list(deeper.values())[:MAX_DESCENTS]

    def targets(self, record: Issued) -> list[tuple[bytes, list[bytes]]]:
        """Every hash on the path of one of the record's certificates, with its proof up to the root."""
        found: dict[bytes, list[bytes]] = {}
        for leaf, proof in self.certificates(record):
            for i, node in enumerate(fold_path(leaf, proof)):
                found.setdefault(node, proof[i:])
        return list(found.items())

    def signer_of(self, data: st.DataObject, agency: AgencyKeys) -> LocalAccount:
        return agency.signers[data.draw(st.integers(0, len(agency.signers) - 1), label="signer key")]

    def other_agency(self, data: st.DataObject, agency_id: int) -> int:
        return data.draw(
            st.sampled_from([a for a in sorted(self.keys) if a != agency_id]), label="other agency"
        )

    def foreign(self, agency_id: int, value: bytes) -> bool:
        """Whether `value` is a hash of a tree another agency issued."""
        return any(r.agency_id != agency_id and value in r.tree.above for r in self.issued)

    def record_issue(self, agency: AgencyKeys, signer: LocalAccount, tree: Tree, valid_until: int) -> None:
        expected = self.model.issue_error(signer.address, agency.agency_id, tree.root)
        request = self.registry.issue_request(
            hx(tree.root), self.world.scope_id, valid_until, deadline=self.now() + 3600
        )
        signed = self.registry.sign_issue(signer, request)
        issued_at = self.act("issue", expected, lambda: self.relayer.issue(signed))
        if issued_at is not None:
            self.model.apply_issue(agency.agency_id, tree.root, signer.address, issued_at, valid_until)
            self.issued.append(Issued(agency.agency_id, tree, signer.address))
            self.trees.setdefault(tree.root, tree)

    def agency_status(
        self,
        what: str,
        signer: LocalAccount,
        agency_id: int,
        root: bytes,
        target: bytes,
        proof: list[bytes],
        action: int,
        reason: int,
    ) -> None:
        expected = self.model.agency_status_error(signer.address, agency_id, root, target, proof, action)
        signed = self.registry.sign_status_change(
            signer, agency_id, hx(root), hx(target), [hx(p) for p in proof], StatusAction(action), reason,
            deadline=self.now() + 3600,
        )  # fmt: skip
        since = self.act(what, expected, lambda: self.relayer.set_status(signed))
        if since is not None:
            self.model.apply_status(agency_id, target, action, reason, since, by_governor=False)

    def governor_status(
        self,
        actor: Governor,
        agency_id: int,
        root: bytes,
        target: bytes,
        proof: list[bytes],
        action: int,
        reason: int,
    ) -> None:
        is_governor = actor is self.governor
        expected = (
            self.model.governor_status_error(agency_id, root, target, proof, action)
            if is_governor
            else NOT_OWNER
        )
        since = self.act(
            "governor status" if is_governor else "admin as governor",
            expected,
            lambda: actor.set_status(
                agency_id, hx(root), hx(target), [hx(p) for p in proof], StatusAction(action), reason
            ),
        )
        if since is not None:
            self.model.apply_status(agency_id, target, action, reason, since, by_governor=True)

    @initialize(data=st.data())
    def each_agency_issues_a_tree(self, data: st.DataObject) -> None:
        for agency_id in sorted(self.keys):
            agency = self.keys[agency_id]
            leaves = data.draw(
                st.lists(st.binary(min_size=32, max_size=32), min_size=2, max_size=8, unique=True)
            )
            self.record_issue(agency, agency.signers[0], Tree(leaves), 0)

    # --- rules: issuing ------------------------------------------------------------------------------------------

    @rule(data=st.data())
    def issue_tree(self, data: st.DataObject) -> None:
        """An agency issues 2-8 leaves: fresh hashes, or hashes of trees issued before (mostly other agencies')."""
        agency = self.keys[data.draw(st.sampled_from(sorted(self.keys)), label="agency")]
        signer = self.signer_of(data, agency)
        size = data.draw(st.integers(2, 8), label="size")
        theirs = list(
            dict.fromkeys(h for r in self.issued if r.agency_id != agency.agency_id for h in r.tree.nodes())
        )
        ours = list(
            dict.fromkeys(h for r in self.issued if r.agency_id == agency.agency_id for h in r.tree.nodes())
        )
        leaves: dict[bytes, None] = {}
        for _ in range(size):
            kind = data.draw(st.sampled_from(["fresh", "fresh", "theirs", "theirs", "ours"]), label="kind")
            pool = theirs if kind == "theirs" else ours if kind == "ours" else []
            if pool:
                leaves[data.draw(st.sampled_from(pool), label="embedded")] = None
            else:
                leaves[data.draw(st.binary(min_size=32, max_size=32), label="fresh")] = None
        while len(leaves) < 2:
            self.fillers += 1
            leaves[keccak(text=f"filler {self.fillers}")] = None
        expiring = data.draw(st.integers(0, 3), label="expiring") == 0
        valid_until = self.now() + data.draw(st.integers(60, 7200), label="valid for") if expiring else 0
        self.record_issue(agency, signer, Tree(list(leaves)), valid_until)

    @precondition(lambda self: self.issued)
    @rule(data=st.data())
    def squat_root(self, data: st.DataObject) -> None:
        """An agency records exactly the root another agency recorded (or will)."""
        victim = data.draw(st.sampled_from(self.issued), label="victim")
        agency = self.keys[self.other_agency(data, victim.agency_id)]
        self.record_issue(agency, self.signer_of(data, agency), victim.tree, 0)

    # --- rules: statuses ---------------------------------------------------------------------------------------

    @precondition(lambda self: self.issued)
    @rule(data=st.data())
    def agency_changes_status(self, data: st.DataObject) -> None:
        """An agency revokes, suspends or reinstates a root, node or leaf of one of its own records."""
        record = data.draw(st.sampled_from(self.issued), label="record")
        target, proof = data.draw(st.sampled_from(self.targets(record)), label="target")
        signer = self.signer_of(data, self.keys[record.agency_id])
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        reason = data.draw(st.integers(0, 2**16 - 1), label="reason")
        self.agency_status("own status", signer, record.agency_id, record.root, target, proof, action, reason)

    @precondition(lambda self: any(self.foreign(r.agency_id, t) for r in self.issued for t in r.tree.above))
    @rule(data=st.data())
    def agency_changes_status_of_embedded_hash(self, data: st.DataObject) -> None:
        """An agency relays a status change for another agency's hash it embedded: in its own namespace only."""
        choices = [(r, t, p) for r in self.issued for t, p in self.targets(r) if self.foreign(r.agency_id, t)]
        record, target, proof = data.draw(st.sampled_from(choices), label="embedded target")
        signer = self.signer_of(data, self.keys[record.agency_id])
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        self.agency_status("embedded status", signer, record.agency_id, record.root, target, proof, action, 7)

    @precondition(lambda self: self.issued)
    @rule(data=st.data())
    def agency_tries_status_in_another_namespace(self, data: st.DataObject) -> None:
        """An agency signs a status change for a victim's hash: in the victim's namespace (always refused:
        UnknownSigner), or in its own against the victim's root (refused unless it recorded that root too)."""
        victim = data.draw(st.sampled_from(self.issued), label="victim")
        attacker = self.keys[self.other_agency(data, victim.agency_id)]
        target, proof = data.draw(st.sampled_from(self.targets(victim)), label="target")
        signer = self.signer_of(data, attacker)
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        namespace = data.draw(st.sampled_from([victim.agency_id, attacker.agency_id]), label="namespace")
        what = "cross-namespace status" if namespace == victim.agency_id else "victim root in own namespace"
        self.agency_status(what, signer, namespace, victim.root, target, proof, action, 66)

    @precondition(lambda self: self.issued)
    @rule(data=st.data())
    def governor_changes_status(self, data: st.DataObject) -> None:
        record = data.draw(st.sampled_from(self.issued), label="record")
        target, proof = data.draw(st.sampled_from(self.targets(record)), label="target")
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        reason = data.draw(st.integers(0, 2**16 - 1), label="reason")
        self.governor_status(self.governor, record.agency_id, record.root, target, proof, action, reason)

    @precondition(lambda self: self.issued)
    @rule(data=st.data())
    def admin_tries_governor_powers(self, data: st.DataObject) -> None:
        """Another agency's admin calls what only the governor may: a status change or an agency sanction."""
        victim = data.draw(st.sampled_from(self.issued), label="victim")
        attacker = self.admins[self.other_agency(data, victim.agency_id)]
        what = data.draw(st.sampled_from(["status", "suspend", "revoke"]), label="what")
        if what == "status":
            target, proof = data.draw(st.sampled_from(self.targets(victim)), label="target")
            self.governor_status(attacker, victim.agency_id, victim.root, target, proof, 1, 66)
        elif what == "suspend":
            self.act("admin as governor", NOT_OWNER, lambda: attacker.suspend_agency(victim.agency_id, 66))
        else:
            self.act("admin as governor", NOT_OWNER, lambda: attacker.revoke_agency(victim.agency_id, 0, 66))

    # --- rules: agencies, keys, time ------------------------------------------------------------------------------

    @rule(data=st.data())
    def governor_sanctions_agency(self, data: st.DataObject) -> None:
        """Suspend, reinstate or revoke an agency; a revocation's cut-off is in the past (or tried in the future)."""
        agency_id = data.draw(st.sampled_from(sorted(self.keys)), label="agency")
        # revocation is for good: rarer, so that most examples keep active agencies to act with
        change = data.draw(
            st.sampled_from(["suspend", "reinstate", "reinstate", "suspend", "revoke"]), label="change"
        )
        reason = data.draw(st.integers(0, 2**16 - 1), label="reason")
        now = self.now()
        if change == "suspend":
            expected = self.model.agency_change_error(agency_id, change)
            if (
                self.act("agency suspend", expected, lambda: self.governor.suspend_agency(agency_id, reason))
                is not None
            ):
                self.model.apply_agency_change(agency_id, change, reason)
        elif change == "reinstate":
            expected = self.model.agency_change_error(agency_id, change)
            if (
                self.act("agency reinstate", expected, lambda: self.governor.reinstate_agency(agency_id))
                is not None
            ):
                self.model.apply_agency_change(agency_id, change)
        else:
            issued_at = [
                self.model.records[(agency_id, r.root)].issued_at
                for r in self.issued
                if r.agency_id == agency_id
            ]
            moments = [now, now - 600, *issued_at, *(t + 1 for t in issued_at), now + FAR]
            cutoff = max(0, min(data.draw(st.sampled_from(moments), label="cutoff"), now + FAR))
            cutoff = cutoff if cutoff <= now or cutoff == now + FAR else now
            expected = self.model.agency_change_error(agency_id, change, cutoff, now)
            if (
                self.act(
                    "agency revoke", expected, lambda: self.governor.revoke_agency(agency_id, cutoff, reason)
                )
                is not None
            ):
                self.model.apply_agency_change(agency_id, change, reason, cutoff)

    @rule(data=st.data())
    def signer_reported_compromised(self, data: st.DataObject) -> None:
        """The agency's admin, the governor, or another agency's admin reports a signer key compromised."""
        agency = self.keys[data.draw(st.sampled_from(sorted(self.keys)), label="agency")]
        signer = self.signer_of(data, agency)
        reporter_id = data.draw(st.sampled_from([0, *sorted(self.keys)]), label="reporter")
        now = self.now()
        signed_at = [
            self.model.records[(r.agency_id, r.root)].issued_at
            for r in self.issued
            if r.signer == signer.address
        ]
        moments = [now, max(1, now - 900), *signed_at, *(t + 1 for t in signed_at), 0, now + FAR]
        since = min(data.draw(st.sampled_from(moments), label="since"), now + FAR)
        since = since if since <= now or since == now + FAR else now
        actor = self.governor if reporter_id == 0 else self.admins[reporter_id]
        reporter = "governor" if reporter_id == 0 else actor.account.address
        expected = self.model.compromise_error(reporter, signer.address, since, now)
        if (
            self.act("compromise", expected, lambda: actor.report_compromised(signer.address, since))
            is not None
        ):
            self.model.apply_compromise(signer.address, since)

    @rule(seconds=st.integers(1, 3600))
    def time_passes(self, seconds: int) -> None:
        self.world.advance(seconds)

    # --- the property --------------------------------------------------------------------------------------------

    @invariant()
    def every_verifier_agrees_with_the_model(self) -> None:
        head = self.registry.latest_head()
        self.replayer.run(head.number)
        assert self.replayer.findings == [], [f.model_dump() for f in self.replayer.findings]
        ledger = self.replayer.state
        agency_ids = sorted(self.keys)

        queries: dict[tuple[Any, ...], tuple[int, bytes, bytes, list[bytes]]] = {}
        for index, record in enumerate(self.issued):
            certificates = self.certificates(record)
            # a leaf of the next record's tree, proved against this root: an invalid proof, unless it is not
            stranger = self.issued[(index + 1) % len(self.issued)].tree
            certificates.append((stranger.leaves[0], stranger.proofs[stranger.leaves[0]]))
            for leaf, proof in certificates:
                for agency_id in agency_ids:
                    queries.setdefault(
                        (agency_id, record.root, leaf, *proof), (agency_id, record.root, leaf, proof)
                    )
        asked = list(queries.values())
        status_queries = [(a, hx(root), hx(leaf), [hx(p) for p in proof]) for a, root, leaf, proof in asked]
        _, answers = self.registry.statuses(status_queries, at=head)
        # Read through the status reader's creation calls, which answer what one call a query answers.
        assert self.registry.reader_refusal is None, self.registry.reader_refusal
        assert_reader_reads_as_single_calls(self.registry, status_queries, head.number)
        for (agency_id, root, leaf, proof), chain in zip(asked, answers, strict=True):
            model = self.model.verdict(agency_id, root, leaf, proof, head.timestamp)
            audit = ledger.verdict(agency_id, hx(root), hx(leaf), [hx(p) for p in proof], head.timestamp)
            where = f"agency {agency_id}, root {hx(root)}, leaf {hx(leaf)}, proof length {len(proof)}"
            expected = (model.verdict, hx(model.target), model.reason, model.since)
            VERDICTS[model.verdict.label] += 1
            assert (chain.verdict, chain.target.lower(), chain.reason, chain.since) == expected, where
            assert (audit.verdict, audit.target.lower(), audit.reason, audit.since) == expected, where

        hashes = list(dict.fromkeys(h for tree in self.trees.values() for h in tree.above))
        pairs = [(agency_id, h) for h in hashes for agency_id in agency_ids]
        for (agency_id, h), flags in zip(pairs, self.views.flags(pairs, head.number), strict=True):
            issued, revoked = self.model.is_issued(agency_id, h), self.model.is_revoked(agency_id, h)
            mark = self.model.mark(agency_id, h)
            status = (mark.status, mark.reason, mark.nonce, mark.since, mark.by_governor)
            assert flags == (issued, revoked, issued, revoked, status), f"agency {agency_id}, hash {hx(h)}"

    def teardown(self) -> None:
        # The full audit report, with the replayed state compared against every contract view.
        report = report_from(self.registry, self.replayer, compare=True, provenance=False)
        assert report.clean, [f.model_dump() for f in report.findings]


def test_no_agency_changes_what_verifiers_say_of_another_agencys_certificates(
    adversarial_world: World,
) -> None:
    machine = type("VerdictMachine", (VerdictMachine,), {"world": adversarial_world})
    OUTCOMES.clear()
    VERDICTS.clear()
    run_state_machine_as_test(machine, settings=SETTINGS)
    # Shown with -s: what the run exercised.
    print("\nsteps:", dict(sorted(OUTCOMES.items())))
    print("verdicts compared:", dict(sorted(VERDICTS.items())))
