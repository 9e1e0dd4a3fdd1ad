"""Version of the Tutor plugin; it installs the openedx-analytics release of the same version by default."""
__version__ = "0.1.0"
