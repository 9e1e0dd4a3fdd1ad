"""Code the test modules share: event builders, sample logs, snapshots of the API, worker processes.

Test modules import from here and nowhere else in ``tests``; fixtures live in the
``conftest.py`` nearest to the modules that use them and are asked for by name.
``tests/test_suite_imports.py`` holds the suite to that.
"""
