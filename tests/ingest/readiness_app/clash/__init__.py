"""An app whose readiness check names clash with ingest's and cannot be imported."""
