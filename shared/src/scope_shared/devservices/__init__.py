"""Real backing services (OpenSearch, ...) started locally for development and tests."""
