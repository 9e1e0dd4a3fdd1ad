"""The benchmarks of openedx-analytics: each module at this level is one script, run from the repository root.

Run a script as a module, ``python -m bench.<script> [--help]`` (for instance
``python -m bench.live ramp``), so that ``bench``, ``openedx_analytics``, the test host
(``lms_host``, ``test_settings``) and the tests' helpers all import from the checkout.
What the scripts share (the tracking-log generator, database set-up, the load harness, the
Django settings, URL confs and WSGI apps their servers and workers run on) is in
``bench.harness``. ``bench/README.md`` says which script measures what, and how each
figure of ``docs/benchmarks.md`` was made.
"""
