#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The web UI served by fieldd, tested as people use it.

Each test class gets what the integration tests get (tests/integration/harness.py): a
database of its own on the throwaway PostgreSQL, six users and a real `fieldd serve`, here
with FIELDD_WEB_DIR pointing at web/. The HTTP-level tests check the static files and the
session cookie with http.client; the browser tests make the data they need through the API,
then run one scenario of this folder (`node SCENARIO.mjs`) that drives Debian's headless
chromium through playwright-core and asserts what the pages show. The diagnostics scenario
also starts acs-sim (a TCP controller with faults injected) and runs diagnostics against it
from the job page.

Environment (ctest sets it): FIELDD_BIN, ACS_SOURCE_DIR, ACS_SIM_BIN (diagnostics), the
ACS_TEST_PG* cluster of scripts/test. Needs /usr/bin/chromium and tests/browser/node_modules
(scripts/deps installs both).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402

NODE = os.environ.get("ACS_NODE", "node")
CHROMIUM = os.environ.get("ACS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = tempfile.mkdtemp(prefix="acs_web_")
SCENARIO_TIMEOUT = 240


def check_tools():
    """The browser and playwright-core must be there: a missing one is an install problem
    that scripts/deps fixes, and the test says so rather than skipping."""
    problems = []
    if not os.access(CHROMIUM, os.X_OK):
        problems.append("%s is missing (Debian package chromium)" % CHROMIUM)
    if shutil.which(NODE) is None:
        problems.append("node is missing")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        problems.append("tests/browser/node_modules/playwright-core is missing (npm ci in "
                        "tests/browser)")
    if problems:
        print("error: %s; run scripts/deps, which installs them" % "; ".join(problems))
        sys.exit(1)


def web_env():
    return {"FIELDD_WEB_DIR": os.path.join(harness.source_dir(), "web")}


class WebCase(harness.FielddTestCase):
    server_env = web_env()

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.server.port

    def scenario(self, name, **cfg):
        """Run tests/browser/NAME.mjs with cfg (plus base URL, chromium, artifacts folder);
        fail with its output when it fails."""
        cfg.update({"base": self.base, "chromium": CHROMIUM, "artifacts": ARTIFACTS})
        env = dict(os.environ, ACS_WEB_CONFIG=json.dumps(cfg))
        p = subprocess.run([NODE, os.path.join(HERE, name + ".mjs")], cwd=HERE, env=env,
                           capture_output=True, text=True, timeout=SCENARIO_TIMEOUT)
        sys.stdout.write(p.stdout)
        if p.returncode != 0:
            self.fail_with_log("browser scenario %s failed (exit %d)\n--- stdout ---\n%s"
                               "--- stderr ---\n%s" % (name, p.returncode, p.stdout, p.stderr))

    def unknown_token(self):
        real = self.users["eng1"].token
        return real[:-6] + ("AAAAAA" if not real.endswith("AAAAAA") else "BBBBBB")


class StaticAndSessionTest(WebCase):
    """/ui/ static files and the session cookie, over plain HTTP."""

    def test_pages_have_types_and_cache_headers(self):
        for path, ctype in (("/ui/", "text/html; charset=utf-8"),
                            ("/ui/signin.html", "text/html; charset=utf-8"),
                            ("/ui/style.css", "text/css; charset=utf-8"),
                            ("/ui/js/api.js", "text/javascript; charset=utf-8")):
            r = self.server.request("GET", path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.headers.get("Content-Type"), ctype, path)
            self.assertEqual(r.headers.get("Cache-Control"), "no-cache", path)
            self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", path)
            self.assertIn("default-src 'self'", r.headers.get("Content-Security-Policy") or "")
            etag = r.headers.get("ETag")
            self.assertTrue(etag, "%s has an ETag" % path)
            again = self.server.request("GET", path, headers={"If-None-Match": etag})
            self.assertEqual(again.status, 304, "%s revalidates with its ETag" % path)
        with open(os.path.join(harness.source_dir(), "web", "style.css"), encoding="utf-8") as f:
            self.assertEqual(self.server.request("GET", "/ui/style.css").body, f.read())

    def test_root_and_ui_redirect(self):
        for path in ("/", "/ui"):
            r = self.server.request("GET", path)
            self.assertEqual(r.status, 302, path)
            self.assertEqual(r.headers.get("Location"), "/ui/", path)

    def test_unknown_page_is_a_404_page(self):
        for path in ("/ui/nope.html", "/ui/js/", "/ui/js/nope.js"):
            r = self.server.request("GET", path)
            self.assertEqual(r.status, 404, path)
            self.assertTrue(r.headers.get("Content-Type").startswith("text/html"), path)
            self.assertIn("Page not found", r.body, path)

    def test_no_way_out_of_the_folder(self):
        secret = "SPDX-License-Identifier"  # every source file has it; web.c must not leak
        for path in ("/ui/../core/web.c", "/ui/%2e%2e/core/web.c", "/ui/..%2fcore/web.c",
                     "/ui/js/../../core/web.c", "/ui/%2e%2e%2f%2e%2e%2fetc/passwd",
                     "/ui//etc/passwd"):
            raw = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
            r = harness.raw_exchange(self.server.port, raw, method="GET")
            self.assertIn(r.status, (404,), "%s: %d" % (path, r.status))
            self.assertNotIn("root:", str(r.body), path)
            self.assertNotIn("web_register", str(r.body), path)
            self.assertFalse(str(r.body).startswith("/* " + secret), path)

    def test_no_directory_listing_and_no_writes(self):
        r = self.server.request("POST", "/ui/index.html", body={})
        self.assertIn(r.status, (404, 405))

    def test_session_cookie(self):
        eng = self.users["eng1"]
        r = self.server.request("POST", "/api/v1/session", token=eng.token)
        b = self.expect(r, 200, "sign in")
        self.assertEqual(b, {"id": eng.id, "name": eng.name, "role": "engineer"})
        cookie = r.headers.get("Set-Cookie")
        self.assertTrue(cookie.startswith("acs_session=%s;" % eng.token), cookie)
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
            self.assertIn(attr, cookie)

        jar = {"Cookie": "theme=dark; acs_session=%s" % eng.token}
        me = self.expect(self.server.request("GET", "/api/v1/me", headers=jar), 200, "me by cookie")
        self.assertEqual(me["id"], eng.id)
        # The cookie wherever it stands among others; look-alike names are not it.
        for header in ("acs_session=%s" % eng.token, "acs_session=%s; theme=dark" % eng.token,
                       "a=1;acs_session=%s ;b=2" % eng.token,
                       "xacs_session=nope; acs_session=%s" % eng.token):
            me = self.expect(self.server.request("GET", "/api/v1/me",
                                                 headers={"Cookie": header}), 200, header)
            self.assertEqual(me["id"], eng.id, header)
        for header in ("xacs_session=%s" % eng.token, "acs_session_old=%s" % eng.token,
                       "acs_session=", "theme=dark"):
            self.assertProblem(self.server.request("GET", "/api/v1/me",
                                                   headers={"Cookie": header}),
                               401, "/problems/unauthorized", what=header)
        # The Authorization header wins over the cookie.
        other = self.users["eng2"]
        me = self.expect(self.server.request("GET", "/api/v1/me", token=other.token,
                                             headers=jar), 200, "header and cookie")
        self.assertEqual(me["id"], other.id)

        # A change by cookie needs X-ACS-CSRF; with it, the role table applies as usual.
        _, job = self.assigned_job("eng1")
        path = "/api/v1/jobs/%s/en_route" % job["id"]
        p = self.assertProblem(self.server.request("POST", path, headers=jar), 403,
                               "/problems/forbidden")
        self.assertIn("X-ACS-CSRF", p["detail"])
        self.assertEqual(self.db.value("SELECT status FROM job WHERE id = :'j';", j=job["id"]),
                         "assigned", "a refused change leaves the job as it was")
        ok = self.server.request("POST", path, headers=dict(jar, **{"X-ACS-CSRF": "1"}))
        self.assertEqual(self.expect(ok, 200, "en_route by cookie")["status"], "en_route")
        self.assertProblem(self.server.request("POST", "/api/v1/clients", body={"name": "x"},
                                               headers=dict(jar, **{"X-ACS-CSRF": "1"})),
                           403, "/problems/forbidden")

        # A cookie cannot make a cookie; a bad cookie is a 401 like a bad token.
        p = self.assertProblem(self.server.request("POST", "/api/v1/session",
                                                   headers=dict(jar, **{"X-ACS-CSRF": "1"})),
                               400, "/problems/validation")
        self.assertIn("Authorization: Bearer", p["detail"])
        self.assertProblem(self.server.request("GET", "/api/v1/me",
                                               headers={"Cookie": "acs_session=nope"}),
                           401, "/problems/unauthorized")
        self.assertProblem(self.server.request(
            "GET", "/api/v1/me", headers={"Cookie": "acs_session=" + self.unknown_token()}),
            401, "/problems/unauthorized")
        self.assertProblem(self.server.request("POST", "/api/v1/session",
                                               token=self.unknown_token()),
                           401, "/problems/unauthorized")

        # Sign-out clears the cookie, with or without a valid one.
        out = self.server.request("DELETE", "/api/v1/session")
        self.assertEqual(self.expect(out, 200, "sign out"), {"signed_out": True})
        self.assertIn("acs_session=;", out.headers.get("Set-Cookie"))
        self.assertIn("Max-Age=0", out.headers.get("Set-Cookie"))


class BrowserTest(WebCase):
    """Sign-in, the jobs list and the job page in chromium."""

    def people(self):
        return {k: self.users[k].token for k in ("eng1", "eng2", "senior", "dispatcher",
                                                 "admin")}

    def test_signin_and_jobs_list(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        mine = self.make_job(t, title="Replace reader at gate %s" % uuid.uuid4().hex[:4])
        self.assign(mine["id"], "eng1")
        theirs = self.make_job(t, title="Check turnstile %s" % uuid.uuid4().hex[:4])
        self.assign(theirs["id"], "eng2")
        self.scenario("signin", unknown_token=self.unknown_token(),
                      eng1_name=self.users["eng1"].name, job_id=mine["id"],
                      job_title=mine["title"], other_job_title=theirs["title"], **self.people())

    def test_job_page_and_refused_action(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        job = self.make_job(t, title="Visit %s" % uuid.uuid4().hex[:6])
        self.assign(job["id"], "eng1")
        other = self.make_job(t, title="Other %s" % uuid.uuid4().hex[:6])
        self.assign(other["id"], "eng2")
        t2 = self.make_ticket(c["id"], s["id"])
        onsite = self.make_job(t2, title="On site %s" % uuid.uuid4().hex[:6])
        self.assign(onsite["id"], "eng1")
        self.job_to(onsite["id"], "on_site", "eng1")
        self.scenario("job", job_id=job["id"], job_title=job["title"],
                      ticket_subject=t["subject"], site_name=s["name"],
                      other_job_id=other["id"], onsite_job_id=onsite["id"], **self.people())
        self.assertEqual(self.db.value("SELECT status FROM job WHERE id = :'j';", j=job["id"]),
                         "cancelled")
        self.assertEqual(self.db.rows(
            "SELECT o.resolution_code, o.resolved_ticket, o.time_on_site_min, t.status"
            " FROM outcome o JOIN job j ON j.id = o.job_id JOIN ticket t ON t.id = j.ticket_id"
            " WHERE o.job_id = :'j';", j=onsite["id"]),
            [["part_replaced", "t", "45", "resolved"]])


class DiagBrowserTest(WebCase):
    """Diagnostics from the job page against acs-sim, the review and the comparison."""

    def setUp(self):
        if not os.environ.get("ACS_SIM_BIN"):
            self.skipTest("ACS_SIM_BIN is not set (a build without hardware support)")
        r = self.get("/api/v1/diag/sessions?limit=1", "admin")
        if r.status == 404:
            self.skipTest("this fieldd has no diagnostics API (GET /api/v1/diag/sessions "
                          "is 404)")
        self.expect(r, 200, "diagnostics API")
        from test_sim import PROFILES, Sim
        self.serial = "TC200-2404-%05d" % (uuid.uuid4().int % 100000)
        self.reader_serial = "RC50-2311-%06d" % (uuid.uuid4().int % 1000000)
        self.line_serials = ["TC200-2404-%05d" % (uuid.uuid4().int % 100000),
                             "RC50-2311-%06d" % (uuid.uuid4().int % 1000000)]
        site = {"name": "web", "profiles": PROFILES, "buses": [
            {"name": "gate", "type": "tcp", "port": 0, "units": [
                {"model": "TC-200", "unit_id": 1, "serial": self.serial,
                 "faults": {"low-supply": 11.0, "tamper": True, "late": 150}}]},
            # A reader controller that is not in the site's inventory yet.
            {"name": "door", "type": "tcp", "port": 0, "units": [
                {"model": "RC-50", "unit_id": 1, "serial": self.reader_serial}]},
            # An RS-485 line on a pseudo-terminal with two units.
            {"name": "line1", "type": "rtu", "baud": 19200, "parity": "even", "units": [
                {"model": "TC-200", "unit_id": 1, "serial": self.line_serials[0]},
                {"model": "RC-50", "unit_id": 5, "serial": self.line_serials[1]}]}]}
        self.sim_dir = tempfile.mkdtemp(prefix="acs_web_sim_")
        self.sim = Sim(site, self.sim_dir)

    def tearDown(self):
        sim = getattr(self, "sim", None)
        if sim is None:
            return
        rc = sim.stop()
        err = sim.stderr()
        shutil.rmtree(self.sim_dir, ignore_errors=True)
        if rc != 0 or "Sanitizer" in err:
            raise AssertionError("acs-sim did not stop cleanly (%s)\n%s" % (rc, err))

    def test_run_review_compare(self):
        c, s = self.make_place()
        self.make_device(s["id"], model="TC-200", serial=self.serial)
        t = self.make_ticket(c["id"], s["id"])
        job = self.make_job(t, kind="commissioning",
                            title="Commission gate %s" % uuid.uuid4().hex[:4])
        self.assign(job["id"], "eng1")
        self.job_to(job["id"], "on_site", "eng1")
        control = self.sim.control.getpeername()
        self.scenario("diag", job_id=job["id"], job_title=job["title"], serial=self.serial,
                      reader_serial=self.reader_serial,
                      endpoints="\n".join("%s:%d" % hp for hp in self.sim.tcp),
                      sim_host=control[0], sim_control=control[1],
                      eng1=self.users["eng1"].token, senior=self.users["senior"].token)
        self.assertEqual(self.db.count("diag_session", "job_id = :'j'", j=job["id"]), 2)
        self.assertEqual(self.db.rows("SELECT detail->>'action' FROM audit_log"
                                      " WHERE action = 'device_action';"), [["beep"]],
                         "one device action ran: the confirmed beep, not the dismissed reboot")
        self.assertEqual(self.db.value("SELECT status FROM job WHERE id = :'j';", j=job["id"]),
                         "done", "done after the senior's override")
        self.assertEqual(self.db.count("device", "serial = :'s' AND site_id = :'site'",
                                       s=self.reader_serial, site=s["id"]), 1,
                         "the unknown reader was added to the site's inventory")

    def test_rtu_line_and_failed_port(self):
        c, s = self.make_place()
        t = self.make_ticket(c["id"], s["id"])
        job = self.make_job(t, title="Line check %s" % uuid.uuid4().hex[:4])
        self.assign(job["id"], "eng1")
        self.scenario("diag_rtu", job_id=job["id"], job_title=job["title"],
                      pty=self.sim.rtu[0], serial1=self.line_serials[0],
                      serial5=self.line_serials[1], eng1=self.users["eng1"].token)
        rows = self.db.rows("SELECT status, transport, settings->>'parity',"
                            " (settings->>'baud')::int FROM diag_session WHERE job_id = :'j'"
                            " ORDER BY started_at;", j=job["id"])
        self.assertEqual([r[0] for r in rows[:1] + rows[2:]], ["complete", "failed"])
        self.assertIn(rows[1][0], ("partial", "failed"), "the stopped scan")
        self.assertEqual({(r[1], r[2], r[3]) for r in rows}, {("rtu", "E", "19200")})


if __name__ == "__main__":
    if os.environ.get("ACS_TEST_PGPORT"):
        check_tools()
    code = 0
    try:
        harness.main()
    except SystemExit as e:
        code = e.code
    if code in (0, harness.SKIP) or not os.listdir(ARTIFACTS):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    else:
        print("screenshots and page consoles kept in %s" % ARTIFACTS, file=sys.stderr)
    sys.exit(code)
