"""URLs of bench_request_path.py's servers: the view that emits events, and the server's own timings."""
import request_path_views
from django.urls import path

urlpatterns = [
    path("bench/emit/<int:count>/", request_path_views.emit, name="bench-emit"),
    path("bench/stats/", request_path_views.stats, name="bench-stats"),
]
