"""The Celery side: tasks that store event batches, the drain that recomputes dirty scopes, and failure policy.

``tasks`` holds the live tasks; ``drain`` recomputes each dirty (kind, course) unit
through its engine under a lock; ``losses`` says what a lost batch held and how to
backfill it.
"""
