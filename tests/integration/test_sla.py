# SPDX-License-Identifier: MIT
"""SLA clocks through the API, driven by the test clock (acs_test_clock: no sleeping for
minutes): due times when a ticket is created, warning at 80% and breach at the due time each
recorded exactly once (also with two fieldd instances, and for what fell due while no fieldd
ran), escalation to the head of support, the first-contact clock stopped by acknowledge, the
resolution clock paused while waiting for the client, a category change recomputing with its
history, repeat tickets, the at-risk list, and the live event stream.

Working-time arithmetic itself is tested in test_worktime.py; here due times are checked
against the database's own acs_work_add (0004) and, on the 24x7 calendar, by hand.
"""

import datetime
import http.client
import socket
import threading
import time
import unittest

import harness


class SlaTest(harness.FielddTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client, cls.site = None, None
        # The shipped production calendar covers 2025-2026. So that these tests mean the
        # same whenever they run (a clock moved weeks ahead in late December would leave the
        # covered years), this class's database extends ru-business by two years of plain
        # weekly hours.
        cls.db.sql("UPDATE business_calendar SET last_year = greatest(last_year,"
                   " extract(year FROM now())::int + 2) WHERE id = 'ru-business';")

    def setUp(self):
        # Every test starts with the clock at real time; tests move it forward only.
        self.set_clock("0")
        if SlaTest.client is None:
            SlaTest.client, SlaTest.site = self.make_place()

    def tearDown(self):
        self.set_clock("0")

    # --- helpers --------------------------------------------------------------------------

    def set_clock(self, offset):
        self.db.sql("INSERT INTO acs_test_clock (offset_by) VALUES (:'o'::interval)"
                    " ON CONFLICT (id) DO UPDATE SET offset_by = EXCLUDED.offset_by;", o=offset)

    def ticket(self, category="emergency", site=None, **fields):
        site = site or self.site
        return self.make_ticket(site["client_id"], site["id"], category=category, **fields)

    def events(self, ticket_id, kind):
        return self.db.rows("SELECT data::text FROM ticket_event WHERE ticket_id = :'t'"
                            " AND kind = :'k' ORDER BY id;", t=ticket_id, k=kind)

    def count_events(self, ticket_id, kind):
        return len(self.events(ticket_id, kind))

    def wait_for(self, pred, what, timeout=8.0):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                self.fail_with_log("%s did not happen within %.0f s" % (what, timeout))
            time.sleep(0.05)

    def sla(self, ticket_id, who="dispatcher"):
        return self.expect(self.get("/api/v1/tickets/%s/sla" % ticket_id, who), 200, "sla")

    # --- tests ----------------------------------------------------------------------------

    def test_due_times_at_creation(self):
        t = self.ticket("emergency")
        created = harness.parse_ts(t["created_at"])
        sla = t["sla"]
        fc, res = sla["first_contact"], sla["resolution"]
        self.assertEqual(fc["calendar"], "24x7")
        self.assertEqual(fc["target_seconds"], 15 * 60)
        self.assertEqual(harness.parse_ts(fc["due"]), created + datetime.timedelta(minutes=15))
        self.assertEqual(harness.parse_ts(fc["warn_at"]), created + datetime.timedelta(minutes=12))
        self.assertEqual(res["calendar"], "ru-business")
        self.assertEqual(res["target_seconds"], 4 * 3600)
        expected = self.db.value("SELECT acs_work_add('ru-business', :'c'::timestamptz,"
                                 " '4 hours')::text;", c=t["created_at"])
        self.assertEqual(harness.parse_ts(res["due"]), harness.parse_ts(expected.replace(" ", "T")))
        self.assertFalse(res["paused"])
        # the ticket's own columns agree with its clocks, and GET shows the same state
        self.assertSameTime(t["first_contact_due"], fc["due"])
        self.assertSameTime(t["resolution_due"], res["due"])
        got = self.expect(self.get("/api/v1/tickets/%s" % t["id"]), 200)
        self.assertSameTime(got["sla"]["first_contact"]["due"], fc["due"])

    def test_warning_breach_escalation_exactly_once(self):
        t = self.ticket("emergency")
        self.set_clock("11 minutes")
        time.sleep(0.3)  # nothing is due yet: give the timer a chance to do wrong
        self.assertEqual(self.count_events(t["id"], "sla_warning"), 0)
        self.set_clock("13 minutes")
        self.wait_for(lambda: self.count_events(t["id"], "sla_warning") == 1, "the warning")
        self.assertEqual(self.count_events(t["id"], "sla_breach"), 0)
        self.set_clock("16 minutes")
        self.wait_for(lambda: self.count_events(t["id"], "sla_breach") == 1, "the breach")
        self.wait_for(lambda: self.count_events(t["id"], "sla_escalated") == 1, "escalation")
        head_id = self.users["head"].id
        self.assertIn(head_id, self.events(t["id"], "sla_escalated")[0][0])
        self.assertEqual(self.db.count("audit_log", "action = 'sla.escalate' AND object_id ="
                                       " :'t'", t=t["id"]), 1)
        # more ticks change nothing
        self.set_clock("30 minutes")
        self.set_clock("31 minutes")
        time.sleep(0.3)
        self.assertEqual(self.count_events(t["id"], "sla_warning"), 1)
        self.assertEqual(self.count_events(t["id"], "sla_breach"), 1)
        fc = self.sla(t["id"])["first_contact"]
        self.assertTrue(fc["breached"])
        self.assertEqual(fc["remaining_seconds"], 0)

    def test_acknowledge_stops_first_contact(self):
        t = self.ticket("emergency")
        self.set_clock("5 minutes")
        b = self.expect(self.post("/api/v1/tickets/%s/acknowledge" % t["id"]), 200)
        fc = b["sla"]["first_contact"]
        self.assertTrue(fc["met"])
        self.assertAlmostEqual(fc["taken_seconds"], 300, delta=3)
        self.set_clock("40 minutes")
        time.sleep(0.3)
        self.assertEqual(self.count_events(t["id"], "sla_breach"), 0)
        self.assertFalse(self.sla(t["id"])["first_contact"]["breached"])

    def test_pause_while_waiting_for_client(self):
        t = self.ticket("standard")
        self.expect(self.post("/api/v1/tickets/%s/start" % t["id"]), 200)
        self.set_clock("1 hour")
        b = self.expect(self.post("/api/v1/tickets/%s/wait" % t["id"]), 200)
        res = b["sla"]["resolution"]
        self.assertTrue(res["paused"])
        self.assertIsNone(res["due"])
        used = res["consumed_seconds"]
        expected_used = int(self.db.value(
            "SELECT extract(epoch FROM acs_work_between('ru-business', :'c'::timestamptz,"
            " :'c'::timestamptz + interval '1 hour'))::bigint;", c=t["created_at"]))
        self.assertAlmostEqual(used, expected_used, delta=3)
        # two weeks of waiting for the client use no working time
        self.set_clock("14 days")
        self.assertEqual(self.sla(t["id"])["resolution"]["consumed_seconds"], used)
        b = self.expect(self.post("/api/v1/tickets/%s/resume" % t["id"]), 200)
        res = b["sla"]["resolution"]
        self.assertFalse(res["paused"])
        now = harness.parse_ts(self.db.value("SELECT acs_now()::text;").replace(" ", "T"))
        due = self.db.value("SELECT acs_work_add('ru-business', :'n'::timestamptz,"
                            " interval '24 hours' - :'u' * interval '1 second')::text;",
                            n=harness.rfc3339(now), u=str(used))
        self.assertAlmostEqual(harness.parse_ts(res["due"]).timestamp(),
                               harness.parse_ts(due.replace(" ", "T")).timestamp(), delta=3)
        # resolution stores the working time taken
        b = self.expect(self.post("/api/v1/tickets/%s/resolve" % t["id"]), 200)
        res = b["sla"]["resolution"]
        self.assertIsNotNone(res["taken_seconds"])
        self.assertTrue(res["met"])
        self.assertFalse(res["paused"])

    def test_category_change_recomputes_with_history(self):
        t = self.ticket("consultation")
        before = t["sla"]["first_contact"]["due"]
        b = self.expect(self.patch("/api/v1/tickets/%s" % t["id"], {"category": "emergency"}),
                        200)
        self.assertEqual(b["category"], "emergency")
        sla = self.sla(t["id"])
        self.assertEqual(sla["category"], "emergency")
        self.assertEqual(sla["first_contact"]["target_seconds"], 900)
        created = harness.parse_ts(t["created_at"])
        self.assertEqual(harness.parse_ts(sla["first_contact"]["due"]),
                         created + datetime.timedelta(minutes=15))
        self.assertSameTime(b["first_contact_due"], sla["first_contact"]["due"])
        ev = self.events(t["id"], "sla_recomputed")
        self.assertEqual(len(ev), 1)
        self.assertIn('"from_category": "consultation"', ev[0][0])
        self.assertIn(before[:16], ev[0][0])
        # the same category again: nothing to recompute
        self.expect(self.patch("/api/v1/tickets/%s" % t["id"], {"category": "emergency"}), 200)
        self.assertEqual(len(self.events(t["id"], "sla_recomputed")), 1)

    def test_breach_recorded_after_downtime_once(self):
        t = self.ticket("emergency")
        rc = self.server.stop()
        self.assertEqual(rc, 0)
        try:
            self.set_clock("20 minutes")  # falls due while no fieldd runs
            self.assertEqual(self.count_events(t["id"], "sla_breach"), 0)
        finally:
            self.server.start()
        self.wait_for(lambda: self.count_events(t["id"], "sla_breach") == 1,
                      "the breach after the restart")
        self.assertEqual(self.count_events(t["id"], "sla_warning"), 1)
        time.sleep(0.3)
        self.assertEqual(self.count_events(t["id"], "sla_breach"), 1)

    def test_two_instances_record_each_once(self):
        other = harness.Server(self.db, self.workdir, name="fieldd-b").start()
        try:
            tickets = [self.ticket("emergency") for _ in range(12)]
            self.set_clock("25 minutes")
            ids = [t["id"] for t in tickets]
            self.wait_for(lambda: int(self.db.value(
                "SELECT count(*) FROM ticket_event WHERE kind = 'sla_breach'"
                " AND ticket_id = ANY(:'ids'::uuid[]);", ids="{%s}" % ",".join(ids))) >= 12,
                "all breaches")
            time.sleep(0.5)
            for kind in ("sla_warning", "sla_breach", "sla_escalated"):
                rows = self.db.rows(
                    "SELECT ticket_id, count(*) FROM ticket_event WHERE kind = :'k'"
                    " AND ticket_id = ANY(:'ids'::uuid[]) GROUP BY 1;",
                    k=kind, ids="{%s}" % ",".join(ids))
                self.assertEqual(len(rows), 12, kind)
                self.assertTrue(all(r[1] == "1" for r in rows), "%s: %r" % (kind, rows))
        finally:
            self.assertEqual(other.stop(), 0, other.log_tail())

    def test_repeat_tickets(self):
        site = self.make_site(self.client["id"])
        first = self.ticket("standard", site=site)
        self.expect(self.post("/api/v1/tickets/%s/start" % first["id"]), 200)
        self.expect(self.post("/api/v1/tickets/%s/resolve" % first["id"]), 200)
        self.set_clock("10 days")
        again = self.ticket("emergency", site=site)
        self.assertEqual(again["repeat_of"], first["id"])
        other_site = self.make_site(self.client["id"])
        self.assertIsNone(self.ticket("standard", site=other_site)["repeat_of"])
        self.set_clock("31 days")
        self.assertIsNone(self.ticket("standard", site=site)["repeat_of"],
                          "a ticket 31 days after the resolution is not a repeat")

    def test_at_risk_list(self):
        site = self.make_site(self.client["id"])
        a = self.ticket("standard", site=site)
        b = self.ticket("emergency", site=site)
        body = self.expect(self.get(harness.query("/api/v1/sla/at-risk", limit=500)), 200)
        ids = [i["id"] for i in body["items"]]
        self.assertIn(a["id"], ids)
        self.assertIn(b["id"], ids)
        self.assertLess(ids.index(b["id"]), ids.index(a["id"]), "the emergency is due first")
        dues = [i["next_due"] for i in body["items"]]
        self.assertEqual(dues, sorted(dues, key=harness.parse_ts))
        within = self.expect(self.get(harness.query("/api/v1/sla/at-risk", within_minutes=20,
                                                    category="emergency")), 200)
        self.assertIn(b["id"], [i["id"] for i in within["items"]])
        self.assertNotIn(a["id"], [i["id"] for i in within["items"]])
        self.assertProblem(self.get("/api/v1/sla/at-risk", "eng1"), 403, "/problems/forbidden")
        self.assertProblem(self.get(harness.query("/api/v1/sla/at-risk", limit=0)), 400,
                           "/problems/validation", field="limit")

    def test_calendar_change_moves_running_clocks(self):
        # A standard ticket's resolution (24 working hours) runs over the next working days; a
        # holiday declared on one of them moves its due time a working day later, in the same
        # transaction as the calendar change (0006_sla_rebase.sql).
        t = self.ticket("standard")
        before = harness.parse_ts(self.sla(t["id"])["resolution"]["due"])
        day = self.db.value(
            "SELECT min(d)::date::text FROM generate_series(acs_now() + interval '1 day',"
            " acs_now() + interval '10 days', interval '1 day') d"
            " WHERE extract(isodow FROM d AT TIME ZONE 'Europe/Moscow') < 6"
            "   AND NOT EXISTS (SELECT 1 FROM business_calendar_exception e"
            "                   WHERE e.calendar_id = 'ru-business'"
            "                     AND e.day = (d AT TIME ZONE 'Europe/Moscow')::date);")
        r = self.post("/api/v1/calendars/ru-business/exceptions",
                      {"date": day, "kind": "holiday", "note": "test: declared holiday"}, "head")
        self.assertIn(r.status, (200, 201), r.body)
        try:
            sla = self.sla(t["id"])["resolution"]
            after = harness.parse_ts(sla["due"])
            self.assertGreater(after, before, "a holiday before the due time moves it later")
            expected = self.db.value(
                "SELECT acs_work_add('ru-business', res_running_since, res_target - res_consumed)"
                "::text FROM ticket_sla WHERE ticket_id = :'t';", t=t["id"])
            self.assertEqual(after, harness.parse_ts(expected))
            got = self.expect(self.get("/api/v1/tickets/%s" % t["id"]), 200)
            self.assertSameTime(got["resolution_due"], sla["due"])
        finally:
            self.expect(self.call("DELETE", "/api/v1/calendars/ru-business/exceptions/" + day,
                                  "head"), 200, "remove the test holiday")
        self.assertEqual(harness.parse_ts(self.sla(t["id"])["resolution"]["due"]), before,
                         "removing the holiday moves the clock back")

    def ticks(self):
        import re
        body = self.expect(self.get("/metrics", "admin"), 200)
        m = re.search(r"^fieldd_sla_ticks_total (\d+)$", body, re.M)
        self.assertIsNotNone(m, body)
        return int(m.group(1))

    def test_idle_timer_stays_idle(self):
        # Recording marks must not wake the timers again (a feedback loop would tick every few
        # milliseconds); with nothing changing, a second brings at most a tick or two.
        t = self.ticket("emergency")
        self.set_clock("16 minutes")
        self.wait_for(lambda: self.count_events(t["id"], "sla_breach") == 1, "the breach")
        time.sleep(0.3)
        before = self.ticks()
        time.sleep(1.0)
        self.assertLessEqual(self.ticks() - before, 2, "ticks in an idle second")

    def test_live_events(self):
        t = self.ticket("emergency")
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        try:
            sock.sendall(("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
                          "\r\n\r\n" % self.token("head")).encode())
            got = b""
            while b"acsfield live events" not in got:
                got += sock.recv(4096)
            self.assertIn(b"text/event-stream", got)
            self.set_clock("16 minutes")
            deadline = time.monotonic() + 8
            while b"event: sla_breach" not in got or t["id"].encode() not in got:
                self.assertLess(time.monotonic(), deadline, got)
                got += sock.recv(4096)
            self.assertIn(b"event: sla_warning", got)
        finally:
            sock.close()


if __name__ == "__main__":
    harness.main()
