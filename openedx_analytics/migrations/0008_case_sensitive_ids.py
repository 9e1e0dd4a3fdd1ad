"""Course, block, part and scope ids compare case-sensitively on MySQL/MariaDB too (``utf8mb4_bin``).

Under MySQL's default collations ``course-v1:org+X+1`` and ``course-v1:Org+X+1`` were one
course to every query and unique constraint. The fields become ``CaseSensitiveCharField``
(state), and on MySQL/MariaDB each table's id columns get the binary collation in one
``ALTER TABLE`` (one rebuild per table; its indexes and unique constraints are rebuilt with
it). Other databases compare text exactly already: nothing to do there. Rows keep their
values. Courses whose ids, or whose video or problem ids, differ only in case may have had
their aggregates merged: they are marked for a whole rebuild from their facts.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import migrations, router
from django.db.migrations.operations.base import Operation

from openedx_analytics.models.fields import BINARY_COLLATION, CaseSensitiveCharField

APP_LABEL = "openedx_analytics"
ID = {"max_length": 255}
SCOPE_KEY = {"max_length": 255, "blank": True, "default": ""}
#: Per model, its id columns and their field arguments (unchanged but for the field class).
IDS: dict[str, dict[str, dict[str, Any]]] = {
    "enrollmentfact": {"course_id": ID},
    "activityfact": {"course_id": ID},
    "videoeventfact": {"course_id": ID, "video_id": ID},
    "problemsubmissionfact": {"course_id": ID, "problem_id": ID},
    "gradefact": {"course_id": ID},
    "passingfact": {"course_id": ID},
    "certificatefact": {"course_id": ID},
    "videoviewer": {"course_id": ID, "video_id": ID},
    "problemlearner": {"course_id": ID, "problem_id": ID},
    "gradelearner": {"course_id": ID},
    "activitylearnerweek": {"course_id": ID},
    "enrollmentday": {"course_id": ID},
    "activityday": {"course_id": ID},
    "activityweek": {"course_id": ID},
    "videosummary": {"course_id": ID, "video_id": ID},
    "videosegment": {"course_id": ID, "video_id": ID},
    "videotally": {"course_id": ID, "video_id": ID},
    "problemsummary": {"course_id": ID, "problem_id": ID},
    "problemanswer": {"course_id": ID, "problem_id": ID, "part_id": ID},
    "problemanswertally": {"course_id": ID, "problem_id": ID, "answer_key": {"max_length": 40}, "part_id": ID},
    "coursegrades": {"course_id": {**ID, "unique": True}},
    "dirtyscope": {"course_id": ID, "key": SCOPE_KEY},
    "scopelock": {"course_id": ID, "key": SCOPE_KEY},
    "scopefailure": {"course_id": ID, "key": SCOPE_KEY},
}
#: Fact tables whose course ids are compared for spellings that differ only in case.
FACT_TABLES = ("EnrollmentFact", "ActivityFact", "VideoEventFact", "ProblemSubmissionFact", "GradeFact",
               "PassingFact", "CertificateFact")
#: Fact tables whose block ids are compared so: their block-id column and the dirty kind that rebuilds them.
BLOCK_FACTS = {"VideoEventFact": ("video_id", "video_user"), "ProblemSubmissionFact": ("problem_id", "problem")}
ALL_KINDS = ("video_user", "enrollment", "activity", "problem", "grades")


class BinaryCollation(Operation):
    """On MySQL/MariaDB, give the id columns of one model the binary collation in one ``ALTER TABLE``.

    Database only (the state change is the ``AlterField`` beside it); nothing on other
    databases, and nothing on a database the router keeps the model out of. Backwards, the
    columns take the table's default collation again (which fails on a duplicate key once a
    unique constraint holds ids differing only in case). The SQL shows in ``sqlmigrate``.
    """

    reversible = True

    def __init__(self, model_name: str, columns: tuple[str, ...]) -> None:
        self.model_name = model_name
        self.columns = columns

    def state_forwards(self, app_label: str, state: Any) -> None:
        """No state change of its own."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Columns to ``utf8mb4_bin``."""
        self._modify(app_label, schema_editor, from_state, BINARY_COLLATION)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Columns back to the table's default collation."""
        self._modify(app_label, schema_editor, from_state, None)

    def _modify(self, app_label: str, schema_editor: Any, state: Any, collation: str | None) -> None:
        connection = schema_editor.connection
        model = state.apps.get_model(app_label, self.model_name)
        if connection.vendor != "mysql" or not self.allow_migrate_model(connection.alias, model):
            return
        quote = schema_editor.quote_name
        collate = f" COLLATE {collation}" if collation else ""
        changes = []
        for name in self.columns:
            field = model._meta.get_field(name)
            changes.append(f"MODIFY {quote(field.column)} {field.db_type(connection)}{collate} NOT NULL")
        schema_editor.execute(f"ALTER TABLE {quote(model._meta.db_table)} {', '.join(changes)}")

    def describe(self) -> str:
        """As ``migrate`` lists it."""
        return f"Binary collation of {', '.join(self.columns)} on {self.model_name} (MySQL/MariaDB)"


def _courses_with_merged_ids(apps: Any, alias: str) -> set[str]:
    """Courses whose id another course's id equals but for case."""
    spellings: dict[str, set[str]] = defaultdict(set)
    for name in FACT_TABLES:
        model = apps.get_model(APP_LABEL, name)
        for course in model.objects.using(alias).values_list("course_id", flat=True).distinct().order_by():
            spellings[course.lower()].add(course)
    return {course for group in spellings.values() if len(group) > 1 for course in group}


def _courses_with_merged_blocks(apps: Any, alias: str) -> dict[str, set[str]]:
    """Per dirty kind, the courses with two block ids equal but for case."""
    found: dict[str, set[str]] = defaultdict(set)
    for name, (column, kind) in BLOCK_FACTS.items():
        model = apps.get_model(APP_LABEL, name)
        spellings: dict[tuple[str, str], set[str]] = defaultdict(set)
        pairs = model.objects.using(alias).values_list("course_id", column).distinct().order_by()
        for course, block in pairs:
            spellings[(course, block.lower())].add(block)
        found[kind].update(course for (course, _block), group in spellings.items() if len(group) > 1)
    return found


def rebuild_courses_with_merged_ids(apps: Any, schema_editor: Any) -> None:
    """Mark for a whole rebuild the aggregates a case-insensitive collation may have merged (MySQL only)."""
    DirtyScope = apps.get_model(APP_LABEL, "DirtyScope")
    alias = schema_editor.connection.alias
    if schema_editor.connection.vendor != "mysql" or not router.allow_migrate_model(alias, DirtyScope):
        return
    markers = {(kind, course) for course in _courses_with_merged_ids(apps, alias) for kind in ALL_KINDS}
    for kind, courses in _courses_with_merged_blocks(apps, alias).items():
        markers.update((kind, course) for course in courses)
    DirtyScope.objects.using(alias).bulk_create(
        [DirtyScope(kind=kind, course_id=course, key="*") for kind, course in sorted(markers)], batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("openedx_analytics", "0007_activity_learner_weeks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[BinaryCollation(model, tuple(fields)) for model, fields in IDS.items()],
            state_operations=[
                migrations.AlterField(model_name=model, name=name, field=CaseSensitiveCharField(**arguments))
                for model, fields in IDS.items() for name, arguments in fields.items()
            ],
        ),
        migrations.RunPython(rebuild_courses_with_merged_ids, migrations.RunPython.noop),
    ]
