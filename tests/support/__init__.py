"""Test helpers that start real servers (PostgreSQL, ...) for the suite."""
