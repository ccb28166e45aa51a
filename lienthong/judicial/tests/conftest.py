import pytest

from lienthong.identity import policy


@pytest.fixture
def system_reads_registry(monkeypatch):
    """The automatic check reads the registry as the SYSTEM principal (``population.read``).

    The policy table does not list kind ``system`` yet; this fixture adds it exactly as the policy
    change requested in the judicial report would, and is a no-op once that change is made.
    """
    rule = policy.RULES["population.read"]
    if "system" not in rule.kinds:
        from dataclasses import replace

        monkeypatch.setitem(policy.RULES, "population.read", replace(rule, kinds=rule.kinds | {"system"}))
    yield


@pytest.fixture
def system_refused(monkeypatch):
    rule = policy.RULES["population.read"]
    from dataclasses import replace

    monkeypatch.setitem(policy.RULES, "population.read", replace(rule, kinds=rule.kinds - {"system"}))
    yield


