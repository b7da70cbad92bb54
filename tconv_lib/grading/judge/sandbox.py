"""One student's sandbox: a bubblewrap container running ``inside/runner.py``, and the pipe to it.

What the sandbox is (Linux, Debian's ``bubblewrap``):

* its own user, process, network, IPC and UTS namespaces: no network at all (not even the
  host's loopback), nothing outside it visible in ``/proc``, and every process it started is
  killed with it (``--die-with-parent``, PID namespace);
* an unprivileged user: when the grader runs as root the student's code runs as a uid of its
  own (``Limits.uid``), with no capabilities and ``no_new_privs``; otherwise as the grader's
  user inside a user namespace;
* a filesystem of read-only ``/usr``, the Python installation and the sandbox's own virtual
  environment (NumPy, matplotlib, IPython: ``sandbox-requirements.txt``), this package's
  ``inside/`` folder, and a size-limited scratch folder (``/scratch``, the working directory,
  holding a copy of the submission) and ``/tmp``. The course, the gradebook, other students'
  work, the solutions, the grading secret and TensorFlow are simply not there;
* resource limits (``setrlimit``, inherited by everything it starts): address space, processes
  and threads, file size, open files, CPU time; the judge adds wall-clock limits per request.
  An address-space limit is per process, so 64 processes could hold 64 times it: where the
  grader can make a memory cgroup (root on Linux, cgroup v1 or v2), ``MemoryGroup`` holds all the
  sandbox's processes together to ``memory_mb`` as well (the kernel kills the sandbox beyond it).

The judge talks to it over two pipes with ``wire`` messages; every reply is read with a size
cap and a deadline, and any breach kills the sandbox (``SandboxDied``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..inside import wire

INSIDE = Path(__file__).resolve().parents[1] / "inside"
SCRATCH = "/scratch"


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made on this machine (not Linux, bubblewrap missing, no sandbox env)."""


class SandboxDied(RuntimeError):
    """The sandbox stopped, broke the protocol or ran past a limit; it has been killed."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one submission may use. The defaults are the README's; nbgrader_config.py can change them."""
    memory_mb: int = 2048          # address space of each process, and memory of all together
    processes: int = 64            # processes and threads of the sandbox's user
    file_mb: int = 64              # largest file it may write, and each of /scratch and /tmp
    open_files: int = 256
    cell_output_kb: int = 1024     # outputs kept per cell (text and images)
    notebook_output_kb: int = 5120 # outputs kept per notebook
    notebook_s: float = 300.0      # wall clock for the whole notebook
    cell_s: float = 120.0          # wall clock for one student cell
    call_s: float = 5.0            # wall clock for one call of a student's function
    uid: int = 61000               # first uid of sandboxes run by a root grader (one per grading thread)


def sandbox_python() -> Path:
    """The sandbox environment's interpreter: ``.venv/sandbox`` beside the grader's own venv."""
    return Path(sys.prefix) / "sandbox" / "bin" / "python"


def availability(python: Path | None = None) -> str | None:
    """None when a sandbox can be made here, else the reason (for the instructor's error message)."""
    python = python or sandbox_python()
    if not sys.platform.startswith("linux"):
        return f"grading sandboxes need Linux (this is {sys.platform})"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is needed to drop root in the sandbox"
    if not python.exists():
        return f"the sandbox environment {python} is missing (run `make venv`)"
    return None


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def bwrap_command(python: Path, runner_args: list[str], limits: Limits, isolate: bool = True,
                  files: dict[str, int] | None = None) -> list[str]:
    """The command line that starts the runner: in bubblewrap, or (``isolate`` False) as a plain process."""
    command = [str(python), "-I", f"{SCRATCH}/judge/runner.py" if isolate else str(INSIDE / "runner.py"),
               *runner_args]
    if not isolate:
        return command
    venv = python.parent.parent.absolute()
    base = Path(os.path.realpath(python)).parent.parent  # the Python installation the venv uses
    size = str(limits.file_mb << 20)
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr", "--tmpfs", "/usr/local"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # The writable places first: the course's environment may itself live under /tmp.
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", size, "--perms", "1777", "--tmpfs", SCRATCH,
             "--size", size, "--perms", "1777", "--tmpfs", "/tmp"]
    made: set[str] = set()
    for source in (base, venv):
        for parent in _ancestors(str(source)) + [str(source)]:
            if parent not in made and not parent.startswith("/usr/") and parent != "/usr":
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", str(source), str(source)]
    for site in base.glob("lib/python3*/site-packages"):
        args += ["--tmpfs", str(site)]  # the base installation's own packages are not the sandbox's
    args += ["--perms", "0755", "--dir", "/etc"]  # the dynamic loader's cache, and nothing else of /etc
    for cache in ("/etc/ld.so.cache", "/etc/ld.so.conf"):
        if os.path.exists(cache):
            args += ["--ro-bind", cache, cache]
    args += ["--ro-bind", str(INSIDE), f"{SCRATCH}/judge", "--chdir", SCRATCH]
    for name, fd in (files or {}).items():
        args += ["--file", str(fd), f"{SCRATCH}/{name}"]
    for name, value in _environment().items():
        args += ["--setenv", name, value]
    if os.geteuid() == 0:
        # bwrap as root mounts what it needs, then the student's code runs as an ordinary uid
        # with no capabilities (setpriv); its process count is that uid's alone. The uid follows
        # the grading thread's id (in a serial grader, its pid), unique among live threads of the
        # machine: two graders (the worker threads of a parallel run) never share one, nor its
        # process limit.
        uid = str(limits.uid + threading.get_native_id())
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                 "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--no-new-privs", "--"]
    else:
        args += ["--unshare-user", "--disable-userns", "--"]
    return args + command


