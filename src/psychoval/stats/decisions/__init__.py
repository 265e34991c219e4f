"""Decisions on scores (issue 20): classification consistency and accuracy at cut scores,
conditional measurement error and subscore added value."""
