#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`fieldctl diag ...` against a real fieldd, PostgreSQL and acs-sim (RTU on a pseudo-terminal):
an engineer starts diagnostics for their job and waits for the end, the session's units and
findings are printed as the API stores them, the frames page, the search, the comparison of two
sessions, the checklist of a commissioning job and a senior's verdict; refusals (another
engineer's job, an engineer reviewing, missing options) give the service's sentence and exit
status 1, or 2 for wrong use.
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_diag import DiagTestCase  # noqa: E402
from test_sim import PROFILES  # noqa: E402

LOW = "TC200-2404-08002"
SITE = {
    "name": "fieldctl-diag",
    "profiles": PROFILES,
    "buses": [{"name": "line1", "type": "rtu", "baud": 19200, "parity": "even", "pacing": True,
               "units": [{"model": "TC-200", "unit_id": 1, "serial": "TC200-2404-08001"},
                         {"model": "TC-200", "unit_id": 2, "serial": LOW,
                          "faults": {"low-supply": 11.0}}]}],
}


class FieldctlDiagTest(DiagTestCase):
    sim_site = SITE

    def fieldctl(self, *args, who="eng1", check=None):
        path = os.environ.get("ACS_FIELDCTL_BIN")
        if not path:
            raise unittest.SkipTest("ACS_FIELDCTL_BIN is not set")
        env = dict(os.environ, FIELDCTL_API="http://127.0.0.1:%d" % self.server.port,
                   FIELDCTL_TOKEN=self.token(who))
        p = subprocess.run([path, "diag"] + list(args), env=env, capture_output=True, text=True,
                           timeout=120)
        if check is not None:
            self.assertEqual(p.returncode, check, "fieldctl diag %s: %s%s" % (
                " ".join(args), p.stdout, p.stderr))
        return p

    def run_session(self, job):
        p = self.fieldctl("start", "--job", job["id"], "--port", self.sim.rtu[0], "--baud",
                          "19200", "--parity", "E", "--units", "1-3", "--events", "5",
                          "--device-timeout", "400", "--wait", check=0)
        sid = p.stdout.split()[1].rstrip(":")
        return sid, p.stdout

    def test_engineer_runs_and_senior_reviews(self):
        site, ticket, job, _ = self.on_site_job(kind="commissioning")
        sid, out = self.run_session(job)
        stored = self.expect(self.get("/api/v1/diag/sessions/%s" % sid, "eng1"), 200)
        self.assertEqual(stored["status"], "complete", out)
        self.assertIn("session %s: complete (rtu)" % sid, out)
        for u in stored["units"]:
            self.assertIn(u["serial"], out)
        low_codes = [f["code"] for f in stored["findings"]
                     if f["diag_device_id"] == self.unit(stored, LOW)["id"]]
        self.assertTrue(low_codes, "the low supply gives a finding")
        for code in low_codes:
            self.assertIn(code, out)
        self.assertIn("unknown (can be added)", out, "no device of the site has these serials")
        self.assertIn("findings (%d):" % len(stored["findings"]), out)

        # --json is the API's object
        j = json.loads(self.fieldctl("show", sid, "--json", check=0).stdout)
        self.assertEqual(j["id"], sid)
        self.assertEqual(len(j["units"]), len(stored["units"]))

        # frames: a page of the stored frames, request and reply
        f = self.fieldctl("frames", sid, "--limit", "4", check=0).stdout.splitlines()
        self.assertEqual(len(f), 5, f)
        self.assertRegex(f[1], r"^0\s+tx\s+1\s+ok")

        # search by job, and by finding code
        lst = self.fieldctl("list", "--job", job["id"], check=0).stdout
        self.assertIn(sid, lst)
        lst = self.fieldctl("list", "--code", low_codes[0], who="senior", check=0).stdout
        self.assertIn(sid, lst)

        # the commissioning checklist names what blocks done
        cl = self.fieldctl("checklist", job["id"], check=0).stdout
        self.assertIn("supply_voltage", cl)
        self.assertRegex(cl, r"required item\(s\) not passed: the job cannot be marked done")

        # a second session, compared with the first on the faulty unit
        sid2, _ = self.run_session(job)
        cmp = self.fieldctl("compare", sid, sid2, "--serial", LOW, check=0).stdout
        self.assertIn("TC-200 %s" % LOW, cmp)
        self.assertIn("findings kept:", cmp)
        for code in low_codes:
            self.assertRegex(cmp, r"findings kept:.*%s" % code)

        # the verdict: a senior's, refused to the engineer
        p = self.fieldctl("review", sid, "--verdict", "approved", check=1)
        self.assertIn("HTTP 403", p.stderr)
        p = self.fieldctl("review", sid, "--verdict", "needs_rework", "--comment",
                          "check the PSU", who="senior", check=0)
        self.assertIn("needs_rework", p.stdout)
        got = self.expect(self.get("/api/v1/diag/jobs/%s" % job["id"], "eng1"), 200)
        self.assertEqual(got["verdict"]["verdict"], "needs_rework")
        self.assertEqual(got["verdict"]["comment"], "check the PSU")

    def test_refusals(self):
        _, _, job, _ = self.on_site_job(engineer="eng2", kind="visit")
        p = self.fieldctl("start", "--job", job["id"], "--port", self.sim.rtu[0], check=1)
        self.assertIn("HTTP 403", p.stderr)
        self.fieldctl("start", "--port", "/dev/null", check=2)               # no --job
        self.fieldctl("start", "--job", job["id"], check=2)                  # no link
        self.fieldctl("start", "--job", job["id"], "--port", "/dev/x", "--tcp", "h:1", check=2)
        self.fieldctl("start", "--job", job["id"], "--port", "/dev/x", "--units", "9-2",
                      check=2)
        self.fieldctl("review", harness.new_id(), who="senior", check=2)     # no --verdict
        self.fieldctl("compare", harness.new_id(), harness.new_id(), check=2)  # no --serial
        p = self.fieldctl("show", harness.new_id(), check=1)
        self.assertIn("HTTP 404", p.stderr)
        p = self.fieldctl("start", "--job", job["id"], "--port", self.sim.rtu[0], "--baud",
                          "12", who="eng2", check=1)
        self.assertIn("settings.baud", p.stderr)


if __name__ == "__main__":
    harness.main()
