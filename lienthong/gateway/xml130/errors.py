"""Error types shared by the XML 130 parser and validator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lienthong.errors import DomainError

Severity = Literal["error", "warning"]

# Pseudo table names used for problems that are not inside one inner table.
ENVELOPE = "GIAMDINHHS"
DOSSIER = "HOSO"


@dataclass(frozen=True)
class FieldError:
    """One problem found in a dossier.

    ``table`` is a LOAIHOSO (``XML1``...), or ``HOSO`` for the dossier as a whole, or ``GIAMDINHHS``
    for the envelope. ``record_index`` is the 0-based position of the record within its table
    (``None`` when the problem is not about one record). ``code`` is a stable English machine code;
    ``message`` is Vietnamese, for the submitter.
    """

    table: str
    record_index: int | None
    field: str | None
    code: str
    message: str
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_dict(self) -> dict:
        return {"table": self.table, "record_index": self.record_index, "field": self.field,
                "code": self.code, "message": self.message, "severity": self.severity}


class EnvelopeError(DomainError):
    """The outer GIAMDINHHS envelope is unusable (malformed, hostile, wrong root...): reject the file.

    Maps to HTTP 400 through :func:`lienthong.errors.install_error_handlers`.
    """

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid_envelope", line: int | None = None):
        full = f"{message} (dòng {line})" if line else message
        super().__init__(full, field="GIAMDINHHS")
        self.code = code
        self.line = line
