"""Node profiles: the RPC limits of Besu, GoQuorum and anvil, chosen by CREDREG_NODE_PROFILE."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from credreg.config import LARGEST_BATCH_SENT, NODE_PROFILES, Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_besu_profile_has_besus_default_limits() -> None:
    limits = _settings(node_profile="besu").node_limits
    assert (limits.max_logs_range, limits.max_batch, limits.max_request_bytes) == (5_000, 1_024, 5 * 2**20)


def test_the_profile_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDREG_NODE_PROFILE", "goquorum")
    assert Settings(_env_file=None).node_limits == NODE_PROFILES["goquorum"]  # type: ignore[call-arg]


def test_a_single_limit_overrides_the_profile_and_bounds_the_log_windows() -> None:
    settings = _settings(node_profile="besu", rpc_max_logs_range=1_000, index_chunk_blocks=50_000)
    assert settings.node_limits.max_logs_range == 1_000
    assert settings.node_limits.max_batch == NODE_PROFILES["besu"].max_batch
    assert settings.log_window_blocks == 1_000


def test_an_unknown_profile_or_too_small_a_batch_is_refused() -> None:
    with pytest.raises(ValidationError, match="node_profile"):
        _settings(node_profile="parity")
    with pytest.raises(ValidationError, match=f"credreg sends up to {LARGEST_BATCH_SENT}"):
        _settings(rpc_max_batch=LARGEST_BATCH_SENT - 1)


def test_every_profile_accepts_the_batches_credreg_sends() -> None:
    assert all(limits.max_batch >= LARGEST_BATCH_SENT for limits in NODE_PROFILES.values())
