"""The LMS's user profile (``auth_userprofile``): the demographic columns the learners breakdowns read."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("lms_stub", "0004_outline_grading"),
    ]

    operations = [
        migrations.CreateModel(
            name="UserProfile",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year_of_birth", models.IntegerField(blank=True, db_index=True, null=True)),
                ("gender", models.CharField(blank=True, db_index=True, max_length=6, null=True)),
                ("level_of_education", models.CharField(blank=True, db_index=True, max_length=6, null=True)),
                ("country", models.CharField(blank=True, max_length=2, null=True)),
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="profile",
                                              to=settings.AUTH_USER_MODEL)),
            ],
            options={"db_table": "auth_userprofile"},
        ),
    ]
