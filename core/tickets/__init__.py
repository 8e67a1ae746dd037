"""Recovery tickets: creation and threading, the state machine, claims and notes."""
