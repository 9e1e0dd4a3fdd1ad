"""The course overview's end date and pacing, which the site overview filters on."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("lms_stub", "0005_userprofile_learners"),
    ]

    operations = [
        migrations.AddField(
            model_name="courseoverview",
            name="end",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="courseoverview",
            name="self_paced",
            field=models.BooleanField(default=False),
        ),
    ]
