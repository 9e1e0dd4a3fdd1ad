"""Each course's enrollment summary (``EnrollmentSummary``): its latest stored day and the count a week before.

The enrollment engine keeps the row from now on; the rows of courses whose days are stored
already are filled here from those days, as the engine would write them (about 3 s for 5,000
courses with a year of days each on MariaDB).
"""
import datetime as dt
from typing import Any

import openedx_analytics.models.fields
from django.db import migrations, models, router
from django.db.models import Max

#: Courses filled per query (keeps ``IN`` lists short).
CHUNK = 500


def fill_summaries(apps: Any, schema_editor: Any) -> None:
    """Write the summary row of every course with stored days, from its latest day and the day a week before."""
    alias = schema_editor.connection.alias
    days = apps.get_model("openedx_analytics", "EnrollmentDay")
    summary = apps.get_model("openedx_analytics", "EnrollmentSummary")
    if not router.allow_migrate_model(alias, summary):
        return
    latest = sorted(days.objects.using(alias).values_list("course_id").annotate(last=Max("date")).order_by())
    week = dt.timedelta(days=7)
    for start in range(0, len(latest), CHUNK):
        part = dict(latest[start:start + CHUNK])
        wanted = set(part.items()) | {(c, d - week) for c, d in part.items()}
        rows = {
            (r.course_id, r.date): r
            for r in days.objects.using(alias).filter(course_id__in=list(part), date__in={d for _c, d in wanted})
            if (r.course_id, r.date) in wanted
        }
        summary.objects.using(alias).bulk_create([
            summary(course_id=course, date=day, count=rows[course, day].count,
                    cumulative_count=rows[course, day].cumulative_count,
                    count_week_before=rows[course, day - week].count if (course, day - week) in rows else 0,
                    modes=rows[course, day].modes, last_updated=rows[course, day].last_updated)
            for course, day in part.items()
        ], ignore_conflicts=True)  # a row a worker wrote meanwhile is already the engine's


class Migration(migrations.Migration):

    dependencies = [
        ('openedx_analytics', '0011_site_activity'),
    ]

    operations = [
        migrations.CreateModel(
            name='EnrollmentSummary',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('course_id', openedx_analytics.models.fields.CaseSensitiveCharField(max_length=255, unique=True)),
                ('date', models.DateField()),
                ('count', models.IntegerField()),
                ('cumulative_count', models.IntegerField()),
                ('count_week_before', models.IntegerField()),
                ('modes', models.JSONField(default=dict)),
                ('last_updated', models.DateTimeField()),
            ],
        ),
        migrations.RunPython(fill_summaries, migrations.RunPython.noop),
    ]
