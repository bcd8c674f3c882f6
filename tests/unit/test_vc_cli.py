"""`credreg export vc`: a certificate file in, a signed VC or SD-JWT out; bad input is exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from documents_factories import make_certificate
from vc_factories import BASE_URL, batch_documents

from credreg.cli import main
from credreg.documents import disclose, dump_document
from credreg.vc.export import read_vc
from credreg.vc.keys import SigningKey, generate_key
from credreg.vc.proof import check_proof
from credreg.vc.sdjwt import verify_sd_jwt


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, SigningKey]:
    key = generate_key()
    key_file = tmp_path / "issuer.pem"
    key_file.write_bytes(
        key.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    certificate = tmp_path / "C-1.json"
    certificate.write_text(dump_document(batch_documents("technical_grade", 2)[0]), "utf-8")
    return certificate, key_file, key


def args(certificate: Path, key_file: Path, *more: str) -> list[str]:
    return ["export", "vc", str(certificate), "--key", str(key_file), "--position", "41",
            "--status-base-url", BASE_URL, *more]  # fmt: skip


def test_export_writes_a_vc_signed_by_the_key(files: tuple[Path, Path, SigningKey], tmp_path: Path) -> None:
    certificate, key_file, key = files
    out = tmp_path / "C-1.vc.json"
    assert main(args(certificate, key_file, "--out", str(out))) == 0
    vc = json.loads(out.read_text("utf-8"))
    assert check_proof(vc).public_key == key.public_key
    assert read_vc(vc).certificate == make_certificate("technical_grade", 0)
    assert vc["credentialStatus"][0]["statusListCredential"] == f"{BASE_URL}/revocation/0"
    assert main(args(certificate, key_file, "--out", str(out))) == 2  # never overwrites


def test_export_prints_an_sd_jwt(
    files: tuple[Path, Path, SigningKey], capsys: pytest.CaptureFixture[str]
) -> None:
    certificate, key_file, key = files
    assert main(args(certificate, key_file, "--sd-jwt")) == 0
    check = verify_sd_jwt(capsys.readouterr().out.strip())
    assert check.public_key == key.public_key
    assert check.kind == "technical_grade"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing-key", "cannot read the key file"),
        ("hidden-field", "hidden fields"),
        ("bad-url", "must be an http(s) URL"),
        ("not-a-certificate", "malformed document"),
    ],
)
def test_bad_input_is_exit_code_2_with_a_reason(
    files: tuple[Path, Path, SigningKey],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: str,
    message: str,
) -> None:
    certificate, key_file, _ = files
    argv = args(certificate, key_file)
    if change == "missing-key":
        argv[4] = str(tmp_path / "nope.pem")
    elif change == "hidden-field":
        partial = disclose(json.loads(certificate.read_text("utf-8")), ["recipient.idNumber"])
        certificate.write_text(dump_document(partial), "utf-8")
    elif change == "bad-url":
        argv[-1] = "ftp://registry.example.org"
    else:
        certificate.write_text('{"hello": 1}', "utf-8")
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
