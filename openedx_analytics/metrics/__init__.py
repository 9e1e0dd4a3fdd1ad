"""Metric engines: each recomputes one kind of aggregate scope from facts.

Every module keeps the arithmetic in pure functions (tested on their own) apart from
``recompute``, which reads facts and replaces the scope's aggregate rows.
"""
