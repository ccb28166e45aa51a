"""Signing key: created once in state_dir (0600), stable kid, retired keys stay published."""

import json
import stat

import pytest

from lienthong.judicial import signing


def test_key_persisted_private_and_retired_keys_published(db_url, tmp_path):
    from lienthong.config import get_settings

    token, kid = signing.sign({"jti": "x", "content": {"criminal_status": "Không có án tích"}})
    path = get_settings().state_dir / signing.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing.key_id() == kid and signing.verify(token)["content"]["criminal_status"] == "Không có án tích"
    jwks = signing.public_jwks()
    assert [k["kid"] for k in jwks["keys"]] == [kid] and all("d" not in k for k in jwks["keys"])

    # Rotate: the old public key goes to the retired list, a new key is generated
    old = json.loads(path.read_text())
    (get_settings().state_dir / signing.RETIRED_FILE).write_text(json.dumps([{k: v for k, v in old.items() if k != "d"}]))
    path.unlink()
    new_token, new_kid = signing.sign({"jti": "y"})
    assert new_kid != kid
    published = signing.public_jwks()
    assert [k["kid"] for k in published["keys"]] == [new_kid, kid]
    assert signing.verify(token, published)["jti"] == "x" and signing.verify(new_token, published)["jti"] == "y"
    with pytest.raises(signing.BadSignature):
        signing.verify(token, {"keys": [published["keys"][0]]})
