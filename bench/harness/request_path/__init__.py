"""The servers ``bench.request_path`` starts: the test host with one variant of the plugin's doors and a timed view.

``settings`` (``DJANGO_SETTINGS_MODULE=bench.harness.request_path.settings``) picks the
variant from ``OA_BENCH_DOORS``; ``urls`` serves only the bench view of ``views``, which
emits events and adds up its own time; ``wsgi`` (``bench.harness.request_path.wsgi:application``)
times each request and our own code in it.
"""
