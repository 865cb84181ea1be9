"""Converters from outside formats into knowledge-base entries."""
