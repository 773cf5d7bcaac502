"""Scope search api service."""
