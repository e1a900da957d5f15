#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The metrics page (web/metrics.html) in a real browser: the demo data set (`fieldd
seed-demo`) in a database of its own, a real fieldd, and metrics.mjs driving Debian's headless
chromium through playwright-core (tests/browser/lib.mjs).

This test asks the API itself for the figures of the last full month (in total and by
category), of the same month given as a from/to period, for the sentence of a period that
ends before it begins and for an engineer's refusal, and passes them to the scenario, which
checks that the page shows exactly those: the head of support's headline figures and the
table by category, the bad period's sentence, the dispatcher's view, the engineer's refusal,
and the monthly report opened from its link.

Uses test_web.py's scenario runner and environment (FIELDD_BIN, ACS_SOURCE_DIR, the
ACS_TEST_PG* cluster; /usr/bin/chromium and tests/browser/node_modules).
"""
import os
import shutil
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
import test_web  # noqa: E402


class MetricsPageTest(test_web.WebCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = harness.run_fieldd(["seed-demo"], cls.db, timeout=300)
        if p.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("seed-demo failed: " + harness.describe(p))

    def test_metrics_page(self):
        month, first, next_first, bad_from, bad_to = self.db.rows(
            "SELECT to_char(m, 'YYYY-MM'), to_char(m, 'YYYY-MM-DD'),"
            " to_char(m + interval '1 month', 'YYYY-MM-DD'),"
            " to_char(m + interval '20 days', 'YYYY-MM-DD'),"
            " to_char(m + interval '5 days', 'YYYY-MM-DD')"
            " FROM (SELECT date_trunc('month', (now() AT TIME ZONE acs_report_tz())"
            " - interval '1 month') AS m) s;")[0]
        total = self.expect(self.get("/api/v1/metrics?month=" + month, "head"), 200, "metrics")
        self.assertGreater(total["totals"]["opened"], 0, "the demo has tickets in %s" % month)
        by_cat = self.expect(self.get("/api/v1/metrics?month=%s&by=category" % month, "head"),
                             200, "metrics by category")
        self.assertGreater(len(by_cat["groups"]), 1, "the demo has several categories")
        period = self.expect(self.get("/api/v1/metrics?from=%s&to=%s&by=category"
                                      % (first, next_first), "head"), 200, "metrics of a period")
        bad = self.assertProblem(self.get("/api/v1/metrics?from=%s&to=%s" % (bad_from, bad_to),
                                          "head"), 400, "/problems/validation")
        refused = self.assertProblem(self.get("/api/v1/metrics?month=" + month, "eng1"),
                                     403, "/problems/forbidden")
        self.assertTrue(bad["detail"] and refused["detail"])
        self.scenario("metrics", month=month, totals=total["totals"],
                      categories=by_cat["groups"], period_from=first, period_to=next_first,
                      period=period, bad_from=bad_from, bad_to=bad_to,
                      bad_detail=bad["detail"], refused_detail=refused["detail"],
                      head=self.users["head"].token, dispatcher=self.users["dispatcher"].token,
                      engineer=self.users["eng1"].token)


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
