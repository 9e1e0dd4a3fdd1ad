"""The live doors: events from inside LMS requests and tasks, handed to the workers without ever raising.

``tracking`` is the event-tracking backend; the openedx-events receivers sit in
``openedx_analytics.signals`` and hand over through the same ``dispatch``; ``publisher``
and ``broker`` carry batches to Celery off the request thread; ``retirement`` receives
the LMS's learner-retirement signals.
"""
