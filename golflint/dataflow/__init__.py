"""Dataflow over a submission's Python code: sources (validation data), sinks (updates, scores)."""
