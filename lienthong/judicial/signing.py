"""Signing key for electronic certificates (JWS, ES256 over P-256).

The private key is a JWK file in ``settings.state_dir`` (``judicial-signing-key.json``, mode 0600),
created on first use. The public key is published as a JWK Set at
``GET /api/v1/judicial/keys`` (the ``kid`` is the RFC 7638 thumbprint), so anyone can check a
certificate's signature offline. Rotating: move the file aside and keep its public part in
``judicial-signing-key.retired.json`` (a JSON list of public JWKs); retired keys stay published so
certificates signed earlier still verify.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from joserfc import jws
from joserfc.jwk import ECKey, KeySet

from lienthong.config import get_settings

ALG = "ES256"
TYP = "lltp+jwt"
KEY_FILE = "judicial-signing-key.json"
RETIRED_FILE = "judicial-signing-key.retired.json"

_lock = threading.Lock()
_cache: dict[Path, ECKey] = {}


def _state_dir() -> Path:
    return Path(get_settings().state_dir)


def signing_key() -> ECKey:
    path = _state_dir() / KEY_FILE
    with _lock:
        key = _cache.get(path)
        if key is not None and path.exists():
            return key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = ECKey.generate_key("P-256", private=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(fresh.as_dict(private=True), f)
            try:
                os.link(tmp, path)  # atomic; another process may have won the race
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        key = ECKey.import_key(json.loads(path.read_text()))
        _cache[path] = key
        return key


def key_id(key: ECKey | None = None) -> str:
    return (key or signing_key()).thumbprint()


def public_jwks() -> dict:
    key = signing_key()
    keys = [{**key.as_dict(private=False), "kid": key_id(key), "alg": ALG, "use": "sig"}]
    retired = _state_dir() / RETIRED_FILE
    if retired.exists():
        for item in json.loads(retired.read_text()):
            old = ECKey.import_key({k: v for k, v in item.items() if k not in ("d",)})
            keys.append({**old.as_dict(private=False), "kid": old.thumbprint(), "alg": ALG, "use": "sig"})
    return {"keys": keys}


def sign(claims: dict) -> tuple[str, str]:
    """Compact JWS of ``claims`` (UTF-8 JSON); returns (token, kid)."""
    key = signing_key()
    kid = key_id(key)
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str).encode()
    token = jws.serialize_compact({"alg": ALG, "kid": kid, "typ": TYP}, payload, key, algorithms=[ALG])
    return token, kid


class BadSignature(ValueError):
    pass


def verify(token: str, jwks: dict | None = None) -> dict:
    """Check ``token`` against a JWK Set (default: the published one) and return its claims."""
    keyset = KeySet.import_key_set(jwks or public_jwks())
    try:
        obj = jws.deserialize_compact(token, keyset, algorithms=[ALG])
    except Exception as exc:  # joserfc raises several error classes
        raise BadSignature(f"chữ ký số không hợp lệ: {exc}") from None
    return json.loads(obj.payload)
