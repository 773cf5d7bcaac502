"""Scope harvester service."""
