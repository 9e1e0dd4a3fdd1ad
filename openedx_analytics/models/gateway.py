"""Who may send learning events through the ingest gateway, and which batch items it has taken.

``GatewayCaller`` (one per service user, in the LMS default database like the
ConfigurationModels: it points at ``auth.User``) holds a sender's grants (kinds of events,
organizations, courses), its own throttle rate, its counts and its latest rejections, bounded.
``GatewayReceipt`` (analytics database) remembers, for a while, the items a sender had stored,
so a batch sent again changes nothing and is answered "duplicate" item by item.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

#: Rejections kept on a caller for operators to look at (the newest first); older ones are dropped.
LATEST_REJECTIONS = 20
#: The permission a service user needs besides its ``GatewayCaller`` row (``openedx_analytics.<codename>``).
SEND_PERMISSION = "send_learning_events"


def _words(text: str) -> list[str]:
    """The entries of a list field an operator types: separated by commas, spaces or lines."""
    return [word for word in text.replace(",", " ").split() if word]


class GatewayCaller(models.Model):
    """A system allowed to send learning events: what it may send, and what it has sent.

    .. pii: ``latest_rejections`` keeps the sender's own item ids and the reasons of its last
       rejected items, whose detail may quote a value of the item (a user id). At most
       LATEST_REJECTIONS entries, each replaced by newer ones.
    .. pii_types: id
    .. pii_retirement: retained
    """

    ANALYTICS_DEFAULT_DB = True

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="analytics_gateway_caller",
                                help_text="The service user the sender authenticates as (JWT or ingest key).")
    enabled = models.BooleanField(default=True)
    grants = models.CharField(
        max_length=200, default="activity video problems",
        help_text="Kinds of events it may send: activity, video, problems (an external tool's default), "
                  "enrollment, grades, certificates (only when granted here).")
    organizations = models.TextField(blank=True, default="",
                                     help_text="Organizations whose courses it may send events of (one per line).")
    courses = models.TextField(blank=True, default="",
                               help_text="Further single courses it may send events of (course ids, one per line).")
    throttle_rate = models.CharField(max_length=32, blank=True, default="",
                                     help_text="Requests it may make, e.g. 60/minute (empty: the site's setting).")
    accepted = models.BigIntegerField(default=0, editable=False)
    duplicates = models.BigIntegerField(default=0, editable=False)
    rejected = models.BigIntegerField(default=0, editable=False)
    last_seen = models.DateTimeField(null=True, blank=True, editable=False)
    latest_rejections = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        app_label = "openedx_analytics"
        permissions = [(SEND_PERMISSION, "Can send learning events through the ingest gateway")]

    def __str__(self) -> str:
        return f"ingest gateway caller {self.user}"

    @property
    def grant_set(self) -> frozenset[str]:
        """The kinds of events it may send."""
        return frozenset(_words(self.grants))

    @property
    def organization_set(self) -> frozenset[str]:
        """The organizations whose courses it may send events of."""
        return frozenset(_words(self.organizations))

    @property
    def course_set(self) -> frozenset[str]:
        """The single courses it may send events of."""
        return frozenset(_words(self.courses))

    def clean(self) -> None:
        """Refuse course ids that are not ids and rates that cannot be read (the admin checks the grants)."""
        super().clean()
        for course in self.course_set:
            try:
                CourseKey.from_string(course)
            except InvalidKeyError:
                raise ValidationError({"courses": f"Not a course id: {course[:100]}"}) from None
        count, _, period = self.throttle_rate.partition("/")
        if self.throttle_rate and not (count.strip().isdigit() and period[:1] in ("s", "m", "h", "d")):
            raise ValidationError({"throttle_rate": "Use <number>/<second|minute|hour|day>, e.g. 60/minute."})


class GatewayReceipt(models.Model):
    """An item a sender had stored: its key (a hash of its ``id``, or of its content without one).

    .. no_pii: A SHA-256 over the sender's item id or content, and the sending service user's id.
    """

    caller_id = models.BigIntegerField()
    key = models.CharField(max_length=64)
    created = models.DateTimeField()

    class Meta:
        app_label = "openedx_analytics"
        constraints = [models.UniqueConstraint(fields=["caller_id", "key"], name="oa_gwreceipt_unique")]
        indexes = [models.Index(fields=["caller_id", "created"], name="oa_gwreceipt_age")]
