"""HL7 FHIR R4 adapter of the health gateway.

* :mod:`lienthong.gateway.fhir.mapping`: a submitted Bundle -> canonical
  :class:`~lienthong.health.records.VisitRecord` list plus per-resource errors;
* :mod:`lienthong.gateway.fhir.ips`: a citizen's International Patient Summary (FHIR document
  Bundle) built from the health tables.

Resources are validated with ``fhir.resources.R4B`` (R4B is wire-compatible with R4 4.0.1 for every
resource type used here). Identifier and code systems follow the VN Core IG canonical
``http://fhir.ehealth.gov.vn/core`` and are configurable (``LIENTHONG_FHIR_*``).
"""
