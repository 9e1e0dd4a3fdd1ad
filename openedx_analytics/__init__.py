"""openedx-analytics: fast, trustworthy course analytics computed inside the Open edX LMS."""

__version__ = "0.1.0"
