"""Where a submission's code runs: a bubblewrap (`bwrap`) sandbox, or nothing at all for trusted code.

The sandbox (mode "bwrap", the default) gives each run:

- a read-only view of the system: /usr, /etc (minus its secrets), the library and binary folders,
  /sys, the Python installation that runs verify (its prefix, base prefix and site-packages), and
  nothing else of the host (no /root, /home, /work, /var, other repositories);
- the run's copy of the submission as its only writable host folder, a private tmpfs /tmp and
  /dev/shm, and the data and tokenizer bound read-only at the paths the run is given;
- new user, network (loopback only, no route), PID, IPC, UTS and cgroup namespaces, no capabilities,
  a new session (no terminal injection) and --die-with-parent: when the run's first process exits or
  verify kills the sandbox, the kernel kills every process of the PID namespace, daemons included,
  and nothing inside can see (or signal) verify;
- the GPUs' device nodes (/dev/nvidia*) when the run uses GPUs;
- resource limits (address space on CPU runs, file size, processes) from the [verify] settings,
  plus verify's wall-clock timeout.

Network attempts are observed by a guard (sitecustomize.py, bound read-only, so the run cannot edit
it) that installs an audit hook in every Python process of the run: the hook sees every socket
connect/sendto/sendmsg and name lookup (the `socket` module and raw `_socket` alike), refuses the
non-local ones and reports each over a FIFO that verify reads from outside. Audit hooks cannot be
removed from inside the process. Each Python process also reports when it starts and when it exits,
so a record that was cut (the report channel closed, the process killed or `os._exit`ed) shows as
incomplete and the network verdict becomes "unknown", never "pass". Programs that are not Python (curl),
and Python started without the guard (`-I`, `-S`, a cleared PYTHONPATH), are not observed: their
attempts fail (the namespace has no route) but cannot be counted; the docs say so.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import GolflintError

MODES = ("bwrap", "none")
NET_FIFO_ENV = "GOLFLINT_NET_FIFO"
INSTALL_HINT = ("install bubblewrap (`apt-get install -y bubblewrap` on Debian/Ubuntu, "
                "`dnf install -y bubblewrap` on Fedora/RHEL) and allow user namespaces "
                "(sysctl kernel.unprivileged_userns_clone=1 where that knob exists)")
# Read-only system folders (each bound when it exists; a symlink such as /bin -> usr/bin is recreated).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
# Files under /etc that hold secrets: hidden behind /dev/null (folders behind an empty tmpfs).
SECRET_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers",
                "/etc/security/opasswd")
SECRET_DIRS = ("/etc/ssh", "/etc/sudoers.d", "/etc/ssl/private")
# Environment variables a run inherits from verify's own environment; everything else (tokens,
# credentials, proxies) stays outside.
ENV_PASSTHROUGH = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "LD_LIBRARY_PATH", "CUDA_HOME")
ENV_PASSTHROUGH_PREFIXES = ("LC_", "CUDA_", "NCCL_", "NVIDIA_", "TORCH_", "TORCHINDUCTOR_", "PYTORCH_",
                            "TRITON_", "OMP_", "MKL_", "OPENBLAS_")
# Bytes of attempt records read per run; more is itself a sign of a hostile run.
MAX_RECORD_BYTES = 4 * 1024 * 1024

GUARD_SOURCE = r'''
# Installed by `golflint verify` (read-only inside the sandbox): refuses network access from this
# run and reports every attempt, this process's start and its exit to verify over a FIFO.
import json as _json
import os as _os
import sys as _sys


def _open_channel():
    path = _os.environ.get("GOLFLINT_NET_FIFO")
    if not path:
        return None
    try:
        return _os.open(path, _os.O_WRONLY | _os.O_CLOEXEC)
    except OSError:
        return None


_FD = _open_channel()
_PID = _os.getpid()
_LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
import socket as _socket
try:
    _LOCAL_NAMES.add(_socket.gethostname())
except OSError:
    pass
_INET = (int(_socket.AF_INET), int(_socket.AF_INET6))


def _send(entry):
    if _FD is None:
        return
    line = _json.dumps(entry, default=str)[:3000] + "\n"
    try:
        _os.write(_FD, line.encode("utf-8", "replace"))
    except OSError:
        pass


def _text(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("ascii", "replace")
    return "" if value is None else str(value)


def _local_host(host):
    text = _text(host).strip().lower().rstrip(".")
    if text in _LOCAL_NAMES:
        return True
    return text.startswith("127.") or text in ("::1", "0.0.0.0", "::", "::ffff:127.0.0.1")


def _caller():
    try:
        frame = _sys._getframe(3)
        cwd = _os.getcwd()
    except Exception:
        return None
    while frame is not None:
        name = frame.f_code.co_filename
        if name != __file__ and (name.startswith(cwd) or not _os.path.isabs(name)):
            rel = _os.path.relpath(name, cwd) if _os.path.isabs(name) else name
            return "%s:%d" % (rel, frame.f_lineno)
        frame = frame.f_back
    return None


def _refuse(call, target, lookup=False):
    _send({"event": "attempt", "call": call, "target": target, "pid": _os.getpid(), "where": _caller()})
    message = "network access is disabled by golflint verify (%s %s)" % (call, target)
    if lookup:
        raise _socket.gaierror(_socket.EAI_NONAME, message)
    raise OSError(101, message)


def _remote_address(sock, address):
    try:
        family = int(sock.family)
    except Exception:
        return None
    if family not in _INET or not isinstance(address, tuple) or len(address) < 2:
        return None
    if _local_host(address[0]):
        return None
    return "%s:%s" % (_text(address[0]), address[1])


def _hook(event, args):
    if not event.startswith("socket."):
        return
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        target = _remote_address(args[0], args[1])
        if target is not None:
            _refuse(event[7:], target)
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"):
        host = args[0]
        if event == "socket.getnameinfo" and isinstance(host, tuple):
            host = host[0] if host else ""
        if not _local_host(host):
            _refuse(event[7:], _text(host), lookup=True)


def _bye():
    if _os.getpid() == _PID:
        _send({"event": "exit", "pid": _PID})


_send({"event": "start", "pid": _PID, "argv": [_text(a)[:200] for a in _sys.argv[:4]]})
_sys.addaudithook(_hook)
import atexit as _atexit
_atexit.register(_bye)


def _chain():
    """Run the sitecustomize this one shadows, if the interpreter has one."""
    import importlib.machinery
    import importlib.util

    here = _os.path.dirname(_os.path.abspath(__file__))
    others = [p for p in _sys.path if _os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_chain()
'''


class SandboxUnavailable(GolflintError):
    """The sandbox cannot run here; verify refuses (exit 2) rather than run untrusted code bare."""


@dataclass(frozen=True)
class Limits:
    """Resource limits set on the sandbox's first process and inherited by all of the run's."""
    address_space_bytes: int = 0     # 0: none
    file_bytes: int = 0
    processes: int = 0

    def describe(self) -> str:
        parts = []
        if self.address_space_bytes:
            parts.append(f"address space {self.address_space_bytes / 2**30:g} GiB")
        if self.file_bytes:
            parts.append(f"file size {self.file_bytes / 2**30:g} GiB")
        if self.processes:
            note = " (not applied to root by the kernel)" if os.geteuid() == 0 else ""
            parts.append(f"processes {self.processes}{note}")
        return ", ".join(parts) or "none"

    def apply(self) -> None:
        """In the child between fork and exec (Popen preexec_fn): lower soft and hard limits."""
        for kind, value in ((resource.RLIMIT_AS, self.address_space_bytes),
                            (resource.RLIMIT_FSIZE, self.file_bytes),
                            (resource.RLIMIT_NPROC, self.processes)):
            if value:
                resource.setrlimit(kind, (value, value))


@dataclass
class NetworkRecord:
    """What the guards of one run reported: attempts, and which processes started and exited."""
    attempts: list[dict] = field(default_factory=list)
    started: set[int] = field(default_factory=set)
    exited: set[int] = field(default_factory=set)
    malformed: int = 0
    truncated: bool = False

    def problem(self) -> str | None:
        """Why the record cannot prove "no attempt" (None when it can)."""
        if self.malformed:
            return f"{self.malformed} unreadable line(s) in the guard's report: it was tampered with"
        if self.truncated:
            return "the guard's report was larger than verify reads"
        if not self.started:
            return "no Python process of the run reported to the guard (it was not loaded, or its report was cut)"
        missing = sorted(self.started - self.exited)
        if missing:
            return (f"{len(missing)} Python process(es) of the run did not report their exit (killed, "
                    "os._exit, or the guard's channel closed), so attempts after that are unknown")
        return None


class NetworkListener:
    """Reads a FIFO that only the guards write to (the run can open it for writing, never for reading)."""

    def __init__(self, fifo: Path):
        self.fifo = fifo
        self.record = NetworkRecord()
        fifo.unlink(missing_ok=True)
        os.mkfifo(fifo, 0o600)
        self._read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        # Our own writer keeps the FIFO open between guards, so the reader never sees EOF early and
        # a guard's open() never blocks.
        self._hold_fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.chmod(fifo, 0o222)       # write-only: the run's processes (no capabilities) cannot read it
        self._buffer = b""
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="golflint-net-record", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._read_fd], [], [], 0.2)
            if ready:
                self._drain()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._read_fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            self._seen += len(chunk)
            if self._seen > MAX_RECORD_BYTES:
                self.record.truncated = True
                continue
            self._buffer += chunk
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                self._take(line)

    def _take(self, line: bytes) -> None:
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.record.malformed += 1
            return
        if not isinstance(entry, dict) or not isinstance(entry.get("pid"), int):
            self.record.malformed += 1
            return
        event = entry.get("event")
        if event == "start":
            self.record.started.add(entry["pid"])
        elif event == "exit":
            self.record.exited.add(entry["pid"])
        elif event == "attempt":
            self.record.attempts.append({k: entry.get(k) for k in ("call", "target", "pid", "where")})
        else:
            self.record.malformed += 1

    def close(self) -> NetworkRecord:
        self._stop.set()
        self._thread.join(timeout=5)
        self._drain()
        if self._buffer.strip():
            self._take(self._buffer)
        for fd in (self._read_fd, self._hold_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.fifo.unlink(missing_ok=True)
        return self.record


def python_roots() -> list[Path]:
    """The folders the interpreter that runs verify needs: prefixes and site-packages."""
    import site

    roots: list[Path] = []
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  str(Path(os.path.realpath(sys.executable)).parent.parent)]
    try:
        candidates += site.getsitepackages()
        candidates.append(site.getusersitepackages())
    except AttributeError:
        pass
    for raw in candidates:
        path = Path(raw)
        if path.is_dir() and str(path) != "/" and path not in roots:
            roots.append(path)
    return roots


def gpu_device_nodes() -> list[Path]:
    """/dev/nvidia0.., nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset, nvidia-caps (MIG)."""
    dev = Path("/dev")
    try:
        return sorted(p for p in dev.iterdir() if p.name.startswith("nvidia"))
    except OSError:
        return []


@dataclass(frozen=True)
class Sandbox:
    mode: str                          # "bwrap" or "none"
    guard_dir: Path
    limits: Limits = Limits()

    @property
    def contained(self) -> bool:
        return self.mode == "bwrap"

    @property
    def description(self) -> str:
        if self.contained:
            return ("bubblewrap: read-only system, only the run's copy writable, private /tmp, "
                    "no network (loopback only), own PID/IPC/UTS namespaces; limits: " + self.limits.describe())
        return ("NONE (--sandbox none): the code ran with verify's own rights, network and files; "
                "only the Python network guard was in place")

    def command(self, argv: list[str], *, writable: Path, readable: list[Path], gpus: int) -> list[str]:
        if not self.contained:
            return argv
        return [*bwrap_arguments(writable=writable, readable=[self.guard_dir, *readable], gpus=gpus),
                "--", *argv]

    def environment(self, env: dict[str, str], fifo: Path) -> dict[str, str]:
        """The run's environment: verify's own reduced to an allow-list (bwrap) plus `env`."""
        if self.contained:
            out = {k: v for k, v in os.environ.items()
                   if k in ENV_PASSTHROUGH or k.startswith(ENV_PASSTHROUGH_PREFIXES)}
            out.update(HOME="/tmp", TMPDIR="/tmp")
        else:
            out = dict(os.environ)
        out.update(env)
        existing = out.get("PYTHONPATH")
        out["PYTHONPATH"] = str(self.guard_dir) + (":" + existing if existing else "")
        out[NET_FIFO_ENV] = str(fifo)
        for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            out.pop(proxy, None)
        return out

    def listener(self, name: str) -> NetworkListener:
        return NetworkListener(self.guard_dir / f"network_{name}.fifo")


def bwrap_arguments(*, writable: Path, readable: list[Path], gpus: int) -> list[str]:
    """bwrap's arguments, in mount order: system, private /tmp, inputs read-only, the copy writable."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--hostname", "golflint-verify"]
    if os.geteuid() == 0:
        # As root bwrap keeps capabilities unless told; the run gets none.
        args += ["--cap-drop", "ALL"]
    for raw in SYSTEM_PATHS:
        path = Path(raw)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), raw]
        elif path.is_dir():
            args += ["--ro-bind", raw, raw]
    for raw in SECRET_FILES:
        if os.path.isfile(raw):
            args += ["--ro-bind", "/dev/null", raw]
    for raw in SECRET_DIRS:
        if os.path.isdir(raw):
            args += ["--tmpfs", raw, "--remount-ro", raw]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
    if gpus > 0:
        for node in gpu_device_nodes():
            args += ["--dev-bind", str(node), str(node)]
    for root in python_roots():
        args += ["--ro-bind", str(root), str(root)]
    for path in readable:
        resolved = path.resolve()
        args += ["--ro-bind", str(resolved), str(resolved)]
        if path.absolute() != resolved:
            # The run is given the path as written; make that spelling reach the same place.
            args += ["--ro-bind", str(resolved), str(path.absolute())]
    copy = writable.resolve()
    args += ["--bind", str(copy), str(copy), "--chdir", str(copy), "--remount-ro", "/"]
    return args


@lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """None when bubblewrap runs here (tried for real, with every namespace); else why not."""
    if sys.platform != "linux":
        return "the sandbox needs Linux (bubblewrap)"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    probe = ["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--new-session", "true"]
    try:
        proc = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start: {exc}"
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return f"bwrap cannot create its namespaces here: {reason}"
    return None


def make_sandbox(folder: Path, mode: str, limits: Limits = Limits()) -> Sandbox:
    """The sandbox for one verify; raises SandboxUnavailable where bwrap cannot run."""
    if mode not in MODES:
        raise GolflintError(f"unknown sandbox mode {mode!r} (choose from {', '.join(MODES)})")
    if mode == "bwrap":
        problem = bwrap_problem()
        if problem is not None:
            raise SandboxUnavailable(f"{problem}; verify will not run untrusted code outside its sandbox. "
                                     f"To fix: {INSTALL_HINT}. For code you trust, --sandbox none runs it "
                                     "without one.")
    folder.mkdir(parents=True, exist_ok=True)
    guard = folder / "sitecustomize.py"
    guard.unlink(missing_ok=True)
    guard.write_text(GUARD_SOURCE, encoding="utf-8")
    guard.chmod(0o444)
    return Sandbox(mode=mode, guard_dir=folder, limits=limits)


def is_special_file(path: Path) -> bool:
    """FIFOs, sockets and devices: never opened when copying a submission."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))
