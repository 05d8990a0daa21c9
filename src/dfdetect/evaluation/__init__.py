"""Evaluation: scoring a split and writing the report."""
