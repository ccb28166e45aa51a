"""The audit log's Merkle tree and signed checkpoints against published vectors and a reference model.

Vectors: the RFC 6962 test data of Certificate Transparency (transparency-dev/merkle
``testonly/constants.go``: the eight leaves, the root of every tree size, inclusion and consistency
proofs) and the signed-note examples of Go's ``golang.org/x/mod/sumdb/note`` (the PeterNeumann key
and note; Ed25519 is deterministic, so signing the same text with the same key must give the
published signature) and of the C2SP signed-note specification (example.com/foo).
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.audit import merkle
from lienthong.audit.checkpoint import (
    Checkpoint, CheckpointError, Signer, Verifier, open_checkpoint, open_note, sign_checkpoint, sign_note,
)

CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {  # (index, size): path
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CT_CONSISTENCY = {  # (first, second): path
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
    (2, 8): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}


def _ct():
    leaves = [merkle.leaf_hash(x) for x in CT_LEAVES]
    return leaves, merkle.subtree_from_leaves(leaves)


def test_roots_of_every_size_match_rfc6962_vectors():
    leaves, _ = _ct()
    frontier = merkle.Frontier()
    assert frontier.root().hex() == CT_ROOTS[0]
    for n, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root().hex() == CT_ROOTS[n] == merkle.tree_hash(leaves[:n]).hex()


def test_inclusion_proofs_match_the_published_paths():
    leaves, sub = _ct()
    root = bytes.fromhex(CT_ROOTS[8])
    for (index, size), path in CT_INCLUSION.items():
        assert [p.hex() for p in merkle.inclusion_path(index, size, sub)] == path
        assert merkle.verify_inclusion(leaves[index], index, size, [bytes.fromhex(p) for p in path], root)


def test_consistency_proofs_match_the_published_paths():
    _, sub = _ct()
    for (first, second), path in CT_CONSISTENCY.items():
        assert [p.hex() for p in merkle.consistency_path(first, second, sub)] == path
        assert merkle.verify_consistency(first, second, bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second]),
                                         [bytes.fromhex(p) for p in path])
        assert not merkle.verify_consistency(first, second, bytes.fromhex(CT_ROOTS[first - 1]),
                                             bytes.fromhex(CT_ROOTS[second]), [bytes.fromhex(p) for p in path])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 300), data=st.data())
def test_proofs_hold_for_any_tree_and_fail_when_altered(n, data):
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    sub = merkle.subtree_from_leaves(leaves)
    frontier = merkle.Frontier()
    for leaf in leaves:
        for level, idx, h in frontier.append(leaf):  # every completed node is the subtree it claims to be
            assert h == sub(idx << level, (idx + 1) << level)
    root = frontier.root()
    assert root == merkle.tree_hash(leaves)
    i = data.draw(st.integers(0, n - 1))
    path = merkle.inclusion_path(i, n, sub)
    assert merkle.verify_inclusion(leaves[i], i, n, path, root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"other"), i, n, path, root)
    if n > 1:
        assert not merkle.verify_inclusion(leaves[i], (i + 1) % n, n, path, root)
        bad = list(path)
        bad[data.draw(st.integers(0, len(bad) - 1))] = b"\x00" * 32
        assert not merkle.verify_inclusion(leaves[i], i, n, bad, root)
    m = data.draw(st.integers(1, n))
    proof = merkle.consistency_path(m, n, sub)
    assert merkle.verify_consistency(m, n, merkle.tree_hash(leaves[:m]), root, proof)
    if m < n:
        assert not merkle.verify_consistency(m, n, merkle.tree_hash(leaves[:m - 1] + [leaves[m]]), root, proof)


# --- signed notes and checkpoints ------------------------------------------------------------------------------

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + ("\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpR"
                     "Zb6KE6RyyBwJnAM=\n")
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7"
             "Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


def test_signing_reproduces_gos_published_note():
    signer = Signer.parse(GO_SKEY)
    assert signer.verifier.encode() == GO_VKEY
    assert sign_note(GO_TEXT, signer) == GO_NOTE
    text, who = open_note(GO_NOTE, [Verifier.parse(GO_VKEY)])
    assert text == GO_TEXT and who.name == "PeterNeumann"


def test_the_spec_example_note_verifies():
    text, _ = open_note(SPEC_NOTE, [Verifier.parse(SPEC_VKEY)])
    assert text == "This is an example message.\n"


def test_altered_or_unsigned_notes_are_refused():
    v = Verifier.parse(GO_VKEY)
    with pytest.raises(CheckpointError):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [v])
    with pytest.raises(CheckpointError):  # a signature by a key we do not trust counts for nothing
        open_note(SPEC_NOTE, [v])
    with pytest.raises(CheckpointError):
        open_note(GO_TEXT, [v])
    with pytest.raises(CheckpointError):
        Verifier.parse(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def test_checkpoint_round_trip_and_origin():
    signer = Signer.from_seed("lienthong/audit", bytes(range(32)))
    cp = Checkpoint("lienthong/audit", 12345, bytes.fromhex(CT_ROOTS[8]))
    note = sign_checkpoint(cp, signer)
    lines = note.split("\n")
    assert lines[:3] == ["lienthong/audit", "12345", base64.b64encode(cp.root).decode()]
    assert open_checkpoint(note, [signer.verifier], "lienthong/audit") == cp
    with pytest.raises(CheckpointError):
        open_checkpoint(note, [signer.verifier], "another/log")
    with pytest.raises(CheckpointError):
        open_checkpoint(note.replace("12345", "12344"), [signer.verifier])
