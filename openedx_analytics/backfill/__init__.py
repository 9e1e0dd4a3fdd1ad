"""Backfill: rebuild analytics history from tracking-log files and LMS tables.

The modules here only read inputs, cut them into resumable chunks and report progress;
every event still goes through the live path's normalizer and fact writers
(``pipeline.ingest``), which is what keeps backfilled numbers equal to live ones.
"""
