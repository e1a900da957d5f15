# SPDX-License-Identifier: MIT
"""The service around the API: /healthz, /metrics, unknown paths and methods, and a graceful
stop (SIGTERM lets in-flight requests finish, refuses new connections, exits 0)."""

import sys

sys.dont_write_bytecode = True

import re  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import harness  # noqa: E402

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format -> list of (name, {label: value}, float)."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = SAMPLE.match(line.strip())
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def refused(port, timeout=1.0):
    """True when nothing accepts connections on the port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        s.close()


class ServiceTest(harness.FielddTestCase):

    def metrics(self):
        r = self.get("/metrics")
        self.assertEqual(r.status, 200, r.body)
        ctype = r.headers.get("Content-Type") or ""
        self.assertTrue(ctype.startswith("text/plain"), "metrics Content-Type %r" % ctype)
        return r.body, parse_metrics(r.body)

    def test_healthz(self):
        r = self.server.request("GET", "/healthz")
        self.assertEqual(r.status, 200)
        self.assertTrue((r.headers.get("Content-Type") or "").startswith("application/json"))
        self.assertEqual(r.body["status"], "ok")
        self.assertEqual(r.body["database"], "up")
        self.assertIsInstance(r.body["pool"], dict)
        # a token is not needed, and a bad one does not hurt
        r = self.server.request("GET", "/healthz", token="acs_nonsense")
        self.assertEqual(r.status, 200)

    def test_metrics(self):
        self.assertProblem(self.server.request("GET", "/metrics"), 401,
                           "/problems/unauthorized", what="metrics without a token")
        _, samples0 = self.metrics()
        c = self.make_client()
        for _ in range(2):
            self.expect(self.get("/api/v1/clients?limit=1"), 200)
        text, samples = self.metrics()
        for name in ("fieldd_http_requests_total", "fieldd_http_request_duration_seconds_bucket",
                     "fieldd_http_request_duration_seconds_count",
                     "fieldd_http_request_duration_seconds_sum", "fieldd_db_pool_connections",
                     "fieldd_db_queries_total", "fieldd_db_queue_length"):
            self.assertIn(name, {s[0] for s in samples}, "metric %s is exported" % name)
        self.assertRegex(text, r"(?m)^# TYPE fieldd_http_requests_total counter$")
        self.assertRegex(text, r"(?m)^# TYPE fieldd_http_request_duration_seconds histogram$")

        def series(samples, name, **want):
            return [s for s in samples if s[0] == name and
                    all(s[1].get(k) == v for k, v in want.items())]

        pool = {s[1].get("state") for s in series(samples, "fieldd_db_pool_connections")}
        self.assertIn("idle", pool)
        ok_before = sum(s[2] for s in series(samples, "fieldd_db_queries_total", result="ok"))
        self.assertGreater(ok_before, 0)
        def posts(samples):
            return {s[1]["route"]: s[2] for s in series(
                samples, "fieldd_http_requests_total", method="POST", status="201")}

        p0, p1 = posts(samples0), posts(samples)
        grew = {r: v - p0.get(r, 0) for r, v in p1.items() if v != p0.get(r, 0)}
        self.assertEqual(list(grew.values()), [1.0], "one POST 201 counted: %r" % (grew,))
        self.assertIn("client", list(grew)[0])

        # three more list requests: exactly one series goes up by three, the clients list
        def counters(samples):
            return {tuple(sorted(s[1].items())): s[2] for s in samples
                    if s[0] == "fieldd_http_requests_total"}

        before = counters(samples)
        for _ in range(3):
            self.expect(self.get("/api/v1/clients?limit=1"), 200)
        text2, samples2 = self.metrics()
        after = counters(samples2)
        up3 = [dict(k) for k, v in after.items() if v - before.get(k, 0) == 3]
        self.assertEqual(len(up3), 1, "series that rose by 3: %r" % (up3,))
        self.assertEqual((up3[0]["method"], up3[0]["status"]), ("GET", "200"))
        route = up3[0]["route"]
        self.assertIn("client", route)
        for k, v in after.items():
            d = dict(k)
            if d["route"] != route and v != before.get(k, 0):
                self.assertIn("metrics", d["route"], "only the scrape itself changed %r" % d)
        ok_after = sum(s[2] for s in series(samples2, "fieldd_db_queries_total", result="ok"))
        self.assertGreaterEqual(ok_after, ok_before, "a counter never goes down")
        count = series(samples2, "fieldd_http_request_duration_seconds_count", route=route)
        self.assertEqual(len(count), 1, "duration histogram of %r" % route)
        self.assertGreaterEqual(count[0][2], 5)
        inf = [s for s in series(samples2, "fieldd_http_request_duration_seconds_bucket",
                                 route=route) if s[1].get("le") == "+Inf"]
        self.assertEqual([s[2] for s in inf], [count[0][2]], "+Inf bucket equals _count")
        buckets = sorted((float(s[1]["le"]), s[2]) for s in series(
            samples2, "fieldd_http_request_duration_seconds_bucket", route=route))
        self.assertEqual([b[1] for b in buckets], sorted(b[1] for b in buckets),
                         "buckets are cumulative")

        # routes are templates: no ids or unknown paths as label values
        ghost = "nothing-" + uuid.uuid4().hex
        self.assertEqual(self.get("/api/v1/" + ghost).status, 404)
        self.expect(self.get("/api/v1/clients/" + c["id"]), 200)
        text3, samples3 = self.metrics()
        self.assertNotIn(ghost, text3, "an unknown path became a label value")
        self.assertNotIn(c["id"], text3, "an id became a label value")
        self.assertTrue(series(samples3, "fieldd_http_requests_total", status="404"),
                        "the 404 is counted")
        # a write always reaches the database (lists may come from a cache)
        self.make_client()
        _, samples4 = self.metrics()
        ok_4 = sum(s[2] for s in series(samples4, "fieldd_db_queries_total", result="ok"))
        self.assertGreater(ok_4, ok_after, "fieldd_db_queries_total{result=ok} counts a write")

    def test_unknown_path(self):
        for path in ("/api/v1/nothing-here", "/api/v2/tickets", "/api/v1/tickets/%s/fly/away"
                     % uuid.uuid4()):
            self.assertProblem(self.get(path), 404, "/problems/not-found",
                               what="GET %s" % path)

    def test_wrong_method(self):
        t_id = str(uuid.uuid4())
        for method, path, allowed in (("DELETE", "/api/v1/clients", {"GET", "POST"}),
                                      ("PUT", "/api/v1/tickets", {"GET", "POST"}),
                                      ("DELETE", "/api/v1/jobs/" + t_id, {"GET"}),
                                      ("PUT", "/api/v1/clients/" + t_id, {"GET", "PATCH"}),
                                      ("POST", "/healthz", {"GET"}),
                                      ("GET", "/api/v1/tickets/%s/close" % t_id, {"POST"})):
            r = self.call(method, path)
            self.assertProblem(r, 405, "/problems/method-not-allowed",
                               what="%s %s" % (method, path))
            allow = {m.strip().upper() for m in (r.headers.get("Allow") or "").split(",")
                     if m.strip()}
            self.assertTrue(allowed <= allow, "%s %s: Allow %r lacks %r" % (
                method, path, r.headers.get("Allow"), allowed))
            self.assertNotIn(method, allow)

    def test_lists_see_changes_made_elsewhere(self):
        """Two fieldd on one database (the scale-out of DESIGN.md), and a change made in SQL:
        a list answered before the change shows it soon after (cached lists are
        invalidated), and at once on the instance that made it."""
        other = harness.Server(self.db, self.workdir, name="fieldd-b").start()
        tok = self.users["dispatcher"].token
        try:
            path = "/api/v1/clients?limit=200"

            def names(srv):
                r = srv.request("GET", path, token=tok)
                self.assertEqual(r.status, 200, r.body)
                return {c["id"]: c["name"] for c in r.body["items"]}

            def eventually(srv, pred, what, bound=2.0):
                deadline = time.monotonic() + bound
                while True:
                    got = names(srv)
                    if pred(got):
                        return
                    if time.monotonic() > deadline:
                        self.fail("%s not seen within %.1f s" % (what, bound))
                    time.sleep(0.05)

            for _ in range(2):  # prime both instances' caches
                names(self.server)
                names(other)
            c = self.make_client(name="made on A")
            self.assertEqual(names(self.server).get(c["id"]), "made on A",
                             "the writing instance lists its write at once")
            eventually(other, lambda g: g.get(c["id"]) == "made on A", "A's write on B")
            r = other.request("PATCH", "/api/v1/clients/" + c["id"], token=tok,
                              body={"name": "renamed on B"})
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(names(other).get(c["id"]), "renamed on B")
            eventually(self.server, lambda g: g.get(c["id"]) == "renamed on B",
                       "B's change on A")
            self.db.sql("UPDATE client SET name = 'renamed in SQL' WHERE id = :'i';", i=c["id"])
            for srv, label in ((self.server, "A"), (other, "B")):
                eventually(srv, lambda g: g.get(c["id"]) == "renamed in SQL",
                           "a change made in SQL on %s" % label)
        finally:
            rc = other.stop()
        self.assertEqual(rc, 0, "second instance exit status\n" + other.log_tail())

    def test_sigint_stops_cleanly(self):
        srv = harness.Server(self.db, self.workdir, name="fieldd-sigint").start()
        try:
            self.assertEqual(srv.request("GET", "/healthz").status, 200)
            rc = srv.stop(signal.SIGINT, timeout=15)
            self.assertEqual(rc, 0, "exit status after SIGINT\n" + srv.log_tail())
            self.assertTrue(refused(srv.port), "port closed after exit")
        finally:
            srv.kill()

    def test_sigterm_drains_in_flight_requests(self):
        c, s = self.make_place()
        for i in range(30):
            self.make_ticket(c["id"], s["id"], subject="drain %d" % i)
        n_tickets = self.db.count("ticket")
        srv = harness.Server(self.db, self.workdir, env={"FIELDD_DB_POOL": "8"},
                             name="fieldd-drain").start()
        locker = None
        try:
            # Hold a lock on ticket so that list requests wait inside the database.
            locker = subprocess.Popen(
                ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                 "-h", self.cluster.host, "-p", str(self.cluster.port), "-U",
                 self.cluster.user, "-d", self.db.name],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True)
            locker.stdin.write("BEGIN;\nLOCK TABLE ticket IN ACCESS EXCLUSIVE MODE;\n"
                               "SELECT 'locked';\n")
            locker.stdin.flush()
            ready, _, _ = select.select([locker.stdout], [], [], 15)
            self.assertTrue(ready, "psql took the lock")
            self.assertEqual(locker.stdout.readline().strip(), "locked")

            results = [None] * 4
            token = self.users["dispatcher"].token

            def fetch(k):
                try:
                    results[k] = srv.request("GET", "/api/v1/tickets?limit=200", token=token,
                                             timeout=30)
                except Exception as e:
                    results[k] = e

            threads = [threading.Thread(target=fetch, args=(k,), daemon=True)
                       for k in range(len(results))]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 15
            waiting = 0
            while time.monotonic() < deadline:
                waiting = int(self.db.value(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :'d' "
                    "AND wait_event_type = 'Lock';", d=self.db.name))
                if waiting >= len(results):
                    break
                time.sleep(0.1)
            self.assertEqual(waiting, len(results), "all requests are waiting in PostgreSQL")

            srv.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 3
            while not refused(srv.port) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertTrue(refused(srv.port), "new connections are refused after SIGTERM")
            time.sleep(0.3)
            self.assertTrue(srv.alive(), "fieldd waits for its in-flight requests\n"
                            + srv.log_tail())
            self.assertTrue(all(r is None for r in results), "nothing answered yet: %r"
                            % (results,))

            locker.stdin.write("COMMIT;\n\\q\n")
            locker.stdin.flush()
            for t in threads:
                t.join(30)
            for k, r in enumerate(results):
                self.assertIsInstance(r, harness.Response, "request %d: %r" % (k, r))
                self.assertEqual(r.status, 200, "in-flight request %d: %r" % (k, r.body))
                self.assertEqual(len(r.body["items"]), min(200, n_tickets))
            rc = srv.wait(15)
            self.assertEqual(rc, 0, "exit status after draining\n" + srv.log_tail())
        finally:
            if locker is not None:
                if locker.poll() is None:
                    locker.kill()
                locker.wait(10)
                locker.stdin.close()
                locker.stdout.close()
            srv.kill()


if __name__ == "__main__":
    harness.main()
