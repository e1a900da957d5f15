#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The monthly service report in a real browser: the demo data set (`fieldd seed-demo`) in a
database of its own, a real fieldd, and report.mjs driving Debian's headless chromium through
playwright-core (tests/browser/lib.mjs): the head of support signs in at /ui/, opens the
report of the last full month, and the four charts must render as SVG with non-zero sizes and
drawn marks, on screen and in print.

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


class ReportInBrowserTest(test_web.WebCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = harness.run_fieldd(["seed-demo"], cls.db, timeout=300)
        if p.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("seed-demo failed: " + harness.describe(p))

    def test_report_charts_render(self):
        month = self.db.value("SELECT to_char((now() AT TIME ZONE acs_report_tz())"
                              " - interval '1 month', 'YYYY-MM');")
        rep = self.expect(self.get("/api/v1/reports/monthly?month=" + month, "head"), 200)
        self.assertGreater(rep["totals"]["opened"], 0, "the demo has tickets in %s" % month)
        self.scenario("report", head=self.users["head"].token, month=month,
                      breached=len(rep["breached"]))


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
