"""HTTP to the portal under test on 127.0.0.1: a small browser-like client, logging in, and fixed-
duration load runs of one URL (wrk when installed, else a Python thread pool doing the same)."""

import http.client
import json
import math
import re
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from benchmarks.infra import WORK_DIR

HOST = "127.0.0.1"


def percentile(values, p):
    """Nearest-rank percentile of a list of numbers (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class HttpClient:
    """One user's browser: keeps cookies, sends forms. One connection per request (gunicorn's sync
    workers close the connection after every response anyway)."""

    port: int
    timeout: float = 60.0
    cookies: dict = field(default_factory=dict)
    extra_headers: dict = field(default_factory=dict)

    def __post_init__(self):
        # A session cookie given as a header joins the cookie jar, so that cookies the server sets
        # later (csrftoken) are sent along with it instead of replacing it.
        self.extra_headers = dict(self.extra_headers)  # the caller's dict stays as it was
        raw = self.extra_headers.pop("Cookie", "")
        for pair in raw.split(";"):
            name, _sep, value = pair.strip().partition("=")
            if name:
                self.cookies[name] = value

    def request(self, method: str, path: str, fields=None, headers=None) -> Response:
        body = urllib.parse.urlencode(fields, doseq=True) if fields is not None else None
        sent = {"Host": HOST, "User-Agent": "kepu-bench/1", "Accept": "text/html,application/json;q=0.9"}
        sent.update(self.extra_headers)
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            data = raw.read()
            elapsed = time.perf_counter() - started
            for header in raw.msg.get_all("Set-Cookie") or []:
                self._store_cookie(header)
            headers_out = {k.lower(): v for k, v in raw.getheaders()}
            return Response(raw.status, headers_out, data, elapsed)
        finally:
            conn.close()

    def _store_cookie(self, header: str) -> None:
        first, *attributes = header.split(";")
        name, _sep, value = first.strip().partition("=")
        attrs = {a.strip().lower() for a in attributes}
        if "max-age=0" in attrs or any(a.startswith("expires=thu, 01 jan 1970") for a in attrs):
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, path, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path, fields, **kw) -> Response:
        return self.request("POST", path, fields=fields, **kw)


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_from(html: str) -> str | None:
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else None


def login(client: HttpClient, username: str, password: str) -> tuple[bool, float, int]:
    """Log in through the login page as a browser does; (ok, seconds of the POST, status)."""
    page = client.get("/accounts/login/")
    token = csrf_from(page.text)
    response = client.post(
        "/accounts/login/",
        {"csrfmiddlewaretoken": token or "", "username": username, "password": password, "next": ""},
    )
    ok = response.status in (301, 302, 303) and "sessionid" in client.cookies
    return ok, response.seconds, response.status


def obtain_token(port: int, username: str, password: str) -> str | None:
    client = HttpClient(port)
    response = client.post("/api/v1/auth/token/", {"username": username, "password": password})
    if response.status != 200:
        return None
    try:
        return json.loads(response.body).get("token")
    except ValueError:
        return None


# ----------------------------------------------------------------------------- fixed-duration runs

WRK_SCRIPT = """
-- Every response that is not 200 counts as an error (wrk itself counts only status >= 400): a
-- redirect to the log-in page would otherwise pass for a very fast dashboard.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  not_ok = 0
end
function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("not_ok") end
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"not_ok":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def run_wrk(wrk: str, port: int, path: str, headers: dict, *, seconds: float, connections: int) -> dict:
    script = WORK_DIR / "wrk-report.lua"
    script.write_text(WRK_SCRIPT)
    cmd = [
        wrk,
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{int(seconds)}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://{HOST}:{port}{path}")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line[len("WRKJSON ") :])
            duration = raw["duration_us"] / 1e6
            errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"] + raw["not_ok"]
            return {
                "tool": "wrk",
                "requests": raw["requests"],
                "seconds": duration,
                "rps": raw["requests"] / duration if duration else 0.0,
                "p50_ms": raw["p50_us"] / 1000,
                "p95_ms": raw["p95_us"] / 1000,
                "p99_ms": raw["p99_us"] / 1000,
                "max_ms": raw["max_us"] / 1000,
                "errors": errors,
                "error_detail": {
                    k: raw[k] for k in ("connect", "read", "write", "timeout", "not_ok") if raw[k]
                },
                "bytes_per_response": raw["bytes"] / raw["requests"] if raw["requests"] else 0,
            }
    raise RuntimeError(f"wrk gave no result:\n{result.stdout}\n{result.stderr}")


def run_python(port: int, path: str, headers: dict, *, seconds: float, connections: int) -> dict:
    """The same measurement as run_wrk with ``connections`` threads (used when wrk is missing)."""
    latencies, statuses, failures = [], [], []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    total_bytes = [0]

    def worker():
        client = HttpClient(port, timeout=30, extra_headers=headers)
        while time.perf_counter() < deadline:
            try:
                response = client.get(path)
                with lock:
                    latencies.append(response.seconds)
                    statuses.append(response.status)
                    total_bytes[0] += len(response.body)
            except OSError as exc:
                with lock:
                    failures.append(type(exc).__name__)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    duration = time.perf_counter() - started
    bad = sum(1 for s in statuses if s != 200)
    return {
        "tool": "python threads",
        "requests": len(latencies),
        "seconds": duration,
        "rps": len(latencies) / duration if duration else 0.0,
        "p50_ms": (percentile(latencies, 50) or 0) * 1000,
        "p95_ms": (percentile(latencies, 95) or 0) * 1000,
        "p99_ms": (percentile(latencies, 99) or 0) * 1000,
        "max_ms": (max(latencies) if latencies else 0) * 1000,
        "errors": bad + len(failures),
        "error_detail": {"not_ok": bad, "connection": len(failures)} if bad or failures else {},
        "bytes_per_response": total_bytes[0] / len(latencies) if latencies else 0,
    }
