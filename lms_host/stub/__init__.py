"""Stand-ins for the edx-platform tables and roles openedx-analytics reads through ``compat.py``."""
