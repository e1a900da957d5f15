# SPDX-License-Identifier: MIT
"""Integration test harness for fieldd: a real PostgreSQL and a real fieldd process.

Every test class gets a database of its own on the throwaway cluster that scripts/test
started (ACS_TEST_PGHOST/PGPORT/PGUSER), migrated with `fieldd migrate`, six users made with
`fieldd user add` (admin, dispatcher, head, senior and two engineers) and a `fieldd serve` on
a free port of 127.0.0.1. Tests talk to it over real sockets with http.client and check what
was stored with psql. Teardown sends SIGTERM, requires exit status 0 within a bound, and drops
the database.

Environment:
  ACS_TEST_PGHOST, ACS_TEST_PGPORT, ACS_TEST_PGUSER  the cluster (no port: exit 77 = skipped)
  ACS_TEST_PG_DIR, ACS_SCRIPTS                       for stopping/starting it (pg restart test)
  FIELDD_BIN                                         the fieldd executable
  ACS_SOURCE_DIR                                     the repository root (db/migrations)

Only the Python standard library is used; run with /usr/bin/python3.
"""

import collections
import datetime
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

SKIP = 77

HERE = os.path.dirname(os.path.abspath(__file__))

# Everything a run leaves on disk (fieldd logs), kept when something failed.
_WORKDIRS = []
_LOGS = []


def _die_skip_if_no_cluster():
    if not os.environ.get("ACS_TEST_PGPORT"):
        print("skipped: ACS_TEST_PGPORT is not set (run through scripts/test, which starts "
              "a throwaway PostgreSQL)")
        sys.exit(SKIP)


