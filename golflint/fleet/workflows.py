"""GitHub Actions workflows for a fork of the challenge repository (`golflint init ci`).

Two files, so that the light check runs on GitHub's runners for every pull request and only the GPU
verify job needs the fork's self-hosted runner:

- golflint-check.yml: on every pull request that touches `records/`, `golflint check` on the touched
  submissions: annotations on the diff (`--format github`), SARIF uploaded to code scanning, and a job
  that fails on errors, to be marked a required status in branch protection.
- golflint-verify.yml: on the `verify` label (or a manual dispatch naming a folder), `golflint verify
  --gpus N` on the self-hosted GPU runner, with the Markdown report as the job summary and the
  reports as an artifact.

The YAML is written from templates (no YAML library needed at run time); tests validate it against
GitHub's workflow schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__

DEFAULT_RUNNER_LABELS = ("self-hosted", "linux", "gpu")
DEFAULT_INSTALL = f"golflint @ git+https://github.com/golflint/golflint@v{__version__}"
WORKFLOW_DIR = Path(".github") / "workflows"
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


@dataclass
class CiOptions:
    runner_labels: tuple[str, ...] = DEFAULT_RUNNER_LABELS
    gpus: int = 8
    install: str = DEFAULT_INSTALL           # a pip requirement for golflint
    python: str = "3.12"
    verify_label: str = "verify"
    timeout_minutes: int = 180
    extra_verify_args: list[str] = field(default_factory=list)

    def validate(self) -> list[str]:
        problems = [f"runner label {label!r} is not a plain label (letters, digits, _ . : -)"
                    for label in self.runner_labels if not _LABEL.match(label)]
        if not self.runner_labels:
            problems.append("at least one runner label is needed")
        if not _LABEL.match(self.verify_label):
            problems.append(f"label {self.verify_label!r} is not a plain label")
        if not re.fullmatch(r"3\.\d{1,2}", self.python):
            problems.append(f"python {self.python!r} is not a version such as 3.12")
        if any(c in self.install for c in "'\n\r"):
            problems.append("the install requirement may not contain quotes or newlines")
        return problems


def _quote(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Files of the pull request under records/, one per line, for `golflint check FILE...` (which maps files
# to their submission folders, as the pre-commit hook does). Deleted files are left out.
_TOUCHED = '''git diff --name-only --diff-filter=d "origin/${BASE_REF}...HEAD" -- records/ > "$RUNNER_TEMP/touched.txt"
          echo "count=$(wc -l < "$RUNNER_TEMP/touched.txt")" >> "$GITHUB_OUTPUT"
          cat "$RUNNER_TEMP/touched.txt"'''


def check_workflow(options: CiOptions) -> str:
    return f"""# Written by `golflint init ci` (golflint {__version__}). Re-run it to update; see golflint's docs/ci.md.
name: golflint check

on:
  pull_request:
    paths:
      - "records/**"

permissions:
  contents: read
  security-events: write    # upload SARIF to code scanning

concurrency:
  group: golflint-check-${{{{ github.event.pull_request.number }}}}
  cancel-in-progress: true

jobs:
  check:
    # Mark "golflint check" as a required status check in the branch protection rules.
    name: golflint check
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: {_quote(options.python)}
      - name: Install golflint
        run: python -m pip install {_quote(options.install)}
      - name: Submissions touched by this pull request
        id: touched
        env:
          BASE_REF: ${{{{ github.base_ref }}}}
        run: |
          {_TOUCHED}
      - name: golflint check (SARIF for code scanning)
        if: steps.touched.outputs.count != '0'
        run: xargs -d '\\n' golflint check --format sarif --output golflint.sarif --exit-zero < "$RUNNER_TEMP/touched.txt"
      - name: Upload SARIF
        if: always() && steps.touched.outputs.count != '0'
        uses: github/codeql-action/upload-sarif@v3
        with:
          sarif_file: golflint.sarif
          category: golflint
      - name: golflint check (annotations; fails on errors)
        if: steps.touched.outputs.count != '0'
        run: xargs -d '\\n' golflint check --format github < "$RUNNER_TEMP/touched.txt"
"""


def verify_workflow(options: CiOptions) -> str:
    labels = ", ".join(_quote(label) for label in options.runner_labels)
    extra = "".join(f" {_quote(arg)}" for arg in options.extra_verify_args)
    install = options.install
    if "[" not in install.split("@")[0]:
        name, sep, rest = install.partition(" @ ")
        install = f"{name}[torch]{sep}{rest}" if sep else f"{install}[torch]"
    return f"""# Written by `golflint init ci` (golflint {__version__}). Re-run it to update; see golflint's docs/ci.md.
