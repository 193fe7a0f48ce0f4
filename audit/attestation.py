"""A signed attestation of an audit: an in-toto Statement v1 in a DSSE envelope, signed with Ed25519.

Pure functions over bytes and records (the files are read by :mod:`audit.loading`, written by the command):

- :func:`statement`: the in-toto Statement (``_type`` ``https://in-toto.io/Statement/v1``) whose subjects are the
  audited files and the outputs, each with its SHA-256, and whose predicate holds the gate's verdict, every
  check, the policy's digest, the tool's version and the command line;
- :func:`pae`: DSSE's pre-authentication encoding, the bytes that are signed;
- :func:`sign_envelope` / :func:`open_envelope`: the envelope (``payloadType``
  ``application/vnd.in-toto+json``, base64 payload, signatures with a key id) made and checked.

>>> pae("application/vnd.in-toto+json", b"{}")
b'DSSEv1 28 application/vnd.in-toto+json 2 {}'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from audit.errors import InputError

__all__ = ["STATEMENT_TYPE", "PAYLOAD_TYPE", "PREDICATE_TYPE", "Subject", "policy_digest", "statement", "pae",
           "key_id", "sign_envelope", "open_envelope", "EnvelopeError", "load_private_key", "load_public_key"]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://xai-audit.invalid/attestation/audit/v1"


@dataclass(frozen=True)
class Subject:
    """One attested file: its name (a path, as results.json records it or relative to the output folder), its
    role (``model``, ``model_spec``, ``data``, ``config``, ``results``, ``report_pdf``, ``report_html``) and SHA-256."""

    name: str
    role: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": {"sha256": self.sha256}, "annotations": {"role": self.role}}


class EnvelopeError(ValueError):
    """The envelope is not a DSSE envelope of an in-toto statement, or it was altered (a verification failure,
    exit 1, not a usage error)."""


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def policy_digest(record: dict[str, Any]) -> str:
    """SHA-256 of the audit's validated ``[policy]`` (results.json ``config.policy``) as canonical JSON."""
    return hashlib.sha256(_canonical(record["config"]["policy"])).hexdigest()


def statement(record: dict[str, Any], subjects: list[Subject], *, tool_version: str) -> dict[str, Any]:
    """The in-toto Statement v1 for the audit ``record`` (results.json) over ``subjects``."""
    gate = record["gate"]
    checks = [{"name": c["name"], "verdict": c.get("verdict"), "passed": c["passed"], "blocking": c.get("blocking"),
               "value": c.get("value"), "threshold": c.get("threshold")} for c in gate["checks"]]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [s.to_json() for s in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verdict": "passed" if gate["passed"] else "failed",
            "checks": checks,
            "policy": {"digest": {"sha256": policy_digest(record)}},
            "tool": {"name": "xai-audit", "version": record["tool_version"], "attested_with": tool_version},
            "command": record.get("reproducibility", {}).get("command_line"),
            "audit": {"created_at": record["created_at"], "schema_version": record["schema_version"],
                      "model_sha256": record["model"]["sha256"], "data_sha256": record["data"]["sha256"]},
        },
    }


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: ``DSSEv1 LEN(type) type LEN(body) body`` (lengths in ASCII decimal)."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public_key: Any) -> str:
    """The key id: SHA-256 of the raw Ed25519 public key, in hex."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign_envelope(stmt: dict[str, Any], private_key: Any) -> dict[str, Any]:
    """The DSSE envelope of ``stmt`` signed with the Ed25519 ``private_key``."""
    payload = _canonical(stmt)
    signature = private_key.sign(pae(PAYLOAD_TYPE, payload))
    return {"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(payload).decode("ascii"),
            "signatures": [{"keyid": key_id(private_key.public_key()),
                            "sig": base64.b64encode(signature).decode("ascii")}]}


def open_envelope(raw: bytes, public_key: Any) -> dict[str, Any]:
    """The statement inside the envelope ``raw``, after its signature verified with ``public_key``; an
    :class:`EnvelopeError` naming what failed (the envelope's form, the payload type, or the signature)."""
    from cryptography.exceptions import InvalidSignature

    try:
        envelope = json.loads(raw.decode("utf-8"))
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = [base64.b64decode(s["sig"], validate=True) for s in envelope["signatures"]]
        kind = envelope["payloadType"]
    except (UnicodeDecodeError, json.JSONDecodeError, binascii.Error, KeyError, TypeError) as exc:
        raise EnvelopeError(f"envelope: not a readable DSSE envelope ({type(exc).__name__}: {str(exc)[:80]}); it "
                            "was altered or is not an attestation") from None
    if kind != PAYLOAD_TYPE:
        raise EnvelopeError(f"envelope: payloadType {str(kind)[:60]!r}, expected {PAYLOAD_TYPE!r}")
    for sig in signatures:
        try:
            public_key.verify(sig, pae(kind, payload))
            break
        except InvalidSignature:
            continue
    else:
        ids = ", ".join(str(s.get("keyid", "?"))[:16] for s in envelope["signatures"] if isinstance(s, dict))
        raise EnvelopeError(f"signature: does not verify with this public key (key id {key_id(public_key)[:16]}…; "
                            f"the envelope names {ids or 'no key id'}): the statement was altered or signed with "
                            "another key")
    try:
        stmt = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EnvelopeError("envelope: the signed payload is not JSON") from None
    if not isinstance(stmt, dict) or stmt.get("_type") != STATEMENT_TYPE or not isinstance(stmt.get("subject"), list):
        raise EnvelopeError(f"envelope: the signed payload is not an in-toto Statement v1 ({STATEMENT_TYPE})")
    return stmt


def load_private_key(pem: bytes, where: str, password: bytes | None = None) -> Any:
    """An Ed25519 private key from PEM (PKCS#8, as ``audit keygen`` or ``openssl genpkey -algorithm ed25519``
    writes it); anything else is an InputError naming ``where``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError:
        raise InputError(f"{where}: the key is encrypted; set XAI_AUDIT_KEY_PASSPHRASE to its passphrase.") from None
    except ValueError as exc:
        raise InputError(f"{where}: not a readable PEM private key ({str(exc)[:100]}). Make one with "
                         "`audit keygen KEY`.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{where}: a {type(key).__name__.replace('_', '')}, not an Ed25519 key. Make one with "
                         "`audit keygen KEY` or `openssl genpkey -algorithm ed25519 -out KEY`.")
    return key


def load_public_key(pem: bytes, where: str) -> Any:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo, ``KEY.pub``); anything else is an InputError."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise InputError(f"{where}: not a readable PEM public key ({str(exc)[:100]}). Give the KEY.pub that "
                         "`audit keygen` wrote.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{where}: not an Ed25519 public key. Give the KEY.pub that `audit keygen` wrote.")
    return key
