"""golflint verify: calibrated, sandboxed reproduction of a submission's claims."""
