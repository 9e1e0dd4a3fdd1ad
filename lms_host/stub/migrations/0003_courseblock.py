"""Course outline blocks (display names and order) for the analytics page outside the LMS."""

import opaque_keys.edx.django.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("lms_stub", "0002_waffle_flag_overrides"),
    ]

    operations = [
        migrations.CreateModel(
            name="CourseBlock",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("course_id", opaque_keys.edx.django.models.CourseKeyField(db_index=True, max_length=255)),
                ("usage_key", models.CharField(max_length=255, unique=True)),
                ("block_type", models.CharField(max_length=64)),
                ("display_name", models.CharField(blank=True, max_length=255)),
                ("parent", models.CharField(blank=True, default="", max_length=255)),
                ("position", models.PositiveIntegerField(default=0)),
            ],
        ),
    ]
