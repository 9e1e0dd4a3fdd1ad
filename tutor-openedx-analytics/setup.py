"""Packaging of the Tutor plugin that installs and configures openedx-analytics in a Tutor Open edX."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
ABOUT: dict = {}
exec((HERE / "tutoropenedxanalytics" / "__about__.py").read_text(encoding="utf-8"), ABOUT)  # noqa: S102

setup(
    name="tutor-contrib-openedx-analytics",
    version=ABOUT["__version__"],
    description="Tutor plugin for openedx-analytics: live course analytics inside the Open edX LMS",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="AGPL-3.0",
    packages=find_packages(),
    include_package_data=True,
    package_data={"tutoropenedxanalytics": ["patches/*", "templates/**/*"]},
    python_requires=">=3.9",
    install_requires=["tutor>=21,<23"],
    entry_points={"tutor.plugin.v1": ["openedx-analytics = tutoropenedxanalytics.plugin"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: GNU Affero General Public License v3",
    ],
)
