"""Enrolled learners without a grade yet are counted apart from the 0-9 bucket (``CourseGrades.not_graded``)."""

from django.db import migrations, models, router


def rebuild_grades_of_every_course(apps, schema_editor):
    """Mark every course with grade figures for one whole rebuild: its ungraded learners leave the 0-9 bucket."""
    DirtyScope = apps.get_model("openedx_analytics", "DirtyScope")
    CourseGrades = apps.get_model("openedx_analytics", "CourseGrades")
    alias = schema_editor.connection.alias
    if not router.allow_migrate_model(alias, DirtyScope):
        return
    courses = CourseGrades.objects.using(alias).values_list("course_id", flat=True).order_by("course_id")
    DirtyScope.objects.using(alias).bulk_create(
        [DirtyScope(kind="grades", course_id=course, key="*") for course in courses], batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("openedx_analytics", "0008_case_sensitive_ids"),
    ]

    operations = [
        migrations.AddField(
            model_name="coursegrades",
            name="not_graded",
            field=models.IntegerField(default=0),
        ),
        migrations.RunPython(rebuild_grades_of_every_course, migrations.RunPython.noop),
    ]
