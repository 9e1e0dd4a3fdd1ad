"""Every Celery task of the plugin, where Celery's autodiscovery looks for them (OEP-49: ``tasks.py``).

The LMS's Celery app imports ``<app>.tasks`` of each installed app; importing the task
modules here registers them all in its workers. The tasks themselves live with their layer:
``worker.tasks`` (event batches, recomputes, retention pruning), ``backfill.tasks`` (a
split backfill's chunks) and ``lms.outline`` (a course outline's build, off the request).
Task names are explicit and stable across such moves.
"""
from openedx_analytics.backfill.tasks import backfill_chunk
from openedx_analytics.lms.outline import build_course_outline
from openedx_analytics.worker.tasks import process_event_batch, prune_learner_data, recompute_dirty_scopes

__all__ = ["backfill_chunk", "build_course_outline", "process_event_batch", "prune_learner_data",
           "recompute_dirty_scopes"]
