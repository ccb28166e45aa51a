"""Fixtures for the XML 130 adapter tests."""

from __future__ import annotations

import pytest

from xml130_helpers import envelope, visit_files


@pytest.fixture
def valid_files():
    return visit_files


@pytest.fixture
def make_envelope():
    return envelope
