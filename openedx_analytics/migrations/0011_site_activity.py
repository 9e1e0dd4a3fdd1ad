"""The site's and orgs' distinct weekly active learners (``SiteActivityWeek``), and the index they are counted by.

Learner-weeks stored before this migration are counted by the drain: a whole rebuild of the
site figures is marked here when there are any (``(site_activity, "", "*")``); until it
has run, the readers count at request time (``api.site.precomputed_scope``).
"""
from typing import Any

import openedx_analytics.models.fields
from django.db import migrations, models, router
from django.utils import timezone


def mark_site_rebuild(apps: Any, schema_editor: Any) -> None:
    """Mark the site figures for a whole rebuild when learner-weeks exist."""
    alias = schema_editor.connection.alias
    DirtyScope = apps.get_model("openedx_analytics", "DirtyScope")
    learner_weeks = apps.get_model("openedx_analytics", "ActivityLearnerWeek")
    if not router.allow_migrate_model(alias, DirtyScope) or not learner_weeks.objects.using(alias).exists():
        return
    DirtyScope.objects.using(alias).create(kind="site_activity", course_id="", key="*", created=timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('openedx_analytics', '0010_content_activity'),
    ]

    operations = [
        migrations.CreateModel(
            name='SiteActivityWeek',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('org', openedx_analytics.models.fields.CaseSensitiveCharField(blank=True, default='', max_length=255)),
                ('week', models.DateField()),
                ('any', models.IntegerField()),
                ('last_updated', models.DateTimeField()),
            ],
        ),
        migrations.AddIndex(
            model_name='activitylearnerweek',
            index=models.Index(fields=['kind', 'week', 'course_id', 'user_id'], name='oa_activitylearner_week'),
        ),
        migrations.AddConstraint(
            model_name='siteactivityweek',
            constraint=models.UniqueConstraint(fields=('org', 'week'), name='oa_siteweek_unique'),
        ),
        migrations.RunPython(mark_site_rebuild, migrations.RunPython.noop),
    ]
