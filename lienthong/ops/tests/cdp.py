"""Moved to :mod:`lienthong.testing_browser` (shared by all real-browser tests); kept as an alias."""

from lienthong.testing_browser import CHROMIUM_FLAGS, Browser, CdpError  # noqa: F401
