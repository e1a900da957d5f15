# SPDX-License-Identifier: MIT
"""Refused input: every error is an RFC 7807 problem of the documented type and status, names
what was wrong, and writes nothing (checked in SQL at the end: test_zz_nothing_written runs
last, unittest orders the methods by name)."""

import sys

sys.dont_write_bytecode = True

import uuid  # noqa: E402

import harness  # noqa: E402
from harness import new_id, query  # noqa: E402

V = "/problems/validation"
TABLES = ("client", "site", "device", "ticket", "ticket_event", "job", "job_event",
          "job_assignment", "outcome", "project", "audit_log", "app_user", "api_token")


class BadInputTest(harness.FielddTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls._fixtures()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _fixtures(cls):
        # setUpClass has no self: borrow one to use the helpers
        self = cls("test_zz_nothing_written")
        cls.crm = "CRM-" + uuid.uuid4().hex[:8]
        cls.client_a = self.make_client(crm_ref=cls.crm)
        cls.site_a = self.make_site(cls.client_a["id"])
        cls.client_b, cls.site_b = self.make_place()
        cls.device = self.make_device(cls.site_a["id"])
        cls.ticket = self.make_ticket(cls.client_a["id"], cls.site_a["id"],
                                      crm_ref="T-" + cls.crm)
        cls.job = self.make_job(cls.ticket)
        _, cls.job_on_site = self.assigned_job("eng1")
        self.job_to(cls.job_on_site["id"], "on_site", "eng1")
        cls.snapshot = cls._snapshot()

    @classmethod
    def _snapshot(cls):
        counts = {t: cls.db.count(t) for t in TABLES}
        ticket = cls.db.rows("SELECT status, subject, category, updated_at, crm_ref FROM ticket "
                             "WHERE id = :'i';", i=cls.ticket["id"])
        job = cls.db.rows("SELECT id, status, engineer_id, updated_at FROM job WHERE id IN "
                          "(:'i', :'j') ORDER BY id;", i=cls.job["id"],
                          j=cls.job_on_site["id"])
        client = cls.db.rows("SELECT name, notes, updated_at FROM client WHERE id = :'i';",
                             i=cls.client_a["id"])
        events = cls.db.rows("SELECT id, kind FROM ticket_event WHERE ticket_id = :'i' "
                             "ORDER BY id;", i=cls.ticket["id"])
        return counts, ticket, job, client, events

    def v(self, resp, field, what, status=400, ptype=V):
        """A validation problem whose `field` names the field."""
        return self.assertProblem(resp, status, ptype, field=field, what=what)

    # --- bodies ------------------------------------------------------------------------------

    def test_malformed_json(self):
        raw = b'{\n  "name": "Acme",\n  oops: 1\n}'
        b = self.assertProblem(self.post("/api/v1/clients", raw=raw), 400,
                               "/problems/malformed-json", what="malformed JSON")
        self.assertRegex(b["detail"], r"(?i)line\D{0,3}3\b", "detail gives the line")
        self.assertRegex(b["detail"], r"(?i)column\D{0,3}\d+", "detail gives the column")
        for raw in (b'{"name": "Acme",}', b'{"name": "Acme"', b"", b"\xff\xfe{}",
                    b'{"name": "Acme"} trailing'):
            self.assertProblem(self.post("/api/v1/clients", raw=raw), 400,
                               "/problems/malformed-json", what="body %r" % raw)
        self.assertProblem(self.post("/api/v1/tickets/%s/acknowledge" % self.ticket["id"],
                                     raw=b"{note"), 400, "/problems/malformed-json",
                           what="malformed note body")

    def test_not_an_object(self):
        for raw in (b"[1, 2]", b'"name"', b"42", b"null", b"true"):
            self.assertProblem(self.post("/api/v1/clients", raw=raw), 400,
                               "/problems/malformed-json", what="body %r" % raw)
            self.assertProblem(self.patch("/api/v1/clients/" + self.client_a["id"], None,
                                          raw=raw), 400, "/problems/malformed-json",
                               what="PATCH body %r" % raw)

    def test_wrong_type(self):
        self.v(self.post("/api/v1/clients", {"name": 123}), "name", "name as a number")
        self.v(self.post("/api/v1/clients", {"name": ["a"]}), "name", "name as an array")
        c, s = self.client_a["id"], self.site_a["id"]
        self.v(self.post("/api/v1/jobs", {"kind": "visit", "site_id": s,
                                          "ticket_id": self.ticket["id"], "priority": "high"}),
               "priority", "priority as a string")
        self.v(self.post("/api/v1/jobs", {"kind": "visit", "site_id": s,
                                          "ticket_id": self.ticket["id"],
                                          "required_skills": "turnstile"}),
               "required_skills", "skills as a string")
        self.v(self.post("/api/v1/devices", {"site_id": s, "kind": "reader_controller",
                                             "model": "R", "serial": "S", "unit_id": "7"}),
               "unit_id", "unit_id as a string")
        self.v(self.post("/api/v1/devices", {"site_id": s, "kind": "reader_controller",
                                             "model": "R", "serial": "S", "unit_id": 7.5}),
               "unit_id", "unit_id as a real")
        self.v(self.post("/api/v1/sites", {"client_id": c, "name": "S", "kind": "industrial",
                                           "latitude": "55.7"}), "latitude",
               "latitude as a string")
        self.v(self.patch("/api/v1/tickets/" + self.ticket["id"], {"subject": None}),
               "subject", "subject null")
        self.v(self.post("/api/v1/tickets/%s/acknowledge" % self.ticket["id"], {"note": 5}),
               "note", "note as a number")

    def test_bad_values(self):
        c, s = self.client_a["id"], self.site_a["id"]
        self.v(self.post("/api/v1/devices", {"site_id": s, "kind": "reader_controller",
                                             "model": "R", "serial": "S", "unit_id": 248}),
               "unit_id", "unit_id 248")
        self.v(self.post("/api/v1/jobs", {"kind": "visit", "site_id": s,
                                          "ticket_id": self.ticket["id"], "priority": 0}),
               "priority", "priority 0")
        self.v(self.post("/api/v1/sites", {"client_id": c, "name": "S", "kind": "industrial",
                                           "time_zone": "Mars/Olympus"}), "time_zone",
               "unknown time zone")
        self.v(self.post("/api/v1/sites", {"client_id": c, "name": "S", "kind": "industrial",
                                           "latitude": 91}), "latitude", "latitude 91")
        self.v(self.post("/api/v1/clients", {"name": ""}), "name", "empty name")
        self.assertProblem(self.post("/api/v1/jobs/%s/outcome" % self.job_on_site["id"],
                                     {"resolution_code": "not_resolved", "resolved": True}),
                           400, V, what="not_resolved with resolved: true")
        self.v(self.post("/api/v1/jobs/%s/outcome" % self.job_on_site["id"],
                         {"resolution_code": "fixed_it", "resolved": True}),
               "resolution_code", "bad resolution_code")
        self.v(self.post("/api/v1/jobs/%s/outcome" % self.job_on_site["id"],
                         {"resolution_code": "repaired", "resolved": True,
                          "parts": [{"name": "relay", "qty": "one"}]}),
               "parts", "bad parts")
        self.v(self.post("/api/v1/devices", {"site_id": s, "kind": "reader_controller",
                                             "model": "R", "serial": "S",
                                             "installed_on": "2023-02-30"}),
               "installed_on", "impossible date")

    def test_unknown_field(self):
        self.v(self.post("/api/v1/clients", {"name": "Acme", "colour": "red"}), "colour",
               "unknown field")
        self.v(self.patch("/api/v1/tickets/" + self.ticket["id"], {"status": "closed"}),
               "status", "status cannot be patched")
        self.v(self.post("/api/v1/tickets/%s/acknowledge" % self.ticket["id"],
                         {"note": "x", "by": "me"}), "by", "unknown field in a transition")

    def test_missing_required(self):
        c, s = self.client_a["id"], self.site_a["id"]
        self.v(self.post("/api/v1/tickets", {"client_id": c, "site_id": s,
                                             "category": "standard"}), "subject",
               "ticket without subject")
        self.v(self.post("/api/v1/clients", {"notes": "no name"}), "name", "client without name")
        self.v(self.post("/api/v1/sites", {"client_id": c, "name": "S"}), "kind",
               "site without kind")
        self.v(self.post("/api/v1/jobs/%s/assign" % self.job["id"],
                         {"engineer_id": self.users["eng1"].id,
                          "planned_start": "2030-01-01T10:00:00Z"}), "planned_end",
               "assign without planned_end")
        self.v(self.post("/api/v1/jobs/%s/outcome" % self.job["id"], {"resolved": True}),
               "resolution_code", "outcome without resolution_code")
        b = self.assertProblem(self.post("/api/v1/jobs", {"kind": "visit", "site_id": s}), 400,
                               V, what="job without ticket_id and project_id")
        self.assertRegex(b["detail"], "ticket_id|project_id")

    def test_bad_enum(self):
        c, s = self.client_a["id"], self.site_a["id"]
        b = self.v(self.post("/api/v1/tickets", {"client_id": c, "site_id": s,
                                                 "category": "urgent", "subject": "x"}),
                   "category", "bad category")
        for allowed in ("emergency", "standard", "consultation"):
            self.assertIn(allowed, b["detail"], "detail lists the allowed values")
        self.v(self.post("/api/v1/sites", {"client_id": c, "name": "S", "kind": "castle"}),
               "kind", "bad site kind")
        self.v(self.post("/api/v1/jobs", {"kind": "party", "site_id": s,
                                          "ticket_id": self.ticket["id"]}), "kind",
               "bad job kind")

    def test_bad_uuid_in_body(self):
        self.v(self.post("/api/v1/tickets", {"client_id": self.client_a["id"],
                                             "site_id": "not-a-uuid", "category": "standard",
                                             "subject": "x"}), "site_id", "bad site_id")
        self.v(self.post("/api/v1/clients", {"id": "1234", "name": "Acme"}), "id", "bad id")
        self.v(self.post("/api/v1/jobs/%s/assign" % self.job["id"],
                         {"engineer_id": "eng1", "planned_start": "2030-01-01T10:00:00Z",
                          "planned_end": "2030-01-01T11:00:00Z"}), "engineer_id",
               "bad engineer_id")

    def test_bad_timestamp(self):
        s = self.site_a["id"]
        for value in ("yesterday", "2030-01-01", "2030-01-01T10:00:00", "2030-13-01T10:00:00Z",
                      "2030-01-01 10:00:00+03:00x"):
            self.v(self.post("/api/v1/jobs", {"kind": "visit", "site_id": s,
                                              "ticket_id": self.ticket["id"],
                                              "window_start": value}), "window_start",
                   "window_start %r" % value)
        b = self.assertProblem(self.get(query("/api/v1/tickets", created_from="last week")),
                               400, V, what="bad created_from")
        self.assertIn("created_from", b["detail"])

    def test_reference_to_missing_object(self):
        ghost = new_id()
        # the site check covers the client: either field may be named
        b = self.assertProblem(self.post("/api/v1/tickets", {
            "client_id": ghost, "site_id": self.site_a["id"], "category": "standard",
            "subject": "x"}), 400, V, what="unknown client_id")
        self.assertIn(b.get("field"), ("client_id", "site_id"), b)
        b = self.v(self.post("/api/v1/tickets", {"client_id": self.client_a["id"],
                                                 "site_id": ghost, "category": "standard",
                                                 "subject": "x"}), "site_id",
                   "unknown site_id")
        self.assertIn(ghost, b["detail"])
        self.v(self.post("/api/v1/tickets", {"client_id": self.client_a["id"],
                                             "site_id": self.site_a["id"], "device_id": ghost,
                                             "category": "standard", "subject": "x"}),
               "device_id", "unknown device_id")
        self.v(self.post("/api/v1/jobs", {"kind": "visit", "site_id": self.site_a["id"],
                                          "ticket_id": ghost}), "ticket_id",
               "job for an unknown ticket")
        self.v(self.post("/api/v1/sites", {"client_id": ghost, "name": "S",
                                           "kind": "industrial"}), "client_id",
               "site for an unknown client")
        self.v(self.post("/api/v1/jobs/%s/assign" % self.job["id"],
                         {"engineer_id": ghost, "planned_start": "2030-01-01T10:00:00Z",
                          "planned_end": "2030-01-01T11:00:00Z"}), "engineer_id",
               "assign to an unknown engineer")
        self.v(self.post("/api/v1/jobs/%s/assign" % self.job["id"],
                         {"engineer_id": self.users["head"].id,
                          "planned_start": "2030-01-01T10:00:00Z",
                          "planned_end": "2030-01-01T11:00:00Z"}), "engineer_id",
               "assign to a head of support")

    def test_site_of_another_client(self):
        r = self.post("/api/v1/tickets", {"client_id": self.client_a["id"],
                                          "site_id": self.site_b["id"], "category": "standard",
                                          "subject": "wrong site"})
        b = self.assertProblem(r, 400, V, what="site of another client")
        self.assertIn(b.get("field"), ("site_id", "client_id"), b)
        # a device of site A on a ticket of site B
        r = self.post("/api/v1/tickets", {"client_id": self.client_b["id"],
                                          "site_id": self.site_b["id"],
                                          "device_id": self.device["id"],
                                          "category": "standard", "subject": "wrong device"})
        b = self.assertProblem(r, 400, V, what="device of another site")
        self.assertIn(b.get("field"), ("device_id", "site_id"), b)
        r = self.post("/api/v1/jobs", {"kind": "visit", "site_id": self.site_b["id"],
                                       "ticket_id": self.ticket["id"]})
        b = self.assertProblem(r, 400, V, what="job on another site than its ticket")
        self.assertIn(b.get("field"), ("site_id", "ticket_id"), b)

    def test_duplicate_unique_values(self):
        b = self.assertProblem(self.post("/api/v1/clients", {"name": "Dup", "crm_ref": self.crm}),
                               409, "/problems/conflict", what="duplicate client crm_ref")
        self.assertIn("crm_ref", b["detail"])
        self.assertProblem(self.post("/api/v1/tickets", {
            "client_id": self.client_a["id"], "site_id": self.site_a["id"],
            "category": "standard", "subject": "dup", "crm_ref": "T-" + self.crm}), 409,
            "/problems/conflict", what="duplicate ticket crm_ref")
        self.assertProblem(self.post("/api/v1/devices", {
            "site_id": self.site_a["id"], "kind": "turnstile_controller",
            "model": self.device["model"], "serial": self.device["serial"]}), 409,
            "/problems/conflict", what="duplicate (model, serial)")
        c2 = self.client_b["id"]
        self.assertProblem(self.patch("/api/v1/clients/" + c2, {"crm_ref": self.crm}), 409,
                           "/problems/conflict", what="PATCH to a duplicate crm_ref")

    # --- paths and queries -------------------------------------------------------------------

    def test_unknown_id_in_path(self):
        ghost = new_id()
        for method, path, body in (
                ("GET", "/api/v1/tickets/" + ghost, harness._MISSING),
                ("GET", "/api/v1/clients/" + ghost, harness._MISSING),
                ("GET", "/api/v1/sites/" + ghost, harness._MISSING),
                ("GET", "/api/v1/devices/" + ghost, harness._MISSING),
                ("GET", "/api/v1/jobs/" + ghost, harness._MISSING),
                ("PATCH", "/api/v1/clients/" + ghost, {"notes": "x"}),
                ("POST", "/api/v1/tickets/%s/acknowledge" % ghost, harness._MISSING),
                ("POST", "/api/v1/jobs/%s/en_route" % ghost, harness._MISSING),
                ("POST", "/api/v1/jobs/%s/outcome" % ghost, {"resolution_code": "repaired",
                                                            "resolved": True})):
            b = self.assertProblem(self.call(method, path, body=body), 404,
                                   "/problems/not-found", what="%s %s" % (method, path))
            self.assertIn(ghost, b["detail"], "the detail names the id")

    def test_non_uuid_path_id(self):
        # docs/api.md: 404 for an unknown id in the path, and the detail names it
        for path in ("/api/v1/tickets/12345", "/api/v1/clients/not-a-uuid",
                     "/api/v1/jobs/xyz/assign"):
            b = self.assertProblem(self.get(path) if "assign" not in path else
                                   self.post(path, {}), 404, "/problems/not-found",
                                   what="non-UUID id in %s" % path)
            self.assertIn(path.split("/")[4], b["detail"])

    def test_query_parameters(self):
        b = self.assertProblem(self.get("/api/v1/tickets?colour=red"), 400, V,
                               what="unknown query parameter")
        self.assertIn("colour", b["detail"])
        b = self.assertProblem(self.get("/api/v1/jobs?limit=5&limit=6"), 400, V,
                               what="repeated query parameter")
        self.assertIn("limit", b["detail"])
        for limit in ("0", "201", "-1", "ten"):
            b = self.assertProblem(self.get("/api/v1/clients?limit=" + limit), 400, V,
                                   what="limit=%s" % limit)
            self.assertIn("limit", b["detail"])
        self.assertProblem(self.get(query("/api/v1/tickets", status="new,lost")), 400, V,
                           what="bad status in the filter")
        self.assertProblem(self.get(query("/api/v1/tickets", site_id="nope")), 400, V,
                           what="bad site_id filter")
        self.assertProblem(self.get(query("/api/v1/clients", cursor="garbage!!")), 400, V,
                           what="bad cursor")

    def test_query_parameter_on_single_object(self):
        # docs/api.md, errors: 400 for an "unknown or repeated query parameter", on any path
        b = self.assertProblem(self.get("/api/v1/clients/%s?x=1" % self.client_a["id"]), 400,
                               V, what="query parameter on a single object")
        self.assertIn("x", b["detail"])

    def test_body_too_large(self):
        big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
        req = (b"POST /api/v1/clients HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Authorization: Bearer " + self.users["dispatcher"].token.encode() +
               b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
               b"Content-Length: " + str(len(big)).encode() + b"\r\n\r\n" + big)
        r = harness.raw_exchange(self.server.port, req)
        self.assertProblem(r, 413, "/problems/too-large", what="body over 1 MiB")
        # over 4 MiB the HTTP layer refuses it before fieldd sees it (plain-text 413)
        huge = b'{"name": "' + b"x" * (5 * 1024 * 1024) + b'"}'
        req = (b"POST /api/v1/clients HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Authorization: Bearer " + self.users["dispatcher"].token.encode() +
               b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
               b"Content-Length: " + str(len(huge)).encode() + b"\r\n\r\n" + huge)
        r = harness.raw_exchange(self.server.port, req)
        self.assertEqual(r.status, 413, "body over 4 MiB: %r" % (r.body,))
        # just under the limit is read and judged on its content (a missing client: 404);
        # the bulk is whitespace, which JSON allows, so that no field limit is hit
        ghost = new_id()
        under = b'{"notes": "y"' + b" " * (1024 * 1024 - 100) + b'}'
        self.assertLessEqual(len(under), 1024 * 1024)
        b = self.assertProblem(self.patch("/api/v1/clients/" + ghost, None, raw=under), 404,
                               "/problems/not-found", what="body just under 1 MiB")
        self.assertIn(ghost, b["detail"])
        # the service is still fine
        self.expect(self.get("/api/v1/clients/" + self.client_a["id"]), 200)

    def test_unsupported_media_type(self):
        self.assertProblem(self.post("/api/v1/clients", raw=b'{"name": "Acme"}',
                                     content_type="text/plain"), 415,
                           "/problems/unsupported-media-type", what="text/plain body")
        self.assertProblem(self.post("/api/v1/clients", raw=b"name=Acme",
                                     content_type="application/x-www-form-urlencoded"), 415,
                           "/problems/unsupported-media-type", what="form body")
        # application/json with a charset is JSON: judged on its content (missing client)
        ghost = new_id()
        self.assertProblem(self.patch("/api/v1/clients/" + ghost, None, raw=b'{"notes": "x"}',
                                      content_type="application/json; charset=utf-8"), 404,
                           "/problems/not-found", what="application/json; charset=utf-8")

    # --- state -------------------------------------------------------------------------------

    def test_illegal_transitions(self):
        tid = self.ticket["id"]
        b = self.assertTransitionConflict(self.ticket_to(tid, "close", expect=None), "new",
                                          ["acknowledge", "start"], "close a new ticket")
        self.assertIn("close", b["detail"])
        for action in ("wait", "resume", "reopen", "resolve"):
            self.assertTransitionConflict(self.ticket_to(tid, action, expect=None), "new",
                                          ["acknowledge", "start"], "%s a new ticket" % action)
        self.assertProblem(self.ticket_to(tid, "fly", expect=None), 404,
                           "/problems/not-found", what="unknown ticket action")
        jid = self.job["id"]
        self.assertTransitionConflict(self.job_to(jid, "on_site", expect=None), "planned",
                                      ["assign", "cancel"], "on_site from planned")
        for action in ("en_route", "done", "needs_revisit"):
            self.assertTransitionConflict(self.job_to(jid, action, expect=None), "planned",
                                          ["assign", "cancel"], "%s from planned" % action)
        self.assertProblem(self.post("/api/v1/jobs/%s/outcome" % jid,
                                     {"resolution_code": "repaired", "resolved": True}),
                           409, "/problems/conflict", what="outcome on a planned job")

    def test_zz_nothing_written(self):
        """Runs last: every request above was refused, so nothing changed."""
        now = self._snapshot()
        counts, ticket, job, client, events = now
        s_counts, s_ticket, s_job, s_client, s_events = self.snapshot
        self.assertEqual(counts, s_counts, "row counts after the refused requests")
        self.assertEqual(ticket, s_ticket, "the ticket is unchanged")
        self.assertEqual(job, s_job, "the job is unchanged")
        self.assertEqual(client, s_client, "the client is unchanged")
        self.assertEqual(events, s_events, "the ticket's events are unchanged")
        self.assertEqual(ticket[0][0], "new")
        self.assertEqual([e[1] for e in events], ["created"])


if __name__ == "__main__":
    harness.main()
