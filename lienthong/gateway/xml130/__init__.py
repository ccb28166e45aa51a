"""QĐ 130/4750 (GIAMDINHHS envelope) format adapter: spec as data, streaming parser, validator, generator.

Pure functions and iterators: no database, no HTTP. Typical use::

    from lienthong.gateway.xml130 import validate_envelope
    for result in validate_envelope(upload_stream, authenticated_facility="01001"):
        if result.accepted: store(result.values)
        else: report(result.errors)
"""

from lienthong.gateway.xml130.errors import EnvelopeError, FieldError
from lienthong.gateway.xml130.generate import GenerationResult, InjectedError, write_envelope
from lienthong.gateway.xml130.parser import Dossier, EnvelopeReader, build_dossier, iter_dossiers
from lienthong.gateway.xml130.spec import SpecVersion, spec_for
from lienthong.gateway.xml130.validate import DossierResult, ValidationOptions, validate_dossier, validate_envelope

__all__ = [
    "Dossier", "DossierResult", "EnvelopeError", "EnvelopeReader", "FieldError", "GenerationResult", "build_dossier",
    "InjectedError", "SpecVersion", "ValidationOptions", "iter_dossiers", "spec_for", "validate_dossier",
    "validate_envelope", "write_envelope",
]
