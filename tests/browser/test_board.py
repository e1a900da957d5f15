#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The dispatcher's board and the engineer's "my day" in a real browser.

A database of its own, the six standard users and a real fieldd (test_web.WebCase); the data
is made through the API: an emergency ticket whose first-contact clock runs (15 minutes), jobs
to assign, and one booking per engineer on the day the board shows. board.mjs then drives
Debian's headless chromium: the dispatcher assigns jobs by drag and drop and from fieldd's
suggestions, sees a refused assignment's reason (and overrides a rule with a reason), watches
an SLA warning arrive over the live stream when the SLA test clock moves (docs/sla.md), and
the engineer finds the job on "my day".

The browser runs in Europe/Moscow (TZ), so that the day and hours the test names are the
ones the pages show. Environment as test_web.py (FIELDD_BIN, ACS_SOURCE_DIR, the ACS_TEST_PG*
cluster; /usr/bin/chromium, tests/browser/node_modules and psql).
"""
import datetime
import os
import shutil
import sys
import uuid
from zoneinfo import ZoneInfo

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
import test_web  # noqa: E402

TZ = "Europe/Moscow"


class BoardBrowserTest(test_web.WebCase):
    """The board: assignments by drop, suggestion, form and plan; refusals; live events."""

    def set_clock(self, offset):
        self.db.sql("INSERT INTO acs_test_clock (offset_by) VALUES (:'o'::interval)"
                    " ON CONFLICT (id) DO UPDATE SET offset_by = EXCLUDED.offset_by;", o=offset)

    def tearDown(self):
        self.set_clock("0")

    def local(self, day, hour, minutes=0):
        t = datetime.datetime.combine(day, datetime.time(hour, minutes), ZoneInfo(TZ))
        return harness.rfc3339(t.astimezone(datetime.timezone.utc))

    def test_board(self):
        tag = uuid.uuid4().hex[:5]
        c, s = self.make_place()
        self.patch("/api/v1/sites/%s" % s["id"], {"latitude": 55.75, "longitude": 37.62,
                                                  "address": "Tverskaya 1, Moscow"})
        urgent = self.make_ticket(c["id"], s["id"], category="emergency",
                                  subject="Gate 3 turnstile stuck open %s" % tag)
        standard = self.make_ticket(c["id"], s["id"],
                                    subject="Reader at door 2 rejects cards %s" % tag)
        quiet = self.make_ticket(c["id"], s["id"], category="consultation",
                                 subject="Door 5 controller beeps at night %s" % tag)
        job1 = self.make_job(urgent, title="Free the gate 3 turnstile %s" % tag,
                             duration_min=60, priority=1)
        job2 = self.make_job(standard, title="Replace the door 2 reader %s" % tag,
                             duration_min=60)
        job3 = self.make_job(standard, title="Cancelled meanwhile %s" % tag, duration_min=60)
        job4 = self.make_job(standard, title="Commission the new gate %s" % tag,
                             kind="commissioning", duration_min=60,
                             required_skills=["commissioning"])
        job5 = self.make_job(standard, title="Check the exit reader %s" % tag, duration_min=30)
        # Both engineers work 07:00-21:00 every day (Moscow time) from a home base near the
        # site; neither has the commissioning skill, so job4 is refused until the dispatcher
        # overrides.
        for eng in ("eng1", "eng2"):
            self.expect(self.call("PATCH", "/api/v1/engineers/%s" % self.users[eng].id,
                                  body={"time_zone": TZ, "home_latitude": 55.76,
                                        "home_longitude": 37.60}), 200, "profile of " + eng)
            self.expect(self.call("PUT", "/api/v1/engineers/%s/shifts" % self.users[eng].id,
                                  body={"shifts": [{"iso_weekday": d, "start_time": "07:00",
                                                    "end_time": "21:00"} for d in range(1, 8)]}),
                        200, "shifts of " + eng)

        # An installation project whose survey should have ended three days ago.
        today = datetime.datetime.now(ZoneInfo(TZ)).date()
        project = self.expect(self.post("/api/v1/projects", {
            "client_id": c["id"], "site_id": s["id"], "name": "New gates, block B %s" % tag,
            "stages": {"survey": {"planned_start": (today - datetime.timedelta(days=10)).isoformat(),
                                  "planned_end": (today - datetime.timedelta(days=3)).isoformat()}}}),
            201, "create project")

        # The day the board shows: the day after tomorrow in Moscow, with one booking each.
        day = (datetime.datetime.now(ZoneInfo(TZ)) + datetime.timedelta(days=2)).date()
        bookings = {}
        for eng, hour in (("eng1", 15), ("eng2", 16)):
            b = self.make_job(standard, title="Booked visit of %s %s" % (eng, tag))
            self.expect(self.post("/api/v1/jobs/%s/assign" % b["id"], {
                "engineer_id": self.users[eng].id, "planned_start": self.local(day, hour),
                "planned_end": self.local(day, hour + 1)}), 200, "booking of " + eng)
            bookings[eng] = b

        old_tz = os.environ.get("TZ")
        os.environ["TZ"] = TZ
        try:
            self.scenario(
                "board", day=day.isoformat(), conninfo=self.db.conninfo,
                dispatcher=self.users["dispatcher"].token, eng1=self.users["eng1"].token,
                senior=self.users["senior"].token,
                eng1_id=self.users["eng1"].id, eng2_id=self.users["eng2"].id,
                eng1_name=self.users["eng1"].name, eng2_name=self.users["eng2"].name,
                urgent_id=urgent["id"], urgent_subject=urgent["subject"],
                urgent_number=urgent["number"],
                project_id=project["id"], project_name=project["name"],
                quiet_id=quiet["id"], quiet_subject=quiet["subject"], quiet_number=quiet["number"],
                jobs={k: {"id": j["id"], "title": j["title"]} for k, j in
                      (("job1", job1), ("job2", job2), ("job3", job3), ("job4", job4),
                       ("job5", job5),
                       ("booking1", bookings["eng1"]), ("booking2", bookings["eng2"]))})
        finally:
            if old_tz is None:
                os.environ.pop("TZ", None)
            else:
                os.environ["TZ"] = old_tz

        def job(j):
            return self.expect(self.get("/api/v1/jobs/%s" % j["id"]), 200, "job")

        j1, j2, j3, j4 = job(job1), job(job2), job(job3), job(job4)
        self.assertEqual((j1["status"], j1["engineer_id"]), ("en_route", self.users["eng1"].id),
                         "job1 went to eng1 from the suggestions, who set off from \"my day\"")
        self.assertEqual((j2["status"], j2["engineer_id"]), ("assigned", self.users["eng2"].id),
                         "job2 was dropped on eng2's day")
        self.assertSameTime(j2["planned_start"], self.local(day, 9))
        self.assertSameTime(j2["planned_end"], self.local(day, 10))
        self.assertEqual([(harness.parse_ts(a["planned_start"]).astimezone(ZoneInfo(TZ)).hour,
                           a["ended_at"] is not None) for a in j2["assignments"]],
                         [(10, True), (9, False)], "dropped at 10:00, then moved to 09:00")
        self.assertEqual(j3["status"], "cancelled", "the refused assignment changed nothing")
        self.assertEqual(len(j3["assignments"]), 0)
        self.assertEqual((j4["status"], j4["engineer_id"]),
                         ("assigned", self.users["eng1"].id), "job4 assigned by override")
        self.assertEqual(self.db.rows("SELECT override_reason FROM job_assignment"
                                      " WHERE job_id = :'j';", j=job4["id"]),
                         [["Only commissioning-trained engineer nearby is on leave"]],
                         "the override's reason is recorded with the assignment")
        j5 = job(job5)
        self.assertEqual(j5["status"], "assigned", "job5 assigned by the accepted plan")
        self.assertEqual(harness.parse_ts(j5["planned_start"]).astimezone(ZoneInfo(TZ)).date(),
                         day, "the plan of the day shown")
        visit = self.db.rows("SELECT kind, status, priority, title, engineer_id,"
                             " to_char(planned_start AT TIME ZONE :'tz', 'YYYY-MM-DD HH24:MI'),"
                             " to_char(planned_end AT TIME ZONE :'tz', 'HH24:MI')"
                             " FROM job WHERE ticket_id = :'t';", t=quiet["id"], tz=TZ)
        self.assertEqual(visit, [["visit", "assigned", "3", quiet["subject"],
                                  self.users["eng2"].id, "%s 13:00" % day.isoformat(), "13:45"]],
                         "a visit created from the at-risk list, assigned through the form")
        for kind in ("sla_warning", "sla_breach"):
            self.assertEqual(self.db.count("ticket_event", "ticket_id = :'t' AND kind = :'k'",
                                           t=urgent["id"], k=kind), 1, kind)


if __name__ == "__main__":
    if os.environ.get("ACS_TEST_PGPORT"):
        test_web.check_tools()
    code = 0
    try:
        harness.main()
    except SystemExit as e:
        code = e.code
    if code in (0, harness.SKIP) or not os.listdir(test_web.ARTIFACTS):
        shutil.rmtree(test_web.ARTIFACTS, ignore_errors=True)
    else:
        print("screenshots and page consoles kept in %s" % test_web.ARTIFACTS, file=sys.stderr)
    sys.exit(code)
