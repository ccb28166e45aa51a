"""Judicial records (lý lịch tư pháp) and criminal-record certificates (Phiếu lý lịch tư pháp).

- :mod:`.rules`: pure, date-versioned rules (expungement, procedure, fees, record numbers, content);
- :mod:`.models`: record database (convictions, offences, additional penalties, enforcement events,
  expungement decisions, bans), applications, certificates, record-number sequences;
- :mod:`.feed`: idempotent feeds from courts and enforcement bodies (``judicial.record.changed``);
- :mod:`.service`: applications (submitted -> checking -> issued | review -> approved/rejected -> issued),
  automatic check, officer review with SLA and escalation, issue, revocation, public verification;
- :mod:`.signing`: ES256 JWS signing key in ``state_dir``, public JWK Set;
- :mod:`.pdf`: certificate PDF (DejaVu Sans shipped in ``fonts/``, vector QR code);
- :mod:`.routes` (API router ``/api/v1/judicial``), :mod:`.web` (pages router);
- :mod:`.worker`: ``python -m lienthong.judicial.worker`` periodic sweep.

Automatic issue within a minute: the submission commits, then a background task runs the check
(:func:`.service.process_in_background`); the bus handler on ``judicial.application.submitted`` and
the worker sweep are the fall-backs. A status compare-and-set makes them safe to race.
"""
