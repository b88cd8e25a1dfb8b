"""The configuration a submission actually runs: README run commands, run.sh, setdefault, defaults."""
