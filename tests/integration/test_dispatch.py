# SPDX-License-Identifier: MIT
"""Dispatch through fieldd (docs/dispatch.md, "The HTTP API"): engineers' profiles, shifts
and absences; assignments checked by the planner with every refusal sentence, the override
and its audit, the history on reassignment and the live event; suggestions ranked on a
hand-made case; a day plan preview and its acceptance (also after a job became infeasible);
implementation projects and the at-risk list; bad input and roles.

Real PostgreSQL and a real fieldd (harness.py). The dates are in January 2030 (Monday 7th),
in Moscow time (UTC+3 all year), so every clock time in a sentence is known in advance.
"""

import datetime
import http.client
import json
import math
import socket
import threading
import time
import uuid

from harness import FielddTestCase, Server, add_user, main

MON = "2030-01-07"  # a Monday
TUE = "2030-01-08"
WED = "2030-01-09"
THU = "2030-01-10"

# Places around Moscow's centre (degrees).
CENTRE = (55.7558, 37.6173)
NORTH = (55.8358, 37.6173)  # 8.9 km north of the centre
FAR = (55.9358, 37.6173)  # 20 km north


def at(day, hhmm):
    return "%sT%s:00+03:00" % (day, hhmm)


def travel_s(a, b, speed_kmh=40.0, road=1.3):
    """The planner's default estimate (docs/dispatch.md): haversine x road / speed, rounded up."""
    r = 6371008.8
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    d = 2 * r * math.asin(math.sqrt(h))
    return math.ceil(d * road / (speed_kmh * 1000 / 3600))


class SseReader:
    """Reads GET /api/v1/events in a thread; events are (name, data dict)."""

    def __init__(self, port, token):
        self.events = []
        self.cond = threading.Condition()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", "/api/v1/events", headers={"Authorization": "Bearer " + token})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        name, data = None, []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and name is not None:
                    with self.cond:
                        self.events.append((name, json.loads("\n".join(data))))
                        self.cond.notify_all()
                    name, data = None, []
        except (OSError, ValueError):
            pass

    def wait_for(self, pred, timeout=10):
        with self.cond:
            self.cond.wait_for(lambda: any(pred(n, d) for n, d in self.events), timeout)
            return [(n, d) for n, d in self.events if pred(n, d)]

    def close(self):
        try:
            if self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(5)
        self.conn.close()


WEEKDAYS = [{"iso_weekday": d, "start_time": "09:00", "end_time": "18:00"} for d in range(1, 6)]


