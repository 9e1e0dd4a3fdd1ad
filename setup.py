"""Packaging for openedx-analytics, a course-analytics plugin for the Open edX LMS."""
from setuptools import find_packages, setup

setup(
    name="openedx-analytics",
    version="0.1.0",
    description="Live course analytics inside the Open edX LMS: events in, aggregates out, no separate data platform.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="AGPL-3.0",
    packages=find_packages(include=["openedx_analytics", "openedx_analytics.*"]),
    include_package_data=True,
    # Everything the package reads at run time besides code (tests/test_wheel.py checks the built wheel).
    package_data={"openedx_analytics": ["templates/**/*", "static/**/*", "locale/**/*", "conf/locale/**/*",
                                        "api/v1/openapi.yaml", "dashboard/world_map.json"]},
    python_requires=">=3.11",
    install_requires=[
        "Django>=4.2,<6.0",
        "celery>=5.2,<6",
        "django-crum>=0.7",
        "django-config-models>=2.5,<4",
        "django-waffle>=4.0",
        "djangorestframework>=3.14",
        "drf-spectacular>=0.27,<1",
        "edx-django-utils>=5.10",
        "edx-drf-extensions>=9.0",
        "edx-opaque-keys[django]>=2.5,<5",
        "edx-toggles>=5.4,<7",
        "event-tracking>=3.3,<5",
        "openedx-events>=10,<12",
        "openedx-filters>=2.1,<4",
        "orjson>=3.9",
        "tqdm>=4.60",
        "web-fragments>=2.0",
    ],
    entry_points={
        "lms.djangoapp": [
            "openedx_analytics = openedx_analytics.apps:OpenedxAnalyticsConfig",
        ],
    },
    classifiers=[
        "Framework :: Django",
        "Framework :: Django :: 5.2",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
    ],
)
