"""What the plugin does with personal data over time: retirement deletes a learner, retention de-identifies.

Both work on stored rows only; sending recomputes belongs to the callers (``live.retirement``,
the worker's tasks).
"""
