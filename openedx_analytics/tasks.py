"""Every Celery task of the plugin, where Celery's autodiscovery looks for them (OEP-49: ``tasks.py``).

The LMS's Celery app imports ``<app>.tasks`` of each installed app; importing the task
modules here registers them all in its workers. The tasks themselves live with their layer:
``worker.tasks`` (event batches, recomputes, retention pruning) and ``backfill.tasks``
(a split backfill's chunks). Task names are explicit and stable across such moves.
"""
from openedx_analytics.backfill.tasks import backfill_chunk
from openedx_analytics.worker.tasks import process_event_batch, prune_learner_data, recompute_dirty_scopes

__all__ = ["backfill_chunk", "process_event_batch", "prune_learner_data", "recompute_dirty_scopes"]
