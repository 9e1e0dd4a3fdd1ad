"""WSGI app of ``bench.page``'s server: the test host, with its static files served as runserver would.

``OA_BENCH_PAGE_CACHE_SECONDS`` sets ``OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS`` (0: every load renders).
"""
import os

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application

application = StaticFilesHandler(get_wsgi_application())
if "OA_BENCH_PAGE_CACHE_SECONDS" in os.environ:
    settings.OPENEDX_ANALYTICS_PAGE_CACHE_SECONDS = int(os.environ["OA_BENCH_PAGE_CACHE_SECONDS"])
