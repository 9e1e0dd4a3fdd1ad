"""Metric engines: each turns one kind of fact into the aggregates we serve.

Every engine module has the same parts: a pure ``compute`` (facts, or a running tally of
per-learner contributions, in; figures out), a ``write`` that stores figures touching
only rows that differ, ``stored`` (the stored rows in ``compute``'s shape, which
``verify_analytics`` compares), and ``recompute(course_id, keys, now, using)``, which the
drain calls with the keys of a kind's dirty markers (``DirtyScope`` says what each key
names) and which starts from what changed rather than from the whole course.
"""
