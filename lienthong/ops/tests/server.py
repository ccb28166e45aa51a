"""App factory for the browser tests' uvicorn server (platform app plus the ops routers)."""

from lienthong.ops.tests.conftest import ops_app as app  # noqa: F401
