"""Every event name the pipeline accepts, one module per family, gathered in ``registry``.

A name's registration says how it is read (its normalizer), who may assert it (its
sources), which payload fields may be read (its allow-list) and, for openedx-events
signals, which signal it comes from. The doors' filters and allow-lists, the signals the
app connects and the normalizer's choice of function are all derived from ``registry``.
"""
