"""Readers of real trial sources; each writes the same six tables."""
