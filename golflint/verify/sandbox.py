"""No network for the submission: a Linux network namespace where the kernel allows one, and
always a Python guard that refuses socket connections and name lookups and records each attempt.

The namespace (`unshare -rn`, an unprivileged user + network namespace with only loopback, which a
tiny launcher brings up so torchrun's local rendezvous works) is the enforcement: nothing, not even
a C extension or a subprocess, reaches the network. The guard is what lets the report say who tried:
it is a sitecustomize.py on PYTHONPATH, so every Python process of the run (torchrun and each rank)
loads it before the script. Code that deliberately restores the socket module defeats the guard but
not the namespace; without a namespace the guard is the only barrier, and the report says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import GolflintError

NET_LOG_ENV = "GOLFLINT_NET_LOG"
LAUNCHER_NAME = "golflint_netns_exec.py"

GUARD_SOURCE = r'''
# Installed by `golflint verify`: refuses network access from this run and records each attempt.
import errno as _errno
import json as _json
import os as _os
import socket as _socket
import sys as _sys
import time as _time

_LOG = _os.environ.get("GOLFLINT_NET_LOG")
_HERE = _os.path.dirname(_os.path.abspath(__file__))
_LOCAL_NAMES = {None, "", "localhost", "localhost.localdomain", "ip6-localhost", _socket.gethostname()}


def _is_local(host):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host in _LOCAL_NAMES:
        return True
    text = str(host)
    return text.startswith("127.") or text in ("::1", "0.0.0.0", "::")


def _caller():
    frame = _sys._getframe(2)
    cwd = _os.getcwd()
    found = None
    while frame is not None:
        name = frame.f_code.co_filename
        if name != __file__ and (name.startswith(cwd) or not _os.path.isabs(name)):
            found = "%s:%d" % (_os.path.relpath(name, cwd) if _os.path.isabs(name) else name, frame.f_lineno)
            break
        frame = frame.f_back
    return found


def _record(call, target):
    if not _LOG:
        return
    entry = {"call": call, "target": target, "pid": _os.getpid(), "time": _time.time(), "where": _caller()}
    line = (_json.dumps(entry) + "\n").encode("utf-8")
    fd = _os.open(_LOG, _os.O_WRONLY | _os.O_APPEND | _os.O_CREAT, 0o644)
    try:
        _os.write(fd, line)
    finally:
        _os.close(fd)


def _refused(call, target):
    _record(call, target)
    return OSError(_errno.ENETUNREACH, "network access is disabled by golflint verify (%s %s)" % (call, target))


def _address_text(address):
    if isinstance(address, tuple) and len(address) >= 2:
        return "%s:%s" % (address[0], address[1])
    return repr(address)


def _remote(sock, address):
    return sock.family in (_socket.AF_INET, _socket.AF_INET6) and isinstance(address, tuple) \
        and not _is_local(address[0])


_original_getaddrinfo = _socket.getaddrinfo
_original_gethostbyname = _socket.gethostbyname
_original_gethostbyname_ex = _socket.gethostbyname_ex
_original_connect = _socket.socket.connect
_original_connect_ex = _socket.socket.connect_ex
_original_sendto = _socket.socket.sendto


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _record("getaddrinfo", str(host))
        raise _socket.gaierror(_socket.EAI_NONAME, "name lookup is disabled by golflint verify (%s)" % host)
    return _original_getaddrinfo(host, *args, **kwargs)


def gethostbyname(host):
    if not _is_local(host):
        _record("gethostbyname", str(host))
        raise _socket.gaierror(_socket.EAI_NONAME, "name lookup is disabled by golflint verify (%s)" % host)
    return _original_gethostbyname(host)


def gethostbyname_ex(host):
    if not _is_local(host):
        _record("gethostbyname_ex", str(host))
        raise _socket.gaierror(_socket.EAI_NONAME, "name lookup is disabled by golflint verify (%s)" % host)
    return _original_gethostbyname_ex(host)


def connect(self, address):
    if _remote(self, address):
        raise _refused("connect", _address_text(address))
    return _original_connect(self, address)


def connect_ex(self, address):
    if _remote(self, address):
        _record("connect", _address_text(address))
        return _errno.ENETUNREACH
    return _original_connect_ex(self, address)


def sendto(self, data, *args):
    address = args[-1] if args else None
    if _remote(self, address):
        raise _refused("sendto", _address_text(address))
    return _original_sendto(self, data, *args)


_socket.getaddrinfo = getaddrinfo
_socket.gethostbyname = gethostbyname
_socket.gethostbyname_ex = gethostbyname_ex
_socket.socket.connect = connect
_socket.socket.connect_ex = connect_ex
_socket.socket.sendto = sendto


def _chain():
    """Run the sitecustomize this one shadows, if the interpreter has one."""
    import importlib.machinery
    import importlib.util

    others = [p for p in _sys.path if _os.path.abspath(p or ".") != _HERE]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_chain()
'''

# Runs as `python -I -S launcher -- cmd...` inside the new namespace: isolated mode, so the guard
# above is not loaded here, and only the standard library is needed.
LAUNCHER_SOURCE = r'''
import fcntl, os, socket, struct, sys

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
request = struct.pack("16sH14s", b"lo", 0, bytes(14))
flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, bytes(14)))
sock.close()
argv = sys.argv[sys.argv.index("--") + 1:]
os.execvp(argv[0], argv)
'''


@dataclass(frozen=True)
class Sandbox:
    guard_dir: Path
    net_log: Path
    namespace: bool
    namespace_problem: str | None      # why there is no namespace, when there is none

    @property
    def description(self) -> str:
        if self.namespace:
            return "network namespace (loopback only) + Python socket guard"
        return f"Python socket guard only ({self.namespace_problem})"

    def command(self, argv: list[str]) -> list[str]:
        if not self.namespace:
            return argv
        return ["unshare", "-rn", sys.executable, "-I", "-S", str(self.guard_dir / LAUNCHER_NAME), "--", *argv]

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        out = dict(env)
        existing = out.get("PYTHONPATH")
        out["PYTHONPATH"] = str(self.guard_dir) + (":" + existing if existing else "")
        out[NET_LOG_ENV] = str(self.net_log)
        for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            out.pop(proxy, None)
        return out

    def attempts(self) -> list[dict]:
        try:
            lines = self.net_log.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                out.append(entry)
        return out


def write_launcher(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    launcher = folder / LAUNCHER_NAME
    launcher.write_text(LAUNCHER_SOURCE, encoding="utf-8")
    return launcher


@lru_cache(maxsize=1)
def namespace_problem() -> str | None:
    """None when `unshare -rn` works here (tried for real, with loopback brought up); else why not."""
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if shutil.which("unshare") is None:
        return "the unshare program is not installed"
    with tempfile.TemporaryDirectory(prefix="golflint-netns-") as probe:
        return _probe(write_launcher(Path(probe)))


def _probe(launcher: Path) -> str | None:
    try:
        proc = subprocess.run(["unshare", "-rn", sys.executable, "-I", "-S", str(launcher), "--", "true"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -rn failed: {exc}"
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["exit status %d" % proc.returncode])[-1]
        return f"unshare -rn is not allowed here: {reason}"
    return None


def make_sandbox(folder: Path, mode: str) -> Sandbox:
    """mode: "auto" (namespace when it works), "namespace" (required), "guard" (Python guard only)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(GUARD_SOURCE, encoding="utf-8")
    write_launcher(folder)
    problem = "not requested (--sandbox guard)" if mode == "guard" else namespace_problem()
    if mode == "namespace" and problem is not None:
        raise GolflintError(f"--sandbox namespace: {problem}")
    return Sandbox(guard_dir=folder, net_log=folder / "network_attempts.jsonl", namespace=problem is None,
                   namespace_problem=problem)
