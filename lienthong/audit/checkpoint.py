"""Signed checkpoints of the audit log: C2SP ``tlog-checkpoint`` bodies in C2SP ``signed-note``s, Ed25519.

The formats are those of Certificate Transparency's successors (Go's checksum database, Sigstore,
the transparency-dev witnesses), so any tool that reads those reads ours:

* a **checkpoint** (c2sp.org/tlog-checkpoint) is three lines: the log's origin, the tree size in
  decimal, the root hash in standard base64;
* a **signed note** (c2sp.org/signed-note) is that text, a blank line, and signature lines
  ``— <key name> <base64(key id || signature)>`` (U+2014 em dash, space); the signature covers the
  text including its final newline; ``key id = SHA-256(name || 0x0A || 0x01 || public key)[:4]``
  for Ed25519 (signature type 0x01);
* a **verifier key** is ``<name>+<hex key id>+<base64(0x01 || public key)>`` (Go ``note.NewVerifier``).

The signing key is ``LIENTHONG_AUDIT_SIGNING_KEY`` (a Go-style ``PRIVATE+KEY+name+id+base64`` signer
key, or the base64 of a 32-byte seed) when set; otherwise it is derived from the deployment secret
(HKDF-SHA256), so every server of a deployment signs with the same key and no extra secret has to be
distributed. Checkpoints are verified against this key and the extra verifier keys in
``LIENTHONG_AUDIT_VERIFIER_KEYS`` (retired keys, or keys of a separate sequencer host); a verifier
key read from the database is never trusted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
EM_DASH = "\u2014"
MAX_NOTE_BYTES = 16 * 1024
HKDF_INFO = b"lienthong audit checkpoint signing key v1"


class CheckpointError(ValueError):
    """A checkpoint or note that is malformed or whose signature does not verify."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise CheckpointError(f"bad key name {name!r}: no spaces or '+'")


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes  # raw 32-byte Ed25519 public key

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public)

    def encode(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([ALG_ED25519]) + self.public).decode()}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        try:
            name, hexid, material = vkey.strip().split("+", 2)
            raw = base64.b64decode(material, validate=True)
        except (ValueError, binascii.Error):
            raise CheckpointError("khóa kiểm tra không đúng dạng tên+mã+khóa") from None
        _check_name(name)
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise CheckpointError("khóa kiểm tra không phải khóa Ed25519")
        v = cls(name, raw[1:])
        if v.id.hex() != hexid.lower():
            raise CheckpointError("mã khóa không khớp với khóa kiểm tra")
        return v

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
            return True
        except InvalidSignature:
            return False


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        _check_name(name)
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def parse(cls, skey: str) -> Signer:
        """A Go ``note.NewSigner`` key: ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``."""
        try:
            p1, p2, name, hexid, material = skey.strip().split("+", 4)
            raw = base64.b64decode(material, validate=True)
        except (ValueError, binascii.Error):
            raise CheckpointError("khóa ký không đúng dạng PRIVATE+KEY+tên+mã+khóa") from None
        if (p1, p2) != ("PRIVATE", "KEY") or len(raw) != 33 or raw[0] != ALG_ED25519:
            raise CheckpointError("khóa ký không phải khóa Ed25519 dạng PRIVATE+KEY")
        signer = cls.from_seed(name, raw[1:])
        if signer.verifier.id.hex() != hexid.lower():
            raise CheckpointError("mã khóa không khớp với khóa ký")
        return signer

    def sign_line(self, text: str) -> str:
        sig = self.private.sign(text.encode())
        return f"{EM_DASH} {self.name} {base64.b64encode(self.verifier.id + sig).decode()}\n"


def sign_note(text: str, signer: Signer) -> str:
    if not text.endswith("\n") or "\n\n" in text or not text.strip():
        raise CheckpointError("note text must be non-empty lines, each ending with a newline")
    return text + "\n" + signer.sign_line(text)


def open_note(note: str, verifiers: list[Verifier]) -> tuple[str, Verifier]:
    """The text of ``note`` and the trusted key that signed it; :class:`CheckpointError` otherwise.

    A signature line from an unknown key is ignored; one from a known key that does not verify
    rejects the note (as Go's ``note.Open``)."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise CheckpointError("mốc kiểm tra quá dài")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise CheckpointError("mốc kiểm tra không có chữ ký")
    text, sigs = note[:cut + 1], note[cut + 2:]
    if not sigs.endswith("\n"):
        raise CheckpointError("dòng chữ ký phải kết thúc bằng xuống dòng")
    by_key = {(v.name, v.id): v for v in verifiers}
    good: Verifier | None = None
    for line in sigs[:-1].split("\n"):
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise CheckpointError("dòng chữ ký không đúng định dạng")
        name, _, b64 = line[len(prefix):].partition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise CheckpointError("chữ ký không phải base64") from None
        if len(blob) < 5:
            raise CheckpointError("chữ ký quá ngắn")
        v = by_key.get((name, blob[:4]))
        if v is None:
            continue
        if not v.verify(text.encode(), blob[4:]):
            raise CheckpointError(f"chữ ký của khóa {name} không hợp lệ")
        good = good or v
    if good is None:
        raise CheckpointError("mốc kiểm tra không có chữ ký của khóa tin cậy nào")
    return text, good


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("mốc kiểm tra phải có dòng nguồn, kích thước cây và gốc")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise CheckpointError("kích thước cây trong mốc kiểm tra không hợp lệ")
        try:
            raw = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise CheckpointError("gốc cây trong mốc kiểm tra không phải base64") from None
        if len(raw) != 32:
            raise CheckpointError("gốc cây phải là 32 byte")
        return cls(origin, int(size), raw)


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    return sign_note(cp.text(), signer)


def open_checkpoint(note: str, verifiers: list[Verifier], origin: str | None = None) -> Checkpoint:
    text, _ = open_note(note, verifiers)
    cp = Checkpoint.parse_text(text)
    if origin is not None and cp.origin != origin:
        raise CheckpointError(f"mốc kiểm tra thuộc nhật ký khác ({cp.origin})")
    return cp


# --- this deployment's keys -----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _signer(origin: str, configured: str, secret: bytes) -> Signer:
    if configured.startswith("PRIVATE+KEY+"):
        return Signer.parse(configured)
    if configured:
        seed = base64.b64decode(configured, validate=True)
        if len(seed) != 32:
            raise CheckpointError("LIENTHONG_AUDIT_SIGNING_KEY phải là 32 byte (base64)")
        return Signer.from_seed(origin, seed)
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(secret)
    return Signer.from_seed(origin, seed)


def signer() -> Signer:
    from lienthong.config import get_settings
    from lienthong.identity.keys import secret_key

    s = get_settings()
    return _signer(s.audit_log_origin, s.audit_signing_key, secret_key())


def trusted_verifiers() -> list[Verifier]:
    from lienthong.config import get_settings

    keys = [signer().verifier]
    keys += [Verifier.parse(v) for v in get_settings().audit_verifier_keys]
    return keys


def origin() -> str:
    from lienthong.config import get_settings

    return get_settings().audit_log_origin
