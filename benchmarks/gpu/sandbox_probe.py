"""Run inside verify's bubblewrap sandbox (see run_gpu_checks.sh): prints what the run can see and do as JSON."""
import os, socket, json
out = {}
try:
    import torch
    out["cuda"] = torch.cuda.is_available()
    out["gpu"] = torch.cuda.get_device_name(0) if out["cuda"] else None
    out["matmul_ok"] = float((torch.ones(64, 64, device="cuda") @ torch.ones(64, 64, device="cuda")).sum()) if out["cuda"] else None
except Exception as exc:
    out["torch_error"] = repr(exc)
out["dev"] = sorted(os.listdir("/dev"))
out["root_dirs"] = sorted(os.listdir("/"))
out["pid"] = os.getpid()
out["visible_pids"] = len([p for p in os.listdir("/proc") if p.isdigit()])
def can_write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        os.remove(path)
        return True
    except OSError as exc:
        return f"no ({exc.strerror})"
out["write_cwd"] = can_write("probe_file")
out["write_tmp"] = can_write("/tmp/probe_file")
for p in ("/root/probe", "/etc/probe", "/usr/probe", "/opt/probe", "/home/probe"):
    out["write " + p] = can_write(p)
try:
    out["etc_shadow_bytes"] = len(open("/etc/shadow", "rb").read())
except OSError as exc:
    out["etc_shadow_bytes"] = f"no ({exc.strerror})"
for target in (("1.1.1.1", 53), ("127.0.0.1", 22)):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(target)
        out[f"connect {target}"] = "connected"
    except OSError as exc:
        out[f"connect {target}"] = f"refused ({exc})"[:120]
    finally:
        s.close()
out["hostname"] = socket.gethostname()
out["env_keys"] = sorted(os.environ)
print(json.dumps(out, indent=1))
