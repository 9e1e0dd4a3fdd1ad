"""WSGI app for bench_page.py: the test host, with its static files served as runserver would."""
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application

application = StaticFilesHandler(get_wsgi_application())
