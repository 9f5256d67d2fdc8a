"""Issue 6's load test: unit users at the deadline opening, saving and submitting their forms while
the office approves, against gunicorn on 127.0.0.1; then a check that no saved value was lost.

Each simulated user is a thread with its own cookies that behaves like a browser: it opens its
form for the open period (``/report/<unit>/<period>/`` → the form), waits (think time), posts the
whole form back with one change of its own, follows the redirect, and so on. Posting the whole
form is what makes lost updates visible: a save built on a stale copy would put back the other
user's old text, and the portal must refuse it (409, "stale edit") instead.

Every user writes into its own "slots" of its unit's form, so that the final database state can
be predicted exactly: the unit's reporter writes a marker into the first narrative field (工作进展 of
the first measure, or the region's 数据来源说明 for a local government) and the first number (a
target figure, or the region's funding); the unit's approver into the second of each when there
is one. On a 409 the user reloads the form and applies its own change again (the careful user;
re-posting the 409 page as it stands would knowingly replace the other user's change, which is
what the page offers but not what this check wants to count).
"""

import html
import random
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from benchmarks.http_load import HttpClient, csrf_from, login, percentile
from benchmarks.infra import log, query

FORM_TAG = re.compile(r'<form\b([^>]*)\bid="submission-form"([^>]*)>(.*?)</form>', re.S)
INPUT = re.compile(r"<input\b([^>]*)>", re.S)
TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
OPTION = re.compile(r'<option\b[^>]*?value="([^"]*)"([^>]*)>', re.S)
ATTR = re.compile(r'([\w:-]+)="([^"]*)"')
STATUS = re.compile(r'class="status status-(\w+)"')
MESSAGE = re.compile(r'<li class="msg-(\w+)">(.*?)</li>', re.S)
SUBMISSION_URL = re.compile(r"/submissions/(\d+)/")
QUEUE_LINK = re.compile(r'href="/submissions/(\d+)/"')
FORM_ERROR = re.compile(r'<div class="callout bad"[^>]*id="form-errors">\s*<ul>(.*?)</ul>', re.S)
LINE_PROGRESS = re.compile(r"line-\d+-progress")
FIG_VALUE = re.compile(r"fig-\d+-value")

MARKER = "压测标记"
EXPLANATION = "压测：测试数据，仅用于性能测试。"


@dataclass
class Form:
    pk: int | None
    status: str | None
    editable: bool
    fields: dict
    csrf: str | None

    @property
    def text_slots(self):
        slots = [n for n in self.fields if LINE_PROGRESS.fullmatch(n)]
        return slots + (["region-source_note"] if "region-source_note" in self.fields else [])

    @property
    def number_slots(self):
        slots = [n for n in self.fields if FIG_VALUE.fullmatch(n)]
        return slots + [n for n in ("region-funding", "region-population") if n in self.fields]


def parse_form(page_html: str, url: str = "") -> Form:
    match = FORM_TAG.search(page_html)
    status_match = STATUS.search(page_html)
    pk_match = SUBMISSION_URL.search(url)
    if match is None:
        return Form(
            int(pk_match.group(1)) if pk_match else None,
            status_match.group(1) if status_match else None,
            False,
            {},
            csrf_from(page_html),
        )
    tag = match.group(1) + match.group(2)
    body = match.group(3)
    fields = {}
    for attrs in INPUT.findall(body):
        a = dict(ATTR.findall(attrs))
        if "name" not in a or a.get("type") in ("file", "submit", "button", "checkbox", "radio"):
            continue
        fields[a["name"]] = html.unescape(a.get("value", ""))
    for attrs, content in TEXTAREA.findall(body):
        a = dict(ATTR.findall(attrs))
        if "name" in a:
            fields[a["name"]] = html.unescape(content)
    for attrs, content in SELECT.findall(body):
        a = dict(ATTR.findall(attrs))
        options = OPTION.findall(content)
        if "name" not in a or not options:
            continue
        chosen = next((value for value, rest in options if "selected" in rest), options[0][0])
        fields[a["name"]] = html.unescape(chosen)
    return Form(
        pk=int(pk_match.group(1)) if pk_match else None,
        status=status_match.group(1) if status_match else None,
        editable='data-autosave="1"' in tag,
        fields=fields,
        csrf=fields.get("csrfmiddlewaretoken") or csrf_from(page_html),
    )


