"""What the course outline needs besides names: graded subsections, assignment types, tags, the grading policy."""

import django.utils.timezone
import opaque_keys.edx.django.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("lms_stub", "0003_courseblock"),
    ]

    operations = [
        migrations.AddField(
            model_name="courseoverview",
            name="lowest_passing_grade",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True),
        ),
        migrations.AddField(
            model_name="courseoverview",
            name="modified",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="courseblock",
            name="graded",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="courseblock",
            name="format",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="courseblock",
            name="tags",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.CreateModel(
            name="CourseGradingPolicy",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("course_id", opaque_keys.edx.django.models.CourseKeyField(max_length=255, unique=True)),
                ("grader", models.JSONField(default=list)),
                ("grade_cutoffs", models.JSONField(default=dict)),
            ],
        ),
    ]
