"""Stand-ins for the edx-platform tables and roles openedx-analytics reads through ``openedx_analytics.lms``."""