def source_dir():
    return os.environ.get("ACS_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))


def fieldd_bin():
    path = os.environ.get("FIELDD_BIN")
    if not path:
        raise RuntimeError("FIELDD_BIN is not set: it must name the built fieldd executable "
                           "(CTest sets it from $<TARGET_FILE:fieldd>)")
    if not os.access(path, os.X_OK):
        raise RuntimeError("FIELDD_BIN=%s is not an executable file (build the fieldd target)"
                           % path)
    return path


def migrations_dir():
    return os.path.join(source_dir(), "db", "migrations")


def tail(path, lines=80):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


def parse_ts(value):
    """An RFC 3339 timestamp from the API or psql as an aware datetime."""
    if value is None:
        return None
    s = value.strip().replace(" ", "T", 1)
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    # psql prints "+00" offsets; fromisoformat wants "+00:00".
    m = re.search(r"([+-]\d\d)$", s)
    if m:
        s = s + ":00"
    dt = datetime.datetime.fromisoformat(s)
    if dt.tzinfo is None:
        raise ValueError("timestamp without offset: %r" % value)
    return dt


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def new_id():
    return str(uuid.uuid4())


def free_port():
    """A port of 127.0.0.1 nothing listens on, below the kernel's ephemeral range (32768+)
    so that an outgoing connection does not take it before fieldd binds it."""
    rnd = random.SystemRandom()
    for _ in range(200):
        port = rnd.randint(20000, 32000)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free TCP port in 20000-32000 on 127.0.0.1")


# ------------------------------------------------------------------------------------------
# PostgreSQL


class Cluster:
    """The throwaway cluster of the environment contract."""

    def __init__(self):
        self.host = os.environ.get("ACS_TEST_PGHOST", "127.0.0.1")
        self.port = os.environ["ACS_TEST_PGPORT"]
        self.user = os.environ.get("ACS_TEST_PGUSER", "postgres")
        self.pg_dir = os.environ.get("ACS_TEST_PG_DIR")
        self.scripts = os.environ.get("ACS_SCRIPTS")

    def conninfo(self, dbname):
        return "host=%s port=%s user=%s dbname=%s connect_timeout=5" % (
            self.host, self.port, self.user, dbname)

    def psql(self, sql, dbname="postgres", variables=None, timeout=60, check=True):
        """Run sql (a script, fed on stdin so that :'var' interpolation works) with
        psql -At; return stdout. Fields are separated by \\x1f, rows by \\x1e."""
        cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", "\x1f",
               "-R", "\x1e",
               "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", dbname]
        for k, v in (variables or {}).items():
            cmd += ["-v", "%s=%s" % (k, v)]
        p = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, PGCONNECT_TIMEOUT="5"))
        if check and p.returncode != 0:
            raise AssertionError("psql failed (exit %d) on %r:\n%s" % (p.returncode, sql,
                                                                       p.stderr))
        return p.stdout

    def is_up(self):
        try:
            p = subprocess.run(["pg_isready", "-h", self.host, "-p", str(self.port),
                                "-U", self.user, "-t", "3"],
                               capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return p.returncode == 0

    def can_restart(self):
        return bool(self.pg_dir and self.scripts and
                    os.access(os.path.join(self.scripts, "pg"), os.X_OK))

    def _pg(self, action, timeout=60):
        p = subprocess.run([os.path.join(self.scripts, "pg"), action, self.pg_dir],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("scripts/pg %s %s failed (exit %d):\n%s%s" % (
                action, self.pg_dir, p.returncode, p.stdout, p.stderr))

    def stop(self):
        self._pg("stop")

    def start(self):
        self._pg("start")
        deadline = time.monotonic() + 30
        while not self.is_up():
            if time.monotonic() > deadline:
                raise AssertionError("PostgreSQL did not accept connections within 30 s "
                                     "of scripts/pg start")
            time.sleep(0.2)

    def create_database(self):
        name = "acs_it_" + uuid.uuid4().hex[:12]
        self.psql('CREATE DATABASE "%s";' % name)
        return Database(self, name)


class Database:
    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.conninfo = cluster.conninfo(name)

    def sql(self, sql, **variables):
        """Run a script; :'name' in it is replaced by the quoted variable. Return stdout."""
        return self.cluster.psql(sql, self.name, variables)

    def rows(self, sql, **variables):
        """Rows of the last statement's output, each a list of text values ('' for NULL)."""
        out = self.sql(sql, **variables)
        if out == "":
            return []
        if out.endswith("\n"):
            out = out[:-1]
        return [rec.split("\x1f") for rec in out.split("\x1e")]

    def value(self, sql, **variables):
        rows = self.rows(sql, **variables)
        if len(rows) != 1 or len(rows[0]) != 1:
            raise AssertionError("expected one value from %r, got %r" % (sql, rows))
        return rows[0][0]

    def count(self, table, where="true", **variables):
        return int(self.value("SELECT count(*) FROM %s WHERE %s;" % (table, where),
                              **variables))

    def schema_dump(self):
        p = subprocess.run(["pg_dump", "-s", "-h", self.cluster.host, "-p",
                            str(self.cluster.port), "-U", self.cluster.user, self.name],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("pg_dump -s failed: %s" % p.stderr)
        # pg_dump 15.14+ brackets its output with \restrict/\unrestrict and a random key
        return "".join(line for line in p.stdout.splitlines(True)
                       if not line.startswith(("\\restrict ", "\\unrestrict ")))

    def drop(self):
        self.cluster.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE);' % self.name)


# ------------------------------------------------------------------------------------------
# fieldd commands


def run_fieldd(args, db=None, env=None, timeout=60):
    """Run `fieldd ARGS` to completion; return the CompletedProcess (text)."""
    e = dict(os.environ)
    e.pop("FIELDD_MIGRATIONS", None)
    if db is not None:
        e["FIELDD_DB"] = db.conninfo
    e.update(env or {})
    return subprocess.run([fieldd_bin()] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=e)


def describe(p):
    return "fieldd %s exited %s\n--- stdout ---\n%s--- stderr ---\n%s" % (
        " ".join(p.args[1:]), p.returncode, p.stdout, p.stderr)


def migrate(db, env=None):
    p = run_fieldd(["migrate"], db, env)
    if p.returncode != 0:
        raise AssertionError("migration failed: " + describe(p))
    return p


User = collections.namedtuple("User", "key id token role name skills region")


def add_user(db, key, role, skills=None, region=None, name=None):
    name = name or "IT %s %s" % (key, uuid.uuid4().hex[:6])
    args = ["user", "add", "--name", name, "--role", role]
    if skills:
        args += ["--skills", ",".join(skills)]
    if region:
        args += ["--region", region]
    p = run_fieldd(args, db)
    if p.returncode != 0:
        raise AssertionError("user add failed: " + describe(p))
    uid = re.search(r"^user_id:\s*(\S+)\s*$", p.stdout, re.M)
    tok = re.search(r"^token:\s*(\S+)\s*$", p.stdout, re.M)
    if not uid or not tok:
        raise AssertionError("user add did not print 'user_id: <uuid>' and 'token: <token>': "
                             + describe(p))
    uuid.UUID(uid.group(1))
    return User(key, uid.group(1), tok.group(1), role, name, list(skills or []), region)


ENGINEER_SKILLS = ["turnstile", "reader", "rs485", "firmware"]


def standard_users(db):
    users = {}
    for key, role, skills, region in (
            ("admin", "admin", None, None),
            ("dispatcher", "dispatcher", None, None),
            ("head", "head", None, None),
            ("senior", "senior", ENGINEER_SKILLS, "north"),
            ("eng1", "engineer", ENGINEER_SKILLS, "north"),
            ("eng2", "engineer", ENGINEER_SKILLS, "south")):
        users[key] = add_user(db, key, role, skills, region)
    return users


# ------------------------------------------------------------------------------------------
# HTTP

Response = collections.namedtuple("Response", "status headers body")
Response.__doc__ = "status: int; headers: http.client.HTTPMessage (case-insensitive get); " \
                   "body: parsed JSON when the Content-Type says JSON, else text"

_MISSING = object()


def _decode(resp, data):
    ctype = (resp.getheader("Content-Type") or "").lower()
    text = data.decode("utf-8", "replace")
    if "json" in ctype and data:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def http_request(port, method, path, token=None, body=_MISSING, raw=None,
                 content_type="application/json", headers=None, timeout=10,
                 host="127.0.0.1"):
    """One request on a new connection. body: a value to send as JSON; raw: bytes sent as
    they are. Never raises on 4xx/5xx; network errors do raise."""
    h = {"Connection": "close"}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    data = None
    if raw is not None:
        data = raw
    elif body is not _MISSING:
        data = json.dumps(body).encode("utf-8")
    if data is not None and content_type is not None:
        h["Content-Type"] = content_type
    h.update(headers or {})
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        payload = resp.read()
        return Response(resp.status, resp.msg, _decode(resp, payload))
    finally:
        conn.close()


class _Canned:
    def __init__(self, data):
        self._f = io.BytesIO(data)

    def makefile(self, *args, **kw):
        return self._f


def raw_exchange(port, request_bytes, method="POST", timeout=15):
    """Send bytes as they are and parse the response. The response is read by a second
    thread while the request is still being sent, so that an early answer (413 before the
    body is read) is not lost when the server closes the connection. Returns a Response."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    chunks, errors = [], []

    def reader():
        try:
            while True:
                d = sock.recv(65536)
                if not d:
                    return
                chunks.append(d)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        try:
            sock.sendall(request_bytes)
        except OSError:
            pass  # the server may stop reading once it has answered
        t.join(timeout)
        if t.is_alive():
            raise AssertionError("no complete response within %d s" % timeout)
    finally:
        sock.close()
    data = b"".join(chunks)
    if not data:
        raise AssertionError("connection closed without a response (%r)" % errors)
    resp = http.client.HTTPResponse(_Canned(data), method=method)
    resp.begin()
    payload = resp.read()
    return Response(resp.status, resp.msg, _decode(resp, payload))


def query(path, **params):
    """path?params, dropping None values; lists are joined with commas."""
    items = []
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            v = ",".join(v)
        items.append((k, str(v)))
    return path + ("?" + urllib.parse.urlencode(items) if items else "")


# ------------------------------------------------------------------------------------------
# fieldd serve


class _PortTaken(Exception):
    pass


class Server:
    def __init__(self, db, workdir, env=None, name="fieldd"):
        self.db = db
        self.env = dict(env or {})
        self.log_path = os.path.join(workdir, "%s-%s.log" % (name, uuid.uuid4().hex[:6]))
        self.proc = None
        self.port = None
        _LOGS.append(self.log_path)

    def start(self, ready_timeout=20, attempts=3):
        """Start fieldd serve and wait for GET /healthz = 200. A port that another process
        took between the check and fieldd's bind is retried with another port."""
        for attempt in range(attempts):
            try:
                return self._start(ready_timeout)
            except _PortTaken:
                if attempt == attempts - 1:
                    raise AssertionError("fieldd could not bind a port in %d attempts\n%s"
                                         % (attempts, self.log_tail()))

    def _start(self, ready_timeout):
        self.port = free_port()
        e = dict(os.environ)
        e.pop("FIELDD_MIGRATIONS", None)
        e.update({"FIELDD_DB": self.db.conninfo,
                  "FIELDD_LISTEN": "127.0.0.1:%d" % self.port})
        e.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([fieldd_bin(), "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=e)
        deadline = time.monotonic() + ready_timeout
        last = None
        while True:
            if self.proc.poll() is not None:
                self.log.close()
                if re.search(r"(?i)address already in use|EADDRINUSE",
                             tail(self.log_path, 5)):
                    raise _PortTaken()
                raise AssertionError("fieldd serve exited with %s before it was ready\n"
                                     "--- log tail ---\n%s" % (self.proc.returncode,
                                                               self.log_tail()))
            try:
                r = http_request(self.port, "GET", "/healthz", timeout=2)
                if r.status == 200:
                    return self
                last = "%d %r" % (r.status, r.body)
            except OSError as e:
                last = repr(e)
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError("fieldd serve not ready (GET /healthz = 200) within "
                                     "%d s; last answer: %s\n--- log tail ---\n%s" % (
                                         ready_timeout, last, self.log_tail()))
            time.sleep(0.1)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal fieldd and wait; return its exit status, or None if it had to be killed."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            rc = self.wait(timeout)
            if rc is None:
                self.kill()
                return None
        self.log.close()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        try:
            self.log.close()
        except Exception:
            pass

    def log_tail(self, lines=80):
        try:
            self.log.flush()
        except Exception:
            pass
        return tail(self.log_path, lines)

    def request(self, method, path, token=None, **kw):
        return http_request(self.port, method, path, token=token, **kw)


# ------------------------------------------------------------------------------------------
# Test cases


class FielddTestCase(unittest.TestCase):
    """A database, six users and a running fieldd per class."""

    server_env = {}
    maxDiff = 4000
    _slot = 0

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()
        cls.workdir = tempfile.mkdtemp(prefix="acs_it_")
        _WORKDIRS.append(cls.workdir)
        cls.db = cls.cluster.create_database()
        cls.server = None
        try:
            cls.migrate_output = migrate(cls.db)
            cls.users = standard_users(cls.db)
            cls.server = Server(cls.db, cls.workdir, cls.server_env).start()
        except BaseException:
            if cls.server is not None:
                cls.server.kill()
            cls.db.drop()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = "not started"
        tail_text = ""
        try:
            if cls.server is not None:
                rc = cls.server.stop()
                tail_text = cls.server.log_tail()
        finally:
            cls.db.drop()
        if cls.server is not None and rc != 0:
            raise AssertionError("fieldd did not exit 0 within 15 s of SIGTERM (status %s)\n"
                                 "--- log tail ---\n%s" % (rc, tail_text))

    # --- calls --------------------------------------------------------------------------

    def token(self, who):
        if who is None:
            return None
        if isinstance(who, User):
            return who.token
        if who in self.users:
            return self.users[who].token
        return who

    def call(self, method, path, who="dispatcher", body=_MISSING, **kw):
        return self.server.request(method, path, token=self.token(who), body=body, **kw)

    def get(self, path, who="dispatcher", **kw):
        return self.call("GET", path, who, **kw)

    def post(self, path, body=_MISSING, who="dispatcher", **kw):
        return self.call("POST", path, who, body=body, **kw)

    def patch(self, path, body, who="dispatcher", **kw):
        return self.call("PATCH", path, who, body=body, **kw)

    def fail_with_log(self, msg):
        self.fail("%s\n--- fieldd log tail ---\n%s" % (msg, self.server.log_tail(40)))

    def expect(self, resp, status, what=""):
        """Assert the HTTP status; return the body."""
        if resp.status != status:
            self.fail_with_log("%s: expected HTTP %d, got %d: %r" % (
                what or "request", status, resp.status, resp.body))
        return resp.body

    def assertProblem(self, resp, status, ptype, field=_MISSING, what=""):
        """Assert an RFC 7807 error of the contract; return its body."""
        label = what or "request"
        self.assertEqual(resp.status, status,
                         "%s: expected %d %s, got %d: %r" % (label, status, ptype,
                                                              resp.status, resp.body))
        ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.assertEqual(ctype, "application/problem+json",
                         "%s: Content-Type of an error" % label)
        b = resp.body
        self.assertIsInstance(b, dict, "%s: problem body is a JSON object" % label)
        for k in ("type", "title", "status", "detail"):
            self.assertIn(k, b, "%s: problem has %r: %r" % (label, k, b))
        self.assertEqual(b["type"], ptype, "%s: problem type: %r" % (label, b))
        self.assertEqual(b["status"], status, "%s: problem status: %r" % (label, b))
        self.assertIsInstance(b["title"], str)
        self.assertTrue(b["title"], "%s: title is not empty" % label)
        self.assertIsInstance(b["detail"], str)
        self.assertTrue(b["detail"], "%s: detail is not empty" % label)
        if field is not _MISSING:
            self.assertEqual(b.get("field"), field, "%s: problem field: %r" % (label, b))
        return b

    def assertTransitionConflict(self, resp, current, allowed, what=""):
        """409 for an illegal transition: a conflict problem (status 409) with
        `current_status` and `allowed`, the actions allowed from it (docs/api.md)."""
        b = self.assertProblem(resp, 409, "/problems/conflict", what=what or "transition")
        self.assertEqual(b.get("current_status"), current, "%s: %r" % (what, b))
        self.assertIsInstance(b.get("allowed"), list, "%s: %r" % (what, b))
        self.assertEqual(sorted(b["allowed"]), sorted(allowed), "%s: allowed: %r" % (what, b))
        return b

    def assertRecent(self, value, before, after, what="timestamp", slack=2.0):
        self.assertIsNotNone(value, "%s is set" % what)
        t = parse_ts(value)
        lo = before - datetime.timedelta(seconds=slack)
        hi = after + datetime.timedelta(seconds=slack)
        self.assertTrue(lo <= t <= hi, "%s = %s, expected between %s and %s" % (
            what, value, rfc3339(before), rfc3339(after)))
        return t

    def assertSameTime(self, a, b, what="timestamp"):
        self.assertIsNotNone(a, what)
        self.assertIsNotNone(b, what)
        self.assertEqual(parse_ts(a), parse_ts(b), "%s: %s vs %s" % (what, a, b))

    # --- quick objects --------------------------------------------------------------------

    def make_client(self, who="dispatcher", **fields):
        body = {"name": "Client %s" % uuid.uuid4().hex[:8]}
        body.update(fields)
        return self.expect(self.post("/api/v1/clients", body, who), 201, "create client")

    def make_site(self, client_id, who="dispatcher", **fields):
        body = {"client_id": client_id, "name": "Site %s" % uuid.uuid4().hex[:8],
                "kind": "residential_complex"}
        body.update(fields)
        return self.expect(self.post("/api/v1/sites", body, who), 201, "create site")

    def make_device(self, site_id, who="dispatcher", **fields):
        body = {"site_id": site_id, "kind": "turnstile_controller", "model": "TS-100",
                "serial": "SN-" + uuid.uuid4().hex[:10]}
        body.update(fields)
        return self.expect(self.post("/api/v1/devices", body, who), 201, "create device")

    def make_ticket(self, client_id, site_id, who="dispatcher", **fields):
        body = {"client_id": client_id, "site_id": site_id, "category": "standard",
                "subject": "Turnstile %s does not open" % uuid.uuid4().hex[:6]}
        body.update(fields)
        return self.expect(self.post("/api/v1/tickets", body, who), 201, "create ticket")

    def make_job(self, ticket, who="dispatcher", **fields):
        body = {"kind": "visit", "site_id": ticket["site_id"], "ticket_id": ticket["id"]}
        body.update(fields)
        return self.expect(self.post("/api/v1/jobs", body, who), 201, "create job")

    def make_place(self):
        """A client with a site; returns (client, site)."""
        c = self.make_client()
        return c, self.make_site(c["id"])

    @classmethod
    def next_slot(cls, hours=1):
        """A time slot no other assignment of this run overlaps (avoids double booking)."""
        FielddTestCase._slot += 1
        base = now_utc().replace(minute=0, second=0, microsecond=0)
        start = base + datetime.timedelta(days=2, hours=3 * FielddTestCase._slot)
        return rfc3339(start), rfc3339(start + datetime.timedelta(hours=hours))

    def assign(self, job_id, engineer, who="dispatcher", expect=200, **extra):
        start, end = self.next_slot()
        body = {"engineer_id": self.users[engineer].id if engineer in self.users else engineer,
                "planned_start": start, "planned_end": end}
        body.update(extra)
        r = self.post("/api/v1/jobs/%s/assign" % job_id, body, who)
        if expect is None:
            return r
        return self.expect(r, expect, "assign job")

    def job_to(self, job_id, action, who="dispatcher", expect=200, note=None):
        body = _MISSING if note is None else {"note": note}
        r = self.post("/api/v1/jobs/%s/%s" % (job_id, action), body, who)
        if expect is None:
            return r
        return self.expect(r, expect, "job %s" % action)

    def ticket_to(self, ticket_id, action, who="dispatcher", expect=200, note=None):
        body = _MISSING if note is None else {"note": note}
        r = self.post("/api/v1/tickets/%s/%s" % (ticket_id, action), body, who)
        if expect is None:
            return r
        return self.expect(r, expect, "ticket %s" % action)

    def assigned_job(self, engineer="eng1", ticket=None):
        """A ticket (new one unless given) with a job assigned to engineer: (ticket, job)."""
        if ticket is None:
            c, s = self.make_place()
            ticket = self.make_ticket(c["id"], s["id"])
        job = self.make_job(ticket)
        self.assign(job["id"], engineer)
        return ticket, job

    def list_all(self, path, who="dispatcher", limit=10, max_pages=100, **params):
        """Follow next_cursor to the end; return (items, pages)."""
        items, pages, cursor = [], 0, None
        while True:
            r = self.get(query(path, limit=limit, cursor=cursor, **params), who)
            body = self.expect(r, 200, "list %s" % path)
            self.assertIn("items", body)
            self.assertIn("next_cursor", body)
            self.assertLessEqual(len(body["items"]), limit)
            items.extend(body["items"])
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                return items, pages
            self.assertIsInstance(cursor, str)
            self.assertLess(pages, max_pages, "pagination does not end")


def main():
    """Entry point of every test module: skip (77) without a cluster, run, print fieldd's
    log tails on failure and keep them; clean up on success."""
    _die_skip_if_no_cluster()
    try:
        fieldd_bin()
    except RuntimeError as e:
        print("error: %s" % e)
        sys.exit(1)
    prog = unittest.main(exit=False, verbosity=2)
    ok = prog.result.wasSuccessful()
    if not ok:
        for path in _LOGS:
            if os.path.exists(path):
                print("\n===== tail of %s =====\n%s" % (path, tail(path, 60)),
                      file=sys.stderr)
        if _WORKDIRS:
            print("fieldd logs kept in: %s" % " ".join(_WORKDIRS), file=sys.stderr)
    else:
        for d in _WORKDIRS:
            shutil.rmtree(d, ignore_errors=True)
    sys.exit(0 if ok else 1)
