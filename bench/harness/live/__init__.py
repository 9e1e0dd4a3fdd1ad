"""The load harness of ``bench.live``: the processes of a run, the databases they share, and what is sampled.

- ``settings``: the Django settings of every process of a run
  (``DJANGO_SETTINGS_MODULE=bench.harness.live.settings``): the test host's, the analytics
  tasks on a queue of their own; ``heap_probe``, loaded by them in a soak's workers when
  ``--trace-python-heap`` asks for it.
- ``lms``: a simulated LMS, whose requests reach the plugin only through its real doors.
- ``generator`` and ``probe``: the load generator and the freshness probe, child processes
  (``python -m bench.harness.live.generator`` / ``.probe``).
- ``processes``: the workers, gunicorn and the load generators, stopped whatever happens.
- ``databases``: the run's live and backfill database pairs, and the comparison of their tables.
- ``backlog``: the queue and the dirty scopes over time, and the trends drawn from them.
- ``run``: one run, set up from the command line and taken down at its end.
- ``freshness``: runs the probe process for the freshness and quiet modes and summarizes its delays.
"""
