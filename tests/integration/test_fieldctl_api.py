# SPDX-License-Identifier: MIT
"""fieldctl's commands that talk to fieldd (fieldctl/remote.c over core/httpc.c): a ticket's
SLA state, the at-risk list, policies, calendars, webhooks and the raw `api` command, against
a real fieldd and PostgreSQL; what they print is checked against the API's own answers, and
each failure (no service, bad token, unknown id, bad input) against its message and exit
status.
"""

import json
import os
import subprocess
import unittest

import harness


def fieldctl_bin():
    path = os.environ.get("ACS_FIELDCTL_BIN")
    if not path:
        raise unittest.SkipTest("ACS_FIELDCTL_BIN is not set")
    return path


class FieldctlApiTest(harness.FielddTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.place = None

    def setUp(self):
        if FieldctlApiTest.place is None:
            FieldctlApiTest.place = self.make_place()

    def fieldctl(self, *args, who="dispatcher", env=None, check=None):
        e = dict(os.environ)
        e.pop("FIELDCTL_TOKEN", None)
        e["FIELDCTL_API"] = "http://127.0.0.1:%d" % self.server.port
        if who is not None:
            e["FIELDCTL_TOKEN"] = self.token(who)
        e.update(env or {})
        p = subprocess.run([fieldctl_bin()] + list(args), env=e, capture_output=True,
                           text=True, timeout=60)
        if check is not None:
            self.assertEqual(p.returncode, check, "fieldctl %s: %s%s" % (
                " ".join(args), p.stdout, p.stderr))
        return p

    def test_sla_show_matches_the_api(self):
        client, site = self.place
        t = self.make_ticket(client["id"], site["id"], category="emergency")
        p = self.fieldctl("sla", "show", t["id"], check=0)
        self.assertIn("first contact", p.stdout)
        self.assertIn("running", p.stdout)
        self.assertIn("target 15 min on 24x7", p.stdout)
        self.assertIn("target 4 h 00 min on ru-business", p.stdout)
        due = t["sla"]["first_contact"]["due"]
        self.assertIn("due %s %s" % (due[:10], due[11:16]), p.stdout)
        j = json.loads(self.fieldctl("sla", "show", t["id"], "--json", check=0).stdout)
        api = self.expect(self.get("/api/v1/tickets/%s/sla" % t["id"]), 200)
        self.assertEqual(j["first_contact"]["due"], api["first_contact"]["due"])
        self.assertEqual(j["resolution"]["due"], api["resolution"]["due"])

    def test_at_risk_in_order(self):
        client, site = self.place
        std = self.make_ticket(client["id"], site["id"], category="standard", subject="slow")
        emg = self.make_ticket(client["id"], site["id"], category="emergency", subject="stuck")
        p = self.fieldctl("sla", "at-risk", "--limit", "500", check=0)
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].startswith("number"), p.stdout)
        numbers = [int(line.split()[0]) for line in lines[1:]]
        self.assertLess(numbers.index(emg["number"]), numbers.index(std["number"]),
                        "the emergency falls due first:\n" + p.stdout)
        j = json.loads(self.fieldctl("sla", "at-risk", "--json", "--category", "emergency",
                                     check=0).stdout)
        self.assertTrue(all(x["category"] == "emergency" for x in j["items"]))
        self.assertIn(emg["id"], [x["id"] for x in j["items"]])
        # an engineer may not see the list: the service's reason, exit 1
        p = self.fieldctl("sla", "at-risk", who="eng1", check=1)
        self.assertIn("HTTP 403", p.stderr)

    def test_policies_and_calendars(self):
        p = self.fieldctl("sla", "policies", check=0)
        self.assertRegex(p.stdout, r"emergency\s+\(default\)\s+15 min on 24x7\s+240 min on "
                                   r"ru-business\s+80%")
        p = self.fieldctl("calendars", check=0)
        self.assertRegex(p.stdout, r"ru-business\s+weekly\s+Europe/Moscow")
        self.assertRegex(p.stdout, r"24x7\s+always")
        p = self.fieldctl("calendars", "ru-business", "--year", "2026", check=0)
        self.assertIn("working time in 2026: 1972 h", p.stdout)
        self.assertRegex(p.stdout, r"2026-01-01\s+holiday")
        self.assertIn("Mon 09:00-", p.stdout)
        p = self.fieldctl("calendars", "no-such-calendar", check=1)
        self.assertIn("HTTP 404", p.stderr)

    def test_webhooks_and_raw_api(self):
        p = self.fieldctl("api", "POST", "/api/v1/webhooks", "--data",
                          json.dumps({"name": "CRM", "url": "http://127.0.0.1:9/x",
                                      "events": ["sla_breach"]}), who="admin", check=0)
        hook = json.loads(p.stdout)
        self.assertEqual(len(hook["secret"]), 64)
        p = self.fieldctl("webhooks", who="admin", check=0)
        self.assertIn(hook["id"], p.stdout)
        self.assertIn("http://127.0.0.1:9/x", p.stdout)
        p = self.fieldctl("webhooks", hook["id"], who="admin", check=0)
        self.assertTrue(p.stdout.startswith("id"), p.stdout)
        # the service's validation message reaches the person
        p = self.fieldctl("api", "POST", "/api/v1/webhooks", "--data",
                          '{"name": "x", "url": "ftp://x", "events": ["sla_breach"]}',
                          who="admin", check=1)
        self.assertIn('field "url" must be an http:// or https:// URL', p.stderr)
        self.assertIn("HTTP 400", p.stderr)
        p = self.fieldctl("api", "POST", "/api/v1/webhooks", "--data", "{not json",
                          who="admin", check=1)
        self.assertIn("--data is not JSON", p.stderr)
        p = self.fieldctl("api", "GET", "/api/v1/tickets/%s" % harness.new_id(), check=1)
        self.assertIn("no ticket with id", p.stderr)

    def test_metrics_and_report(self):
        client, site = self.place
        self.make_ticket(client["id"], site["id"], category="emergency")
        self.make_ticket(client["id"], site["id"], category="consultation")
        month = self.db.value("SELECT to_char(now() AT TIME ZONE acs_report_tz(), 'YYYY-MM');")
        api = self.expect(self.get("/api/v1/metrics?month=%s&by=category" % month, "head"), 200)
        p = self.fieldctl("metrics", "--month", month, "--by", "category", who="head", check=0)
        t = api["totals"]
        self.assertIn("%d opened, %d resolved, %d open at the end" % (
            t["opened"], t["resolved"], t["backlog_at_end"]), p.stdout)
        for g in api["groups"]:
            self.assertRegex(p.stdout, r"(?m)^%s\s+%d\s+%d " % (g["label"], g["opened"],
                                                                 g["resolved"]))
        j = json.loads(self.fieldctl("metrics", "--month", month, "--json", who="head",
                                     check=0).stdout)
        self.assertEqual(j["totals"]["opened"], t["opened"])
        p = self.fieldctl("metrics", "--from", "2026-02-01", "--to", "2026-01-01", who="head",
                          check=1)
        self.assertIn("HTTP 400", p.stderr)
        self.fieldctl("metrics", who="head", check=2)
        # the report as CSV into a file: a header and one row per ticket opened in the month
        out = os.path.join(self.workdir, "report.csv")
        p = self.fieldctl("report", "monthly", "--month", month, "--format", "csv", "--output",
                          out, who="head", check=0)
        with open(out) as f:
            rows = f.read().splitlines()
        self.assertTrue(rows[0].startswith("number,"), rows[0])
        self.assertEqual(len(rows) - 1, t["opened"])
        p = self.fieldctl("report", "monthly", "--month", month, who="head", check=0)
        self.assertIn("<svg", p.stdout)
        p = self.fieldctl("report", "monthly", "--month", month, who="dispatcher", check=1)
        self.assertIn("HTTP 403", p.stderr)

    def test_failures_are_named(self):
        p = self.fieldctl("sla", "at-risk", who=None, check=1)
        self.assertIn("HTTP 401", p.stderr)
        self.assertIn("FIELDCTL_TOKEN", p.stderr)
        dead = harness.free_port()
        p = self.fieldctl("sla", "at-risk", env={"FIELDCTL_API": "http://127.0.0.1:%d" % dead},
                          check=1)
        self.assertIn("cannot reach fieldd at http://127.0.0.1:%d" % dead, p.stderr)
        p = self.fieldctl("sla", "at-risk", "--token-file", "/nonexistent/token", check=1)
        self.assertIn("cannot read the token file /nonexistent/token", p.stderr)
        self.fieldctl("sla", "bogus", check=2)
        self.fieldctl("report", "monthly", check=2)  # --month is required
        p = self.fieldctl("sla", "at-risk", "--limit", "many", check=2)
        self.assertIn("--limit must be a whole number", p.stderr)
        # --token-file works
        path = os.path.join(self.workdir, "token")
        with open(path, "w") as f:
            f.write(self.token("head") + "\n")
        self.fieldctl("sla", "at-risk", "--token-file", path, who=None, check=0)


if __name__ == "__main__":
    harness.main()
