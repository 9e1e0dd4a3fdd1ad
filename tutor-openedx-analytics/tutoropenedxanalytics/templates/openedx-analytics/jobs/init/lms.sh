# openedx-analytics: configuration tables in the LMS database, analytics tables in their own.
./manage.py lms migrate openedx_analytics
./manage.py lms migrate openedx_analytics --database {{ OPENEDX_ANALYTICS_DATABASE_ALIAS }}
