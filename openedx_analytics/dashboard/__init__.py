"""The course analytics page and the instructor-dashboard section that embeds it.

One set of templates renders both: ``views`` serves the page at
``/analytics/courses/<course_id>/``; ``openedx_analytics.dashboard.filters`` puts the same content
into the legacy instructor dashboard and adds a tab to the instructor-dashboard MFE.
Numbers come from the public Python API (``openedx_analytics.api``) only, and who may
see them from the REST API's own permission and rollout rules (``access``).
"""
