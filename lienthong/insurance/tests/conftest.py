from lienthong.civil.tests.conftest import app_client, family  # noqa: F401  (shared fixtures)
