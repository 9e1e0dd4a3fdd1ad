from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('openedx_analytics', '0005_backfill_checkpoint_holder'),
    ]

    operations = [
        migrations.CreateModel(
            name='ScopeFailure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=16)),
                ('course_id', models.CharField(max_length=255)),
                ('key', models.CharField(blank=True, default='', max_length=255)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('error', models.TextField(blank=True, default='')),
                ('first_failed', models.DateTimeField(auto_now_add=True)),
                ('last_failed', models.DateTimeField(auto_now=True)),
                ('quarantined_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('kind', 'course_id', 'key'), name='oa_scopefailure_unique')],
                'indexes': [models.Index(fields=['course_id', 'kind'], name='oa_scopefailure_course')],
            },
        ),
        migrations.AddIndex(
            model_name='dirtyscope',
            index=models.Index(fields=['created'], name='oa_dirty_scope_created'),
        ),
    ]
