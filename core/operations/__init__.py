"""Running the system: health checks, backups and the data lifecycle, for operators."""
