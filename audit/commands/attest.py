"""``audit attest``, ``audit verify`` and ``audit keygen``: a signed statement that ties an audit's outputs to the
files it audited, and its check.

``attest DIR --key KEY`` hashes the model and data at the paths results.json records (they must still match the
audited files), the configuration (its text as results.json keeps it), results.json, report.pdf and report.html
(where present), and signs an in-toto Statement v1 over them in a DSSE envelope with an Ed25519 key
(:mod:`audit.attestation`), written to ``DIR/attestation.intoto.json``. ``verify DIR --pub KEY.pub`` checks the
signature and every digest and lists what differs.

>>> # attest(Path("audit-report"), Path("key.pem")); verify(Path("audit-report"), Path("key.pem.pub"))
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.atomic import atomic_outputs
from audit.attestation import (
    EnvelopeError,
    Subject,
    key_id,
    load_private_key,
    load_public_key,
    sign_envelope,
    statement,
)
from audit.errors import InputError
from audit.loading import read_results, read_small_file, sha256_bytes, sha256_file

__all__ = ["ENVELOPE", "OUTPUTS", "attest", "verify", "keygen", "Verification"]

ENVELOPE = "attestation.intoto.json"
OUTPUTS = {"results.json": "results", "report.pdf": "report_pdf", "report.html": "report_html"}
INPUT_ROLES = ("model", "model_spec", "data")
PASSPHRASE_ENV = "XAI_AUDIT_KEY_PASSPHRASE"


def _inputs(record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(role, recorded path, recorded SHA-256) of every audited input file results.json names."""
    model, data = record["model"], record["data"]
    out = [("model", model["path"], model["sha256"])]
    if model.get("spec_path") and model.get("spec_sha256"):
        out.append(("model_spec", model["spec_path"], model["spec_sha256"]))
    return out + [("data", data["path"], data["sha256"])]


def _resolve(name: str, root: Path) -> Path:
    path = Path(name)
    return path if path.is_absolute() else root / path


def _config_name(record: dict[str, Any]) -> str:
    """The configuration's name: the ``--config`` file of the command line, else the built-in defaults."""
    words = shlex.split(record.get("reproducibility", {}).get("command_line") or "")
    for i, word in enumerate(words):
        if word == "--config" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--config="):
            return word.split("=", 1)[1]
    return "config (built-in defaults or the Python API's text)"


def _subjects(out_dir: Path, record: dict[str, Any], root: Path) -> list[Subject]:
    """Every attested file; an audited input that is missing or changed since the audit is an InputError."""
    subjects = []
    for role, name, recorded in _inputs(record):
        path = _resolve(name, root)
        digest = sha256_file(path)
        if digest is None:
            raise InputError(f"{role} {name}: not found at {path}. Attest where the audit ran, or pass --root with "
                             "the folder the recorded paths are relative to.")
        if digest != recorded:
            raise InputError(f"{role} {path}: its SHA-256 {digest[:16]}… is not the audited file's {recorded[:16]}… "
                             "(results.json): the file changed since the audit. Re-run the audit.")
        subjects.append(Subject(name, role, digest))
    subjects.append(Subject(_config_name(record), "config", record["reproducibility"]["config_sha256"]))
    for name, role in OUTPUTS.items():
        digest = sha256_file(out_dir / name)
        if digest is not None:
            subjects.append(Subject(name, role, digest))
    return subjects


def _folder(out_dir: Path) -> Path:
    if not out_dir.is_dir():
        raise InputError(f"DIR {out_dir}: not a folder. Give the audit's output folder (with results.json).")
    return out_dir


def attest(out_dir: Path, key: Path, *, root: Path = Path(".")) -> tuple[Path, dict[str, Any]]:
    """Sign the statement over the audit in ``out_dir`` with the private ``key``; write
    ``out_dir/attestation.intoto.json`` (atomically). Returns its path and the statement."""
    from audit.version import __version__

    record, _ = read_results(_folder(out_dir) / "results.json", "DIR")
    password = os.environ.get(PASSPHRASE_ENV)
    private = load_private_key(read_small_file(key, "--key"), f"--key {key}",
                               password=password.encode() if password else None)
    stmt = statement(record, _subjects(out_dir, record, root), tool_version=__version__)
    target = out_dir / ENVELOPE
    with atomic_outputs({"envelope": target}, beside=target, what=f"DIR {out_dir}") as staged:
        staged["envelope"].write_text(json.dumps(sign_envelope(stmt, private), indent=2) + "\n", encoding="utf-8")
    return target, stmt


