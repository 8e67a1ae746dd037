"""Self-service account recovery that needs no person: recovery codes over SSH."""
