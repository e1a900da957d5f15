# SPDX-License-Identifier: MIT
"""The list cache (docs/architecture.md, "The list cache") never serves a list from before a
change once that change is known: a write on the same instance shows at once, a write on
another instance or by hand shows once PostgreSQL's notification arrives, and a lost LISTEN
connection turns the cache off rather than leaving it stale. Also: a repeated list really is
served from the cache (no database query), and engineers' lists are cached apart.
"""

import re
import time
import unittest

import harness


def queries_ok(server, token):
    r = server.request("GET", "/metrics", token=token)
    m = re.search(r'^fieldd_db_queries_total\{result="ok"\} (\d+)$', r.body, re.M)
    assert m, r.body
    return int(m.group(1))


class ListCacheTest(harness.FielddTestCase):
    # Tokens stay cached for the whole class, so that counting queries counts only lists.
    server_env = {"FIELDD_AUTH_CACHE_MS": "600000"}

    def ids(self, resp):
        body = self.expect(resp, 200, "list")
        return [item["id"] for item in body["items"]]

    def wait_for(self, pred, what, timeout=3.0):
        """Poll pred() until true; fail after timeout (notifications are asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            if pred():
                return
            if time.monotonic() > deadline:
                self.fail_with_log("%s did not happen within %.1f s" % (what, timeout))
            time.sleep(0.02)

    def test_repeat_is_a_cache_hit(self):
        c, s = self.make_place()
        self.make_ticket(c["id"], s["id"])
        path = harness.query("/api/v1/tickets", site_id=s["id"], limit=5)
        first = self.ids(self.get(path))
        tok = self.token("admin")
        before = queries_ok(self.server, tok)
        for _ in range(5):
            self.assertEqual(self.ids(self.get(path)), first)
        # /metrics itself runs no query; the token is cached too: nothing reached PostgreSQL
        self.assertEqual(queries_ok(self.server, tok), before,
                         "five repeated lists ran no query")

    def test_own_write_is_visible_at_once(self):
        c, s = self.make_place()
        path = harness.query("/api/v1/tickets", site_id=s["id"])
        self.assertEqual(self.ids(self.get(path)), [])
        for n in range(3):
            t = self.make_ticket(c["id"], s["id"])
            got = self.ids(self.get(path))
            self.assertEqual(len(got), n + 1)
            self.assertEqual(got[0], t["id"], "the newest ticket is first, at once")
        # a transition is a write as well
        self.expect(self.post("/api/v1/tickets/%s/acknowledge" % t["id"]), 200)
        body = self.expect(self.get(path), 200)
        self.assertEqual(body["items"][0]["status"], "acknowledged")

    def test_write_on_another_instance(self):
        other = harness.Server(self.db, self.workdir, name="fieldd-b").start()
        try:
            c, s = self.make_place()
            path = harness.query("/api/v1/tickets", site_id=s["id"])
            tok = self.token("dispatcher")
            self.assertEqual(self.ids(other.request("GET", path, token=tok)), [])
            t = self.make_ticket(c["id"], s["id"])  # through the first instance
            self.wait_for(lambda: self.ids(other.request("GET", path, token=tok)) == [t["id"]],
                          "the second instance listing the new ticket")
        finally:
            self.assertEqual(other.stop(), 0, other.log_tail())

    def test_change_by_hand(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"], subject="before")
        path = harness.query("/api/v1/tickets", site_id=s["id"])
        self.assertEqual(self.expect(self.get(path), 200)["items"][0]["subject"], "before")
        self.db.sql("UPDATE ticket SET subject = 'after' WHERE id = :'t';", t=t["id"])
        self.wait_for(lambda: self.expect(self.get(path), 200)["items"][0]["subject"] == "after",
                      "a change made with psql showing in the list")

    def test_lost_listen_connection(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"], subject="v1")
        path = harness.query("/api/v1/tickets", site_id=s["id"])
        self.assertEqual(self.expect(self.get(path), 200)["items"][0]["subject"], "v1")
        killed = self.db.value(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%';")
        self.assertEqual(killed, "1", "fieldd holds one LISTEN connection")
        # Changed while nobody listens: no notification will ever say so.
        self.db.sql("UPDATE ticket SET subject = 'v2' WHERE id = :'t';", t=t["id"])
        self.wait_for(lambda: self.expect(self.get(path), 200)["items"][0]["subject"] == "v2",
                      "the list after the LISTEN connection was lost")
        # ... and the cache works again once the connection is back.
        self.wait_for(lambda: self.db.value(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%';") == "1",
            "fieldd listening again", timeout=10)
        self.db.sql("UPDATE ticket SET subject = 'v3' WHERE id = :'t';", t=t["id"])
        self.wait_for(lambda: self.expect(self.get(path), 200)["items"][0]["subject"] == "v3",
                      "a change after the reconnection")

    def test_engineers_lists_are_their_own(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        j1 = self.make_job(t)
        j2 = self.make_job(t)
        self.assign(j1["id"], "eng1")
        self.assign(j2["id"], "eng2")
        path = harness.query("/api/v1/jobs", site_id=s["id"])
        for _ in range(2):  # the second round comes from the cache
            self.assertEqual(self.ids(self.get(path, "eng1")), [j1["id"]])
            self.assertEqual(self.ids(self.get(path, "eng2")), [j2["id"]])
            self.assertEqual(sorted(self.ids(self.get(path, "dispatcher"))),
                             sorted([j1["id"], j2["id"]]))


if __name__ == "__main__":
    harness.main()
