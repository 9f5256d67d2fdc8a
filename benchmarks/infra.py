"""What the benchmark runs on: services, databases, child processes, memory sampling, machine facts.

Nothing here imports Django: the benchmark's own process stays small and holds no database
connection, and every Django step runs in a child process (``django_jobs.py``, gunicorn, Celery).
Every child is started in its own process group and registered, so that ``stop_all`` (called from
``run.py``'s ``finally`` and on SIGTERM) ends it with its children, whatever happened.
"""

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtual environment's bin/ (make bench runs .venv/bin/python)
PYTHON = sys.executable
WORK_DIR = ROOT / "var" / "bench"  # logs, static files, media (PDFs), profiles: ignored by git
LOG_DIR = WORK_DIR / "logs"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kepu_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789abcdef"
MB = 1024 * 1024

_started = time.monotonic()


def log(message: str) -> None:
    elapsed = time.monotonic() - _started
    print(f"[bench {elapsed:6.1f}s] {message}", flush=True)


# ----------------------------------------------------------------------------- services


def _pg_parts(url: str) -> dict:
    parsed = urllib.parse.urlparse(url)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": urllib.parse.unquote(parsed.username or "postgres"),
        "password": urllib.parse.unquote(parsed.password) if parsed.password else None,
        "dbname": parsed.path.lstrip("/") or "postgres",
    }


def _redis_parts(url: str) -> tuple[str, int, int]:
    parsed = urllib.parse.urlparse(url)
    db = parsed.path.lstrip("/")
    return parsed.hostname or "127.0.0.1", parsed.port or 6379, int(db) if db.isdigit() else 0


def _is_local(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")


def _pg_ready(parts) -> bool:
    result = subprocess.run(
        ["pg_isready", "-h", parts["host"], "-p", str(parts["port"]), "-q"], check=False, timeout=10
    )
    return result.returncode == 0


def _redis_ready(host, port) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def ensure_services(database_url: str, redis_url: str) -> list[str]:
    """Start PostgreSQL and Redis as .ci/run does when they are not running; return what was started."""
    started = []
    pg = _pg_parts(database_url)
    if not _pg_ready(pg):
        if not _is_local(pg["host"]):
            raise SystemExit(f"PostgreSQL at {pg['host']}:{pg['port']} is not reachable.")
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if not versions:
            raise SystemExit("PostgreSQL is not running and no local cluster was found (/etc/postgresql).")
        log(f"starting PostgreSQL {versions[0]} (pg_ctlcluster)")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"],
            check=True,
            timeout=60,
        )
        started.append(f"postgresql:{versions[0]}")
    host, port, _db = _redis_parts(redis_url)
    if not _redis_ready(host, port):
        if not _is_local(host):
            raise SystemExit(f"Redis at {host}:{port} is not reachable.")
        log("starting Redis (redis-server --daemonize yes)")
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
            timeout=30,
        )
        started.append(f"redis:{port}")
    for _ in range(30):
        if _pg_ready(pg) and _redis_ready(host, port):
            return started
        time.sleep(1)
    raise SystemExit("PostgreSQL or Redis did not become ready within 30 s.")


def stop_services(started: list[str], redis_url: str) -> None:
    """Stop what ensure_services started (BENCH_KEEP_SERVICES=1 leaves them running)."""
    if os.environ.get("BENCH_KEEP_SERVICES") == "1":
        return
    for item in started:
        kind, _sep, name = item.partition(":")
        with contextlib.suppress(Exception):
            if kind == "postgresql":
                log(f"stopping PostgreSQL {name} (started by the benchmark)")
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", name, "main", "stop"],
                    timeout=60,
                    check=False,
                )
            elif kind == "redis":
                host, port, _db = _redis_parts(redis_url)
                log("stopping Redis (started by the benchmark)")
                subprocess.run(
                    ["redis-cli", "-h", host, "-p", str(port), "shutdown", "nosave"], timeout=30, check=False
                )


def flush_redis_db(redis_url: str) -> None:
    """Empty the benchmark's own Redis database (stale Celery messages of an interrupted run)."""
    host, port, db = _redis_parts(redis_url)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
        time.sleep(0.2)
        sock.recv(256)


