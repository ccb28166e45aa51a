"""Issue #23: every legal figure of the rule modules says where it comes from (lienthong.legal).

A figure is either ``confirmed`` (read in the text in force; the source is cited) or ``configurable``
(a named setting, and a Vietnamese warning shown to officers on the pages that use it).
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from lienthong import legal
from lienthong.civil import rules as civil_rules
from lienthong.insurance import rules as insurance_rules
from lienthong.judicial.rules import certificate, expungement, procedure
from lienthong.workdays import calendar

MODULES = (expungement, procedure, certificate, civil_rules, insurance_rules, calendar)


def test_every_figure_is_confirmed_or_configurable_with_a_warning():
    figures = legal.all_figures()
    assert len({f.key for f in figures}) == len(figures)
    for f in figures:
        assert f.status in legal.STATUSES and f.source and f.text and f.value
        if f.configurable:
            assert f.warning_vi and f.setting, f.key
            assert f.warning_vi[0].isupper() and f.warning_vi.endswith("."), f.key
    assert {f.key.split(".")[0] for f in figures} == {"expungement", "procedure", "certificate", "civil", "insurance",
                                                      "workdays"}


def test_every_module_has_figures_and_officer_notes():
    for module in MODULES:
        assert module.FIGURES and callable(module.officer_notes), module.__name__


def test_a_configurable_figure_needs_a_warning():
    with pytest.raises(ValueError):
        legal.Figure("x.y", "t", "v", "configurable", "source")
    with pytest.raises(ValueError):
        legal.Figure("x.y", "t", "v", "recalled", "source")
    with pytest.raises(KeyError):
        legal.notes(["no.such.figure"])


def test_notes_are_the_configurable_warnings_once_each():
    conf = [f for f in legal.all_figures() if f.configurable][:2]
    done = next(f for f in legal.all_figures() if not f.configurable)
    out = legal.notes([conf[0].key, done.key, conf[0].key, conf[1].key], extra=["Khác."])
    assert out == [conf[0].warning_vi, conf[1].warning_vi, "Khác."]


def test_deadline_rules_name_their_figure_and_agree_on_the_status():
    data = json.loads(resources.files("lienthong.civil").joinpath("data/deadlines.json").read_text("utf-8"))
    by_key = {f.key: f for f in legal.all_figures()}
    for r in civil_rules.parse_rules(data)[1]:
        assert r.figure in by_key, r
        assert (r.verified == "src") == (not by_key[r.figure].configurable), r


def test_unconfirmed_calendar_entries_are_warned_about():
    cal = calendar.WorkCalendar()
    for day, o in cal.overrides.items():
        notes = cal.notes_between(day, day)
        assert bool(notes) == (o.verified != "src"), day
