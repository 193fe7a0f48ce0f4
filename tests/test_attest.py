"""``audit attest`` / ``audit verify`` / ``audit keygen`` on a real audit (the sample run): attest then verify
passes; one flipped byte in any attested file, in the envelope, or another key fails with a message naming what
differs (exit 1); bad input is exit 2."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from audit.commands.attest import ENVELOPE


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A signing key pair and another key, made with `audit keygen`."""
    from typer.testing import CliRunner

    from audit.cli import app

    tmp = tmp_path_factory.mktemp("keys")
    for name in ("signer.pem", "other.pem"):
        res = CliRunner().invoke(app, ["keygen", str(tmp / name)], catch_exceptions=False)
        assert res.exit_code == 0, res.stderr
    return tmp / "signer.pem", tmp / "signer.pem.pub", tmp / "other.pem.pub"


@pytest.fixture()
def attested(sample_run, keys, tmp_path, cli) -> Path:
    """A copy of the sample run's outputs (with a report.html beside the PDF), attested."""
    out = tmp_path / "out"
    shutil.copytree(sample_run, out, ignore=shutil.ignore_patterns(ENVELOPE, "*.md", "*.docx"))
    (out / "report.html").write_text("<!doctype html><title>report</title>", encoding="utf-8")
    code, _, err = cli("attest", out, "--key", keys[0])
    assert code == 0, err
    return out


B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@contextmanager
def flipped(path: Path, at: int | None = None, within: bytes | None = None):
    """``path`` with one byte flipped (the middle one by default), restored afterwards. With ``within``, the
    byte becomes the next one in that alphabet instead, so a base64 text stays base64 whatever the (random)
    signature holds: a bit flip turns ``A``, ``z``, ``+`` and ``/`` into characters base64 does not have."""
    original = path.read_bytes()
    data = bytearray(original)
    i = len(data) // 2 if at is None else at
    if within is None:
        data[i] ^= 0x01
    else:
        data[i] = within[(within.index(data[i]) + 1) % len(within)]
    path.write_bytes(bytes(data))
    try:
        yield
    finally:
        path.write_bytes(original)


def _pae(kind: str, body: bytes) -> bytes:  # DSSE v1, written out from the specification
    return b"DSSEv1 " + str(len(kind)).encode() + b" " + kind.encode() + b" " + str(len(body)).encode() + b" " + body


