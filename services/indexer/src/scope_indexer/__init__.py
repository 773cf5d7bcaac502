"""Scope indexer service."""
