"""Shared analyses that decide no verdict; every GL1xx/GL2xx rule reads these.

- semantics.py  THE vocabulary (no-grad contexts, training steps, losses, sources), from rules.toml
- index.py      one per-unit index: scopes, reaching definitions, parents, literal paths
- phases.py     WHEN code runs (training, evaluation, import time, a separate command), one call
                resolver, scoring loops
- ../dataflow   WHAT flows where (validation regions to updates, scores, caches, files)
"""
