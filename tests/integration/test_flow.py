# SPDX-License-Identifier: MIT
"""The main path through the API, checked value by value and against what PostgreSQL holds:
client -> site -> device -> ticket -> acknowledge -> job -> assign -> en_route -> on_site ->
outcome (resolves the ticket) -> close; lists with filters and cursor pagination; idempotent
replays; reassignment history."""

import sys

sys.dont_write_bytecode = True

import datetime  # noqa: E402
import json  # noqa: E402
import uuid  # noqa: E402

import harness  # noqa: E402
from harness import new_id, now_utc, parse_ts, query  # noqa: E402


class FlowTest(harness.FielddTestCase):

    def test_full_path(self):
        disp = self.users["dispatcher"]
        eng = self.users["eng1"]

        # --- client
        crm = "CRM-" + uuid.uuid4().hex[:8]
        r = self.post("/api/v1/clients", {"name": "ZhK Severny", "contact_name": "Ivan Petrov",
                                          "contact_phone": "+7 900 000 00 00",
                                          "contact_email": "ivan@example.org",
                                          "crm_ref": crm, "notes": "gate 3"})
        client = self.expect(r, 201, "create client")
        uuid.UUID(client["id"])
        self.assertEqual(client["name"], "ZhK Severny")
        self.assertEqual(client["contact_name"], "Ivan Petrov")
        self.assertEqual(client["contact_email"], "ivan@example.org")
        self.assertEqual(client["crm_ref"], crm)
        self.assertEqual(client["notes"], "gate 3")
        self.assertTrue((r.headers.get("Location") or "").endswith(
            "/api/v1/clients/" + client["id"]), r.headers.get("Location"))
        got = self.expect(self.get("/api/v1/clients/" + client["id"]), 200)
        self.assertEqual(got["id"], client["id"])
        self.assertEqual(got["crm_ref"], crm)

        # --- site
        r = self.post("/api/v1/sites", {"client_id": client["id"], "name": "Building 2",
                                        "kind": "residential_complex",
                                        "address": "Lenina 1", "region": "north",
                                        "latitude": 55.75, "longitude": 37.61})
        site = self.expect(r, 201, "create site")
        self.assertEqual(site["client_id"], client["id"])
        self.assertEqual(site["kind"], "residential_complex")
        self.assertEqual(site["time_zone"], "Europe/Moscow", "default time zone")
        self.assertEqual(site["region"], "north")
        self.assertAlmostEqual(site["latitude"], 55.75)
        self.assertTrue((r.headers.get("Location") or "").endswith("/api/v1/sites/" + site["id"]))

        # --- device
        serial = "SN-" + uuid.uuid4().hex[:8]
        r = self.post("/api/v1/devices", {"site_id": site["id"], "kind": "turnstile_controller",
                                          "model": "TS-200", "serial": serial, "bus": "bus-A",
                                          "unit_id": 7, "firmware_version": "1.4.2",
                                          "installed_on": "2024-03-01", "location": "gate 3"})
        device = self.expect(r, 201, "create device")
        self.assertEqual(device["site_id"], site["id"])
        self.assertEqual(device["serial"], serial)
        self.assertEqual(device["unit_id"], 7)
        self.assertEqual(device["installed_on"], "2024-03-01")

        # --- ticket
        r = self.post("/api/v1/tickets", {"client_id": client["id"], "site_id": site["id"],
                                          "device_id": device["id"], "category": "emergency",
                                          "subject": "Turnstile at gate 3 is stuck closed",
                                          "description": "residents cannot pass",
                                          "reporter_name": "Concierge",
                                          "reporter_phone": "+7 900 111 22 33"})
        ticket = self.expect(r, 201, "create ticket")
        tid = ticket["id"]
        self.assertTrue((r.headers.get("Location") or "").endswith("/api/v1/tickets/" + tid))
        self.assertEqual(ticket["status"], "new")
        self.assertEqual(ticket["category"], "emergency")
        self.assertEqual(ticket["client_id"], client["id"])
        self.assertEqual(ticket["site_id"], site["id"])
        self.assertEqual(ticket["device_id"], device["id"])
        self.assertIsInstance(ticket["number"], int)
        self.assertIsNone(ticket["first_contact_at"])
        self.assertIsNone(ticket["resolved_at"])
        self.assertIsNone(ticket["closed_at"])

        # --- acknowledge
        t0 = now_utc()
        ack = self.ticket_to(tid, "acknowledge", note="called the concierge")
        t1 = now_utc()
        self.assertEqual(ack["status"], "acknowledged")
        self.assertRecent(ack["first_contact_at"], t0, t1, "first_contact_at")
        self.assertIsNone(ack["resolved_at"])

        # --- job
        r = self.post("/api/v1/jobs", {"kind": "visit", "site_id": site["id"], "ticket_id": tid,
                                       "title": "Repair gate 3", "required_skills": ["turnstile"],
                                       "priority": 1, "duration_min": 90})
        job = self.expect(r, 201, "create job")
        jid = job["id"]
        self.assertTrue((r.headers.get("Location") or "").endswith("/api/v1/jobs/" + jid))
        self.assertEqual(job["status"], "planned")
        self.assertEqual(job["ticket_id"], tid)
        self.assertEqual(job["site_id"], site["id"])
        self.assertEqual(job["kind"], "visit")
        self.assertEqual(job["required_skills"], ["turnstile"])
        self.assertEqual(job["priority"], 1)
        self.assertEqual(job["duration_min"], 90)
        self.assertIsNone(job["engineer_id"])

        # --- assign
        start, end = self.next_slot(hours=2)
        r = self.post("/api/v1/jobs/%s/assign" % jid, {"engineer_id": eng.id,
                                                       "planned_start": start,
                                                       "planned_end": end,
                                                       "note": "nearest engineer"})
        assigned = self.expect(r, 200, "assign")
        self.assertEqual(assigned["status"], "assigned")
        self.assertEqual(assigned["engineer_id"], eng.id)
        self.assertSameTime(assigned["planned_start"], start, "planned_start")
        self.assertSameTime(assigned["planned_end"], end, "planned_end")

        # the engineer now sees the job and its ticket
        mine = self.expect(self.get(query("/api/v1/jobs", status="assigned"), "eng1"), 200)
        self.assertIn(jid, [j["id"] for j in mine["items"]])
        self.expect(self.get("/api/v1/tickets/" + tid, "eng1"), 200, "engineer reads ticket")

        # --- en_route, on_site (by the engineer)
        b = self.job_to(jid, "en_route", "eng1", note="leaving the office")
        self.assertEqual(b["status"], "en_route")
        self.assertIsNone(b["arrived_at"])
        t0 = now_utc()
        b = self.job_to(jid, "on_site", "eng1")
        t1 = now_utc()
        self.assertEqual(b["status"], "on_site")
        arrived = self.assertRecent(b["arrived_at"], t0, t1, "arrived_at")
        self.assertIsNone(b["finished_at"])

        # --- outcome: resolves the ticket in the same transaction
        outcome_id = new_id()
        outcome_body = {"id": outcome_id, "resolution_code": "part_replaced", "resolved": True,
                        "notes": "replaced the relay", "parts": [{"name": "relay", "qty": 1}],
                        "time_on_site_min": 45}
        t0 = now_utc()
        r = self.post("/api/v1/jobs/%s/outcome" % jid, outcome_body, "eng1")
        t1 = now_utc()
        ob = self.expect(r, 201, "record outcome")
        self.assertEqual(ob["outcome"]["id"], outcome_id, ob)
        self.assertEqual(ob["outcome"]["resolution_code"], "part_replaced")
        self.assertEqual(ob["job_status"], "done")
        self.assertIs(ob["ticket_resolved"], True)

        jb = self.expect(self.get("/api/v1/jobs/" + jid), 200)
        self.assertEqual(jb["status"], "done")
        self.assertRecent(jb["finished_at"], t0, t1, "finished_at")
        self.assertSameTime(jb["arrived_at"], harness.rfc3339(arrived), "arrived_at")
        out = jb["outcome"]
        self.assertIsNotNone(out, "job has its outcome")
        self.assertEqual(out["id"], outcome_id)
        self.assertEqual(out["resolution_code"], "part_replaced")
        # body field is `resolved`, the column is resolved_ticket: accept either name
        self.assertIs(out.get("resolved", out.get("resolved_ticket")), True, out)
        self.assertEqual(out["parts"], [{"name": "relay", "qty": 1}])
        self.assertEqual(out["time_on_site_min"], 45)
        self.assertEqual(out["notes"], "replaced the relay")

        transitions = [(e["from_status"], e["to_status"]) for e in jb["events"]
                       if e.get("to_status") is not None and e.get("from_status") is not None]
        self.assertEqual(transitions, [("planned", "assigned"), ("assigned", "en_route"),
                                       ("en_route", "on_site"), ("on_site", "done")],
                         jb["events"])
        self.assertEqual([e["note"] for e in jb["events"]
                          if e.get("to_status") == "en_route"], ["leaving the office"])
        self.assertEqual(len(jb["assignments"]), 1, jb["assignments"])
        a = jb["assignments"][0]
        self.assertEqual(a["engineer_id"], eng.id)
        self.assertEqual(a["assigned_by"], disp.id)
        self.assertSameTime(a["planned_start"], start, "assignment planned_start")

        # --- the ticket is resolved, by the outcome's resolve event that names the job
        tb = self.expect(self.get("/api/v1/tickets/" + tid), 200)
        self.assertEqual(tb["status"], "resolved")
        self.assertRecent(tb["resolved_at"], t0, t1, "resolved_at")
        self.assertSameTime(tb["first_contact_at"], ack["first_contact_at"], "first_contact_at")
        self.assertIsNone(tb["closed_at"])
        self.assertEqual([(j["id"], j["kind"], j["status"]) for j in tb["jobs"]],
                         [(jid, "visit", "done")])

        # --- close
        t0 = now_utc()
        closed = self.ticket_to(tid, "close", note="client confirmed")
        t1 = now_utc()
        self.assertEqual(closed["status"], "closed")
        self.assertRecent(closed["closed_at"], t0, t1, "closed_at")
        self.assertIsNotNone(closed["resolved_at"])

        tb = self.expect(self.get("/api/v1/tickets/" + tid), 200)
        ev = tb["events"]
        self.assertEqual([e["kind"] for e in ev], ["created", "acknowledge", "resolve", "close"],
                         ev)
        self.assertIsNone(ev[0]["from_status"])
        self.assertEqual([(e["from_status"], e["to_status"]) for e in ev[1:]],
                         [("new", "acknowledged"), ("acknowledged", "resolved"),
                          ("resolved", "closed")])
        self.assertEqual([e["actor_id"] for e in ev],
                         [disp.id, disp.id, eng.id, disp.id])
        self.assertEqual(ev[1]["note"], "called the concierge")
        self.assertEqual(ev[3]["note"], "client confirmed")
        self.assertIn(jid, json.dumps(ev[2]), "the resolve event names the job")
        times = [parse_ts(e["at"]) for e in ev]
        self.assertEqual(times, sorted(times), "events oldest first")

        # --- cross-check in SQL
        row = self.db.rows("SELECT status, category, first_contact_at IS NOT NULL, "
                           "resolved_at IS NOT NULL, closed_at IS NOT NULL, created_by, "
                           "device_id FROM ticket WHERE id = :'id';", id=tid)
        self.assertEqual(row, [["closed", "emergency", "t", "t", "t", disp.id, device["id"]]])
        db_times = self.db.rows("SELECT first_contact_at, resolved_at, closed_at FROM ticket "
                                "WHERE id = :'id';", id=tid)[0]
        self.assertSameTime(tb["first_contact_at"], db_times[0], "first_contact_at vs SQL")
        self.assertSameTime(tb["resolved_at"], db_times[1], "resolved_at vs SQL")
        self.assertSameTime(tb["closed_at"], db_times[2], "closed_at vs SQL")
        sql_events = self.db.rows("SELECT kind, coalesce(from_status, '-'), "
                                  "coalesce(to_status, '-'), actor_id FROM ticket_event "
                                  "WHERE ticket_id = :'id' ORDER BY id;", id=tid)
        self.assertEqual([r[0] for r in sql_events], ["created", "acknowledge", "resolve",
                                                      "close"])
        self.assertEqual([tuple(r[1:3]) for r in sql_events[1:]],
                         [("new", "acknowledged"), ("acknowledged", "resolved"),
                          ("resolved", "closed")])
        self.assertEqual(self.db.rows(
            "SELECT status, engineer_id, arrived_at IS NOT NULL, finished_at IS NOT NULL "
            "FROM job WHERE id = :'id';", id=jid), [["done", eng.id, "t", "t"]])
        self.assertEqual(self.db.count("job_assignment", "job_id = :'id'", id=jid), 1)
        self.assertEqual(self.db.rows(
            "SELECT id, ticket_id, resolution_code, resolved_ticket, parts::text, "
            "time_on_site_min, recorded_by FROM outcome WHERE job_id = :'id';", id=jid),
            [[outcome_id, tid, "part_replaced", "t", '[{"qty": 1, "name": "relay"}]', "45",
              eng.id]])
        job_sql = self.db.rows("SELECT from_status, to_status FROM job_event WHERE job_id = "
                               ":'id' AND from_status IS NOT NULL ORDER BY id;", id=jid)
        self.assertEqual(job_sql, [["planned", "assigned"], ["assigned", "en_route"],
                                   ["en_route", "on_site"], ["on_site", "done"]])

    def test_outcome_replay(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        self.ticket_to(t["id"], "acknowledge")
        _, job = self.assigned_job("eng1", ticket=t)
        jid = job["id"]
        self.job_to(jid, "on_site", "eng1")
        outcome_id = new_id()
        outcome_body = {"id": outcome_id, "resolution_code": "repaired", "resolved": True,
                        "notes": "replaced the relay", "parts": [{"name": "relay", "qty": 1}],
                        "time_on_site_min": 30}
        b = self.expect(self.post("/api/v1/jobs/%s/outcome" % jid, outcome_body, "eng1"), 201)
        self.assertEqual(b["outcome"]["id"], outcome_id)
        n_events = self.db.count("ticket_event", "ticket_id = :'t'", t=t["id"])
        n_job_events = self.db.count("job_event", "job_id = :'j'", j=jid)
        # the same outcome again (a laptop replaying its work): 200 with the stored outcome
        rb = self.expect(self.post("/api/v1/jobs/%s/outcome" % jid, outcome_body, "eng1"), 200,
                         "outcome replay")
        stored = rb.get("outcome", rb)
        self.assertEqual(stored["id"], outcome_id, rb)
        self.assertEqual(stored["resolution_code"], "repaired", rb)
        self.assertEqual(stored["notes"], "replaced the relay", rb)
        # docs/api.md, Idempotency: the same id with a field that differs is a 409
        changed = dict(outcome_body, notes="something else")
        self.assertProblem(self.post("/api/v1/jobs/%s/outcome" % jid, changed, "eng1"), 409,
                           "/problems/conflict", what="outcome replay with other notes")
        changed = dict(outcome_body, resolution_code="reconfigured")
        self.assertProblem(self.post("/api/v1/jobs/%s/outcome" % jid, changed, "eng1"), 409,
                           "/problems/conflict", what="outcome replay with another code")
        # once per job: another outcome id is refused
        second = dict(outcome_body, id=new_id())
        self.assertProblem(self.post("/api/v1/jobs/%s/outcome" % jid, second, "eng1"), 409,
                           "/problems/conflict", what="second outcome for one job")
        self.assertEqual(self.db.rows(
            "SELECT id, resolution_code, notes FROM outcome WHERE job_id = :'j';", j=jid),
            [[outcome_id, "repaired", "replaced the relay"]])
        self.assertEqual(self.db.count("ticket_event", "ticket_id = :'t'", t=t["id"]),
                         n_events, "replays wrote no ticket events")
        self.assertEqual(self.db.count("job_event", "job_id = :'j'", j=jid), n_job_events,
                         "replays wrote no job events")

    def test_outcome_not_resolved_needs_revisit(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        self.ticket_to(t["id"], "acknowledge")
        job = self.make_job(t)
        self.assign(job["id"], "eng2")
        self.job_to(job["id"], "on_site", "eng2")
        t0 = now_utc()
        r = self.post("/api/v1/jobs/%s/outcome" % job["id"],
                      {"resolution_code": "not_resolved", "resolved": False,
                       "notes": "needs a new board", "parts": []}, "eng2")
        t1 = now_utc()
        b = self.expect(r, 201, "outcome not_resolved")
        self.assertEqual(b["job_status"], "needs_revisit")
        self.assertIs(b["ticket_resolved"], False)
        self.assertEqual(b["outcome"]["resolution_code"], "not_resolved")
        jb = self.expect(self.get("/api/v1/jobs/" + job["id"]), 200)
        self.assertEqual(jb["status"], "needs_revisit")
        self.assertRecent(jb["finished_at"], t0, t1, "finished_at")
        tb = self.expect(self.get("/api/v1/tickets/" + t["id"]), 200)
        self.assertEqual(tb["status"], "acknowledged")
        self.assertIsNone(tb["resolved_at"])
        self.assertEqual([e["kind"] for e in tb["events"]], ["created", "acknowledge"])
        # a resolved: false outcome with another code after on_site means done
        t2, job2 = self.assigned_job("eng2", ticket=t)
        self.job_to(job2["id"], "on_site", "eng2")
        b = self.expect(self.post("/api/v1/jobs/%s/outcome" % job2["id"],
                                  {"resolution_code": "client_side", "resolved": False},
                                  "eng2"), 201)
        self.assertEqual(b["job_status"], "done")
        self.assertIs(b["ticket_resolved"], False)
        self.assertEqual(self.db.rows(
            "SELECT j.status, o.resolution_code, o.resolved_ticket FROM job j JOIN outcome o "
            "ON o.job_id = j.id WHERE j.ticket_id = :'t' ORDER BY j.created_at;", t=t["id"]),
            [["needs_revisit", "not_resolved", "f"], ["done", "client_side", "f"]])
        self.assertEqual(self.db.value("SELECT status FROM ticket WHERE id = :'t';", t=t["id"]),
                         "acknowledged")

    def test_patch_ticket_writes_updated_event(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"], subject="old subject")
        r = self.patch("/api/v1/tickets/" + t["id"], {"subject": "new subject",
                                                     "category": "emergency"})
        b = self.expect(r, 200, "patch ticket")
        self.assertEqual(b["subject"], "new subject")
        self.assertEqual(b["category"], "emergency")
        self.assertEqual(b["status"], "new")
        ev = self.expect(self.get("/api/v1/tickets/" + t["id"]), 200)["events"]
        # a new category also recomputes the SLA clocks, with an event of its own (test_sla.py)
        self.assertEqual([e["kind"] for e in ev], ["created", "sla_recomputed", "updated"])
        self.assertIn("subject", json.dumps(ev[2]), "updated event names the changed field")
        self.assertIn("category", json.dumps(ev[2]))
        self.assertEqual(self.db.value("SELECT subject FROM ticket WHERE id = :'id';",
                                       id=t["id"]), "new subject")

    def test_ticket_lifecycle_wait_resume_reopen(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        t0 = now_utc()
        b = self.ticket_to(t["id"], "start")
        t1 = now_utc()
        self.assertEqual(b["status"], "in_progress")
        self.assertRecent(b["first_contact_at"], t0, t1, "first_contact_at set by start")
        self.assertEqual(self.ticket_to(t["id"], "wait")["status"], "waiting_client")
        self.assertEqual(self.ticket_to(t["id"], "resume")["status"], "in_progress")
        b = self.ticket_to(t["id"], "resolve")
        self.assertEqual(b["status"], "resolved")
        self.assertIsNotNone(b["resolved_at"])
        b = self.ticket_to(t["id"], "close")
        self.assertIsNotNone(b["closed_at"])
        b = self.ticket_to(t["id"], "reopen", note="the gate jams again")
        self.assertEqual(b["status"], "in_progress")
        self.assertIsNone(b["resolved_at"], "reopen clears resolved_at")
        self.assertIsNone(b["closed_at"], "reopen clears closed_at")
        self.assertSameTime(b["first_contact_at"], harness.rfc3339(
            parse_ts(self.db.value("SELECT first_contact_at FROM ticket WHERE id=:'id';",
                                   id=t["id"]))), "first_contact_at kept")
        self.assertEqual(self.db.rows(
            "SELECT kind, from_status, to_status FROM ticket_event WHERE ticket_id = :'id' "
            "AND kind <> 'created' ORDER BY id;", id=t["id"]),
            [["start", "new", "in_progress"], ["wait", "in_progress", "waiting_client"],
             ["resume", "waiting_client", "in_progress"],
             ["resolve", "in_progress", "resolved"], ["close", "resolved", "closed"],
             ["reopen", "closed", "in_progress"]])

    def test_ticket_lists_filters_and_pagination(self):
        c, s = self.make_place()
        other_c, other_s = self.make_place()
        self.make_ticket(other_c["id"], other_s["id"])  # must never show up below
        dev = self.make_device(s["id"])
        tickets = []
        for i in range(25):
            extra = {}
            if i % 6 == 0:
                extra["device_id"] = dev["id"]
            cat = "emergency" if i % 5 == 0 else "standard"
            tickets.append(self.make_ticket(c["id"], s["id"], category=cat,
                                            subject="list ticket %02d" % i, **extra))
        for i in range(0, 25, 4):
            self.ticket_to(tickets[i]["id"], "acknowledge")
        ids = [t["id"] for t in tickets]

        items, pages = self.list_all("/api/v1/tickets", limit=10, site_id=s["id"])
        got = [t["id"] for t in items]
        self.assertEqual(pages, 3, "25 items at 10 a page")
        self.assertEqual(len(got), len(set(got)), "no duplicates across pages")
        self.assertEqual(set(got), set(ids), "no omissions")
        self.assertEqual(got, list(reversed(ids)), "newest first")
        created = [parse_ts(t["created_at"]) for t in items]
        self.assertEqual(created, sorted(created, reverse=True))

        # exactly limit per full page, and the same items in one page of 200
        first = self.expect(self.get(query("/api/v1/tickets", site_id=s["id"], limit=10)), 200)
        self.assertEqual(len(first["items"]), 10)
        whole = self.expect(self.get(query("/api/v1/tickets", site_id=s["id"], limit=200)), 200)
        self.assertEqual([t["id"] for t in whole["items"]], got)
        self.assertIsNone(whole["next_cursor"])

        def ids_of(**params):
            items, _ = self.list_all("/api/v1/tickets", limit=7, **params)
            return [t["id"] for t in items]

        want = [t["id"] for i, t in enumerate(tickets) if i % 5 == 0]
        self.assertEqual(ids_of(site_id=s["id"], category="emergency"), want[::-1])
        want = [t["id"] for i, t in enumerate(tickets) if i % 4 == 0]
        self.assertEqual(ids_of(site_id=s["id"], status="acknowledged"), want[::-1])
        want = [t["id"] for i, t in enumerate(tickets) if i % 4 != 0]
        self.assertEqual(ids_of(site_id=s["id"], status="new"), want[::-1])
        self.assertEqual(ids_of(site_id=s["id"], status="new,acknowledged"), ids[::-1])
        self.assertEqual(ids_of(site_id=s["id"], status="resolved,closed"), [])
        self.assertEqual(ids_of(client_id=c["id"]), ids[::-1])
        want = [t["id"] for i, t in enumerate(tickets) if i % 6 == 0]
        self.assertEqual(ids_of(device_id=dev["id"]), want[::-1])
        want = [t["id"] for i, t in enumerate(tickets) if i % 5 == 0 and i % 4 == 0]
        self.assertEqual(ids_of(site_id=s["id"], category="emergency", status="acknowledged"),
                         want[::-1])

        # created_from / created_to around the middle of the sequence
        a = parse_ts(tickets[12]["created_at"])
        b = parse_ts(tickets[13]["created_at"])
        self.assertLess(a, b)
        mid = a + (b - a) / 2
        mid_s = mid.isoformat()
        self.assertEqual(ids_of(site_id=s["id"], created_from=mid_s), ids[13:][::-1])
        self.assertEqual(ids_of(site_id=s["id"], created_to=mid_s), ids[:13][::-1])
        after_all = (parse_ts(tickets[-1]["created_at"]) + datetime.timedelta(seconds=1))
        self.assertEqual(ids_of(site_id=s["id"], created_from=harness.rfc3339(after_all)), [])

        # the SQL agrees
        self.assertEqual(self.db.count("ticket", "site_id = :'s'", s=s["id"]), 25)
        self.assertEqual(self.db.count("ticket", "site_id = :'s' AND status = 'acknowledged'",
                                       s=s["id"]), 7)

        # a ticket created while paging does not shift the later pages (keyset cursor)
        p1 = self.expect(self.get(query("/api/v1/tickets", site_id=s["id"], limit=10)), 200)
        late = self.make_ticket(c["id"], s["id"], category="consultation",
                                subject="created while paging")
        seen = [t["id"] for t in p1["items"]]
        cursor = p1["next_cursor"]
        while cursor is not None:
            page = self.expect(self.get(query("/api/v1/tickets", site_id=s["id"], limit=10,
                                              cursor=cursor)), 200)
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
        self.assertEqual(seen, got, "pages after a concurrent insert")
        self.assertEqual(ids_of(site_id=s["id"], category="consultation"), [late["id"]])
        self.assertEqual(ids_of(site_id=s["id"])[0], late["id"], "the newest comes first")

    def test_job_and_other_lists(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        jobs = [self.make_job(t, title="job %d" % i) for i in range(12)]
        for j in jobs[:5]:
            self.assign(j["id"], "eng2")
        items, _ = self.list_all("/api/v1/jobs", limit=5, ticket_id=t["id"])
        self.assertEqual([j["id"] for j in items], [j["id"] for j in jobs][::-1])
        items, _ = self.list_all("/api/v1/jobs", limit=2, ticket_id=t["id"],
                                 engineer_id=self.users["eng2"].id, status="assigned")
        self.assertEqual(sorted(j["id"] for j in items), sorted(j["id"] for j in jobs[:5]))
        for j in items:
            self.assertEqual(j["engineer_id"], self.users["eng2"].id)
        items, _ = self.list_all("/api/v1/jobs", limit=50, ticket_id=t["id"], status="planned")
        self.assertEqual(len(items), 7)
        items, _ = self.list_all("/api/v1/jobs", limit=50, site_id=s["id"], kind="installation")
        self.assertEqual(items, [])

        sites = [self.make_site(c["id"], kind="industrial") for _ in range(3)]
        items, _ = self.list_all("/api/v1/sites", limit=2, client_id=c["id"])
        self.assertEqual([x["id"] for x in items], [x["id"] for x in [s] + sites][::-1])
        items, _ = self.list_all("/api/v1/sites", limit=2, client_id=c["id"], kind="industrial")
        self.assertEqual([x["id"] for x in items], [x["id"] for x in sites][::-1])
        d = self.make_device(s["id"], serial="SER-FIND-" + uuid.uuid4().hex[:6])
        items, _ = self.list_all("/api/v1/devices", serial=d["serial"])
        self.assertEqual([x["id"] for x in items], [d["id"]])

    def test_idempotent_client_replay(self):
        cid = new_id()
        crm = "CRM-" + uuid.uuid4().hex[:8]
        body = {"id": cid, "name": "Replay Ltd", "crm_ref": crm, "contact_name": "Olga"}
        r1 = self.post("/api/v1/clients", body)
        first = self.expect(r1, 201, "first create")
        self.assertEqual(first["id"], cid)
        self.assertTrue((r1.headers.get("Location") or "").endswith("/api/v1/clients/" + cid))
        r2 = self.post("/api/v1/clients", body)
        second = self.expect(r2, 200, "replay with the same fields")
        self.assertEqual(second, first, "a replay returns the stored object")
        # a subset of the fields that matches is a replay too
        self.expect(self.post("/api/v1/clients", {"id": cid, "name": "Replay Ltd"}), 200,
                    "replay with fewer fields")
        r3 = self.post("/api/v1/clients", dict(body, name="Replay Ltd 2"))
        self.assertProblem(r3, 409, "/problems/conflict", what="same id, other name")
        self.assertEqual(self.db.rows("SELECT name, crm_ref FROM client WHERE id = :'id';",
                                      id=cid), [["Replay Ltd", crm]])

    def test_idempotent_ticket_replay(self):
        c, s = self.make_place()
        tid = new_id()
        body = {"id": tid, "client_id": c["id"], "site_id": s["id"], "category": "standard",
                "subject": "replayed ticket"}
        first = self.expect(self.post("/api/v1/tickets", body), 201)
        again = self.expect(self.post("/api/v1/tickets", body), 200, "replay")
        self.assertEqual(again["id"], tid)
        self.assertEqual(again["number"], first["number"])
        self.assertEqual(again["status"], "new")
        self.assertProblem(self.post("/api/v1/tickets", dict(body, category="emergency")), 409,
                           "/problems/conflict", what="same id, other category")
        self.assertEqual(self.db.count("ticket", "id = :'id'", id=tid), 1)
        self.assertEqual(self.db.rows("SELECT category, subject FROM ticket WHERE id = :'id';",
                                      id=tid), [["standard", "replayed ticket"]])
        self.assertEqual(self.db.count("ticket_event", "ticket_id = :'id'", id=tid), 1,
                         "a replay writes no second created event")

    def test_idempotent_job_replay(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        jid = new_id()
        body = {"id": jid, "kind": "visit", "site_id": s["id"], "ticket_id": t["id"],
                "priority": 2, "required_skills": ["reader"]}
        self.expect(self.post("/api/v1/jobs", body), 201)
        again = self.expect(self.post("/api/v1/jobs", body), 200, "job replay")
        self.assertEqual(again["id"], jid)
        self.assertProblem(self.post("/api/v1/jobs", dict(body, priority=5)), 409,
                           "/problems/conflict")
        self.assertEqual(self.db.rows("SELECT priority FROM job WHERE id = :'id';", id=jid),
                         [["2"]])
        self.assertEqual(self.db.count("job_event", "job_id = :'id'", id=jid), 1)

    def test_reassignment_keeps_history(self):
        e1, e2 = self.users["eng1"], self.users["eng2"]
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        job = self.make_job(t)
        self.assign(job["id"], "eng1")
        self.assertEqual(self.job_to(job["id"], "en_route", "eng1")["status"], "en_route")
        start, end = self.next_slot()
        b = self.expect(self.post("/api/v1/jobs/%s/assign" % job["id"],
                                  {"engineer_id": e2.id, "planned_start": start,
                                   "planned_end": end, "note": "eng1 is ill"}), 200,
                        "reassign")
        self.assertEqual(b["engineer_id"], e2.id)
        self.assertEqual(b["status"], "assigned")
        jb = self.expect(self.get("/api/v1/jobs/" + job["id"]), 200)
        asg = jb["assignments"]
        self.assertEqual(len(asg), 2, asg)
        by_eng = {a["engineer_id"]: a for a in asg}
        self.assertEqual(set(by_eng), {e1.id, e2.id})
        self.assertIsNotNone(by_eng[e1.id]["ended_at"], "the first assignment ended")
        self.assertIsNone(by_eng[e2.id]["ended_at"], "the current assignment is open")
        self.assertSameTime(by_eng[e2.id]["planned_start"], start)
        rows = self.db.rows("SELECT engineer_id, ended_at IS NOT NULL FROM job_assignment "
                            "WHERE job_id = :'id' ORDER BY id;", id=job["id"])
        self.assertEqual(rows, [[e1.id, "t"], [e2.id, "f"]])
        self.assertEqual(self.db.rows("SELECT status, engineer_id FROM job WHERE id=:'id';",
                                      id=job["id"]), [["assigned", e2.id]])
        # the first engineer has lost the job, the second has it
        self.assertProblem(self.get("/api/v1/jobs/" + job["id"], "eng1"), 403,
                           "/problems/forbidden", what="eng1 after reassignment")
        self.expect(self.get("/api/v1/jobs/" + job["id"], "eng2"), 200)
        trans = [(e["from_status"], e["to_status"]) for e in jb["events"]
                 if e.get("from_status") is not None]
        self.assertEqual(trans, [("planned", "assigned"), ("assigned", "en_route"),
                                 ("en_route", "assigned")])


if __name__ == "__main__":
    harness.main()