class DispatchTest(FielddTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for key, name, skills, region in (("ivanov", "Ivanov", ["turnstile"], "north"),
                                          ("petrov", "Petrov", ["turnstile", "firmware"], None),
                                          ("sidorov", "Sidorov", ["reader"], None)):
            cls.users[key] = add_user(cls.db, key, "engineer", skills, region, name=name)

    def setUp(self):
        # Each test starts from the same engineers: home bases, weekday shifts, no absence.
        for key, home in (("ivanov", CENTRE), ("petrov", NORTH), ("sidorov", CENTRE)):
            uid = self.users[key].id
            self.expect(self.patch("/api/v1/engineers/%s" % uid,
                                   {"home_latitude": home[0], "home_longitude": home[1],
                                    "time_zone": "Europe/Moscow"}), 200, "home of " + key)
            self.expect(self.call("PUT", "/api/v1/engineers/%s/shifts" % uid,
                                  body={"shifts": WEEKDAYS}), 200, "shifts of " + key)
            for a in self.get("/api/v1/engineers/%s" % uid).body["absences"]:
                self.expect(self.call("DELETE", "/api/v1/engineers/%s/absences/%s"
                                      % (uid, a["id"])), 200, "delete absence")
        # Nothing of an earlier test stays booked in January 2030.
        self.db.sql("UPDATE job SET status = 'cancelled' WHERE status IN ('assigned', "
                    "'en_route', 'on_site') AND planned_start >= '2030-01-01'")

    # --- helpers ---------------------------------------------------------------------------

    def site_at(self, point, **fields):
        c = self.make_client()
        return self.make_site(c["id"], latitude=point[0], longitude=point[1], **fields)

    def job_at(self, point, title, site=None, **fields):
        site = site or self.site_at(point)
        t = self.make_ticket(site["client_id"], site["id"])
        return self.make_job(t, title=title, **fields)

    def assign_to(self, job, who, start, end=None, **extra):
        body = {"engineer_id": self.users[who].id, "planned_start": start}
        if end is not None:
            body["planned_end"] = end
        body.update(extra)
        return self.post("/api/v1/jobs/%s/assign" % job["id"], body)

    def refused(self, resp, what):
        b = self.assertProblem(resp, 409, "/problems/assignment-refused", what=what)
        self.assertEqual(b["time_zone"], "Europe/Moscow")
        self.assertEqual(b["utc_offset_s"], 10800)
        self.assertEqual(b["detail"], "; ".join(r["sentence"] for r in b["reasons"]))
        return b["reasons"]

    # --- refusals, one per rule, with the exact sentence ----------------------------------

    def test_01_refusal_skill(self):
        job = self.job_at(CENTRE, "Flash gate 1", required_skills=["firmware"])
        reasons = self.refused(self.assign_to(job, "ivanov", at(MON, "10:00"), at(MON, "12:00")),
                               "skill")
        self.assertEqual(reasons, [{"code": "skill", "sentence": "Ivanov has no firmware skill"}])

    def test_01b_check_without_assigning(self):
        job = self.job_at(CENTRE, "Checked flash", required_skills=["firmware"])
        q = "/api/v1/jobs/%s/check?engineer_id=%s&planned_start=%s&planned_end=%s"
        r = self.get(q % (job["id"], self.users["ivanov"].id, "2030-01-07T07:00:00Z",
                          "2030-01-07T08:00:00Z"), who="head")
        b = self.expect(r, 200, "check")
        self.assertEqual(b["allowed"], False)
        self.assertEqual(b["reasons"], [{"code": "skill",
                                         "sentence": "Ivanov has no firmware skill"}])
        b = self.expect(self.get(q % (job["id"], self.users["petrov"].id, "2030-01-07T07:00:00Z",
                                      "2030-01-07T08:00:00Z")), 200, "check petrov")
        self.assertEqual((b["allowed"], b["reasons"]), (True, []))
        self.assertEqual(self.get("/api/v1/jobs/%s" % job["id"]).body["status"], "planned")
        r = self.get("/api/v1/jobs/%s/check?engineer_id=%s" % (job["id"],
                                                               self.users["petrov"].id))
        self.assertProblem(r, 400, "/problems/validation", field="planned_start", what="missing")
        r = self.get(q % (job["id"], self.users["petrov"].id, "2030-01-07T07:00:00Z",
                          "2030-01-07T08:00:00Z"), who="eng1")
        self.assertProblem(r, 403, "/problems/forbidden", what="engineer checks")

    def test_02_refusal_shift(self):
        job = self.job_at(CENTRE, "Late visit")
        reasons = self.refused(self.assign_to(job, "ivanov", at(MON, "17:00"), at(MON, "19:00")),
                               "shift")
        self.assertEqual(reasons, [{"code": "shift", "sentence":
                                    "17:00-19:00 is outside Ivanov's shift (Mon 09:00-18:00)"}])
        # Saturday: no shift that day at all
        reasons = self.refused(self.assign_to(job, "ivanov", at("2030-01-12", "10:00"),
                                              at("2030-01-12", "12:00")), "no shift")
        self.assertEqual(reasons, [{"code": "shift", "sentence":
                                    "10:00-12:00 is outside Ivanov's shifts (no shift on Sat)"}])

    def test_03_refusal_absence(self):
        uid = self.users["ivanov"].id
        self.expect(self.post("/api/v1/engineers/%s/absences" % uid,
                              {"kind": "sick", "starts_at": at(TUE, "00:00"),
                               "ends_at": at(WED, "00:00")}), 201, "absence")
        job = self.job_at(CENTRE, "Visit on Tuesday")
        reasons = self.refused(self.assign_to(job, "ivanov", at(TUE, "10:00"), at(TUE, "12:00")),
                               "absence")
        self.assertEqual(reasons, [{"code": "absence", "sentence":
                                    "10:00-12:00 falls in Ivanov's sick leave "
                                    "(Tue 8 Jan 00:00 - Wed 9 Jan 00:00)"}])

    def test_04_refusal_overlap_with_travel(self):
        site_a = self.site_at(CENTRE, name="BC Centre")
        first = self.job_at(CENTRE, "Gate A", site=site_a)
        self.expect(self.assign_to(first, "ivanov", at(WED, "10:00"), at(WED, "11:00")), 200,
                    "first job")
        second = self.job_at(FAR, "Gate B")
        minutes = math.ceil(travel_s(CENTRE, FAR) / 60)
        reasons = self.refused(self.assign_to(second, "ivanov", at(WED, "11:00"),
                                              at(WED, "12:00")), "overlap")
        self.assertEqual(len(reasons), 1, reasons)
        self.assertEqual(reasons[0]["code"], "overlap")
        self.assertEqual(reasons[0]["sentence"],
                         "overlaps job Gate A 10:00-11:00 plus %d min travel from BC Centre"
                         % minutes)
        # Far enough after it, the same assignment passes.
        self.expect(self.assign_to(second, "ivanov", at(WED, "12:00"), at(WED, "13:00")), 200,
                    "after the travel")

    def test_05_refusal_region_and_window(self):
        site = self.site_at(CENTRE, region="south")
        job = self.job_at(CENTRE, "Window visit", site=site,
                          window_start=at(THU, "13:00"), window_end=at(THU, "17:00"))
        reasons = self.refused(self.assign_to(job, "ivanov", at(THU, "10:00"), at(THU, "12:00")),
                               "region and window")
        self.assertEqual(reasons, [
            {"code": "region", "sentence": "Ivanov does not serve region south"},
            {"code": "window",
             "sentence": "10:00-12:00 is outside the window of job Window visit (13:00-17:00)"}])

    # --- override, history, live event ------------------------------------------------------

    def test_06_override_is_audited_and_history_kept(self):
        job = self.job_at(CENTRE, "Urgent flash", required_skills=["firmware"])
        r = self.assign_to(job, "ivanov", at(MON, "10:00"), at(MON, "11:00"), override=True)
        self.assertProblem(r, 400, "/problems/validation", field="reason", what="no reason")
        r = self.assign_to(job, "ivanov", at(MON, "10:00"), at(MON, "11:00"), override=True,
                           reason="only Ivanov is near; Petrov talks him through it")
        b = self.expect(r, 200, "override")
        self.assertEqual(b["status"], "assigned")
        self.assertEqual(b["overridden"], [{"code": "skill",
                                            "sentence": "Ivanov has no firmware skill"}])
        rows = self.db.rows("SELECT actor_id::text, detail->>'reason', detail->'overridden' "
                            "FROM audit_log WHERE action = 'job.assign_override' "
                            "AND object_id = :'j'", j=job["id"])
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][0], self.users["dispatcher"].id)
        self.assertIn("Petrov talks him through", rows[0][1])
        self.assertIn("Ivanov has no firmware skill", rows[0][2])

        # Reassign to Petrov (no override needed), then reschedule: history keeps all three.
        self.expect(self.assign_to(job, "petrov", at(MON, "10:00"), at(MON, "11:00")), 200,
                    "reassign")
        self.expect(self.assign_to(job, "petrov", at(MON, "14:00"), at(MON, "15:00")), 200,
                    "reschedule")
        got = self.expect(self.get("/api/v1/jobs/%s" % job["id"]), 200, "job")
        hist = got["assignments"]
        self.assertEqual([a["engineer_id"] for a in hist],
                         [self.users[k].id for k in ("ivanov", "petrov", "petrov")])
        self.assertIsNotNone(hist[0]["ended_at"])
        self.assertIsNotNone(hist[1]["ended_at"])
        self.assertIsNone(hist[2]["ended_at"])
        self.assertEqual(hist[0]["override_reason"],
                         "only Ivanov is near; Petrov talks him through it")
        self.assertIsNone(hist[1]["override_reason"])
        self.assertSameTime(got["planned_start"], at(MON, "14:00"), "rescheduled start")
        assigns = [e for e in got["events"] if e["kind"] == "assign"]
        self.assertEqual(len(assigns), 3)
        self.assertTrue(assigns[0]["data"]["override"])
        self.assertEqual(assigns[1]["data"]["previous_engineer_id"], self.users["ivanov"].id)

    def test_07_live_event_on_assignment(self):
        stream = SseReader(self.server.port, self.users["petrov"].token)
        try:
            self.assertEqual(stream.status, 200)
            job = self.job_at(CENTRE, "Evented visit")
            self.expect(self.assign_to(job, "petrov", at(THU, "09:30"), at(THU, "10:30")), 200,
                        "assign")
            got = stream.wait_for(lambda n, d: n == "job_assigned" and d["job_id"] == job["id"])
            self.assertEqual(len(got), 1, stream.events)
            data = got[0][1]
            self.assertEqual(data["engineer_id"], self.users["petrov"].id)
            self.assertIsNone(data["previous_engineer_id"])
            self.assertFalse(data["override"])
            self.assertEqual(data["actor_id"], self.users["dispatcher"].id)
        finally:
            stream.close()

    # --- suggestions ---------------------------------------------------------------------

    def test_08_suggestions_ranked(self):
        # A turnstile job next to Petrov's home: Petrov arrives first, Ivanov later (from the
        # centre), Sidorov has no turnstile skill and is not listed.
        job = self.job_at(NORTH, "Gate north", required_skills=["turnstile"])
        # the ticket's resolution is due at noon that Monday
        self.db.sql("UPDATE ticket SET resolution_due = :'due' WHERE id = :'t'",
                    due=at(MON, "12:00"), t=job["ticket_id"])
        r = self.get("/api/v1/jobs/%s/suggestions?from=%s&to=%s" % (
            job["id"], "2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z"))
        b = self.expect(r, 200, "suggestions")
        names = [s["name"] for s in b["suggestions"]]
        self.assertEqual(names, ["Petrov", "Ivanov"])
        p, i = b["suggestions"]
        self.assertEqual(p["travel_s"], 0)
        self.assertEqual(p["start"], "2030-01-07T06:00:00Z")
        self.assertEqual(i["travel_s"], travel_s(CENTRE, NORTH))
        start = datetime.datetime(2030, 1, 7, 6, tzinfo=datetime.timezone.utc) \
            + datetime.timedelta(seconds=i["travel_s"])
        self.assertEqual(i["start"], start.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(p["sla_left_s"], 3 * 3600)
        self.assertEqual(i["sla_left_s"], 3 * 3600 - i["travel_s"])
        self.assertEqual(p["sentence"], "Petrov: arrives 09:00 (no travel), 3 h before the "
                                        "resolution deadline; has the turnstile skill")
        self.assertTrue(i["sentence"].startswith("Ivanov: arrives 09:"), i["sentence"])

    # --- plan preview and acceptance ------------------------------------------------------

    def plan_jobs(self, n, day):
        jobs = []
        for k in range(n):
            jobs.append(self.job_at(CENTRE if k % 2 else NORTH, "Plan %d" % k,
                                    required_skills=["turnstile"], duration_min=60,
                                    window_start=at(day, "09:00"),
                                    window_end=at(day, "18:00")))
        return jobs

    def test_09_plan_preview_and_accept(self):
        jobs = self.plan_jobs(3, THU)
        ids = [j["id"] for j in jobs]
        engs = [self.users[k].id for k in ("ivanov", "petrov")]
        r = self.post("/api/v1/dispatch/plan", {"job_ids": ids, "engineer_ids": engs,
                                                "from": at(THU, "00:00"), "to": at(WED, "00:00")})
        self.assertProblem(r, 400, "/problems/validation", field="to", what="to before from")
        r = self.post("/api/v1/dispatch/plan", {"job_ids": ids, "engineer_ids": engs,
                                                "from": at(THU, "00:00"),
                                                "to": at("2030-01-11", "00:00"),
                                                "time_limit_ms": 2000})
        b = self.expect(r, 200, "plan")
        self.assertEqual(b["jobs"], 3)
        self.assertEqual(b["planned"], 3)
        self.assertEqual(b["unassigned"], [])
        self.assertEqual(sorted(a["job_id"] for a in b["assignments"]), sorted(ids))
        self.assertEqual(len(b["routes"]), 2)
        for a in b["assignments"]:
            self.assertTrue(a["planned_start"].startswith("2030-01-10T"), a)
        # nothing is written by a preview
        self.assertEqual(self.db.value("SELECT count(*) FROM job WHERE id = ANY(:'ids'::uuid[]) "
                                       "AND status = 'planned'", ids="{%s}" % ",".join(ids)), "3")
        # The engineer of the first entry falls sick before the dispatcher accepts it.
        first = b["assignments"][0]
        self.expect(self.post("/api/v1/engineers/%s/absences" % first["engineer_id"],
                              {"kind": "sick", "starts_at": at(THU, "00:00"),
                               "ends_at": at("2030-01-11", "00:00")}), 201, "absence")
        r = self.post("/api/v1/dispatch/plan/accept", {"assignments": b["assignments"]})
        acc = self.expect(r, 200, "accept")
        by_job = {x["job_id"]: x for x in acc["results"]}
        self.assertEqual(by_job[first["job_id"]]["result"], "refused")
        self.assertEqual(by_job[first["job_id"]]["reasons"][0]["code"], "absence")
        self.assertIn("sick leave", by_job[first["job_id"]]["detail"])
        others = [a for a in b["assignments"] if a["engineer_id"] != first["engineer_id"]]
        for a in others:
            self.assertEqual(by_job[a["job_id"]]["result"], "assigned", acc)
        self.assertEqual(acc["refused"], len(b["assignments"]) - len(others))
        self.assertEqual(acc["assigned"], len(others))
        # Accepted jobs are now assigned as the preview said.
        for a in others:
            j = self.get("/api/v1/jobs/%s" % a["job_id"]).body
            self.assertEqual(j["status"], "assigned")
            self.assertEqual(j["engineer_id"], a["engineer_id"])

    def test_10_plan_by_period_and_reasons(self):
        # A job nobody can do (a skill nobody has), in a period of its own.
        day = "2030-01-14"
        odd = self.job_at(CENTRE, "Odd job", required_skills=["hydraulics"],
                          window_start=at(day, "09:00"), window_end=at(day, "18:00"))
        ok = self.job_at(CENTRE, "Plain job", required_skills=["turnstile"],
                         window_start=at(day, "09:00"), window_end=at(day, "18:00"))
        r = self.post("/api/v1/dispatch/plan", {"from": at(day, "00:00"),
                                                "to": at("2030-01-15", "00:00"),
                                                "time_limit_ms": 1000})
        b = self.expect(r, 200, "plan by period")
        planned = {a["job_id"] for a in b["assignments"]}
        self.assertIn(ok["id"], planned)
        un = {u["job_id"]: u for u in b["unassigned"]}
        self.assertEqual(un[odd["id"]]["code"], "nobody_skilled")
        self.assertEqual(un[odd["id"]]["sentence"], "no engineer has the hydraulics skill")
        # A job named twice is planned once.
        r = self.post("/api/v1/dispatch/plan", {"job_ids": [ok["id"], ok["id"]],
                                                "from": at(day, "00:00"),
                                                "to": at("2030-01-15", "00:00")})
        b = self.expect(r, 200, "plan with a repeated id")
        self.assertEqual(b["jobs"], 1)
        self.assertEqual([a["job_id"] for a in b["assignments"]], [ok["id"]])

    # --- engineers and my day --------------------------------------------------------------

    def test_11_engineer_profile_and_my_day(self):
        uid = self.users["sidorov"].id
        b = self.expect(self.patch("/api/v1/engineers/%s" % uid,
                                   {"skills": ["reader", "rs485"], "served_regions": ["east"]}),
                        200, "patch")
        self.assertEqual(b["skills"], ["reader", "rs485"])
        self.assertEqual(b["served_regions"], ["east"])
        self.assertEqual(len(b["shifts"]), 5)
        self.assertEqual(b["shifts"][0]["start_time"], "09:00:00")
        self.assertEqual(self.db.value("SELECT count(*) FROM audit_log WHERE action = "
                                       "'engineer.update' AND object_id = :'u'", u=uid) != "0",
                         True)
        self.expect(self.patch("/api/v1/engineers/%s" % uid, {"skills": ["reader"]}), 200, "back")
        r = self.patch("/api/v1/engineers/%s" % uid, {"time_zone": "Mars/Olympus"})
        self.assertProblem(r, 400, "/problems/validation", field="time_zone", what="zone")
        r = self.patch("/api/v1/engineers/%s" % uid, {"home_latitude": None})
        self.assertProblem(r, 400, "/problems/validation", field="home_latitude", what="half")

        job = self.job_at(CENTRE, "Reader fix", required_skills=["reader"])
        self.expect(self.post("/api/v1/jobs/%s/assign" % job["id"],
                              {"engineer_id": uid, "planned_start": at(MON, "15:00"),
                               "planned_end": at(MON, "16:00")}), 200, "a")
        day = self.expect(self.get("/api/v1/engineers/me/day?date=%s" % MON, who="sidorov"), 200,
                          "my day")
        self.assertEqual(day["date"], MON)
        self.assertEqual(day["time_zone"], "Europe/Moscow")
        self.assertEqual([j["id"] for j in day["jobs"]], [job["id"]])
        self.assertEqual(day["jobs"][0]["site"]["latitude"], CENTRE[0])
        self.assertEqual(len(day["shifts"]), 1)
        other = self.expect(self.get("/api/v1/engineers/me/day?date=%s" % TUE, who="sidorov"),
                            200, "another day")
        self.assertEqual(other["jobs"], [])
        # Dispatchers read anyone's day; an engineer only their own.
        self.expect(self.get("/api/v1/engineers/%s/day?date=%s" % (uid, MON)), 200, "disp day")
        r = self.get("/api/v1/engineers/%s/day?date=%s" % (uid, MON), who="ivanov")
        self.assertProblem(r, 403, "/problems/forbidden", what="other's day")
        r = self.get("/api/v1/engineers/%s" % uid, who="ivanov")
        self.assertProblem(r, 403, "/problems/forbidden", what="other's profile")
        mine = self.expect(self.get("/api/v1/engineers", who="ivanov"), 200, "list as engineer")
        self.assertEqual([e["id"] for e in mine["items"]], [self.users["ivanov"].id])
        r = self.get("/api/v1/engineers/me/day?date=2030-02-30", who="sidorov")
        self.assertProblem(r, 400, "/problems/validation", field="date", what="bad date")

    # --- projects --------------------------------------------------------------------------

    def test_12_projects_stages_and_risk(self):
        site = self.site_at(CENTRE)
        body = {"client_id": site["client_id"], "site_id": site["id"], "name": "BC turnstiles",
                "stages": {"survey": {"planned_start": "2020-01-01", "planned_end": "2020-01-10"},
                           "installation": {"planned_start": "2030-01-07",
                                            "planned_end": "2030-01-09"}}}
        p = self.expect(self.post("/api/v1/projects", body), 201, "project")
        self.assertEqual(p["stage"], "survey")
        self.assertEqual([s["stage"] for s in p["stages"]],
                         ["survey", "installation", "commissioning", "handover"])
        self.assertEqual([s["status"] for s in p["stages"]],
                         ["active", "pending", "pending", "pending"])
        # The survey's planned end has passed: the project is at risk.
        self.assertEqual(p["risks"], [{"stage": "survey", "code": "overdue", "sentence":
                                       "survey was planned to end 2020-01-10 and is not done"}])
        risky = self.expect(self.get("/api/v1/projects/at-risk", who="head"), 200, "at risk")
        self.assertIn(p["id"], [x["id"] for x in risky["items"]])

        # A survey job: the project cannot advance while it is open.
        job = self.expect(self.post("/api/v1/jobs", {
            "kind": "visit", "site_id": site["id"], "project_id": p["id"],
            "title": "Survey visit"}), 201, "survey job")
        self.assertEqual(job["project_stage"], "survey")
        r = self.post("/api/v1/projects/%s/advance" % p["id"], {})
        b = self.assertProblem(r, 409, "/problems/conflict", what="open jobs")
        self.assertIn("Survey visit (planned)", b["detail"])
        self.job_to(job["id"], "cancel")
        p2 = self.expect(self.post("/api/v1/projects/%s/advance" % p["id"],
                                   {"date": "2030-01-06", "note": "survey done"}), 200, "advance")
        self.assertEqual(p2["stage"], "installation")
        self.assertEqual(p2["stages"][0]["status"], "done")
        self.assertEqual(p2["stages"][0]["actual_end"], "2030-01-06")
        self.assertEqual(p2["stages"][1]["status"], "active")
        self.assertEqual(p2["risks"], [])

        # An installation job planned to end after the stage's planned end: at risk.
        inst = self.expect(self.post("/api/v1/jobs", {
            "kind": "installation", "site_id": site["id"], "project_id": p["id"],
            "title": "Mount turnstiles", "required_skills": ["turnstile"]}), 201, "install job")
        self.assertEqual(inst["project_stage"], "installation")
        self.expect(self.assign_to(inst, "ivanov", at(THU, "10:00"), at(THU, "12:00")), 200,
                    "late install")
        got = self.expect(self.get("/api/v1/projects/%s" % p["id"], who="senior"), 200, "get")
        self.assertEqual(got["risks"], [{
            "stage": "installation", "code": "job_late",
            "sentence": "job Mount turnstiles of installation is planned to end 2030-01-10 "
                        "12:00, after the stage's planned end 2030-01-09"}])
        self.assertEqual(len(got["stages"][1]["jobs"]), 1)
        lst = self.expect(self.get("/api/v1/projects?stage=installation"), 200, "list")
        self.assertIn(p["id"], [x["id"] for x in lst["items"]])
        # Unassigned work that the skilled engineers' shifts cannot hold before the planned end.
        site2 = self.site_at(NORTH)
        tomorrow = self.db.value("SELECT ((acs_now() AT TIME ZONE 'Europe/Moscow')::date + 1)"
                                 "::text")
        p3 = self.expect(self.post("/api/v1/projects", {
            "client_id": site2["client_id"], "site_id": site2["id"], "name": "Checkpoint",
            "stages": {"survey": {"planned_start": "2026-01-01", "planned_end": tomorrow}}}),
            201, "project 3")
        self.assertEqual(p3["risks"], [])
        self.expect(self.post("/api/v1/jobs", {
            "kind": "visit", "site_id": site2["id"], "project_id": p3["id"],
            "title": "Week-long survey", "required_skills": ["turnstile", "firmware"],
            "duration_min": 10080}), 201, "long survey job")
        risks = self.expect(self.get("/api/v1/projects/%s" % p3["id"]), 200, "p3")["risks"]
        self.assertEqual([(r["stage"], r["code"]) for r in risks], [("survey", "unplanned_work")])
        self.assertTrue(risks[0]["sentence"].startswith(
            "survey needs 168.0 h of unassigned work before %s, but the engineers with the "
            "skills have " % tomorrow), risks[0]["sentence"])
        # roles: engineers do not see projects; head may read, not write
        self.assertProblem(self.get("/api/v1/projects", who="eng1"), 403, "/problems/forbidden")
        self.assertProblem(self.post("/api/v1/projects/%s/advance" % p["id"], {}, who="head"),
                           403, "/problems/forbidden")

    # --- bad input and roles ---------------------------------------------------------------

    def test_13_bad_input_and_roles(self):
        job = self.job_at(CENTRE, "Bad input")
        unknown = str(uuid.uuid4())
        r = self.assign_to({"id": unknown}, "ivanov", at(MON, "10:00"), at(MON, "11:00"))
        self.assertProblem(r, 404, "/problems/not-found", what="unknown job")
        r = self.post("/api/v1/jobs/%s/assign" % job["id"],
                      {"engineer_id": unknown, "planned_start": at(MON, "10:00"),
                       "planned_end": at(MON, "11:00")})
        self.assertProblem(r, 400, "/problems/validation", field="engineer_id", what="unknown eng")
        r = self.post("/api/v1/jobs/%s/assign" % job["id"],
                      {"engineer_id": self.users["ivanov"].id, "planned_start": "Monday 10am",
                       "planned_end": at(MON, "11:00")})
        self.assertProblem(r, 400, "/problems/validation", field="planned_start", what="bad time")
        r = self.assign_to(job, "ivanov", at(MON, "10:00"), at(MON, "09:00"))
        self.assertProblem(r, 400, "/problems/validation", field="planned_end", what="reversed")
        r = self.assign_to(job, "ivanov", at(MON, "10:00"), at(MON, "11:00"), reason="why not")
        self.assertProblem(r, 400, "/problems/validation", field="reason", what="reason alone")
        r = self.post("/api/v1/jobs/%s/assign" % job["id"],
                      {"engineer_id": self.users["ivanov"].id, "planned_start": at(MON, "10:00"),
                       "planned_end": at(MON, "11:00")}, who="eng1")
        self.assertProblem(r, 403, "/problems/forbidden", what="engineer assigns")
        r = self.get("/api/v1/jobs/%s/suggestions" % job["id"], who="eng1")
        self.assertProblem(r, 403, "/problems/forbidden", what="engineer suggestions")
        r = self.get("/api/v1/jobs/%s/suggestions?from=%s&to=%s" % (
            job["id"], "2030-01-01T00:00:00Z", "2030-03-01T00:00:00Z"))
        self.assertProblem(r, 400, "/problems/validation", field="to", what="long period")
        r = self.get("/api/v1/jobs/%s/suggestions?from=yesterday" % job["id"])
        self.assertProblem(r, 400, "/problems/validation", field="from", what="bad from")
        r = self.get("/api/v1/jobs/%s/suggestions" % unknown)
        self.assertProblem(r, 404, "/problems/not-found", what="unknown job suggestions")
        r = self.post("/api/v1/dispatch/plan", {"job_ids": [unknown]})
        b = self.assertProblem(r, 400, "/problems/validation", field="job_ids", what="plan unknown")
        self.assertIn(unknown, b["detail"])
        r = self.post("/api/v1/dispatch/plan", {"job_ids": ["not-a-uuid"]})
        self.assertProblem(r, 400, "/problems/validation", field="job_ids", what="plan bad id")
        r = self.post("/api/v1/dispatch/plan", {})
        self.assertProblem(r, 400, "/problems/validation", field="job_ids", what="plan nothing")
        r = self.post("/api/v1/dispatch/plan", {"job_ids": [job["id"]], "time_limit_ms": 999999})
        self.assertProblem(r, 400, "/problems/validation", field="time_limit_ms", what="limit")
        r = self.post("/api/v1/dispatch/plan", {"job_ids": [job["id"]]}, who="eng1")
        self.assertProblem(r, 403, "/problems/forbidden", what="engineer plans")
        r = self.post("/api/v1/dispatch/plan/accept", {"assignments": []})
        self.assertProblem(r, 400, "/problems/validation", field="assignments", what="empty")
        r = self.post("/api/v1/dispatch/plan/accept",
                      {"assignments": [{"job_id": job["id"]}]})
        self.assertProblem(r, 400, "/problems/validation", field="assignments", what="partial")
        r = self.post("/api/v1/dispatch/plan/accept",
                      {"assignments": [{"job_id": unknown, "engineer_id": self.users["ivanov"].id,
                                        "planned_start": at(MON, "10:00"),
                                        "planned_end": at(MON, "11:00")}]})
        b = self.expect(r, 200, "accept unknown")
        self.assertEqual(b["results"][0]["result"], "error")
        self.assertEqual(b["results"][0]["status"], 404)
        r = self.post("/api/v1/dispatch/plan/accept", {"assignments": [
            {"job_id": job["id"], "engineer_id": self.users["ivanov"].id,
             "planned_start": at(MON, "10:00"), "planned_end": at(MON, "11:00")}]}, who="head")
        self.assertProblem(r, 403, "/problems/forbidden", what="head accepts")
        r = self.call("PUT", "/api/v1/engineers/%s/shifts" % self.users["ivanov"].id,
                      body={"shifts": [{"iso_weekday": 8, "start_time": "09:00",
                                        "end_time": "18:00"}]})
        self.assertProblem(r, 400, "/problems/validation", field="shifts", what="weekday 8")
        r = self.call("PUT", "/api/v1/engineers/%s/shifts" % self.users["ivanov"].id,
                      body={"shifts": [{"iso_weekday": 1, "start_time": "09:00",
                                        "end_time": "09:00"}]})
        self.assertProblem(r, 400, "/problems/validation", field="shifts", what="empty shift")
        r = self.post("/api/v1/engineers/%s/absences" % self.users["ivanov"].id,
                      {"kind": "holiday", "starts_at": at(MON, "00:00"),
                       "ends_at": at(TUE, "00:00")})
        self.assertProblem(r, 400, "/problems/validation", field="kind", what="absence kind")
        r = self.post("/api/v1/engineers/%s/absences" % self.users["ivanov"].id,
                      {"kind": "leave", "starts_at": at(TUE, "00:00"),
                       "ends_at": at(MON, "00:00")})
        self.assertProblem(r, 400, "/problems/validation", field="ends_at", what="absence order")
        r = self.post("/api/v1/engineers/%s/absences" % unknown,
                      {"kind": "leave", "starts_at": at(MON, "00:00"), "ends_at": at(TUE, "00:00")})
        self.assertProblem(r, 404, "/problems/not-found", what="absence unknown engineer")
        r = self.patch("/api/v1/engineers/%s" % self.users["ivanov"].id, {"skills": ["x"]},
                       who="head")
        self.assertProblem(r, 403, "/problems/forbidden", what="head edits")
        r = self.post("/api/v1/projects", {"client_id": unknown, "site_id": unknown, "name": "x"})
        self.assertProblem(r, 400, "/problems/validation", field="site_id", what="project refs")
        r = self.post("/api/v1/projects/%s/advance" % unknown, {})
        self.assertProblem(r, 404, "/problems/not-found", what="advance unknown")

    def test_14_travel_table_overrides_estimate(self):
        site = self.site_at(FAR, name="Far site")
        job = self.job_at(FAR, "Far gate", site=site, required_skills=["turnstile"])
        uid = self.users["petrov"].id
        r = self.call("PUT", "/api/v1/dispatch/travel-times", body={"entries": [
            {"from_engineer_id": uid, "to_site_id": site["id"], "seconds": 5400}]})
        self.assertEqual(self.expect(r, 200, "load travel")["loaded"], 1)
        b = self.expect(self.get("/api/v1/jobs/%s/suggestions?from=%s&to=%s" % (
            job["id"], "2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z")), 200, "suggestions")
        pet = [s for s in b["suggestions"] if s["name"] == "Petrov"][0]
        self.assertEqual(pet["travel_s"], 5400)
        self.assertEqual(pet["start"], "2030-01-07T07:30:00Z")
        r = self.call("PUT", "/api/v1/dispatch/travel-times", body={"entries": [
            {"from_engineer_id": uid, "seconds": 10}]})
        self.assertProblem(r, 400, "/problems/validation", field="entries", what="half entry")
        # The same table as CSV: a header, a site -> site line and an engineer -> site line.
        other = self.site_at(CENTRE)
        csv = ("from,to,seconds\r\n%s,%s,600\r\n%s,%s,4200\n"
               % (other["id"], site["id"], uid, site["id"])).encode()
        r = self.call("PUT", "/api/v1/dispatch/travel-times?replace=true", raw=csv,
                      content_type="text/csv")
        self.assertEqual(self.expect(r, 200, "csv")["loaded"], 2)
        items = self.get("/api/v1/dispatch/travel-times").body["items"]
        self.assertEqual({(i["from_site_id"], i["from_engineer_id"], i["to_site_id"],
                           i["seconds"]) for i in items},
                         {(other["id"], None, site["id"], 600), (None, uid, site["id"], 4200)})
        r = self.call("PUT", "/api/v1/dispatch/travel-times", raw=b"%s,%s,ten\n"
                      % (uid.encode(), site["id"].encode()), content_type="text/csv")
        b = self.assertProblem(r, 400, "/problems/validation", what="csv seconds")
        self.assertIn("CSV line 1", b["detail"])
        r = self.call("PUT", "/api/v1/dispatch/travel-times", raw=b"%s,%s,10\n"
                      % (str(uuid.uuid4()).encode(), site["id"].encode()), content_type="text/csv")
        b = self.assertProblem(r, 400, "/problems/validation", what="csv unknown place")
        self.assertIn("neither a site nor an engineer", b["detail"])
        r = self.call("PUT", "/api/v1/dispatch/travel-times", body={"replace": True,
                                                                    "entries": []})
        self.assertEqual(self.expect(r, 200, "clear")["loaded"], 0)
        self.assertEqual(self.get("/api/v1/dispatch/travel-times").body["items"], [])

    def test_15_concurrent_assignments_do_not_double_book(self):
        """Two dispatchers book the same engineer for overlapping times at once: the write
        re-checks the engineer's calendar under a lock, so exactly one wins."""
        for round_ in range(5):
            day = "2030-01-%02d" % (21 + round_ % 5)
            jobs = [self.job_at(CENTRE, "Race %d%s" % (round_, x)) for x in "ab"]
            results = [None, None]

            def go(k):
                results[k] = self.assign_to(jobs[k], "petrov", at(day, "10:00"), at(day, "11:00"))

            threads = [threading.Thread(target=go, args=(k,)) for k in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            statuses = sorted(r.status for r in results)
            self.assertEqual(statuses, [200, 409], [r.body for r in results])
            loser = [r for r in results if r.status == 409][0]
            self.assertEqual(loser.body["reasons"][0]["code"], "overlap")
        # The guard itself: a write whose check saw another calendar is refused as stale.
        job = self.job_at(CENTRE, "Stale check")
        self.assertEqual(self.db.value(
            "SELECT outcome FROM acs_dispatch_assign(:'j', :'e', '2030-01-29 10:00+03',"
            " '2030-01-29 11:00+03', NULL, NULL, NULL, '[]', '[]', 'not the fingerprint',"
            " '{planned,assigned,en_route}')", j=job["id"], e=self.users["petrov"].id), "stale")
        self.assertEqual(self.get("/api/v1/jobs/%s" % job["id"]).body["status"], "planned")
        self.assertEqual(self.db.value(
            "SELECT count(*) FROM job a JOIN job b ON a.engineer_id = b.engineer_id AND a.id < b.id"
            " WHERE a.status = 'assigned' AND b.status = 'assigned'"
            " AND tstzrange(a.planned_start, a.planned_end) && "
            "tstzrange(b.planned_start, b.planned_end)"), "0")

    def test_16_client_leaves_during_a_plan(self):
        """A plan whose client hangs up keeps running on its worker thread; its reply is dropped
        and the service carries on (the ASan build checks for use after free)."""
        jobs = self.plan_jobs(6, "2030-01-28")
        body = json.dumps({"job_ids": [j["id"] for j in jobs], "max_iterations": 100000,
                           "from": at("2030-01-28", "00:00"), "to": at("2030-01-29", "00:00"),
                           "time_limit_ms": 1500}).encode()
        s = socket.create_connection(("127.0.0.1", self.server.port))
        s.sendall(b"POST /api/v1/dispatch/plan HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer " + self.users["dispatcher"].token.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: " +
                  str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(0.3)
        s.close()
        time.sleep(2)
        self.expect(self.get("/healthz", who=None), 200, "alive")
        r = self.post("/api/v1/dispatch/plan", {"job_ids": [j["id"] for j in jobs],
                                                "from": at("2030-01-28", "00:00"),
                                                "to": at("2030-01-29", "00:00"),
                                                "time_limit_ms": 500})
        b = self.expect(r, 200, "plan after")
        self.assertEqual((b["jobs"], b["planned"]), (6, 6))

    def test_17_shutdown_answers_a_running_plan(self):
        """SIGTERM while a plan runs on its worker thread: the client gets 503 at once (a
        preview writes nothing), and fieldd exits 0 once the worker is done."""
        jobs = self.plan_jobs(40, "2030-02-04")
        other = Server(self.db, self.workdir, name="fieldd-shutdown").start()
        result = {}

        def plan():
            result["r"] = other.request("POST", "/api/v1/dispatch/plan",
                                        token=self.users["dispatcher"].token,
                                        body={"job_ids": [j["id"] for j in jobs],
                                              "from": at("2030-02-04", "00:00"),
                                              "to": at("2030-02-05", "00:00"),
                                              "max_iterations": 100000, "time_limit_ms": 5000},
                                        timeout=30)

        t = threading.Thread(target=plan)
        t.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        rc = other.stop(timeout=20)
        t.join(30)
        self.assertEqual(rc, 0, other.log_tail())
        self.assertLess(time.monotonic() - t0, 10)
        b = self.assertProblem(result["r"], 503, "/problems/unavailable", what="plan at SIGTERM")
        self.assertIn("shutting down", b["detail"])

    def test_18_sentences_in_the_engineers_zone_on_that_date(self):
        """Offsets come from PostgreSQL for the date concerned: Berlin is UTC+1 in January and
        UTC+2 in July, and the shift (09:00-18:00 local) moves with it."""
        uid = self.users["sidorov"].id
        self.expect(self.patch("/api/v1/engineers/%s" % uid, {"time_zone": "Europe/Berlin"}),
                    200, "zone")
        job = self.job_at(CENTRE, "Reader late", required_skills=["reader"])
        for day, off, hh in (("2030-01-07", 3600, "+01:00"), ("2030-07-01", 7200, "+02:00")):
            r = self.post("/api/v1/jobs/%s/assign" % job["id"], {
                "engineer_id": uid, "planned_start": "%sT17:00:00%s" % (day, hh),
                "planned_end": "%sT19:00:00%s" % (day, hh)})
            b = self.assertProblem(r, 409, "/problems/assignment-refused", what=day)
            self.assertEqual(b["time_zone"], "Europe/Berlin")
            self.assertEqual(b["utc_offset_s"], off)
            self.assertEqual(b["reasons"], [{"code": "shift", "sentence":
                                             "17:00-19:00 is outside Sidorov's shift "
                                             "(Mon 09:00-18:00)"}])
            # the same clock times in UTC+3 would be two or one hour later: inside the shift
            ok = self.post("/api/v1/jobs/%s/assign" % job["id"], {
                "engineer_id": uid, "planned_start": "%sT10:00:00%s" % (day, hh),
                "planned_end": "%sT12:00:00%s" % (day, hh)})
            self.expect(ok, 200, "inside the Berlin shift on " + day)

    def test_19_accept_after_the_job_was_cancelled(self):
        jobs = self.plan_jobs(1, "2030-02-11")
        b = self.expect(self.post("/api/v1/dispatch/plan", {
            "job_ids": [jobs[0]["id"]], "from": at("2030-02-11", "00:00"),
            "to": at("2030-02-12", "00:00")}), 200, "preview")
        self.assertEqual(len(b["assignments"]), 1)
        self.job_to(jobs[0]["id"], "cancel")
        acc = self.expect(self.post("/api/v1/dispatch/plan/accept",
                                    {"assignments": b["assignments"]}), 200, "accept")
        self.assertEqual((acc["assigned"], acc["refused"]), (0, 1))
        res = acc["results"][0]
        self.assertEqual((res["result"], res["status"], res["current_status"]),
                         ("refused", 409, "cancelled"))
        self.assertIn("is cancelled: assign is not allowed", res["detail"])


if __name__ == "__main__":
    main()
