"""Normalization of free text from the registry: doses and intervention names."""