def test_attest_then_verify_passes_and_the_statement_holds_what_the_issue_asks(attested, keys, cli):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    code, out, err = cli("verify", attested, "--pub", keys[1])
    assert code == 0, err
    assert "Verified" in out
    envelope = json.loads((attested / ENVELOPE).read_text(encoding="utf-8"))
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    payload = base64.b64decode(envelope["payload"])
    public = load_pem_public_key(keys[1].read_bytes())
    public.verify(base64.b64decode(envelope["signatures"][0]["sig"]), _pae(envelope["payloadType"], payload))
    stmt = json.loads(payload)
    record = json.loads((attested / "results.json").read_text(encoding="utf-8"))
    assert stmt["_type"] == "https://in-toto.io/Statement/v1"
    roles = {s["annotations"]["role"]: s for s in stmt["subject"]}
    assert set(roles) == {"model", "data", "config", "results", "report_pdf", "report_html"}
    assert roles["model"]["digest"]["sha256"] == record["model"]["sha256"]
    assert roles["data"]["digest"]["sha256"] == record["data"]["sha256"]
    assert roles["config"]["digest"]["sha256"] == record["reproducibility"]["config_sha256"]
    for name in ("results.json", "report.pdf", "report.html"):
        subject = next(s for s in stmt["subject"] if s["name"] == name)
        assert subject["digest"]["sha256"] == hashlib.sha256((attested / name).read_bytes()).hexdigest()
    predicate = stmt["predicate"]
    assert predicate["verdict"] == ("passed" if record["gate"]["passed"] else "failed")
    assert [c["name"] for c in predicate["checks"]] == [c["name"] for c in record["gate"]["checks"]]
    policy = json.dumps(record["config"]["policy"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert predicate["policy"]["digest"]["sha256"] == hashlib.sha256(policy.encode()).hexdigest()
    assert predicate["tool"]["version"] == record["tool_version"]
    assert predicate["command"] == record["reproducibility"]["command_line"]


@pytest.mark.parametrize("role", ["model", "data", "results", "report_pdf", "report_html"])
def test_one_flipped_byte_in_any_subject_fails_naming_it(attested, keys, cli, role):
    stmt = json.loads(base64.b64decode(json.loads((attested / ENVELOPE).read_text())["payload"]))
    subject = next(s for s in stmt["subject"] if s["annotations"]["role"] == role)
    path = Path(subject["name"]) if role in ("model", "data") else attested / subject["name"]
    with flipped(path):
        code, _, err = cli("verify", attested, "--pub", keys[1])
    assert code == 1
    assert f"subject {subject['name']} ({role}): SHA-256 differs" in " ".join(err.split())
    assert cli("verify", attested, "--pub", keys[1])[0] == 0  # restored: holds again


def test_a_changed_configuration_text_fails_naming_the_config(attested, keys, cli):
    path = attested / "results.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["reproducibility"]["config_text"] += "\nrows = 41\n"
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    code, _, err = cli("verify", attested, "--pub", keys[1])
    text = " ".join(err.split())
    assert code == 1 and "(config): SHA-256 differs" in text and "results.json (results): SHA-256 differs" in text


@pytest.mark.parametrize("where", ["payload", "signature", "structure"])
def test_one_flipped_byte_in_the_envelope_fails_naming_it(attested, keys, cli, where):
    path = attested / ENVELOPE
    text = path.read_text(encoding="utf-8")
    envelope = json.loads(text)
    at = {"payload": text.index(envelope["payload"]) + 100,
          "signature": text.index(envelope["signatures"][0]["sig"]) + 10,
          "structure": text.index('"payloadType"') + 2}[where]
    with flipped(path, at, within=None if where == "structure" else B64):
        code, _, err = cli("verify", attested, "--pub", keys[1])
    assert code == 1
    assert ("signature: does not verify" if where != "structure" else "envelope:") in " ".join(err.split())


def test_a_signature_that_is_not_base64_fails_naming_the_envelope(attested, keys, cli):
    path = attested / ENVELOPE
    text = path.read_text(encoding="utf-8")
    at = text.index(json.loads(text)["signatures"][0]["sig"]) + 10
    original = path.read_bytes()
    path.write_bytes(original[:at] + b"*" + original[at + 1:])
    code, _, err = cli("verify", attested, "--pub", keys[1])
    assert code == 1
    assert "envelope: not a readable DSSE envelope" in " ".join(err.split())


def test_another_key_fails_naming_the_signature(attested, keys, cli):
    code, _, err = cli("verify", attested, "--pub", keys[2])
    assert code == 1 and "signature: does not verify with this public key" in " ".join(err.split())


def test_an_output_written_after_the_attestation_is_named(attested, keys, cli):
    (attested / "report.html").unlink()
    code, _, err = cli("verify", attested, "--pub", keys[1])
    assert code == 1 and "report.html (report_html): file missing" in " ".join(err.split())


def test_bad_input_is_exit_2(attested, keys, cli, tmp_path):
    code, _, err = cli("attest", attested, "--key", tmp_path / "none.pem")
    assert code == 2 and "no such file" in err
    code, _, err = cli("attest", attested, "--key", keys[1])  # a public key where the private one goes
    assert code == 2 and "private key" in err
    code, _, err = cli("verify", attested, "--pub", keys[0])  # the private key where the public one goes
    assert code == 2 and "public key" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("attest", empty, "--key", keys[0])[0] == 2
    code, _, err = cli("verify", empty, "--pub", keys[1])
    assert code == 2 and ENVELOPE in err
    code, _, err = cli("keygen", keys[0])
    assert code == 2 and "never overwrites" in err
    assert sorted(p.name for p in empty.iterdir()) == []


def test_attest_refuses_an_input_changed_since_the_audit(attested, keys, cli):
    record = json.loads((attested / "results.json").read_text(encoding="utf-8"))
    (attested / ENVELOPE).unlink()
    with flipped(Path(record["model"]["path"])):
        code, _, err = cli("attest", attested, "--key", keys[0])
    assert code == 2 and "changed since the audit" in " ".join(err.split())
    assert not (attested / ENVELOPE).exists()
