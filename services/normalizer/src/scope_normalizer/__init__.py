"""Scope normalizer service."""