def fill_for_submit(fields: dict) -> dict:
    """What an approver completes before submitting: no blank figure, an explanation for each."""
    out = dict(fields)
    for name, value in fields.items():
        parts = name.split("-")
        if parts[0] == "fig" and len(parts) == 3:
            kind = parts[2]
            if kind == "value" and not value.strip():
                out[name] = "1"
            elif kind == "covered" and not value.strip():
                out[name] = "0" if fields.get(f"fig-{parts[1]}-total", "").strip() else "1"
            elif kind == "total" and not value.strip():
                out[name] = fields.get(f"fig-{parts[1]}-covered", "").strip() or "1"
            elif kind == "done" and not value.strip():
                out[name] = "no"
            elif kind == "explanation" and not value.strip():
                out[name] = EXPLANATION
    for name, default in (("region-funding", "30"), ("region-population", "10")):
        if name in out and not out[name].strip():
            out[name] = default
    return out


@dataclass
class Record:
    action: str
    user: str
    status: int
    seconds: float
    started: float
    outcome: str  # ok | stale | locked | error
    note: str = ""


@dataclass
class LoadTest:
    """``phases``: [(name, seconds, (think min, think max))], run back to back by the same users.

    The first phase is the one the goals are judged on ("the deadline"); approvers submit during it.
    A later phase with a short think time shows where the server saturates.
    """

    port: int
    period: int
    units: list
    password: str
    phases: list = field(default_factory=lambda: [("deadline", 60.0, (5.0, 15.0))])
    approvers: int = 18
    users: int = 100
    tag: str = field(default_factory=lambda: time.strftime("%H%M%S"))
    seed: int = 2025

    def __post_init__(self):
        self.records: list[Record] = []
        self.lock = threading.Lock()
        self.expected: dict = {}  # (user, submission, slot) -> value of the user's last successful save
        self.saves_ok = Counter()
        self.submitted_units: dict = {}  # unit code -> time of the successful submit
        self.approved: list = []
        self.login_records: list[Record] = []
        self.participants: list[dict] = []
        self.windows: list = []  # [(name, begin, end, think)] in time.monotonic()

    # ------------------------------------------------------------------ bookkeeping

    def record(self, action, user, response, started, outcome="ok", note=""):
        with self.lock:
            self.records.append(
                Record(
                    action,
                    user,
                    response.status if response else 0,
                    response.seconds if response else 0.0,
                    started,
                    outcome,
                    note,
                )
            )

    def call(self, client, action, user, method, path, fields=None):
        started = time.monotonic()
        try:
            response = client.request(method, path, fields=fields)
        except OSError as exc:
            with self.lock:
                self.records.append(
                    Record(
                        action,
                        user,
                        0,
                        time.monotonic() - started,
                        started,
                        "error",
                        f"{type(exc).__name__}: {exc}",
                    )
                )
            return None
        outcome = "ok" if 200 <= response.status < 400 else "error"
        if outcome == "error" and response.status in (400, 403, 409) and action in ("save", "save+submit"):
            outcome = "pending"  # classified by the caller
        if outcome != "pending":
            note = "" if outcome == "ok" else response.text[:200]
            self.record(action, user, response, started, outcome, note)
        return response, started

    def classify(self, action, user, response, started, outcome, note=""):
        self.record(action, user, response, started, outcome, note)

    # ------------------------------------------------------------------ users

    def plan_users(self):
        """Reporters of every real unit; approvers of units whose form can still be submitted."""
        reporters = [u for u in self.units if u["reporter"]]
        editable = [u for u in reporters if u["editable"] and u["approver"]]
        # Spread the approvers over the list (departments first, then local governments).
        step = max(1, len(editable) // max(self.approvers, 1))
        approvers = editable[::step][: self.approvers]
        people = [{"username": u["reporter"], "unit": u["code"], "role": "reporter"} for u in reporters]
        people += [{"username": u["approver"], "unit": u["code"], "role": "approver"} for u in approvers]
        return people[: self.users]

    def think_time(self):
        now = time.monotonic()
        think = next((w[3] for w in self.windows if w[1] <= now < w[2]), self.windows[-1][3])
        return random.uniform(*think)

    def view(self, client, user, path, action="view"):
        """GET a page, following redirects as a browser does; (form or None, final path, page text)."""
        response = None
        for _hop in range(4):
            result = self.call(client, action, user, "GET", path)
            if result is None:
                return None, path, ""
            response, _started = result
            if response.status not in (301, 302, 303):
                break
            path = response.location or path
        if response is None or response.status != 200:
            return None, path, ""
        return parse_form(response.text, path), path, response.text

    def save(self, client, person, form, path, seq, *, submit=False):
        """Post the whole form with this user's change; returns (outcome, new form, path)."""
        user, role = person["username"], person["role"]
        index = 0 if role == "reporter" else 1
        fields = dict(form.fields)
        changed = {}
        texts, numbers = form.text_slots, form.number_slots
        if len(texts) > index:
            changed[texts[index]] = f"{MARKER} {self.tag} {user} 第{seq}次保存"
        if len(numbers) > index:
            changed[numbers[index]] = str(1 + seq % 97)
        fields.update(changed)
        if submit:
            fields = fill_for_submit(fields)
            fields.update(changed)
        fields["then"] = "submit" if submit else "save"
        action = "save+submit" if submit else "save"
        result = self.call(client, action, user, "POST", path, fields)
        if result is None:
            return "error", None, path
        response, started = result
        if response.status in (301, 302, 303):
            with self.lock:
                for slot, value in changed.items():
                    self.expected[(user, form.pk, slot)] = value
                self.saves_ok[user] += 1
            new_form, path, text = self.view(client, user, response.location or path)
            if submit:
                if new_form is not None and not new_form.editable:
                    with self.lock:
                        self.submitted_units[person["unit"]] = time.monotonic()
                    return "submitted", new_form, path
                messages = MESSAGE.findall(text)
                return "refused: " + "; ".join(html.unescape(m[1]) for m in messages)[:300], new_form, path
            return "ok", new_form, path
        if response.status == 409:
            self.classify(action, user, response, started, "stale")
            new_form, path, _text = self.view(client, user, path)
            return "stale", new_form, path
        if response.status == 403:
            new_form, path, _text = self.view(client, user, path)
            locked = new_form is not None and not new_form.editable
            self.classify(
                action, user, response, started, "locked" if locked else "error", response.text[:200]
            )
            return ("locked" if locked else "error"), new_form, path
        return "error", None, path

    def unit_user(self, person, client, start_at, end_at):
        user = person["username"]
        time.sleep(max(0.0, start_at - time.monotonic()))
        form, path, _text = self.view(client, user, f"/report/{person['unit']}/{self.period}/", action="open")
        seq = 0
        submit_at = None
        if person["role"] == "approver":
            first_end = self.windows[0][2]
            submit_at = start_at + random.uniform(0.3, 0.7) * (first_end - start_at)
        submitted = False
        retry = False
        while time.monotonic() < end_at:
            if form is None or not form.editable:
                # A locked form (submitted or approved): the user reloads it now and then.
                time.sleep(min(self.think_time(), max(0.0, end_at - time.monotonic())))
                if time.monotonic() >= end_at:
                    break
                form, path, _text = self.view(client, user, path)
                continue
            # After a refused (stale) save the user reloads and saves again within a second or so.
            pause = random.uniform(0.5, 1.5) if retry else self.think_time()
            time.sleep(min(pause, max(0.0, end_at - time.monotonic())))
            if time.monotonic() >= end_at:
                break
            submit = submit_at is not None and not submitted and time.monotonic() >= submit_at
            seq += 1
            outcome, form, path = self.save(client, person, form, path, seq, submit=submit)
            retry = outcome == "stale"
            if submit and outcome != "stale":
                submitted = True
                with self.lock:
                    person["submit_outcome"] = outcome

    def office_user(self, client, end_at):
        tried = set()
        while time.monotonic() < end_at:
            result = self.call(client, "review queue", "office", "GET", "/review/")
            ids = []
            if result is not None and result[0].status == 200:
                ids = [
                    int(i) for i in dict.fromkeys(QUEUE_LINK.findall(result[0].text)) if int(i) not in tried
                ]
            if not ids:
                time.sleep(min(1.5, max(0.0, end_at - time.monotonic())))
                continue
            pk = ids[0]
            tried.add(pk)
            form, _path, text = self.view(client, "office", f"/submissions/{pk}/", action="view (office)")
            if form is None or form.status != "submitted":
                continue
            time.sleep(random.uniform(0.5, 1.5))
            if time.monotonic() >= end_at:
                break
            token = form.csrf or csrf_from(text)
            result = self.call(
                client,
                "approve",
                "office",
                "POST",
                f"/submissions/{pk}/approve/",
                {"csrfmiddlewaretoken": token or ""},
            )
            if result is not None and result[0].status in (301, 302, 303):
                after, _p, _t = self.view(client, "office", f"/submissions/{pk}/", action="view (office)")
                if after is not None and after.status == "approved":
                    with self.lock:
                        self.approved.append(pk)

    # ------------------------------------------------------------------ the run

    def run(self) -> dict:
        random.seed(self.seed)
        people = self.plan_users()
        self.participants = people
        clients = {}

        def log_in(person):
            client = HttpClient(self.port, timeout=60)
            started = time.monotonic()
            try:
                ok, seconds, status = login(client, person["username"], self.password)
            except OSError as exc:
                ok, seconds, status = False, time.monotonic() - started, 0
                person["login_error"] = str(exc)
            with self.lock:
                self.login_records.append(
                    Record("log in", person["username"], status, seconds, started, "ok" if ok else "error")
                )
            if ok:
                clients[person["username"]] = client

        log(f"load test: {len(people)} unit users + office log in (10 at a time)")
        everyone = [*people, {"username": "office", "unit": None, "role": "office"}]
        pending = list(everyone)
        while pending:
            batch, pending = pending[:10], pending[10:]
            threads = [threading.Thread(target=log_in, args=(p,)) for p in batch]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
        logged_in = [p for p in people if p["username"] in clients]
        total = sum(seconds for _n, seconds, _t in self.phases)
        log(
            f"load test: {len(logged_in)}/{len(people)} logged in; phases "
            + ", ".join(f"{n} {s:.0f} s (think {t[0]:g}–{t[1]:g} s)" for n, s, t in self.phases)
        )
        begin = time.monotonic() + 1.0
        at = begin
        for name, seconds, think in self.phases:
            self.windows.append((name, at, at + seconds, think))
            at += seconds
        end_at = at
        threads = []
        for person in logged_in:
            start_at = begin + random.uniform(0.0, 3.0)
            threads.append(
                threading.Thread(
                    target=self.unit_user,
                    args=(person, clients[person["username"]], start_at, end_at),
                    name=person["username"],
                    daemon=True,
                )
            )
        if "office" in clients:
            threads.append(
                threading.Thread(
                    target=self.office_user, args=(clients["office"], end_at), name="office", daemon=True
                )
            )
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, end_at - time.monotonic() + 90))
        still = [t.name for t in threads if t.is_alive()]
        self.overrun = time.monotonic() - end_at  # requests still in flight when the time was up
        return self.summary(total, logged_in, still)

    def phase_of(self, record):
        for name, _begin, end, _think in self.windows:
            if record.started < end:
                return name
        return self.windows[-1][0]

    @staticmethod
    def action_stats(rows):
        by_action = defaultdict(list)
        for r in rows:
            by_action[r.action].append(r)
        actions = {}
        for action, items in sorted(by_action.items()):
            latencies = [r.seconds for r in items]
            actions[action] = {
                "count": len(items),
                "p50_ms": percentile(latencies, 50) * 1000,
                "p95_ms": percentile(latencies, 95) * 1000,
                "p99_ms": percentile(latencies, 99) * 1000,
                "max_ms": max(latencies) * 1000,
                "outcomes": dict(Counter(r.outcome for r in items)),
                "statuses": dict(Counter(r.status for r in items)),
            }
        return actions

    def summary(self, total, logged_in, still) -> dict:
        phases = []
        for name, begin, end, think in self.windows:
            rows = [r for r in self.records if self.phase_of(r) == name]
            seconds = end - begin
            saves = [r for r in rows if r.action in ("save", "save+submit") and r.outcome == "ok"]
            phases.append(
                {
                    "name": name,
                    "seconds": seconds,
                    "think_seconds": list(think),
                    "requests": len(rows),
                    "rps": len(rows) / seconds if seconds else 0,
                    "saves_per_second": len(saves) / seconds if seconds else 0,
                    "actions": self.action_stats(rows),
                    "errors": sum(1 for r in rows if r.outcome == "error"),
                    "stale_409": sum(1 for r in rows if r.outcome == "stale"),
                    "locked_403": sum(1 for r in rows if r.outcome == "locked"),
                }
            )
        login_lat = [r.seconds for r in self.login_records]
        errors = [r for r in self.records if r.outcome == "error"] + [
            r for r in self.login_records if r.outcome == "error"
        ]
        submit_outcomes = Counter(
            p.get("submit_outcome") or "no submit (stale until the end, or locked)"
            for p in self.participants
            if p["role"] == "approver"
        )
        first = phases[0] if phases else {}
        return {
            "users": len(self.participants),
            "reporters": sum(1 for p in self.participants if p["role"] == "reporter"),
            "approvers": sum(1 for p in self.participants if p["role"] == "approver"),
            "logged_in": len(logged_in),
            "phases": phases,
            # The first phase's figures are the headline ones (the goals are judged on them).
            "wall_seconds": first.get("seconds", total),
            "requests": first.get("requests", 0),
            "rps": first.get("rps", 0),
            "actions": first.get("actions", {}),
            "think_seconds": first.get("think_seconds"),
            "login": {
                "count": len(login_lat),
                "p50_ms": (percentile(login_lat, 50) or 0) * 1000,
                "p95_ms": (percentile(login_lat, 95) or 0) * 1000,
                "errors": sum(1 for r in self.login_records if r.outcome == "error"),
            },
            "errors": len(errors),
            "error_samples": [
                {"action": r.action, "user": r.user, "status": r.status, "note": r.note[:160]}
                for r in errors[:8]
            ],
            "stale_409": sum(1 for r in self.records if r.outcome == "stale"),
            "locked_403": sum(1 for r in self.records if r.outcome == "locked"),
            "successful_saves": sum(self.saves_ok.values()),
            "users_who_saved": len(self.saves_ok),
            "submitted": len(self.submitted_units),
            "submit_outcomes": dict(submit_outcomes),
            "approved_by_office": len(self.approved),
            "threads_still_running": still,
            "overrun_seconds": self.overrun,
        }

    # ------------------------------------------------------------------ the check

    def check(self, database_url: str) -> dict:
        """Compare each user's last saved values with the database; look for markers in wrong forms."""
        lost = []
        checked = 0
        for (user, submission, slot), value in sorted(self.expected.items(), key=lambda kv: str(kv[0])):
            checked += 1
            parts = slot.split("-")
            if parts[0] == "line":
                rows = query(
                    database_url, "SELECT progress FROM tasks_measureline WHERE id = %s", [int(parts[1])]
                )
                actual = rows[0][0] if rows else None
                same = (actual or "").strip() == value.strip()
            elif parts[0] == "fig":
                rows = query(
                    database_url, "SELECT value FROM targets_targetfigure WHERE id = %s", [int(parts[1])]
                )
                actual = rows[0][0] if rows else None
                same = actual is not None and float(actual) == float(value)
            else:
                column = {
                    "region-source_note": "source_note",
                    "region-funding": "funding",
                    "region-population": "population",
                }[slot]
                rows = query(
                    database_url,
                    f"SELECT {column} FROM targets_regionfigure WHERE submission_id = %s",
                    [submission],
                )
                actual = rows[0][0] if rows else None
                same = (
                    (actual or "").strip() == value.strip()
                    if column == "source_note"
                    else (actual is not None and float(actual) == float(value))
                )
            if not same:
                lost.append(
                    {
                        "user": user,
                        "submission": submission,
                        "slot": slot,
                        "saved": value,
                        "in_db": str(actual)[:80],
                    }
                )
        pattern = f"{MARKER} {self.tag} %"
        misplaced = 0
        for table, column in (("tasks_measureline", "progress"), ("targets_regionfigure", "source_note")):
            rows = query(
                database_url,
                f"SELECT t.{column}, u.code FROM {table} t JOIN tasks_submission s ON s.id = t.submission_id "
                f"JOIN units_unit u ON u.id = s.unit_id WHERE t.{column} LIKE %s",
                [pattern],
            )
            for text, code in rows:
                writer = text.split()[2] if len(text.split()) > 2 else ""
                if writer.rsplit("-", 1)[0] != code:
                    misplaced += 1
        return {
            "values_checked": checked,
            "lost_or_overwritten": len(lost),
            "lost_samples": lost[:10],
            "markers_in_other_units_forms": misplaced,
        }
