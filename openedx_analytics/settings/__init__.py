"""Plugin settings hooks called by the LMS through edx-django-utils' ``add_plugins``."""
