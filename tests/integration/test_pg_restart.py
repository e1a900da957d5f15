# SPDX-License-Identifier: MIT
"""PostgreSQL goes away under a running fieldd and comes back.

Writes carry client-chosen ids. While the database is down every request must be refused
quickly with 503 + Retry-After (problem+json) and /healthz must say so; once it is back the
same fieldd process serves again within a bound; the writes that got 503 are re-sent with the
same ids (201 or, if the lost one had been applied after all, 200); at the end every
acknowledged write is stored exactly once. The cluster is started again whatever happens.
"""

import sys

sys.dont_write_bytecode = True

import threading  # noqa: E402
import time  # noqa: E402

import harness  # noqa: E402
from harness import new_id  # noqa: E402

MAX_503_SECONDS = 6.0   # FIELDD_DB_WAIT_MS defaults to 3000
RECOVERY_SECONDS = 20.0


class PgRestartTest(harness.FielddTestCase):

    @classmethod
    def setUpClass(cls):
        cluster = harness.Cluster()
        if not cluster.can_restart():
            raise AssertionError("ACS_SCRIPTS (with an executable pg) and ACS_TEST_PG_DIR must "
                                 "be set to stop and start PostgreSQL (scripts/test sets them)")
        super().setUpClass()

    def tearDown(self):
        # Whatever happened, leave the cluster running for the other tests.
        if not self.cluster.is_up():
            self.cluster.start()

    def ticket_body(self, tid, i):
        return {"id": tid, "client_id": self.client["id"], "site_id": self.site["id"],
                "category": "emergency" if i % 2 else "standard",
                "subject": "restart write %03d" % i}

    def write(self, tid, i, timeout=15):
        t0 = time.monotonic()
        r = self.post("/api/v1/tickets", self.ticket_body(tid, i), timeout=timeout)
        return r, time.monotonic() - t0

    def assert503(self, r, elapsed, what):
        self.assertProblem(r, 503, "/problems/unavailable", what=what)
        ra = r.headers.get("Retry-After")
        self.assertIsNotNone(ra, "%s: 503 without Retry-After" % what)
        self.assertRegex(ra.strip(), r"^\d+$", "%s: Retry-After is delay-seconds" % what)
        self.assertGreaterEqual(int(ra), 1, what)
        self.assertLess(elapsed, MAX_503_SECONDS,
                        "%s: 503 took %.1f s (bound %.0f s)" % (what, elapsed, MAX_503_SECONDS))

    def test_writes_survive_a_database_restart(self):
        self.client, self.site = self.make_place()
        pid = self.server.proc.pid
        ids = [new_id() for _ in range(40)]
        status = {}  # index -> final status of the first attempt

        # 1. database up: writes are created
        for i in range(10):
            r, _ = self.write(ids[i], i)
            self.expect(r, 201, "write %d before the stop" % i)
            status[i] = 201

        # 2. a writer keeps going while the database is stopped under it: each answer is a
        #    201 or a 503, nothing else
        stop_writer = threading.Event()
        concurrent = []  # (index, status)
        errors = []

        def writer():
            i = 10
            while not stop_writer.is_set() and i < 20:
                try:
                    r, el = self.write(ids[i], i)
                    concurrent.append((i, r.status, el, r.body))
                except Exception as e:  # a transport error is a failure too
                    errors.append((i, repr(e)))
                i += 1
                time.sleep(0.05)

        th = threading.Thread(target=writer, daemon=True)
        th.start()
        time.sleep(0.2)
        try:
            self.cluster.stop()
            self.assertFalse(self.cluster.is_up(), "scripts/pg stop stopped PostgreSQL")
            stop_writer.set()
            th.join(60)
            self.assertFalse(th.is_alive(), "concurrent writer finished")
            self.assertEqual(errors, [], "transport errors while PostgreSQL stopped")
            for i, st, el, body in concurrent:
                self.assertIn(st, (201, 503), "write %d during the stop: %d %r" % (i, st, body))
                status[i] = st
                if st == 503:
                    self.assertLess(el, MAX_503_SECONDS, "write %d: 503 after %.1f s" % (i, el))

            # 3. database down: every request is a quick 503
            for i in range(20, 26):
                r, el = self.write(ids[i], i)
                self.assert503(r, el, "write %d while PostgreSQL is down" % i)
                status[i] = 503
            t0 = time.monotonic()
            r = self.get("/api/v1/tickets?limit=5", timeout=15)
            self.assert503(r, time.monotonic() - t0, "read while PostgreSQL is down")
            # /healthz knows (allow the pool a moment to notice every connection is gone)
            deadline = time.monotonic() + 5
            while True:
                h = self.server.request("GET", "/healthz", timeout=5)
                if h.status == 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(h.status, 503, "healthz while PostgreSQL is down: %r" % (h.body,))
            self.assertEqual(h.body.get("database"), "down", h.body)
            self.assertTrue(self.server.alive(), "fieldd survived the database going away")
        finally:
            stop_writer.set()
            if not self.cluster.is_up():
                self.cluster.start()

        # 4. database back: the same process serves again within the bound
        t0 = time.monotonic()
        while True:
            h = self.server.request("GET", "/healthz", timeout=5)
            if h.status == 200:
                break
            self.assertLess(time.monotonic() - t0, RECOVERY_SECONDS,
                            "healthz not 200 within %.0f s of the restart: %r" % (
                                RECOVERY_SECONDS, h.body))
            time.sleep(0.2)
        self.assertEqual(h.body.get("database"), "up")
        i = 26
        while True:
            r, _ = self.write(ids[i], i)
            if r.status == 201:
                break
            self.assertEqual(r.status, 503, "write %d after the restart: %r" % (i, r.body))
            self.assertLess(time.monotonic() - t0, RECOVERY_SECONDS,
                            "no 201 within %.0f s of the restart" % RECOVERY_SECONDS)
            time.sleep(0.2)
        status[26] = 201
        for i in range(27, 35):
            r, _ = self.write(ids[i], i)
            self.expect(r, 201, "write %d after the restart" % i)
            status[i] = 201
        self.assertEqual(self.server.proc.pid, pid)
        self.assertTrue(self.server.alive(), "no restart of fieldd was needed")

        # 5. re-send what got 503, with the same ids: applied now (201) or already (200)
        resent = [i for i, st in sorted(status.items()) if st == 503]
        self.assertGreaterEqual(len(resent), 6)
        for i in resent:
            r, _ = self.write(ids[i], i)
            self.assertIn(r.status, (200, 201), "re-sent write %d: %d %r" % (
                i, r.status, r.body))
            self.assertEqual(r.body["id"], ids[i])
            status[i] = r.status
        # and a replay of one that was created before the stop is a 200
        r, _ = self.write(ids[0], 0)
        self.expect(r, 200, "replay of write 0")

        print("pg_restart: first attempts: %d x 201, %d x 503 (%d during the stop); re-sent: "
              "%s" % (sum(1 for i in status if i not in resent), len(resent), len(concurrent),
                      sorted(status[i] for i in resent)), file=sys.stderr)

        # 6. every acknowledged write is stored exactly once, with its created event
        acked = [ids[i] for i, st in status.items() if st in (200, 201)]
        self.assertEqual(len(acked), len(status))
        rows = self.db.rows("SELECT id, subject, count(*) OVER (PARTITION BY id) FROM ticket "
                            "WHERE site_id = :'s' ORDER BY subject;", s=self.site["id"])
        stored = {r[0]: r for r in rows}
        self.assertEqual(set(stored), set(acked), "stored tickets = acknowledged writes")
        for i, st in status.items():
            self.assertEqual(stored[ids[i]][1], "restart write %03d" % i)
            self.assertEqual(stored[ids[i]][2], "1")
        ev = self.db.rows("SELECT ticket_id, count(*) FROM ticket_event WHERE kind = 'created' "
                          "AND ticket_id IN (SELECT id FROM ticket WHERE site_id = :'s') "
                          "GROUP BY ticket_id;", s=self.site["id"])
        self.assertEqual({r[0]: r[1] for r in ev}, {t: "1" for t in acked},
                         "one created event per ticket")
        # what the API lists agrees
        items, _ = self.list_all("/api/v1/tickets", limit=200, site_id=self.site["id"])
        self.assertEqual(sorted(t["id"] for t in items), sorted(acked))


if __name__ == "__main__":
    harness.main()
