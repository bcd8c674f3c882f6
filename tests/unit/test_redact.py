"""Credentials never leave in a URL: user info, secret query values and key-like path segments are masked."""

from __future__ import annotations

import logging

import pytest

from credreg.chain.redact import install_log_redaction, redact, redact_url
from credreg.errors import ChainUnreachable


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:s3cret@10.0.0.1:8545", "http://***@10.0.0.1:8545"),
        ("https://node.example/rpc?token=abc123&chain=1", "https://node.example/rpc?token=***&chain=1"),
        (
            "https://node.example/?apikey=k&api_key=k2&access_token=t",
            "https://node.example/?apikey=***&api_key=***&access_token=***",
        ),
        ("https://mainnet.example/v3/9aa3d95b3bc440fa88ea12eaa4456161", "https://mainnet.example/v3/***"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545/"),
    ],
)
def test_a_url_keeps_its_host_and_loses_its_secrets(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_text_quoting_urls_or_request_lines_is_masked() -> None:
    text = (
        "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /?token=tok1 "
        "(at http://alice:pw2@127.0.0.1:9/x?apikey=key3) and bob:pw4@10.0.0.2"
    )
    masked = redact(text)
    for secret in ("tok1", "pw2", "key3", "pw4"):
        assert secret not in masked
    assert "127.0.0.1" in masked
    assert "10.0.0.2" in masked


def test_every_credreg_error_and_log_record_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    error = ChainUnreachable("the chain at http://u:pw5@127.0.0.1:1/?token=tok6 did not answer")
    with caplog.at_level(logging.WARNING):
        logging.getLogger("credreg.test").warning("lost %s", "http://u:pw7@127.0.0.1:1/")

    assert "pw5" not in str(error)
    assert "tok6" not in str(error)
    assert "pw7" not in caplog.text
    assert "127.0.0.1" in caplog.text