# Runs submissions from pull requests on your GPU runner, inside golflint verify's sandbox
# (bubblewrap: read-only system, no network, only its own copy writable). It needs no secrets.
name: golflint verify

on:
  pull_request:
    types: [labeled]
  workflow_dispatch:
    inputs:
      submission:
        description: "Submission folder to verify (e.g. records/track_10min_16mb/2026-01-01_MyRun)"
        required: true
        type: string
      seeds:
        description: "Comma-separated seeds (default: the seeds the submission claims)"
        required: false
        type: string
        default: ""

permissions:
  contents: read

concurrency:
  group: golflint-verify-${{{{ github.event.pull_request.number || github.run_id }}}}
  cancel-in-progress: false

jobs:
  verify:
    name: golflint verify
    # Only a maintainer's label (or a manual run) starts a GPU job.
    if: github.event_name == 'workflow_dispatch' || github.event.label.name == {_quote(options.verify_label).replace('"', "'")}
    runs-on: [{labels}]
    timeout-minutes: {options.timeout_minutes}
    env:
      DATA_PATH: ${{{{ vars.GOLFLINT_DATA_PATH || './data/datasets/fineweb10B_sp1024' }}}}
      TOKENIZER_PATH: ${{{{ vars.GOLFLINT_TOKENIZER_PATH || './data/tokenizers/fineweb_1024_bpe.model' }}}}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - name: Install golflint
        run: python3 -m pip install {_quote(install)}
      - name: Submissions to verify
        env:
          BASE_REF: ${{{{ github.base_ref }}}}
          INPUT_SUBMISSION: ${{{{ inputs.submission }}}}
        run: |
          if [ -n "$INPUT_SUBMISSION" ]; then
            printf '%s\\n' "$INPUT_SUBMISSION" > "$RUNNER_TEMP/subs.txt"
          else
            git diff --name-only --diff-filter=d "origin/${{BASE_REF}}...HEAD" -- records/ \\
              | awk -F/ 'NF >= 4 {{ print $1 "/" $2 "/" $3 }}' | sort -u > "$RUNNER_TEMP/subs.txt"
          fi
          cat "$RUNNER_TEMP/subs.txt"
      - name: golflint verify --gpus {options.gpus}
        env:
          INPUT_SEEDS: ${{{{ inputs.seeds }}}}
        run: |
          mkdir -p golflint-reports
          status=0
          while IFS= read -r sub; do
            [ -n "$sub" ] || continue
            name=$(basename "$sub")
            seeds=()
            [ -n "$INPUT_SEEDS" ] && seeds=(--seeds "$INPUT_SEEDS")
            golflint verify "$sub" --gpus {options.gpus} "${{seeds[@]}}"{extra} \\
              --report "golflint-reports/$name.md" --format json > "golflint-reports/$name.json" || status=$?
          done < "$RUNNER_TEMP/subs.txt"
          exit $status
      - name: Job summary
        if: always()
        run: cat golflint-reports/*.md >> "$GITHUB_STEP_SUMMARY" 2>/dev/null || true
      - name: Upload reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: golflint-verify-reports
          path: golflint-reports/
          if-no-files-found: warn
"""


def workflows(options: CiOptions) -> dict[Path, str]:
    return {WORKFLOW_DIR / "golflint-check.yml": check_workflow(options),
            WORKFLOW_DIR / "golflint-verify.yml": verify_workflow(options)}


def write_workflows(root: Path, options: CiOptions, force: bool = False) -> list[tuple[Path, str]]:
    """Write the workflows under ROOT; returns (path, "written" | "unchanged" | "exists") per file.

    An existing file with other content is left alone unless `force`: a fork's own edits are never
    overwritten silently.
    """
    outcome: list[tuple[Path, str]] = []
    for rel, text in workflows(options).items():
        path = root / rel
        if path.is_symlink() or (path.exists() and not path.is_file()):
            outcome.append((path, "exists"))
            continue
        if path.is_file():
            try:
                current = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                current = None
            if current == text:
                outcome.append((path, "unchanged"))
                continue
            if not force:
                outcome.append((path, "exists"))
                continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        outcome.append((path, "written"))
    return outcome
