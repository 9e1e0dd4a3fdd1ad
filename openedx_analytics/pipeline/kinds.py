"""The registry of record kinds: everything the package knows per kind of record, in one place.

Per record type: the label operators see, the fact table it is stored in (named by the
record's ``fact_model``), the columns its fact rows fill and how a record gives them, the
dirty-scope kinds it feeds and how a record gives the key of each, and the column that
dates its rows. The fact writer, the ingest routine's dry run, retirement and retention
all read it, so adding a kind of fact is one entry here (and its record and model).

Besides the fact tables, the engines keep per-learner rows (``ENGINE_LEARNER_TABLES``);
``LEARNER_TABLES`` lists every table naming a learner with the scope kinds its rows feed,
the one list retirement deletes from and retention de-identifies.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models as django_models

from openedx_analytics import models
from openedx_analytics.models import (
    ActivityLearnerWeek,
    DirtyScope,
    GradeLearner,
    ProblemLearner,
    VideoViewer,
)
from openedx_analytics.pipeline import markers
from openedx_analytics.pipeline.markers import Scope
from openedx_analytics.pipeline.records import (
    Activity,
    CertificateChange,
    ContentVisit,
    EnrollmentChange,
    GradeChange,
    PartQuestion,
    PassingChange,
    ProblemSubmission,
    Record,
    VideoEvent,
)

#: The name of the column holding a fact's identity (the last column of a fingerprinted fact row).
FINGERPRINT = "fingerprint"
#: The column of a fingerprinted fact naming where it came from; the fact writer fills it, not the record.
SOURCE = "source"


@dataclass(frozen=True, eq=False)  # one instance per kind: compared and hashed by identity
class RecordKind:
    """What the package knows about one record type.

    ``rows`` gives the record's fact rows in ``columns`` order (one row per record, the
    fingerprint last; activity gives one row per kind of activity). ``feeds`` pairs each
    dirty-scope kind the record changes with how the record gives that marker's key.
    ``dated_by`` is the column that dates a stored row (retention reads it).
    """

    record: type
    label: str
    model: type[django_models.Model]
    columns: tuple[str, ...]
    rows: Callable[[Record], tuple[tuple, ...]]
    feeds: tuple[tuple[str, Callable[[Record], str]], ...]
    dated_by: str

    @property
    def fingerprinted(self) -> bool:
        """Whether its rows carry a fingerprint (their identity), the last of ``columns``."""
        return self.columns[-1] == FINGERPRINT

    @property
    def stored_columns(self) -> tuple[str, ...]:
        """The columns a fact row is written with: ``columns``, and a fingerprinted fact's ``SOURCE`` after them."""
        return (*self.columns, SOURCE) if self.fingerprinted else self.columns

    @property
    def names_learner(self) -> bool:
        """Whether its rows name a learner (``user_id``): retirement and retention read those tables only."""
        return any(field.name == "user_id" for field in self.model._meta.concrete_fields)

    @property
    def scope_kinds(self) -> tuple[str, ...]:
        """The dirty-scope kinds its records change (a rebuild of these covers everything it fed)."""
        return tuple(kind for kind, _key in self.feeds)

    def scopes(self, record: Record) -> list[Scope]:
        """The markers of the aggregates ``record`` can change, keyed as ``DirtyScope`` describes."""
        return [(kind, record.course_id, key(record)) for kind, key in self.feeds]

    def whole_course_scopes(self, course_id: str) -> list[Scope]:
        """The markers rebuilding every aggregate its rows of ``course_id`` fed (what bulk writers mark)."""
        return [markers.whole_course(kind, course_id) for kind in self.scope_kinds]


def _kind(record: type, label: str, columns: tuple[str, ...], rows: Callable[[Record], tuple[tuple, ...]],
          feeds: tuple[tuple[str, Callable[[Record], str]], ...], dated_by: str = "time") -> RecordKind:
    return RecordKind(record, label, getattr(models, record.fact_model), columns, rows, feeds, dated_by)


def _grades_key(record: Record) -> str:
    return markers.user_key(record.user_id)