@dataclass(frozen=True)
class Verification:
    """What ``audit verify`` found: the statement (when the signature held), each difference named, and the
    public key's id."""

    statement: dict[str, Any] | None
    problems: list[str]
    key: str

    @property
    def ok(self) -> bool:
        return self.statement is not None and not self.problems


def verify(out_dir: Path, pub: Path, *, root: Path = Path(".")) -> Verification:
    """Check the envelope in ``out_dir`` with the public key ``pub``, then every subject's digest."""
    from audit.attestation import open_envelope

    envelope = read_small_file(_folder(out_dir) / ENVELOPE, "DIR")
    public = load_public_key(read_small_file(pub, "--pub"), f"--pub {pub}")
    try:
        stmt = open_envelope(envelope, public)
    except EnvelopeError as exc:
        return Verification(None, [str(exc)], key_id(public))
    problems: list[str] = []
    named: set[str] = set()
    for subject in stmt["subject"]:
        problems += _subject_problems(subject, out_dir, root, named)
    problems += [f"{name}: present in {out_dir} but not attested (written after the attestation?)"
                 for name in OUTPUTS if name not in named and (out_dir / name).is_file()]
    problems += _predicate_problems(stmt, out_dir)
    return Verification(stmt, problems, key_id(public))


def _subject_problems(subject: Any, out_dir: Path, root: Path, named: set[str]) -> list[str]:
    """Why one subject does not hold (empty when it does)."""
    try:
        name, expected = str(subject["name"]), str(subject["digest"]["sha256"])
        role = str((subject.get("annotations") or {}).get("role", ""))
    except (KeyError, TypeError, AttributeError):
        return [f"subject {str(subject)[:80]}: not an in-toto resource descriptor with a sha256 digest"]
    if role in OUTPUTS.values():
        if name not in OUTPUTS:
            return [f"subject {name!r}: an output subject must name a file of the folder ({', '.join(OUTPUTS)})"]
        named.add(name)
        path = out_dir / name
        found = sha256_file(path)
    elif role in INPUT_ROLES:
        path = _resolve(name, root)
        found = sha256_file(path)
    elif role == "config":
        path, found = out_dir / "results.json", _config_digest(out_dir)
    else:
        return [f"subject {name!r}: unknown role {role!r}"]
    if found is None:
        return [f"subject {name} ({role}): file missing at {path}"]
    if found != expected:
        return [f"subject {name} ({role}): SHA-256 differs (attested {expected[:16]}…, found {found[:16]}… at {path})"]
    return []


def _config_digest(out_dir: Path) -> str | None:
    """SHA-256 of the configuration text results.json keeps (what the audit read), as the audit hashed it."""
    try:
        record = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
        return sha256_bytes(record["reproducibility"]["config_text"].encode())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None


def _predicate_problems(stmt: dict[str, Any], out_dir: Path) -> list[str]:
    """The signed verdict against the one in results.json (they differ only if either was altered)."""
    try:
        record = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
        recorded = "passed" if record["gate"]["passed"] else "failed"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return []  # results.json itself is reported above
    signed = (stmt.get("predicate") or {}).get("verdict")
    return [] if signed == recorded else [f"predicate: the signed verdict {signed!r} is not results.json's {recorded!r}"]


def keygen(key: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair: ``key`` (PKCS#8 PEM, unencrypted, readable by its owner only) and
    ``key.pub`` (SubjectPublicKeyInfo PEM). Existing files are never overwritten."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pub = key.with_name(key.name + ".pub")
    for path in (key, pub):
        if path.exists():
            raise InputError(f"KEY {path}: exists; keygen never overwrites a key. Choose another name.")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    with atomic_outputs({"key": key, "pub": pub}, beside=key, what=f"KEY {key}") as staged:
        staged["key"].touch(mode=0o600)
        staged["key"].write_bytes(pem)
        staged["pub"].write_bytes(public)
    return key, pub
