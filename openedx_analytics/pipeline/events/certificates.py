"""Certificates: a certificate was issued, changed or revoked (tracking events and signals).

Only the server may state a certificate. Its mode is stored as enrollment modes are
(aliases resolved); nothing else of the certificate (name, URL, grade) is read.
"""
from __future__ import annotations

from typing import Any

from openedx_analytics.pipeline.envelope import Envelope
from openedx_analytics.pipeline.events.enrollment import MODE_ALIASES
from openedx_analytics.pipeline.events.registration import SIGNAL_PREFIX, Family, Signal
from openedx_analytics.pipeline.records import CertificateChange, Record
from openedx_analytics.pipeline.rejected import Rejected

CERTIFICATES = Family("certificates")

#: Payload fields every certificate event may read: the mode, under either of its names.
_MODE_FIELDS = ("mode", "enrollment_mode")


def _certificate(envelope: Envelope, status: Any) -> list[Record]:
    mode = envelope.payload.get("mode") or envelope.payload.get("enrollment_mode") or "unknown"
    if not isinstance(mode, str) or not isinstance(status, str) or not status:
        raise Rejected("wrong_type", "certificate mode or status is not a string", "data.mode")
    return [
        CertificateChange(
            envelope.course_id(), envelope.user_id(from_data=True), envelope.time, MODE_ALIASES.get(mode, mode), status
        )
    ]


@CERTIFICATES.register("edx.certificate.created", fields=_MODE_FIELDS)
def certificate_created(envelope: Envelope) -> list[Record]:
    """Tracking event: a downloadable certificate was issued."""
    return _certificate(envelope, "downloadable")


@CERTIFICATES.register("edx.certificate.revoked", fields=_MODE_FIELDS)
def certificate_revoked(envelope: Envelope) -> list[Record]:
    """Tracking event: a certificate was revoked."""
    return _certificate(envelope, "revoked")


@CERTIFICATES.register(
    Signal("CERTIFICATE_CREATED", "certificate", SIGNAL_PREFIX + "certificate.created.v1"),
    Signal("CERTIFICATE_CHANGED", "certificate", SIGNAL_PREFIX + "certificate.changed.v1"),
    fields=(*_MODE_FIELDS, "current_status"),
)
def certificate_signal(envelope: Envelope) -> list[Record]:
    """Signals: a certificate was created or changed; its current status says whether it counts."""
    return _certificate(envelope, envelope.payload.get("current_status"))


@CERTIFICATES.register(
    Signal("CERTIFICATE_REVOKED", "certificate", SIGNAL_PREFIX + "certificate.revoked.v1"),
    fields=_MODE_FIELDS,
)
def certificate_revoked_signal(envelope: Envelope) -> list[Record]:
    """Signal: a certificate was revoked."""
    return _certificate(envelope, "revoked")
