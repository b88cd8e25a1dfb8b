"""golflint triage: every pull request of the challenge at a glance, with lineage.

repo.py reads git objects (no checkout), collect.py lists the submissions each ref touches,
analyze.py materializes one folder and runs check's engine on it (deduplicated by content),
fingerprint.py and lineage.py find each submission's nearest earlier ancestor by code similarity,
document.py assembles shard documents and merges them, render.py writes the reports.
"""

from pathlib import Path

# The JSON report's schema (also in docs/triage.schema.json).
SCHEMA_PATH = Path(__file__).with_name("triage.schema.json")