_GRADES = ((DirtyScope.GRADES, _grades_key),)

#: record type -> its kind. The order is the order fact tables are written in (one order for
#: every writer: fewer lock waits between concurrent batches).
KINDS: dict[type, RecordKind] = {kind.record: kind for kind in (
    _kind(EnrollmentChange, "enrollment", ("course_id", "user_id", "time", "is_active", "mode", FINGERPRINT),
          lambda r: ((r.course_id, r.user_id, r.time, r.is_active, r.mode, r.fingerprint()),),
          ((DirtyScope.ENROLLMENT, lambda r: markers.day_key(r.time.date())), *_GRADES)),
    _kind(GradeChange, "grade", ("course_id", "user_id", "time", "percent", FINGERPRINT),
          lambda r: ((r.course_id, r.user_id, r.time, r.percent, r.fingerprint()),), _GRADES),
    _kind(PassingChange, "passing", ("course_id", "user_id", "time", "is_passing", FINGERPRINT),
          lambda r: ((r.course_id, r.user_id, r.time, r.is_passing, r.fingerprint()),), _GRADES),
    _kind(CertificateChange, "certificate", ("course_id", "user_id", "time", "mode", "status", FINGERPRINT),
          lambda r: ((r.course_id, r.user_id, r.time, r.mode, r.status, r.fingerprint()),), _GRADES),
    _kind(ProblemSubmission, "problem",
          ("course_id", "problem_id", "user_id", "time", "attempt", "correct", "answers", FINGERPRINT),
          lambda r: ((r.course_id, r.problem_id, r.user_id, r.time, r.attempt, r.correct, r.answers_json(),
                      r.fingerprint()),),
          ((DirtyScope.PROBLEM, lambda r: markers.learner_key(r.user_id, r.problem_id)),)),
    # Course content, no learner: read as it is (a part's latest text, by the problem response report).
    _kind(PartQuestion, "problem question",
          ("course_id", "problem_id", "part_id", "time", "question", FINGERPRINT),
          lambda r: ((r.course_id, r.problem_id, r.part_id, r.time, r.question, r.fingerprint()),), ()),
    _kind(VideoEvent, "video",
          ("course_id", "video_id", "user_id", "time", "action", "position", "old_time", "new_time", "duration",
           FINGERPRINT),
          lambda r: ((r.course_id, r.video_id, r.user_id, r.time, r.action, r.position, r.old_time, r.new_time,
                      r.duration, r.fingerprint()),),
          ((DirtyScope.VIDEO_USER, lambda r: markers.learner_key(r.user_id, r.video_id)),)),
    _kind(Activity, "activity", ("course_id", "day", "kind", "user_id"),
          lambda r: tuple((r.course_id, r.day, kind, r.user_id) for kind in r.kinds),
          ((DirtyScope.ACTIVITY, lambda r: markers.learner_day_key(r.user_id, r.day)),), dated_by="day"),
    # Read as they are (distinct learners over a range, at read time): no aggregate to mark dirty.
    _kind(ContentVisit, "content activity", ("course_id", "node_id", "kind", "day", "user_id"),
          lambda r: tuple((r.course_id, part, kind, r.day, r.user_id) for part in r.parts for kind in r.kinds),
          (), dated_by="day"),
)}

#: The engines' per-learner rows (what each learner last added to a course's tallies) -> the scope kinds
#: whose aggregates they make up.
ENGINE_LEARNER_TABLES: dict[type[django_models.Model], tuple[str, ...]] = {
    VideoViewer: (DirtyScope.VIDEO_USER,),
    GradeLearner: (DirtyScope.GRADES,),
    ProblemLearner: (DirtyScope.PROBLEM,),
    ActivityLearnerWeek: (DirtyScope.ACTIVITY,),
}

#: Every table whose rows name a learner (``user_id``) -> the scope kinds whose aggregates count those rows.
LEARNER_TABLES: dict[type[django_models.Model], tuple[str, ...]] = {
    **{kind.model: kind.scope_kinds for kind in KINDS.values() if kind.names_learner},
    **ENGINE_LEARNER_TABLES,
}
