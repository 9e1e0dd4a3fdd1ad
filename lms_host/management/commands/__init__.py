"""Management commands of the demo host (``seed_demo``)."""
