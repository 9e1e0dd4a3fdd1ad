"""The Insights-compatible API (``/api/analytics/insights/v1/``): Insights' data API endpoints, parameters and
response shapes, answered from our own figures, so the Insights dashboard and ``edx-analytics-data-api-client``
keep working. See docs/insights.md.
"""
