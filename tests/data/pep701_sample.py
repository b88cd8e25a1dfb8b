# Our own sample of Python 3.12 grammar that Python 3.11's ast cannot read (PEP 701), plus a BOM-free
# mix of ordinary code around it, so positions after each f-string can be compared too.
import os

cfg = {"name": "tiny", "steps": 20, "lr": 0.05}
tag = f"{cfg["name"]}-{cfg["steps"]}"; other = cfg["lr"]
print(f"run {tag}: lr={cfg["lr"]:.3f} steps={cfg['steps']:>{4}} env={os.environ.get("RUN_ID", "none")!r}")
msg = (
    f"nested {f"{cfg["name"]!s:^10}"} " "plain"
    f"{cfg["steps"]=}"
)
width = 12
table = f"""
name  {cfg["name"]:<{width}}
steps {cfg["steps"]}
"""
séparé = f"é {cfg["name"]} é"; after = len(séparé)
ok = f"{'ok'} {cfg}"