def _environment() -> dict[str, str]:
    return {"HOME": SCRATCH, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": f"{SCRATCH}/.matplotlib",
            "IPYTHONDIR": f"{SCRATCH}/.ipython", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}


class MemoryGroup:
    """A memory cgroup for one sandbox, or nothing (``path`` None) where none can be made here."""

    # (the memory controller's folder, its limit files: memory, memory and swap, kill all on OOM)
    KINDS = ((Path("/sys/fs/cgroup"), ("memory.max", "memory.swap.max", "memory.oom.group")),
             (Path("/sys/fs/cgroup/memory"), ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", None)))
    _made = itertools.count(1)

    def __init__(self, limit_bytes: int):
        self.path: Path | None = None
        for root, (memory, swap, group) in self.KINDS:
            if not (root / memory).exists() and not (root / "cgroup.subtree_control").exists():
                continue
            if root.name != "memory" and "memory" not in _read(root / "cgroup.subtree_control"):
                continue  # cgroup v2 without the memory controller for children
            path = root / f"tconv-sandbox-{os.getpid()}-{next(MemoryGroup._made)}"
            if path.exists():  # left by an earlier process with this pid (pids wrap): end it first
                self.path = path
                self.remove()
            try:
                path.mkdir()
                (path / memory).write_text(str(limit_bytes))
                for name, value in ((swap, "0" if root.name != "memory" else str(limit_bytes)), (group, "1")):
                    if name and (path / name).exists():
                        (path / name).write_text(value)
            except OSError:
                self.path = path
                self.remove()
                continue
            self.path = path
            return

    def remove(self) -> None:
        """Kill whatever is still in the group (the PID namespace's end is asynchronous), then remove it."""
        if self.path is None:
            return
        for _ in range(50):  # the sandbox's last processes may still be exiting
            for pid in _read(self.path / "cgroup.procs").split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            try:
                self.path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)
        self.path = None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class Sandbox:
    """A running sandbox. ``request`` sends one message and returns the reply (or raises ``SandboxDied``)."""

    def __init__(self, limits: Limits = Limits(), *, isolate: bool = True, python: Path | None = None,
                 submission: tuple[str, bytes] | None = None):
        self.limits, self.isolate = limits, isolate
        self.python = python or sandbox_python()
        self.submission = submission
        self.process: subprocess.Popen | None = None
        self.dead: str | None = None
        self.memory: MemoryGroup | None = None

    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, timeout_s: float = 60.0) -> None:
        reason = availability(self.python) if self.isolate else None
        if reason:
            raise SandboxUnavailable(reason)
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self._workdir = tempfile.TemporaryDirectory(prefix="tconv-sandbox-")
        files, passed = {}, [to_child_r, from_child_w]
        if self.submission is not None:
            name, data = self.submission
            copy = Path(self._workdir.name) / name
            copy.write_bytes(data)
            if self.isolate:
                files[name] = os.open(copy, os.O_RDONLY)
                passed.append(files[name])
        command = bwrap_command(self.python, [str(to_child_r), str(from_child_w)], self.limits, self.isolate,
                                files)
        if self.isolate and os.geteuid() == 0:
            self.memory = MemoryGroup(self.limits.memory_mb << 20)
        env = {"PATH": "/usr/bin:/bin"} if self.isolate else _environment() | {"HOME": self._workdir.name,
                                                                                  "TMPDIR": self._workdir.name}
        prlimit = shutil.which("prlimit")
        self.process = subprocess.Popen(self._limited(command) if prlimit else command, pass_fds=passed,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, env=env, cwd=self._workdir.name,
                                        preexec_fn=None if prlimit else self._limit, start_new_session=True)
        for fd in passed:
            os.close(fd)
        self.dead = None
        try:
            ready = self._receive(timeout_s, 1 << 16)
        except SandboxDied:
            raise SandboxDied(f"the sandbox did not start: {self._stderr()}") from None
        if ready != {"ready": True}:
            self.kill("the sandbox did not start")
            raise SandboxDied("the sandbox did not start")

    def _rlimits(self) -> list[tuple[str, int]]:
        """Limits that every process of the sandbox inherits (prlimit's names)."""
        limits = self.limits
        values = [("as", limits.memory_mb << 20), ("fsize", limits.file_mb << 20), ("nofile", limits.open_files),
                  ("core", 0), ("cpu", int(limits.notebook_s) + 30)]
        if os.geteuid() == 0 and self.isolate:  # the sandbox's own uid: its processes and threads alone
            values.append(("nproc", limits.processes))
        return values

    def _limited(self, command: list[str]) -> list[str]:
        """``command`` behind prlimit, and behind a shell that first joins the memory group, if any.

        No Python runs in the forked child (``preexec_fn`` can deadlock a multithreaded grader:
        JAX's is), and the group is joined before bwrap starts anything.
        """
        prefix = ["prlimit", *(f"--{name}={value}:{value}" for name, value in self._rlimits()), "--"]
        if self.memory is not None and self.memory.path is not None:
            prefix = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.memory.path / "cgroup.procs"),
                      *prefix]
        return prefix + command

    def _limit(self) -> None:
        """Where there is no prlimit (an unsandboxed grader off Linux): the same limits, in the child."""
        names = {"as": resource.RLIMIT_AS, "fsize": resource.RLIMIT_FSIZE, "nofile": resource.RLIMIT_NOFILE,
                 "core": resource.RLIMIT_CORE, "cpu": resource.RLIMIT_CPU}
        for name, value in self._rlimits():
            resource.setrlimit(names.get(name, getattr(resource, "RLIMIT_NPROC", None)), (value, value))

    def _stderr(self) -> str:
        if self.process is None or self.process.stderr is None:
            return ""
        ready, _, _ = select.select([self.process.stderr], [], [], 0.5)
        text = os.read(self.process.stderr.fileno(), 4096).decode(errors="replace") if ready else ""
        return text.strip().splitlines()[-1] if text.strip() else "no message"

    def request(self, message: dict, *, timeout_s: float, max_bytes: int = 16 << 20) -> dict:
        """Send ``message``; the reply within ``timeout_s`` seconds and ``max_bytes`` bytes, or ``SandboxDied``."""
        if self.dead:
            raise SandboxDied(self.dead)
        data = memoryview(wire.encode(message))
        try:
            while data:
                data = data[os.write(self._to_child, data):]
        except OSError:
            self.kill("the sandbox stopped")
            raise SandboxDied(self.dead) from None
        return self._receive(timeout_s, max_bytes)

    def _receive(self, timeout_s: float, max_bytes: int) -> dict:
        deadline = time.monotonic() + timeout_s
        try:
            prefix = self._read_exactly(wire.PREFIX_BYTES, deadline)
            header, body = wire.frame_lengths(prefix, max_bytes)
            tree = wire.decode(self._read_exactly(header, deadline), self._read_exactly(body, deadline))
        except wire.WireError as exc:
            self.kill(f"the sandbox sent {exc}")
            raise SandboxDied(self.dead) from None
        if not isinstance(tree, dict):
            self.kill("the sandbox sent a malformed reply")
            raise SandboxDied(self.dead)
        return tree

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            ready = select.select([self._from_child], [], [], max(wait, 0))[0] if wait > 0 else []
            if not ready:
                self.kill("it ran past its time limit")
                raise SandboxDied(self.dead)
            chunk = os.read(self._from_child, min(left, 1 << 20))
            if not chunk:
                try:  # the pipe closes as the sandbox ends: its exit status says how
                    code = self.process.wait(timeout=2) if self.process else None
                except subprocess.TimeoutExpired:
                    code = None
                self.kill("the sandbox stopped" + (f" (exit status {code})" if code not in (None, 0) else ""))
                raise SandboxDied(self.dead)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def kill(self, reason: str) -> None:
        """Stop the sandbox and everything in it; later requests raise ``SandboxDied(reason)``."""
        self.dead = self.dead or reason
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self.memory is not None:
            self.memory.remove()

    def close(self) -> None:
        # Killed, not asked to exit: nothing in the sandbox is kept, and Python's own exit there
        # (IPython, NumPy) took two thirds of the time of closing.
        self.kill("the sandbox was closed")
        for fd in (getattr(self, "_to_child", None), getattr(self, "_from_child", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        if getattr(self, "_workdir", None) is not None:
            self._workdir.cleanup()
            self._workdir = None
