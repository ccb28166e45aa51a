"""Where every legal figure the rule modules use comes from, and what officers are told about it.

Each rule module (``judicial.rules.*``, ``civil.rules``, ``insurance.rules``, ``workdays.calendar``)
declares its figures as :class:`Figure` rows in a module-level ``FIGURES`` tuple:

* ``status="confirmed"``: the figure was read in the text in force (the official consolidated
  text, the Ministry of Justice codification ``Bộ pháp điển`` or a verbatim copy of the gazette
  text), cited in ``source``;
* ``status="configurable"``: the figure comes from a secondary source, a draft, a contested
  reading or could not be read in the text in force. It is a named parameter (``setting`` says
  which) and ``warning_vi`` is shown to the officer on every page whose result depends on it.

:func:`all_figures` collects the rows; :func:`notes` turns keys into the warnings an officer page
shows (``_legal_notes.html``). A test fails when a configurable figure has no warning or setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

__all__ = ["Figure", "all_figures", "figure", "notes", "STATUSES"]

STATUSES = ("confirmed", "configurable")


@dataclass(frozen=True)
class Figure:
    key: str  # "<module>.<item>", e.g. "expungement.art71_periods"
    text: str  # what the figure is, in English (the report lists it)
    value: str  # the value the code uses
    status: str  # confirmed | configurable
    source: str  # citation: article, text, URL
    warning_vi: str = ""  # shown to officers when status is configurable
    setting: str = ""  # how to change it (parameter, data file, environment variable)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r} for {self.key}")
        if self.status == "configurable" and not (self.warning_vi and self.setting):
            raise ValueError(f"configurable figure {self.key} needs a warning and a setting")

    @property
    def configurable(self) -> bool:
        return self.status == "configurable"


def all_figures() -> tuple[Figure, ...]:
    """Every figure of every rule module, in module order (imported lazily: no import cycles)."""
    from lienthong.civil import rules as civil_rules
    from lienthong.insurance import rules as insurance_rules
    from lienthong.judicial.rules import certificate, expungement, procedure
    from lienthong.workdays import calendar

    out: list[Figure] = []
    for module in (expungement, procedure, certificate, civil_rules, insurance_rules, calendar):
        out.extend(module.FIGURES)
    keys = [f.key for f in out]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise ValueError(f"duplicate figure keys: {sorted(duplicates)}")
    return tuple(out)


def figure(key: str) -> Figure:
    for f in all_figures():
        if f.key == key:
            return f
    raise KeyError(key)


def notes(keys: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Vietnamese warnings for the configurable figures among ``keys`` (in order, once each),
    followed by ``extra`` situation-specific warnings."""
    by_key = {f.key: f for f in all_figures()}
    out: list[str] = []
    for k in keys:
        f = by_key.get(k)
        if f is None:
            raise KeyError(k)
        if f.configurable and f.warning_vi not in out:
            out.append(f.warning_vi)
    for text in extra:
        if text and text not in out:
            out.append(text)
    return out
