"""Outgoing mail: template rendering, the transactional outbox and its sender."""
