"""Signing secrets of this deployment.

``LIENTHONG_SECRET_KEY`` in production; in the embedded mode a random key is created once in the
state directory so that sessions survive restarts.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from lienthong.config import get_settings


@lru_cache(maxsize=1)
def secret_key() -> bytes:
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.state_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()
