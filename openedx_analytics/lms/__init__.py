"""The seam to edx-platform: everything we read from the LMS, split by concern.

``host`` decides where LMS models come from (the real LMS, or a stand-in app named by the
``OPENEDX_ANALYTICS_LMS_STAND_IN_APP`` setting, never imported by name); ``courses`` reads
course overviews (which courses exist, cached for the ingest) and outlines; ``roles``
the course access roles; ``flags`` the LMS's waffle flag overrides; ``history`` turns LMS
tables into raw events for backfills; ``retirement_signals`` finds the learner-retirement
signals; ``rollout`` and ``toggles`` are the gate the LMS's operators flip. No other package imports edx-platform.
"""
