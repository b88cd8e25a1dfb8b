"""golflint in CI and on a GPU fleet: GitHub Actions workflows, SLURM job arrays, merged verify reports.

`workflows` writes the workflows a fork adopts (`golflint init ci`); `slurm` plans and submits one job
per submission with its seeds as an array (`golflint verify SUB... --submit slurm`); `collect` reads a
results folder back into one table (`golflint verify collect DIR`).
"""
