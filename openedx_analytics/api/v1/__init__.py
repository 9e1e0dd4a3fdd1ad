"""Version 1 of the analytics REST API (``/api/analytics/v1/``): every metric, per course, read-only."""
