# SPDX-License-Identifier: MIT
"""Service metrics, customer feedback and the monthly report (docs/metrics.md).

MetricsFixtureTest builds one month, March 2026, whose every figure is worked out by hand
below: tickets are created and moved through the API with the SLA test clock set to known
instants (acs_test_clock), so their clocks come from the real SLA engine; visits, outcomes and
projects, whose times the API takes from the real clock, are written in SQL; feedback is given
through the survey link's form and through the API. Then GET /api/v1/metrics (in total and by
category, client, site kind and engineer) and GET /api/v1/reports/monthly (JSON, HTML, CSV) are
checked figure by figure.

FeedbackTest checks the survey link: single use, unknown token 404, unresolved ticket refused,
bad values named, escaping. DemoReportTest loads `fieldd seed-demo` and checks that the report
renders and that its numbers agree with direct SQL counts.
"""

import csv
import datetime
import io
import re
import time
import urllib.parse

import harness

MSK = datetime.timezone(datetime.timedelta(hours=3))


def msk(day, hour, minute=0, month=3):
    """An instant of 2026 on Moscow's wall clock (UTC+3 all year)."""
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=MSK)


def pcont(values, q):
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    v = sorted(values)
    pos = (len(v) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (pos - lo) * (v[hi] - v[lo])


class MetricsMixin:
    def set_clock_at(self, instant):
        """Move the test clock so that acs_now() is `instant` (give or take the milliseconds
        until the next statement)."""
        self.db.sql("INSERT INTO acs_test_clock (offset_by) VALUES (:'t'::timestamptz - now())"
                    " ON CONFLICT (id) DO UPDATE SET offset_by = EXCLUDED.offset_by;",
                    t=instant.isoformat())

    def reset_clock(self):
        self.db.sql("DELETE FROM acs_test_clock;")

    def settle(self, timeout=30):
        """Wait until the SLA timer has marked every warning and breach that fell due by
        acs_now(), as it would have in real time."""
        self.wait_for(lambda: self.db.value(
            "SELECT count(*) FROM ticket_sla WHERE (fc_met_at IS NULL AND fc_breached_at IS NULL"
            " AND fc_due <= acs_now()) OR (res_running_since IS NOT NULL"
            " AND res_breached_at IS NULL AND res_due <= acs_now());") == "0",
            "the SLA timer's marks", timeout=timeout)

    def wait_for(self, pred, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                self.fail_with_log("%s did not happen within %.0f s" % (what, timeout))
            time.sleep(0.05)

    def form_post(self, token, fields):
        raw = urllib.parse.urlencode(fields).encode()
        return self.server.request("POST", "/feedback/" + token, raw=raw,
                                   content_type="application/x-www-form-urlencoded")

    def issue_link(self, ticket_id, who="dispatcher"):
        b = self.expect(self.post("/api/v1/feedback/%s/link" % ticket_id, who=who), 201,
                        "issue feedback link")
        self.assertTrue(b["url"].startswith("/feedback/acs_"), b)
        return b["token"]


class MetricsFixtureTest(MetricsMixin, harness.FielddTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.build_fixture()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def build_fixture(cls):
        self = cls("run")  # an instance of the class, to make objects through its methods
        db = cls.db
        cls.client_a = self.make_client(name="Client A")
        cls.client_b = self.make_client(name="Client B & <Sons>")
        a1 = self.make_site(cls.client_a["id"], name="A1 tower", kind="residential_complex")
        a2 = self.make_site(cls.client_a["id"], name="A2 offices", kind="business_centre")
        b1 = self.make_site(cls.client_b["id"], name="B1 centre", kind="business_centre")
        b2 = self.make_site(cls.client_b["id"], name="B2 plant", kind="industrial")
        b3 = self.make_site(cls.client_b["id"], name="B3 village", kind="cottage_village")
        cls.sites = {"a1": a1, "a2": a2, "b1": b1, "b2": b2, "b3": b3}
        t = {}

        # Before each step the SLA timer records what fell due by then, as it would have in
        # real time: T2's and T6's breaches are escalated (events the report counts).
        # (The clock is set again after the wait, so that the step happens at `at` give or
        # take milliseconds however long the wait took.)
        def create(key, site, category, at):
            self.set_clock_at(at)
            self.settle()
            self.set_clock_at(at)
            t[key] = self.make_ticket(site["client_id"], site["id"], category=category,
                                      subject="Fixture %s <b>bold</b>" % key)

        def act(key, action, at):
            self.set_clock_at(at)
            self.settle()
            self.set_clock_at(at)
            self.ticket_to(t[key]["id"], action)

        # February: one ticket of the previous month
        create("t7", a2, "standard", msk(10, 10, month=2))
        act("t7", "acknowledge", msk(10, 10, 30, month=2))
        act("t7", "resolve", msk(10, 15, month=2))
        # T1 emergency on A1: contact 5 min, resolved in 2 working hours; one visit
        create("t1", a1, "emergency", msk(10, 10))
        act("t1", "acknowledge", msk(10, 10, 5))
        act("t1", "resolve", msk(10, 12))
        # T2 emergency on B1: contact after 20 min (breach), resolved after 5 working hours
        # (breach); two visits, the first needing a revisit
        create("t2", b1, "emergency", msk(10, 15))
        act("t2", "acknowledge", msk(10, 15, 20))
        act("t2", "resolve", msk(11, 11))
        # T3 standard on A1, a repeat of T1: 30 min to contact, paused while waiting for the
        # client, 2 working hours in all
        create("t3", a1, "standard", msk(12, 10))
        act("t3", "start", msk(12, 10, 30))
        act("t3", "wait", msk(12, 11))
        act("t3", "resume", msk(13, 9))
        act("t3", "resolve", msk(13, 10))
        # T4 consultation on B2: resolved, reopened, resolved again: 3 + 1 working hours
        create("t4", b2, "consultation", msk(16, 9, 30))
        act("t4", "acknowledge", msk(16, 10, 30))
        act("t4", "resolve", msk(16, 12, 30))
        act("t4", "reopen", msk(17, 10))
        act("t4", "resolve", msk(17, 11))
        # T5 standard on B3: contact in 10 min, then waiting for the client to the end
        create("t5", b3, "standard", msk(20, 10))
        act("t5", "start", msk(20, 10, 10))
        act("t5", "wait", msk(20, 11))
        # T6 emergency on A1, a repeat of T3: contact after 40 min, never resolved
        create("t6", a1, "emergency", msk(25, 12))
        act("t6", "acknowledge", msk(25, 12, 40))
        cls.t = t

        # Feedback (March): T1 through its link (5, 10), T2 through the API (2, 3), T3 through
        # its link (4, 9); T4's link is never answered.
        self.set_clock_at(msk(18, 12))
        tok1 = self.issue_link(t["t1"]["id"])
        tok3 = self.issue_link(t["t3"]["id"], who="head")
        self.issue_link(t["t4"]["id"])
        r = self.form_post(tok1, {"csat": "5", "nps": "10", "comment": "Quick & kind <3"})
        self.assertEqual(r.status, 200, r.body)
        r = self.form_post(tok3, {"csat": "4", "nps": "9", "comment": ""})
        self.assertEqual(r.status, 200, r.body)
        self.expect(self.post("/api/v1/feedback/%s" % t["t2"]["id"],
                              {"csat": 2, "nps": 3, "comment": "Two visits for one fault"}),
                    201, "feedback through the API")

        # Back to the real clock: T6's resolution clock is then long overdue and the SLA timer
        # marks its breach.
        self.reset_clock()
        self.wait_for(lambda: db.value("SELECT res_breached_at IS NOT NULL FROM ticket_sla"
                                       " WHERE ticket_id = :'t';", t=t["t6"]["id"]) == "t",
                      "the breach of T6's resolution clock")

        # Visits, outcomes and projects: written with their times in SQL.
        e1, e2 = cls.users["eng1"].id, cls.users["eng2"].id
        db.sql("""
            INSERT INTO job (ticket_id, site_id, kind, status, engineer_id, arrived_at,
                             finished_at, created_at)
            VALUES (:'t1', :'a1', 'visit', 'done', :'e1', '2026-03-10 11:00+03',
                    '2026-03-10 11:50+03', '2026-03-10 10:10+03'),
                   (:'t2', :'b1', 'visit', 'needs_revisit', :'e2', '2026-03-10 17:00+03',
                    '2026-03-10 17:30+03', '2026-03-10 15:30+03'),
                   (:'t2', :'b1', 'visit', 'done', :'e2', '2026-03-11 10:00+03',
                    '2026-03-11 10:55+03', '2026-03-10 17:40+03'),
                   (:'t5', :'b3', 'visit', 'assigned', :'e1', NULL, NULL,
                    '2026-03-20 10:20+03');
            INSERT INTO outcome (job_id, ticket_id, resolution_code, resolved_ticket,
                                 time_on_site_min)
            SELECT j.id, j.ticket_id, 'repaired', true,
                   CASE WHEN j.ticket_id = :'t1' THEN 45 ELSE 50 END
            FROM job j WHERE j.status = 'done';
            INSERT INTO project (client_id, site_id, name, stage, planned_start, planned_end,
                                 actual_start, actual_end)
            VALUES (:'ca', :'a1', 'P1', 'installation', '2026-03-01', '2026-04-30',
                    '2026-03-05', NULL),
                   (:'ca', :'a2', 'P2', 'done', '2026-01-10', '2026-03-10',
                    '2026-01-10', '2026-03-20'),
                   (:'cb', :'b2', 'P3', 'done', '2026-02-01', '2026-03-31',
                    '2026-02-01', '2026-03-15');
            """, t1=t["t1"]["id"], t2=t["t2"]["id"], t5=t["t5"]["id"], a1=a1["id"],
               b1=b1["id"], b3=b3["id"], a2=a2["id"], b2=b2["id"], e1=e1, e2=e2,
               ca=cls.client_a["id"], cb=cls.client_b["id"])

    # --- the figures, worked out by hand ------------------------------------------------------

    FC = {"t1": 300, "t2": 1200, "t3": 1800, "t4": 3600, "t5": 600, "t6": 2400}
    RES = {"t1": 7200, "t2": 18000, "t3": 7200, "t4": 14400}  # resolved in March

    def metrics(self, who="head", **params):
        return self.expect(self.get(harness.query("/api/v1/metrics", **params), who), 200,
                           "metrics %r" % params)

    def assertSeconds(self, got, expected, what):
        if expected is None:
            self.assertIsNone(got, what)
            return
        self.assertIsNotNone(got, what)
        self.assertAlmostEqual(float(got), expected, delta=2.0, msg=what)

    def test_clocks_as_planned(self):
        """The fixture's clocks are what the hand computation assumes."""
        for key, fc in self.FC.items():
            got = self.db.value("SELECT extract(epoch FROM fc_taken)::bigint FROM ticket_sla"
                                " WHERE ticket_id = :'t';", t=self.t[key]["id"])
            self.assertAlmostEqual(int(got), fc, delta=2, msg="%s first contact" % key)
        for key, res in self.RES.items():
            got = self.db.value("SELECT extract(epoch FROM res_taken)::bigint FROM ticket_sla"
                                " WHERE ticket_id = :'t';", t=self.t[key]["id"])
            self.assertAlmostEqual(int(got), res, delta=2, msg="%s resolution" % key)
        rep = dict(self.db.rows("SELECT id, coalesce(repeat_of::text, '') FROM ticket;"))
        self.assertEqual(rep[self.t["t3"]["id"]], self.t["t1"]["id"])
        self.assertEqual(rep[self.t["t6"]["id"]], self.t["t3"]["id"])
        for k in ("t1", "t2", "t4", "t5", "t7"):
            self.assertEqual(rep[self.t[k]["id"]], "", "%s is not a repeat" % k)

    def test_totals_of_the_month(self):
        m = self.metrics(month="2026-03")
        self.assertIsNone(m["by"])
        self.assertEqual(m["groups"], [])
        tot = m["totals"]
        self.assertEqual(tot["opened"], 6)
        self.assertEqual(tot["resolved"], 4)
        self.assertEqual(tot["backlog_at_end"], 2)  # T5 waiting, T6 open
        fc = tot["first_contact"]
        self.assertEqual((fc["met"], fc["breached"], fc["pending"]), (4, 2, 0))
        self.assertEqual(fc["met_pct"], 66.7)
        fcs = list(self.FC.values())
        self.assertSeconds(fc["median_seconds"], pcont(fcs, 0.5), "fc median")  # 1500
        self.assertSeconds(fc["p90_seconds"], pcont(fcs, 0.9), "fc p90")  # 3000
        self.assertSeconds(fc["max_seconds"], 3600, "fc max")
        res = tot["resolution"]
        # opened in March: T1, T3, T4 met; T2 (5 h of 4) and T6 (never) breached; T5 paused
        self.assertEqual((res["met"], res["breached"], res["pending"]), (3, 2, 1))
        self.assertEqual(res["met_pct"], 60.0)
        rs = list(self.RES.values())
        self.assertSeconds(res["median_seconds"], pcont(rs, 0.5), "res median")  # 10800
        self.assertSeconds(res["p90_seconds"], pcont(rs, 0.9), "res p90")  # 16920
        self.assertSeconds(res["max_seconds"], 18000, "res max")
        self.assertEqual(tot["repeats"], {"count": 2, "rate_pct": 33.3})
        self.assertEqual(tot["reopens"], {"count": 1, "rate_pct": 16.7})
        self.assertEqual(tot["first_time_fix"],
                         {"tickets_with_visits": 2, "fixed": 1, "rate_pct": 50.0})
        cs = tot["csat"]
        self.assertEqual((cs["surveys"], cs["responses"], cs["answers"]), (4, 3, 3))
        self.assertEqual(cs["average"], 3.67)  # (5 + 2 + 4) / 3
        self.assertEqual(cs["response_rate_pct"], 75.0)
        self.assertEqual(tot["nps"], {"answers": 3, "promoters": 2, "passives": 0,
                                      "detractors": 1, "score": 33.3})
        self.assertEqual(tot["visits"], {"count": 3, "minutes_on_site": 125})  # 45 + 30 + 50
        self.assertEqual(tot["projects"], {"started": 1, "finished": 2, "late": 1})

    def test_the_same_period_as_dates_and_timestamps(self):
        by_month = self.metrics(month="2026-03")["totals"]
        by_dates = self.metrics(**{"from": "2026-03-01", "to": "2026-04-01"})["totals"]
        by_ts = self.metrics(**{"from": "2026-02-28T21:00:00Z", "to": "2026-03-31T21:00:00Z"})
        self.assertEqual(by_month, by_dates)
        self.assertEqual(by_month, by_ts["totals"])
        # the service runs the documented function: psql gives the same object
        sql = self.db.value("SELECT acs_metrics(month_from, month_to, NULL)->'totals'"
                            " FROM acs_month_bounds('2026-03');")
        import json
        self.assertEqual(json.loads(sql), by_month)

    def test_by_category(self):
        g = {x["key"]: x for x in self.metrics(month="2026-03", by="category")["groups"]}
        self.assertEqual(sorted(g), ["consultation", "emergency", "standard"])
        e = g["emergency"]
        self.assertEqual(e["label"], "emergency")
        self.assertEqual(e["opened"], 3)
        self.assertEqual(e["resolved"], 2)
        self.assertEqual((e["first_contact"]["met"], e["first_contact"]["breached"]), (1, 2))
        self.assertEqual(e["first_contact"]["met_pct"], 33.3)
        self.assertEqual((e["resolution"]["met"], e["resolution"]["breached"]), (1, 2))
        self.assertSeconds(e["resolution"]["median_seconds"], (7200 + 18000) / 2, "em median")
        self.assertEqual(e["backlog_at_end"], 1)
        self.assertEqual(e["first_time_fix"]["rate_pct"], 50.0)
        s = g["standard"]
        self.assertEqual((s["opened"], s["resolved"], s["backlog_at_end"]), (2, 1, 1))
        self.assertEqual(s["first_contact"]["met_pct"], 100.0)
        self.assertEqual(s["resolution"], dict(s["resolution"], met=1, breached=0, pending=1,
                                               met_pct=100.0))
        self.assertEqual(s["repeats"]["count"], 1)
        c = g["consultation"]
        self.assertEqual(c["reopens"], {"count": 1, "rate_pct": 100.0})
        self.assertEqual(c["csat"]["surveys"], 1)
        self.assertEqual(c["csat"]["responses"], 0)
        self.assertIsNone(c["csat"]["average"])
        # the groups add up to the totals
        tot = self.metrics(month="2026-03")["totals"]
        for k in ("opened", "resolved", "backlog_at_end"):
            self.assertEqual(sum(x[k] for x in g.values()), tot[k], k)

    def test_by_client_site_kind_engineer(self):
        g = {x["label"]: x for x in self.metrics(month="2026-03", by="client")["groups"]}
        self.assertEqual(sorted(g), ["Client A", "Client B & <Sons>"])
        self.assertEqual(g["Client A"]["key"], self.client_a["id"])
        self.assertEqual(g["Client A"]["opened"], 3)
        self.assertEqual(g["Client A"]["repeats"], {"count": 2, "rate_pct": 66.7})
        self.assertEqual(g["Client B & <Sons>"]["opened"], 3)
        self.assertEqual(g["Client B & <Sons>"]["visits"]["count"], 2)

        g = {x["key"]: x for x in self.metrics(month="2026-03", by="site_kind")["groups"]}
        self.assertEqual(g["residential_complex"]["opened"], 3)
        self.assertEqual(g["business_centre"]["opened"], 1)
        self.assertEqual(g["industrial"]["opened"], 1)
        self.assertEqual(g["cottage_village"]["opened"], 1)
        self.assertEqual(g["cottage_village"]["resolution"]["pending"], 1)

        g = {x["key"]: x for x in self.metrics(month="2026-03", by="engineer")["groups"]}
        e1, e2 = self.users["eng1"], self.users["eng2"]
        self.assertEqual(g[e1.id]["label"], e1.name)
        self.assertEqual(g[e1.id]["opened"], 2)  # T1 (visited), T5 (assigned)
        self.assertEqual(g[e1.id]["visits"], {"count": 1, "minutes_on_site": 45})
        self.assertEqual(g[e2.id]["visits"], {"count": 2, "minutes_on_site": 80})
        self.assertEqual(g[e2.id]["first_time_fix"]["rate_pct"], 0.0)
        self.assertEqual(g[None]["label"], "(no engineer)")
        self.assertEqual(g[None]["opened"], 3)

    def test_previous_month_and_report_json(self):
        rep = self.expect(self.get("/api/v1/reports/monthly?month=2026-03&format=json", "head"),
                          200, "report json")
        self.assertEqual(rep["month"], "2026-03")
        self.assertEqual(rep["previous_month"], "2026-02")
        self.assertEqual(rep["totals"], self.metrics(month="2026-03")["totals"])
        self.assertEqual(rep["previous"]["opened"], 1)
        self.assertEqual(rep["previous"]["first_contact"]["met_pct"], 100.0)
        self.assertSeconds(rep["previous"]["resolution"]["median_seconds"], 14400, "Feb median")
        self.assertEqual([x["key"] for x in rep["by_category"]],
                         ["consultation", "emergency", "standard"])
        trend = rep["trend"]
        self.assertEqual(len(trend), 12)
        self.assertEqual(trend[0]["month"], "2025-04")
        self.assertEqual(trend[-1], {"month": "2026-03", "opened": 6,
                                     "first_contact_met_pct": 66.7,
                                     "resolution_met_pct": 60.0})
        self.assertEqual(trend[-2]["opened"], 1)
        self.assertIsNone(trend[0]["first_contact_met_pct"])
        hist = {h["bucket"]: h["count"] for h in rep["resolution_histogram"]}
        # 2 h, 2 h, 4 h, 5 h of working time
        self.assertEqual(hist, {"< 1 h": 0, "1-2 h": 0, "2-4 h": 2, "4-8 h": 2, "8-16 h": 0,
                                "16-24 h": 0, "24-40 h": 0, "40 h +": 0})
        self.assertEqual(rep["repeats_by_site"], [
            {"site_id": self.sites["a1"]["id"], "site": "A1 tower", "client": "Client A",
             "repeats": 2}])
        self.assertEqual(rep["breached_total"], 2)
        breached = {b["number"]: b for b in rep["breached"]}
        self.assertEqual(sorted(breached), sorted([self.t["t2"]["number"],
                                                   self.t["t6"]["number"]]))
        b2 = breached[self.t["t2"]["number"]]
        self.assertEqual((b2["first_contact"], b2["resolution"]), ("breached", "breached"))
        self.assertEqual(b2["engineer"], self.users["eng2"].name)
        hard = rep["hardest"]
        self.assertLessEqual(len(hard), 10)
        # T2: 2 escalations (both clocks) + 2 visits + a complaint (CSAT 2)
        self.assertEqual(hard[0]["number"], self.t["t2"]["number"])
        self.assertEqual(hard[0]["hardness"], 3 * 2 + 1 + 3)
        self.assertEqual(hard[0]["feedback"], "Two visits for one fault")
        numbers = [h["number"] for h in hard]
        for k in ("t3", "t4", "t6"):
            self.assertIn(self.t[k]["number"], numbers, k)
        self.assertNotIn(self.t["t5"]["number"], numbers)

    def test_report_html(self):
        r = self.get("/api/v1/reports/monthly?month=2026-03&format=html", "head")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.headers["Content-Type"].startswith("text/html"))
        self.assertIn("default-src 'none'", r.headers.get("Content-Security-Policy", ""))
        html = r.body
        self.assertIn("<title>Service report March 2026</title>", html)
        self.assertEqual(html.count("<svg "), 4)
        for chart in ("chart-sla-trend", "chart-resolution", "chart-categories",
                      "chart-repeats"):
            self.assertIn('id="%s"' % chart, html)
        self.assertIn("@media print", html)
        # client-provided strings are escaped, never markup
        self.assertNotIn("<Sons>", html)
        self.assertIn("Client B &amp; &lt;Sons&gt;", html)
        self.assertNotIn("<b>bold</b>", html)
        self.assertIn("&lt;b&gt;bold&lt;/b&gt;", html)
        # headline rows: this month, the previous one, the change
        row = re.search(r'<tr data-figure="opened"><td>[^<]*</td><td class="n">(\d+)</td>'
                        r'<td class="n">(\d+)</td><td class="chg[^"]*">([^<]*)</td>', html)
        self.assertIsNotNone(row, "headline row of tickets opened")
        self.assertEqual(row.groups(), ("6", "1", "+5"))
        row = re.search(r'data-figure="first_contact.met_pct"><td>[^<]*</td>'
                        r'<td class="n">([^<]*)</td><td class="n">([^<]*)</td>'
                        r'<td class="chg bad">([^<]*)</td>', html)
        self.assertIsNotNone(row, "first-contact compliance row")
        self.assertEqual(row.groups(), ("66.7 %", "100.0 %", "-33.3 pp"))
        self.assertIn("Breached tickets (2)", html)
        # 12 months on the trend, one dot per month with a figure
        self.assertEqual(len(re.findall(r'<circle class="dot s1"', html)), 2)

    def test_report_csv(self):
        r = self.get("/api/v1/reports/monthly?month=2026-03&format=csv", "admin")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.headers["Content-Type"].startswith("text/csv"))
        self.assertIn('filename="acsfield-report-2026-03.csv"',
                      r.headers.get("Content-Disposition", ""))
        rows = list(csv.DictReader(io.StringIO(r.body)))
        self.assertEqual(len(rows), 6)
        by_num = {int(x["number"]): x for x in rows}
        t2 = by_num[self.t["t2"]["number"]]
        self.assertEqual(t2["client"], "Client B & <Sons>")
        self.assertEqual(t2["first_contact_state"], "breached")
        self.assertAlmostEqual(int(t2["resolution_seconds"]), 18000, delta=2)
        self.assertEqual(t2["visits"], "2")
        self.assertEqual(t2["first_time_fix"], "false")
        self.assertEqual((t2["csat"], t2["nps"]), ("2", "3"))
        t5 = by_num[self.t["t5"]["number"]]
        self.assertEqual(t5["resolution_state"], "pending")
        self.assertEqual(t5["first_time_fix"], "")
        self.assertEqual(t5["engineer"], self.users["eng1"].name)
        t3 = by_num[self.t["t3"]["number"]]
        self.assertEqual(t3["repeat_of_number"], str(self.t["t1"]["number"]))

    def test_roles_and_bad_input(self):
        for who in ("dispatcher", "senior", "eng1"):
            self.assertProblem(self.get("/api/v1/reports/monthly?month=2026-03", who), 403,
                               "/problems/forbidden", what="report as %s" % who)
        for who in ("senior", "eng1"):
            self.assertProblem(self.get("/api/v1/metrics?month=2026-03", who), 403,
                               "/problems/forbidden", what="metrics as %s" % who)
        self.assertEqual(self.get("/api/v1/metrics?month=2026-03", "dispatcher").status, 200)
        self.assertEqual(self.get("/api/v1/reports/monthly?month=2026-03", None).status, 401)
        cases = [
            ("/api/v1/reports/monthly", "month", "required"),
            ("/api/v1/reports/monthly?month=2026-3", "month", "YYYY-MM"),
            ("/api/v1/reports/monthly?month=2026-13", "month", "01-12"),
            ("/api/v1/reports/monthly?month=march", "month", "YYYY-MM"),
            ("/api/v1/reports/monthly?month=2099-01", "month", "has not begun"),
            ("/api/v1/reports/monthly?month=2026-03&format=pdf", "format", "json, html, csv"),
            ("/api/v1/metrics?month=2026-03&by=colour", "by", "category, client"),
            ("/api/v1/metrics?from=2026-03-01", "to", "period is missing"),
            ("/api/v1/metrics?from=yesterday&to=2026-04-01", "from", "date"),
            ("/api/v1/metrics?month=2026-03&from=2026-03-01", "month", "not both"),
        ]
        for path, field, words in cases:
            b = self.assertProblem(self.get(path, "head"), 400, "/problems/validation",
                                   field=field, what=path)
            self.assertIn(words, b["detail"], path)
        b = self.assertProblem(self.get("/api/v1/reports/monthly?month=2026-03&colour=red",
                                        "head"), 400, "/problems/validation")
        self.assertIn("colour", b["detail"])
        b = self.assertProblem(self.get("/api/v1/metrics?from=2026-04-01&to=2026-03-01", "head"),
                               400, "/problems/validation")
        self.assertIn("before it begins", b["detail"])
        b = self.assertProblem(self.get("/api/v1/metrics?from=2020-01-01&to=2026-01-01", "head"),
                               400, "/problems/validation")
        self.assertIn("longer than three years", b["detail"])


class FeedbackTest(MetricsMixin, harness.FielddTestCase):

    def resolved_ticket(self, **fields):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"], **fields)
        self.ticket_to(t["id"], "acknowledge")
        self.ticket_to(t["id"], "resolve")
        return t

    def test_link_is_single_use(self):
        t = self.resolved_ticket()
        token = self.issue_link(t["id"])
        stored = self.db.value("SELECT encode(token_hash, 'hex') FROM csat_response"
                               " WHERE ticket_id = :'t';", t=t["id"])
        # only the hash is stored
        self.assertEqual(stored, self.db.value("SELECT encode(sha256(convert_to(:'k', 'UTF8')),"
                                               " 'hex');", k=token))
        self.assertNotIn(token, self.db.sql("SELECT * FROM csat_response;"))
        form = self.server.request("GET", "/feedback/" + token)
        self.assertEqual(form.status, 200, form.body)
        self.assertTrue(form.headers["Content-Type"].startswith("text/html"))
        self.assertIn('name="csat"', form.body)
        self.assertIn('action="/feedback/%s"' % token, form.body)
        r = self.form_post(token, {"csat": "4", "nps": "7", "comment": "Привет, <ok>"})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("Thank you", r.body)
        row = self.db.rows("SELECT csat, nps, comment, channel, responded_at IS NOT NULL"
                           " FROM csat_response WHERE ticket_id = :'t';", t=t["id"])
        self.assertEqual(row, [["4", "7", "Привет, <ok>", "link", "t"]])
        self.assertEqual(self.db.count("ticket_event", "ticket_id = :'t' AND kind = 'feedback'",
                                       t=t["id"]), 1)
        # a second answer: 409, and nothing changes
        r = self.form_post(token, {"csat": "1"})
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("already", r.body)
        self.assertEqual(self.server.request("GET", "/feedback/" + token).status, 409)
        self.assertEqual(self.db.value("SELECT csat FROM csat_response WHERE ticket_id = :'t';",
                                       t=t["id"]), "4")
        # nor through the API, nor a new link
        b = self.assertProblem(self.post("/api/v1/feedback/%s" % t["id"], {"csat": 5}), 409,
                               "/problems/conflict")
        self.assertIn("already given feedback", b["detail"])
        self.assertProblem(self.post("/api/v1/feedback/%s/link" % t["id"]), 409,
                           "/problems/conflict")
        got = self.expect(self.get("/api/v1/feedback/%s" % t["id"], "head"), 200)
        self.assertEqual((got["csat"], got["nps"], got["channel"]), (4, 7, "link"))

    def test_unknown_and_replaced_tokens(self):
        t = self.resolved_ticket()
        old = self.issue_link(t["id"])
        new = self.issue_link(t["id"])
        self.assertNotEqual(old, new)
        for bad in (old, "acs_" + "A" * 43, "nonsense", "acs_short"):
            r = self.server.request("GET", "/feedback/" + bad)
            self.assertEqual(r.status, 404, bad)
            self.assertIn("not valid", r.body)
            r = self.form_post(bad, {"csat": "5"})
            self.assertEqual(r.status, 404, bad)
        self.assertEqual(self.form_post(new, {"nps": "10"}).status, 200)

    def test_unresolved_ticket_refused(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        b = self.assertProblem(self.post("/api/v1/feedback/%s/link" % t["id"]), 409,
                               "/problems/conflict")
        self.assertIn("resolved", b["detail"])
        self.assertEqual(b["current_status"], "new")
        self.assertProblem(self.post("/api/v1/feedback/%s" % t["id"], {"csat": 3}), 409,
                           "/problems/conflict")
        # a link sent, then the ticket reopened: the link waits for the next resolution
        self.ticket_to(t["id"], "acknowledge")
        self.ticket_to(t["id"], "resolve")
        token = self.issue_link(t["id"])
        self.ticket_to(t["id"], "reopen")
        r = self.form_post(token, {"csat": "5"})
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("not resolved", r.body)
        self.assertEqual(self.db.value("SELECT responded_at IS NULL FROM csat_response"
                                       " WHERE ticket_id = :'t';", t=t["id"]), "t")
        self.ticket_to(t["id"], "resolve")
        self.assertEqual(self.form_post(token, {"csat": "5"}).status, 200)
        self.assertProblem(self.post("/api/v1/feedback/%s/link" % harness.new_id()), 404,
                           "/problems/not-found")

    def test_bad_values_named(self):
        t = self.resolved_ticket()
        token = self.issue_link(t["id"])
        for fields, words in (({"csat": "7"}, "csat"), ({"csat": "x"}, "1 to 5"),
                              ({"nps": "11"}, "nps"), ({"nps": "-1"}, "0 to 10"),
                              ({}, "Please choose"), ({"comment": "hi"}, "Please choose"),
                              ({"csat": "5", "colour": "red"}, "colour"),
                              ({"csat": "5", "comment": "x" * 5001}, "at most 5000")):
            r = self.form_post(token, fields)
            self.assertEqual(r.status, 400, "%r: %s" % (fields, r.body))
            self.assertIn(words, r.body, fields)
            self.assertIn('name="csat"', r.body, "the form is shown again")
        r = self.server.request("POST", "/feedback/" + token, raw=b"csat=5",
                                content_type="application/json")
        self.assertEqual(r.status, 415)
        r = self.server.request("POST", "/feedback/" + token, raw=b"comment=%FF%FE&csat=5",
                                content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 400)
        self.assertIn("UTF-8", r.body)
        self.assertEqual(self.db.value("SELECT responded_at IS NULL FROM csat_response"
                                       " WHERE ticket_id = :'t';", t=t["id"]), "t")
        # the API names its fields too
        t2 = self.resolved_ticket()
        for body, field in (({"csat": 6}, "csat"), ({"nps": 11}, "nps"), ({}, "csat"),
                            ({"csat": 3, "mood": "ok"}, "mood"),
                            ({"csat": 3, "comment": "x" * 5001}, "comment")):
            self.assertProblem(self.post("/api/v1/feedback/%s" % t2["id"], body), 400,
                               "/problems/validation", field=field, what=repr(body)[:60])
        self.expect(self.post("/api/v1/feedback/%s" % t2["id"], {"nps": 0}), 201)

    def test_roles_and_escaping(self):
        c = self.make_client(name="<script>alert(1)</script>")
        s = self.make_site(c["id"], name='Site "quoted" & co')
        t = self.make_ticket(c["id"], s["id"], subject="<img src=x onerror=alert(1)>")
        self.ticket_to(t["id"], "acknowledge")
        self.ticket_to(t["id"], "resolve")
        for who in ("eng1", "senior"):
            self.assertProblem(self.post("/api/v1/feedback/%s/link" % t["id"], who=who), 403,
                               "/problems/forbidden")
        token = self.issue_link(t["id"], who="head")
        page = self.server.request("GET", "/feedback/" + token).body
        self.assertNotIn("<script>", page)
        self.assertNotIn("<img", page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertIn("Site &quot;quoted&quot; &amp; co", page)


class DemoReportTest(MetricsMixin, harness.FielddTestCase):
    """The demo data set: the report renders, and its figures agree with direct counts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = harness.run_fieldd(["seed-demo"], cls.db, timeout=300)
        if p.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("seed-demo failed: " + harness.describe(p))

    def month_counts(self, month):
        return self.db.rows("""
            SELECT (SELECT count(*) FROM ticket t WHERE t.created_at >= b.month_from
                      AND t.created_at < b.month_to),
                   (SELECT count(*) FROM ticket t WHERE t.resolved_at >= b.month_from
                      AND t.resolved_at < b.month_to),
                   (SELECT count(*) FROM ticket t JOIN ticket_sla s ON s.ticket_id = t.id
                     WHERE t.created_at >= b.month_from AND t.created_at < b.month_to
                       AND (s.fc_breached_at IS NOT NULL OR s.fc_taken > s.fc_target
                            OR s.res_breached_at IS NOT NULL OR s.res_taken > s.res_target)),
                   (SELECT count(*) FROM ticket t WHERE t.created_at < b.month_to
                      AND (t.resolved_at IS NULL OR t.resolved_at >= b.month_to)),
                   (SELECT count(*) FROM ticket t WHERE t.created_at >= b.month_from
                      AND t.created_at < b.month_to AND t.repeat_of IS NOT NULL),
                   (SELECT round(avg(c.csat), 2) FROM csat_response c JOIN ticket t
                      ON t.id = c.ticket_id WHERE t.resolved_at >= b.month_from
                      AND t.resolved_at < b.month_to)
            FROM acs_month_bounds(:'m') b;""", m=month)[0]

    def test_report_agrees_with_sql(self):
        self.settle()
        months = self.db.rows("SELECT DISTINCT to_char(created_at AT TIME ZONE 'Europe/Moscow',"
                              " 'YYYY-MM') FROM ticket ORDER BY 1;")
        self.assertGreaterEqual(len(months), 3)
        for (month,) in months[-3:]:
            rep = self.expect(self.get("/api/v1/reports/monthly?month=" + month, "head"), 200)
            opened, resolved, breached, backlog, repeats, csat = self.month_counts(month)
            tot = rep["totals"]
            self.assertEqual(tot["opened"], int(opened), month)
            self.assertEqual(tot["resolved"], int(resolved), month)
            self.assertEqual(rep["breached_total"], int(breached), month)
            self.assertEqual(len(rep["breached"]), min(int(breached), 500), month)
            self.assertEqual(tot["backlog_at_end"], int(backlog), month)
            self.assertEqual(tot["repeats"]["count"], int(repeats), month)
            if csat:
                self.assertAlmostEqual(tot["csat"]["average"], float(csat), places=2)
            self.assertEqual(sum(g["opened"] for g in rep["by_category"]), int(opened))
            self.assertEqual(rep["trend"][-1]["opened"], int(opened))
            html = self.get("/api/v1/reports/monthly?format=html&month=" + month, "head")
            self.assertEqual(html.status, 200)
            self.assertEqual(html.body.count("<svg "), 4)
            self.assertIn("Breached tickets (%s)" % breached, html.body)
            self.assertEqual(html.body.count("<tr><td", html.body.index("Breached tickets")),
                             len(rep["breached"]) + len(rep["hardest"]),
                             "one row per breached ticket and per hard case")
            rows = list(csv.DictReader(io.StringIO(
                self.get("/api/v1/reports/monthly?format=csv&month=" + month, "head").body)))
            self.assertEqual(len(rows), int(opened))
        # the demo has some of everything the report shows
        rep = self.expect(self.get("/api/v1/reports/monthly?month=" + months[-2][0], "head"),
                          200)
        self.assertGreater(rep["totals"]["csat"]["answers"], 0)
        self.assertGreater(len(rep["hardest"]), 0)
        self.assertGreater(sum(h["count"] for h in rep["resolution_histogram"]), 0)


if __name__ == "__main__":
    harness.main()
