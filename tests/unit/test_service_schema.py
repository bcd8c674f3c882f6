"""The service's database schema: a database made by an earlier credreg gains the columns it lacks."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from credreg.service.db import Database


def test_an_older_outbox_gains_the_gas_columns_at_start(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        db.create_schema()
        with db.engine.begin() as connection:  # as an outbox table made before the gas quota existed
            connection.execute(text("ALTER TABLE outbox DROP COLUMN gas_estimate"))
            connection.execute(text("ALTER TABLE outbox DROP COLUMN gas_used"))
        assert {"gas_estimate", "gas_used"}.isdisjoint(
            c["name"] for c in inspect(db.engine).get_columns("outbox")
        )

        db.create_schema()
        db.create_schema()  # and again: nothing left to add

        columns = {c["name"]: c for c in inspect(db.engine).get_columns("outbox")}
        assert columns["gas_estimate"]["nullable"]
        assert columns["gas_used"]["nullable"]
        assert "agency_requests" in inspect(db.engine).get_table_names()
    finally:
        db.dispose()
