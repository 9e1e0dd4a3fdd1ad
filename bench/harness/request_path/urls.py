"""URLs of ``bench.request_path``'s servers: the view that emits events, and the server's own timings."""
from django.urls import path

from bench.harness.request_path import views

urlpatterns = [
    path("bench/emit/<int:count>/", views.emit, name="bench-emit"),
    path("bench/stats/", views.stats, name="bench-stats"),
]