def clear_page_cache(redis_url: str) -> int:
    """Delete the rendered pages the portal caches in Redis ("pages" cache, keys ``pages:*``), so that
    the next request computes its page again; returns how many keys went."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match="pages:*", count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def redis_version(redis_url: str) -> str:
    host, port, _db = _redis_parts(redis_url)
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(b"INFO server\r\n")
            time.sleep(0.2)
            text = sock.recv(65536).decode(errors="replace")
        match = re.search(r"redis_version:([^\r\n]+)", text)
        return match.group(1) if match else "?"
    except OSError:
        return "?"


# ----------------------------------------------------------------------------- databases


def database_name(url: str) -> str:
    return _pg_parts(url)["dbname"]


def with_database(url: str, name: str) -> str:
    parsed = urllib.parse.urlparse(url)
    return urllib.parse.urlunparse(parsed._replace(path="/" + name))


def connect(url: str, dbname: str | None = None):
    import psycopg2

    parts = _pg_parts(url)
    if dbname:
        parts["dbname"] = dbname
    conn = psycopg2.connect(**{k: v for k, v in parts.items() if v is not None}, connect_timeout=10)
    return conn


def query(url: str, sql: str, params=None) -> list[tuple]:
    conn = connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


def recreate_database(url: str) -> None:
    """Drop and create the benchmark's database: every run starts from the same data.

    Refuses a database whose name does not contain "bench" (unless BENCH_ALLOW_DROP=1): the run
    deletes everything in it.
    """
    name = database_name(url)
    if "bench" not in name and os.environ.get("BENCH_ALLOW_DROP") != "1":
        raise SystemExit(
            f"Refusing to drop database {name!r}: the benchmark rebuilds its databases from scratch. "
            "Use a name containing 'bench' (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench) "
            "or set BENCH_ALLOW_DROP=1."
        )
    conn = connect(url, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def vacuum_analyze(url: str) -> None:
    conn = connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    finally:
        conn.close()


# ----------------------------------------------------------------------------- child processes

_children: list["Child"] = []


class Child:
    """A child process in its own process group; ``stop`` ends the whole group."""

    def __init__(self, name: str, cmd: list[str], env: dict, log_name: str):
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / log_name
        self._log = open(self.log_path, "w")
        self.popen = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid = self.popen.pid
        _children.append(self)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines=30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 15.0) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(10)
        # Stragglers of the group (a Celery pool child whose parent already exited).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self._log.close()
        if self in _children:
            _children.remove(self)


def stop_all() -> None:
    for child in list(reversed(_children)):
        with contextlib.suppress(Exception):
            child.stop(grace=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(port: int, path: str, timeout: float, child: Child | None = None) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            raise RuntimeError(f"{child.name} exited early:\n{child.log_tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
            last = f"HTTP {status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.3)
    raise RuntimeError(f"server on port {port} not ready after {timeout:.0f} s ({last})")


def django_env(database_url: str, *, broker_url: str | None = None, **extra) -> dict:
    """Environment of a Django child: production-like settings, the benchmark's database.

    Without ``broker_url`` Celery runs jobs in process (the portal's rule when no broker is set).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DATA_DIR": str(WORK_DIR),
            "STATIC_ROOT": str(WORK_DIR / "static"),
            "MEDIA_ROOT": str(WORK_DIR / "media"),
            "LOG_LEVEL": "WARNING",
            # The API's per-user throttle (600/min by default) would turn a load test of the
            # targets endpoint into a test of the throttle: raised for the benchmark only.
            "API_THROTTLE_USER": "1000000/min",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if broker_url:
        env["REDIS_URL"] = broker_url
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(args: list[str], env: dict, *, timeout: float, log_name: str) -> str:
    """Run ``manage.py`` and return its output; raise with the tail of it on failure."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        start_new_session=True,
    )
    output = result.stdout + result.stderr
    (LOG_DIR / log_name).write_text(output)
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-25:])
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{tail}")
    return output


def django_job(job: str, args: list[str], env: dict, *, timeout: float) -> dict:
    """Run one step of ``django_jobs.py`` in a fresh process; return the JSON it prints last."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"job-{job}.log"
    with open(log_path, "a") as handle:
        handle.write(f"\n===== {job} {' '.join(args)} @ {time.strftime('%H:%M:%S')}\n")
        handle.flush()
        popen = subprocess.Popen(
            [PYTHON, str(ROOT / "benchmarks" / "django_jobs.py"), job, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=handle,
            text=True,
            start_new_session=True,
        )
        try:
            out, _err = popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(10)
            raise RuntimeError(f"django job {job} took longer than {timeout:.0f} s") from None
        handle.write(out)
    for line in reversed(out.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"django job {job} failed (exit {popen.returncode}); see {log_path}:\n"
        + "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
    )


# ----------------------------------------------------------------------------- memory


class RssMonitor:
    """Samples the resident memory of process trees every ``interval`` seconds in a thread.

    ``roots`` maps a name to a root pid; each process of a tree is labelled by ``label(name,
    proc, root)`` (e.g. "gunicorn master", "gunicorn worker 12345"). Keeps the peak per process and
    the peak of each tree's sum.
    """

    def __init__(self, roots: dict[str, int], interval: float = 0.2):
        self.roots = dict(roots)
        self.interval = interval
        self.peak_process: dict[str, int] = {}
        self.peak_tree: dict[str, int] = {}
        self.last_tree: dict[str, int] = {}
        self.labels: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-monitor", daemon=True)

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sample()

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    @staticmethod
    def tree(pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def sample(self):
        for name, pid in self.roots.items():
            total = 0
            for proc in self.tree(pid):
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                label = self.label(name, proc, pid)
                self.labels[proc.pid] = label
                if rss > self.peak_process.get(label, 0):
                    self.peak_process[label] = rss
            self.last_tree[name] = total
            if total > self.peak_tree.get(name, 0):
                self.peak_tree[name] = total

    @staticmethod
    def label(name: str, proc: psutil.Process, root_pid: int) -> str:
        if proc.pid == root_pid:
            return f"{name} master" if name == "gunicorn" else f"{name} main"
        return f"{name} worker {proc.pid}" if name == "gunicorn" else f"{name} child {proc.pid}"


def tree_rss(pid: int) -> dict[int, int]:
    """{pid: rss} of a process and its descendants now."""
    result = {}
    for proc in RssMonitor.tree(pid):
        with contextlib.suppress(psutil.Error):
            result[proc.pid] = proc.memory_info().rss
    return result


# ----------------------------------------------------------------------------- machine facts


def git_commit() -> str:
    """The checked-out commit, read from .git without running git."""
    git = ROOT / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:12]
        ref = head.split(":", 1)[1].strip()
        # A worktree keeps its HEAD in its own git dir and the branches in the common one.
        common = git / (git / "commondir").read_text().strip() if (git / "commondir").exists() else git
        for ref_file in (git / ref, common / ref):
            if ref_file.exists():
                return f"{ref_file.read_text().strip()[:12]} ({ref.rsplit('/', 1)[-1]})"
        packed = common / "packed-refs"
        if packed.exists():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return f"{line.split()[0][:12]} ({ref.rsplit('/', 1)[-1]})"
        return f"? ({ref})"
    except OSError:
        return "?"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def package_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "—"


def tool_version(cmd: list[str]) -> str:
    if not shutil.which(cmd[0]):
        return "not installed"
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
        return (result.stdout or result.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def machine_facts(database_url: str, redis_url: str) -> dict:
    pg_version = autovacuum = "?"
    with contextlib.suppress(Exception):
        maintenance = with_database(database_url, "postgres")  # the benchmark's own may not exist yet
        pg_version = query(maintenance, "SHOW server_version")[0][0]
        autovacuum = query(maintenance, "SHOW autovacuum")[0][0]
    memory = psutil.virtual_memory()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(memory.total / 1024**3, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg_version,
        "autovacuum": autovacuum,
        "redis": redis_version(redis_url),
        "django": package_version("Django"),
        "gunicorn": package_version("gunicorn"),
        "celery": package_version("celery"),
        "weasyprint": package_version("weasyprint"),
        "wrk": " ".join(tool_version(["wrk", "--version"]).split()[:2]).replace("debian/", ""),
        "commit": git_commit(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }


def ensure_wrk() -> str | None:
    """wrk's path; installs Debian's package when missing and we are root (else None: Python client)."""
    path = shutil.which("wrk")
    if path or os.environ.get("BENCH_NO_WRK") == "1":
        return path if os.environ.get("BENCH_NO_WRK") != "1" else None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk (apt-get install wrk)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        result = subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, env=env, timeout=300, check=False
        )
        if result.returncode != 0:
            subprocess.run(
                ["apt-get", "update", "-q"], capture_output=True, env=env, timeout=300, check=False
            )
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "wrk"],
                capture_output=True,
                env=env,
                timeout=300,
                check=False,
            )
    return shutil.which("wrk")
