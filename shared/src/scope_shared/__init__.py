"""Scope's shared package: canonical schema, bus contract, settings, logging and errors.

Services import from here and never from each other.
"""

__version__ = "0.1.0"
