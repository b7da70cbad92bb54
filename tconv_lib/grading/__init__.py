"""Grading helpers for the nbgrader exercises: generated cases checked against Keras."""
