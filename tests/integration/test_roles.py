# SPDX-License-Identifier: MIT
"""Authentication (401) and the role table of docs/api.md (403), checked in both directions:
every refused case has an allowed counterpart, and a refused write leaves no trace in SQL."""

import sys

sys.dont_write_bytecode = True

import base64  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import harness  # noqa: E402
from harness import query  # noqa: E402

ROLES = ("admin", "dispatcher", "head", "senior", "eng1")


class AuthTest(harness.FielddTestCase):

    def assert401(self, resp, what):
        self.assertProblem(resp, 401, "/problems/unauthorized", what=what)

    def test_me(self):
        for key in ("admin", "dispatcher", "head", "senior", "eng1", "eng2"):
            u = self.users[key]
            b = self.expect(self.get("/api/v1/me", key), 200, "me as %s" % key)
            self.assertEqual(b["id"], u.id)
            self.assertEqual(b["role"], u.role)
            self.assertEqual(b["name"], u.name)
            self.assertEqual(sorted(b["skills"]), sorted(u.skills))
            self.assertEqual(b["region"], u.region)

    def test_no_token(self):
        for path in ("/api/v1/me", "/api/v1/clients", "/api/v1/tickets", "/api/v1/jobs",
                     "/metrics"):
            self.assert401(self.server.request("GET", path), "GET %s without a token" % path)
        n = self.db.count("client")
        self.assert401(self.server.request("POST", "/api/v1/clients", body={"name": "x"}),
                       "POST without a token")
        self.assertEqual(self.db.count("client"), n)

    def test_malformed_authorization(self):
        real = self.users["dispatcher"].token
        for value in ("Bearer", "Bearer ", "Basic " + real, "bearer-" + real, real,
                      "Bearer " + real + " extra", "Bearer acs_", "Bearer !!!!",
                      "Bearer " + real[:len(real) // 2]):
            r = self.server.request("GET", "/api/v1/me", headers={"Authorization": value})
            self.assert401(r, "Authorization: %r" % value)

    def test_unknown_token(self):
        real = self.users["dispatcher"].token
        # same shape as a real token, different last characters
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        tail = real[-6:]
        swapped = "".join(alphabet[(alphabet.index(ch) + 7) % len(alphabet)]
                          if ch in alphabet else ch for ch in tail)
        fake = real[:-6] + swapped
        self.assertNotEqual(fake, real)
        self.assert401(self.get("/api/v1/me", fake), "unknown token")
        random_token = "acs_" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        self.assertEqual(len(random_token), len(real))
        self.assert401(self.get("/api/v1/me", random_token), "random well-formed token")

    def test_revoked_token(self):
        u = harness.add_user(self.db, "victim", "engineer", ["reader"], "east")
        self.expect(self.get("/api/v1/me", u.token), 200, "token before revocation")
        p = harness.run_fieldd(["user", "revoke", "--id", u.id], self.db)
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertEqual(self.db.count("api_token", "user_id = :'u' AND revoked_at IS NULL",
                                       u=u.id), 0, "no live token left after revoke")
        # README: a checked token is cached for FIELDD_AUTH_CACHE_MS (default 2000 ms), so a
        # revoked token may work that long, and no longer.
        deadline = time.monotonic() + 2.0 + 1.5
        while True:
            r = self.get("/api/v1/me", u.token)
            if r.status != 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assert401(r, "revoked token, 3.5 s after the revocation")
        self.assert401(self.get("/api/v1/me", u.token), "revoked token, again")
        self.assert401(self.get("/api/v1/jobs", u.token), "revoked token on a list")
        # the other users are unaffected
        self.expect(self.get("/api/v1/me", "eng1"), 200)


class RoleTableTest(harness.FielddTestCase):
    """One allowed and one refused case for each row of the role table."""

    def assert403(self, resp, what):
        self.assertProblem(resp, 403, "/problems/forbidden", what=what)

    # --- clients, sites, devices -------------------------------------------------------------

    def test_read_clients_sites_devices_all_roles(self):
        c, s = self.make_place()
        d = self.make_device(s["id"])
        for who in ROLES:
            self.assertEqual(self.expect(self.get("/api/v1/clients/" + c["id"], who), 200,
                                         "%s reads a client" % who)["id"], c["id"])
            self.assertEqual(self.expect(self.get("/api/v1/sites/" + s["id"], who), 200,
                                         "%s reads a site" % who)["id"], s["id"])
            self.assertEqual(self.expect(self.get("/api/v1/devices/" + d["id"], who), 200,
                                         "%s reads a device" % who)["id"], d["id"])
            items = self.expect(self.get(query("/api/v1/sites", client_id=c["id"]), who),
                                200)["items"]
            self.assertEqual([x["id"] for x in items], [s["id"]])

    def test_create_update_clients_sites(self):
        for who in ("admin", "dispatcher"):
            c = self.make_client(who)
            s = self.make_site(c["id"], who)
            b = self.expect(self.patch("/api/v1/clients/" + c["id"], {"notes": "by " + who},
                                       who), 200, "%s patches a client" % who)
            self.assertEqual(b["notes"], "by " + who)
            b = self.expect(self.patch("/api/v1/sites/" + s["id"], {"address": "x " + who},
                                       who), 200, "%s patches a site" % who)
            self.assertEqual(b["address"], "x " + who)
        c, s = self.make_place()
        n_client, n_site = self.db.count("client"), self.db.count("site")
        for who in ("head", "senior", "eng1"):
            self.assert403(self.post("/api/v1/clients", {"name": "by " + who}, who),
                           "%s creates a client" % who)
            self.assert403(self.post("/api/v1/sites", {"client_id": c["id"], "name": "S",
                                                       "kind": "industrial"}, who),
                           "%s creates a site" % who)
            self.assert403(self.patch("/api/v1/clients/" + c["id"], {"notes": who}, who),
                           "%s patches a client" % who)
            self.assert403(self.patch("/api/v1/sites/" + s["id"], {"address": who}, who),
                           "%s patches a site" % who)
        self.assertEqual((self.db.count("client"), self.db.count("site")), (n_client, n_site))
        self.assertEqual(self.db.value("SELECT notes FROM client WHERE id=:'i';", i=c["id"]),
                         "")

    def test_create_update_devices(self):
        c, s = self.make_place()
        for who in ("admin", "dispatcher", "senior", "eng1"):
            d = self.make_device(s["id"], who)
            b = self.expect(self.patch("/api/v1/devices/" + d["id"],
                                       {"firmware_version": "2.0-" + who}, who), 200,
                            "%s patches a device" % who)
            self.assertEqual(b["firmware_version"], "2.0-" + who)
        n = self.db.count("device")
        self.assert403(self.post("/api/v1/devices", {"site_id": s["id"], "kind":
                                                     "reader_controller", "model": "R1",
                                                     "serial": uuid.uuid4().hex}, "head"),
                       "head creates a device")
        self.assert403(self.patch("/api/v1/devices/" + d["id"], {"notes": "head"}, "head"),
                       "head patches a device")
        self.assertEqual(self.db.count("device"), n)

    # --- tickets -----------------------------------------------------------------------------

    def test_create_update_tickets(self):
        c, s = self.make_place()
        for who in ("admin", "dispatcher"):
            t = self.make_ticket(c["id"], s["id"], who)
            b = self.expect(self.patch("/api/v1/tickets/" + t["id"], {"subject": "s " + who},
                                       who), 200)
            self.assertEqual(b["subject"], "s " + who)
        n = self.db.count("ticket")
        for who in ("head", "senior", "eng1"):
            self.assert403(self.post("/api/v1/tickets", {"client_id": c["id"],
                                                         "site_id": s["id"],
                                                         "category": "standard",
                                                         "subject": "by " + who}, who),
                           "%s creates a ticket" % who)
            self.assert403(self.patch("/api/v1/tickets/" + t["id"], {"subject": who}, who),
                           "%s patches a ticket" % who)
        self.assertEqual(self.db.count("ticket"), n)
        self.assertEqual(self.db.value("SELECT subject FROM ticket WHERE id=:'i';", i=t["id"]),
                         "s dispatcher")

    def test_read_tickets(self):
        c, s = self.make_place()
        t_mine, _ = self.assigned_job("eng1")
        t_other, _ = self.assigned_job("eng2")
        t_nojob = self.make_ticket(c["id"], s["id"])
        for who in ("admin", "dispatcher", "head", "senior"):
            for t in (t_mine, t_other, t_nojob):
                self.expect(self.get("/api/v1/tickets/" + t["id"], who), 200,
                            "%s reads a ticket" % who)
        self.expect(self.get("/api/v1/tickets/" + t_mine["id"], "eng1"), 200,
                    "engineer reads the ticket of their job")
        self.assert403(self.get("/api/v1/tickets/" + t_other["id"], "eng1"),
                       "engineer reads the ticket of another engineer's job")
        self.assert403(self.get("/api/v1/tickets/" + t_nojob["id"], "eng1"),
                       "engineer reads a ticket without a job of theirs")
        # the engineer's ticket list holds only tickets of their jobs
        items, _ = self.list_all("/api/v1/tickets", "eng1", limit=200)
        ids = {t["id"] for t in items}
        self.assertIn(t_mine["id"], ids)
        self.assertNotIn(t_other["id"], ids)
        self.assertNotIn(t_nojob["id"], ids)
        mine = set(r[0] for r in self.db.rows(
            "SELECT DISTINCT ticket_id FROM job WHERE engineer_id = :'e' "
            "AND ticket_id IS NOT NULL;", e=self.users["eng1"].id))
        self.assertTrue(ids <= mine, "engineer list has only tickets of their jobs: %r"
                        % (ids - mine))
        items, _ = self.list_all("/api/v1/tickets", "head", limit=200)
        self.assertTrue({t_mine["id"], t_other["id"], t_nojob["id"]} <=
                        {t["id"] for t in items})

    def test_ticket_transitions(self):
        c, s = self.make_place()
        for who in ("admin", "dispatcher", "senior"):
            t = self.make_ticket(c["id"], s["id"])
            self.assertEqual(self.ticket_to(t["id"], "acknowledge", who)["status"],
                             "acknowledged", who)
            self.assertEqual(self.ticket_to(t["id"], "resolve", who)["status"], "resolved")
            self.assertEqual(self.ticket_to(t["id"], "close", who)["status"], "closed")
        t = self.make_ticket(c["id"], s["id"])
        for action in ("acknowledge", "start"):
            self.assert403(self.ticket_to(t["id"], action, "head", expect=None),
                           "head %s" % action)
        # an engineer: start, wait, resume, resolve on tickets of their jobs only
        t_mine, _ = self.assigned_job("eng1")
        t_other, _ = self.assigned_job("eng2")
        self.assert403(self.ticket_to(t_mine["id"], "acknowledge", "eng1", expect=None),
                       "engineer acknowledges")
        self.assert403(self.ticket_to(t_other["id"], "start", "eng1", expect=None),
                       "engineer starts another engineer's ticket")
        for action, status in (("start", "in_progress"), ("wait", "waiting_client"),
                               ("resume", "in_progress"), ("resolve", "resolved")):
            self.assertEqual(self.ticket_to(t_mine["id"], action, "eng1")["status"], status,
                             "engineer %s" % action)
        self.assert403(self.ticket_to(t_mine["id"], "close", "eng1", expect=None),
                       "engineer closes")
        self.assertEqual(self.db.rows("SELECT status FROM ticket WHERE id IN (:'a', :'b') "
                                      "ORDER BY id = :'a';", a=t_mine["id"], b=t_other["id"]),
                         [["new"], ["resolved"]])
        self.assertEqual(self.db.value("SELECT status FROM ticket WHERE id=:'i';", i=t["id"]),
                         "new")
        self.assertEqual(self.db.count("ticket_event", "ticket_id IN (:'a', :'b')",
                                       a=t["id"], b=t_other["id"]), 2,
                         "refused transitions wrote no events")

    # --- jobs --------------------------------------------------------------------------------

    def test_read_jobs(self):
        _, j1 = self.assigned_job("eng1")
        _, j2 = self.assigned_job("eng2")
        for who in ("admin", "dispatcher", "head", "senior"):
            for j in (j1, j2):
                self.assertEqual(self.expect(self.get("/api/v1/jobs/" + j["id"], who), 200,
                                             "%s reads a job" % who)["id"], j["id"])
        self.expect(self.get("/api/v1/jobs/" + j1["id"], "eng1"), 200, "engineer, own job")
        self.assert403(self.get("/api/v1/jobs/" + j2["id"], "eng1"),
                       "engineer reads another engineer's job")
        items, _ = self.list_all("/api/v1/jobs", "eng1", limit=200)
        ids = {j["id"] for j in items}
        self.assertIn(j1["id"], ids)
        self.assertNotIn(j2["id"], ids, "engineer sees another engineer's job in the list")
        for j in items:
            self.assertEqual(j["engineer_id"], self.users["eng1"].id)
        # asking for someone else's jobs does not reveal them
        r = self.get(query("/api/v1/jobs", engineer_id=self.users["eng2"].id), "eng1")
        self.assertIn(r.status, (200, 403), r.body)
        if r.status == 200:
            self.assertNotIn(j2["id"], [j["id"] for j in r.body["items"]])
        else:
            self.assert403(r, "engineer filters by another engineer")
        items, _ = self.list_all("/api/v1/jobs", "head", limit=200)
        self.assertTrue({j1["id"], j2["id"]} <= {j["id"] for j in items})

    def test_engineer_lists_follow_assignment(self):
        """An engineer's lists change as soon as a job is given to them or taken away."""
        def my_jobs():
            return {j["id"] for j in self.list_all("/api/v1/jobs", "eng1", limit=200)[0]}

        def my_tickets():
            return {t["id"] for t in self.list_all("/api/v1/tickets", "eng1", limit=200)[0]}

        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        job = self.make_job(t)
        self.assertNotIn(job["id"], my_jobs())
        self.assertNotIn(t["id"], my_tickets())
        self.assign(job["id"], "eng1")
        self.assertIn(job["id"], my_jobs(), "assigned job listed at once")
        self.assertIn(t["id"], my_tickets(), "its ticket listed at once")
        self.expect(self.get("/api/v1/jobs/" + job["id"], "eng1"), 200)
        self.assign(job["id"], "eng2")
        self.assertNotIn(job["id"], my_jobs(), "reassigned job gone at once")
        self.assertNotIn(t["id"], my_tickets(), "its ticket gone at once")
        self.assert403(self.get("/api/v1/jobs/" + job["id"], "eng1"), "after reassignment")
        self.assert403(self.get("/api/v1/tickets/" + t["id"], "eng1"), "after reassignment")

    def test_create_assign_cancel_jobs(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        for who in ("admin", "dispatcher"):
            j = self.make_job(t, who)
            self.assertEqual(self.assign(j["id"], "eng1", who)["status"], "assigned")
            self.assertEqual(self.job_to(j["id"], "cancel", who)["status"], "cancelled")
        j = self.make_job(t)
        n_jobs, n_asg = self.db.count("job"), self.db.count("job_assignment")
        for who in ("head", "senior", "eng1"):
            self.assert403(self.post("/api/v1/jobs", {"kind": "visit", "site_id": s["id"],
                                                      "ticket_id": t["id"]}, who),
                           "%s creates a job" % who)
            self.assert403(self.assign(j["id"], "eng1", who, expect=None),
                           "%s assigns a job" % who)
            self.assert403(self.job_to(j["id"], "cancel", who, expect=None),
                           "%s cancels a job" % who)
        self.assertEqual((self.db.count("job"), self.db.count("job_assignment")),
                         (n_jobs, n_asg))
        self.assertEqual(self.db.value("SELECT status FROM job WHERE id=:'i';", i=j["id"]),
                         "planned")

    def test_job_moves(self):
        for who in ("admin", "dispatcher", "eng1"):
            _, j = self.assigned_job("eng1")
            self.assertEqual(self.job_to(j["id"], "en_route", who)["status"], "en_route", who)
            self.assertEqual(self.job_to(j["id"], "on_site", who)["status"], "on_site", who)
            self.assertEqual(self.job_to(j["id"], "done", who)["status"], "done", who)
        _, j = self.assigned_job("eng1")
        for who in ("head", "senior"):
            self.assert403(self.job_to(j["id"], "en_route", who, expect=None),
                           "%s moves a job" % who)
        _, j_other = self.assigned_job("eng2")
        for action in ("en_route", "on_site"):
            self.assert403(self.job_to(j_other["id"], action, "eng1", expect=None),
                           "engineer moves another engineer's job (%s)" % action)
        self.assertEqual(self.db.rows("SELECT status FROM job WHERE id IN (:'a', :'b');",
                                      a=j["id"], b=j_other["id"]),
                         [["assigned"], ["assigned"]])
        self.assertEqual(self.db.count("job_event", "job_id = :'a' AND from_status = "
                                       "'assigned'", a=j_other["id"]), 0)

    def test_record_outcome(self):
        for who in ("admin", "dispatcher", "senior", "eng1"):
            t, j = self.assigned_job("eng1")
            self.ticket_to(t["id"], "acknowledge")
            self.job_to(j["id"], "on_site", "eng1")
            r = self.post("/api/v1/jobs/%s/outcome" % j["id"],
                          {"resolution_code": "repaired", "resolved": True}, who)
            self.expect(r, 201, "%s records an outcome" % who)
            self.assertEqual(self.db.value("SELECT status FROM ticket WHERE id=:'i';",
                                           i=t["id"]), "resolved")
        t, j = self.assigned_job("eng1")
        self.ticket_to(t["id"], "acknowledge")
        self.job_to(j["id"], "on_site", "eng1")
        self.assert403(self.post("/api/v1/jobs/%s/outcome" % j["id"],
                                 {"resolution_code": "repaired", "resolved": True}, "head"),
                       "head records an outcome")
        t2, j2 = self.assigned_job("eng2")
        self.ticket_to(t2["id"], "acknowledge")
        self.job_to(j2["id"], "on_site", "eng2")
        self.assert403(self.post("/api/v1/jobs/%s/outcome" % j2["id"],
                                 {"resolution_code": "repaired", "resolved": True}, "eng1"),
                       "engineer records an outcome on another engineer's job")
        self.assertEqual(self.db.count("outcome", "job_id IN (:'a', :'b')", a=j["id"],
                                       b=j2["id"]), 0)
        self.assertEqual(self.db.rows("SELECT status FROM ticket WHERE id IN (:'a', :'b');",
                                      a=t["id"], b=t2["id"]),
                         [["acknowledged"], ["acknowledged"]])


if __name__ == "__main__":
    harness.main()
