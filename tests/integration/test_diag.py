#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration tests of diagnostics through fieldd (core/diag.c, core/api_diag.c,
db/migrations/0008_diagnostics.sql; docs/diagnostics.md): a real PostgreSQL, a real fieldd and a
real acs-sim serving Modbus RTU on a pseudo-terminal and Modbus TCP, with faults injected through
the simulator's control channel.

- ticket -> commissioning job -> diagnostics on a simulated site with a low supply on one unit:
  units, typed readings, findings, event log and raw frames stored and returned; the live
  stream's events; the inventory matched by serial number and its firmware version updated;
  an unknown unit added; the checklist filled from readings, manual items ticked, the done gate
  (409 naming the failing item, also through an outcome) and a senior's override; a second
  session compared with the first; a senior's verdict seen on the job; search by site, serial,
  ticket, engineer, finding code and dates with cursor pagination;
- a bus unplugged mid-session (the simulator killed) leaves a partial session with what was read;
  so do fieldd stopped with SIGTERM mid-session, and the stop endpoint; fieldd's database
  connections cut while a unit's statement runs lose nothing and store nothing twice;
- two sessions on two buses at once, and a port already in use refused;
- an engineer cannot start diagnostics on another engineer's job, nor run an action on it, nor
  run one without confirmation (nor a disruptive one without a reason); a confirmed action
  reaches the unit and is audited;
- bad transport settings get 400s naming the setting; a port that does not exist and a refused
  TCP endpoint end the session failed with the driver's sentence;
- a watch (repeat_s) reads a unit again and again, and a counter that goes down between two
  passes fires the profile's decrease rule; a session abandoned by a dead fieldd is ended by
  the heartbeat of another;
- with more than 1024 descriptors open in fieldd, a session fails with the FD_SETSIZE sentence
  instead of overflowing libmodbus's select(), and works again once they are closed.

ACS_SIM_BIN names acs-sim (ctest sets it); the PostgreSQL contract is harness.py's.
"""
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FielddTestCase, new_id, now_utc, query, rfc3339  # noqa: E402
from test_sim import PROFILES, Sim  # noqa: E402

SESSION_TIMEOUT = 90

SERIAL_1 = "TC200-2404-07001"
SERIAL_2 = "TC200-2404-07002"
SERIAL_RC = "RC50-2311-007005"
SERIAL_GATE = "TC200-2404-07101"
SERIAL_L2 = "TC200-2404-07201"

SITE = {
    "name": "diag",
    "profiles": PROFILES,
    "buses": [
        {"name": "line1", "type": "rtu", "baud": 19200, "parity": "even", "pacing": True,
         "units": [
             {"model": "TC-200", "unit_id": 1, "serial": SERIAL_1},
             {"model": "TC-200", "unit_id": 2, "serial": SERIAL_2,
              "faults": {"low-supply": 11.0}},
             {"model": "RC-50", "unit_id": 5, "serial": SERIAL_RC}]},
        {"name": "gate", "type": "tcp", "port": 0, "units": [
            {"model": "TC-200", "unit_id": 1, "serial": SERIAL_GATE}]},
        {"name": "line2", "type": "rtu", "baud": 38400, "parity": "none", "pacing": True,
         "units": [{"model": "TC-200", "unit_id": 3, "serial": SERIAL_L2}]},
    ],
}

# A bus slow enough to be unplugged in the middle: 4800 baud, paced, eight units.
SLOW_SITE = {
    "name": "diag-slow",
    "profiles": PROFILES,
    "buses": [{"name": "slow", "type": "rtu", "baud": 4800, "parity": "even", "pacing": True,
               "units": [{"model": "TC-200", "unit_id": u, "serial": "TC200-2404-0730%d" % u}
                         for u in range(1, 9)]}],
}


class SseReader:
    """Reads a text/event-stream in a thread; events are (name, data dict)."""

    def __init__(self, port, path, token):
        self.events = []
        self.done = threading.Event()
        self.status = None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SESSION_TIMEOUT)
        self.conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.ctype = self.resp.getheader("Content-Type")
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
                    self.events.append((name, json.loads("\n".join(data))))
                    name, data = None, []
        except (OSError, ValueError):
            pass
        finally:
            self.done.set()

    def names(self):
        return [n for n, _ in self.events]

    def close(self):
        # a reader blocked in readline holds the response: unblock it before closing
        try:
            if self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.done.wait(5)
        self.conn.close()


class DiagTestCase(FielddTestCase):
    sim_site = SITE

    @classmethod
    def setUpClass(cls):
        # fieldd inherits the limit: room for the FD_SETSIZE test's 1100 connections.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = hard if hard == resource.RLIM_INFINITY else min(hard, 8192)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        cls.server_env = dict(cls.server_env, ACS_PROFILES=PROFILES)
        super().setUpClass()
        cls.sim = Sim(cls.sim_site, cls.workdir)

    @classmethod
    def tearDownClass(cls):
        rc = cls.sim.stop() if cls.sim.proc.poll() is None else 0
        err = cls.sim.stderr()
        super().tearDownClass()
        if rc != 0 or "Sanitizer" in err or "runtime error" in err:
            raise AssertionError("acs-sim did not stop cleanly (%s)\n%s" % (rc, err))
        with open(cls.server.log_path, "rb") as f:
            log = f.read().decode(errors="replace")
        if "Sanitizer" in log or "runtime error" in log:
            raise AssertionError("fieldd reported a sanitizer error:\n%s" % log[-4000:])

    # --- helpers ----------------------------------------------------------------------------

    def rtu_settings(self, port=None, **extra):
        s = {"port": port or self.sim.rtu[0], "baud": 19200, "parity": "E",
             "unit_from": 1, "unit_to": 6, "turnaround_ms": 600, "events": 10}
        s.update(extra)
        return s

    def tcp_settings(self, **extra):
        host, port = self.sim.tcp[0]
        s = {"endpoints": ["%s:%d" % (host, port)], "events": 10}
        s.update(extra)
        return s

    def on_site_job(self, engineer="eng1", kind="commissioning", devices=()):
        """A ticket on a new site with devices (kwargs dicts), a job of `kind` assigned to the
        engineer and on site: (site, ticket, job, [devices])."""
        c, site = self.make_place()
        made = [self.make_device(site["id"], **d) for d in devices]
        ticket = self.make_ticket(c["id"], site["id"])
        job = self.make_job(ticket, kind=kind)
        self.assign(job["id"], engineer)
        self.job_to(job["id"], "on_site", who=engineer)
        return site, ticket, job, made

    def start(self, job_id, transport="rtu", settings=None, who="eng1", expect=201):
        body = {"job_id": job_id, "transport": transport,
                "settings": settings if settings is not None else self.rtu_settings()}
        r = self.post("/api/v1/diag/sessions", body, who)
        if expect is None:
            return r
        return self.expect(r, expect, "start diagnostics")

    def wait_end(self, session_id, who="eng1", timeout=SESSION_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            r = self.get("/api/v1/diag/sessions/%s" % session_id, who)
            if r.status == 503:  # a test that cuts the database connections
                time.sleep(0.2)
                continue
            s = self.expect(r, 200, "session")
            if s["status"] != "running":
                return s
            if time.monotonic() > deadline:
                self.fail_with_log("session %s still running after %d s" % (session_id,
                                                                             timeout))
            time.sleep(0.2)

    def unit(self, session, serial):
        for u in session["units"]:
            if u["serial"] == serial:
                return u
        self.fail("no unit with serial %s in %r" % (serial, session["units"]))

    def readings_of(self, session, unit):
        return {r["name"]: r for r in session["readings"] if r["diag_device_id"] == unit["id"]}

    def findings_of(self, session, unit):
        return sorted(f["code"] for f in session["findings"] if f["diag_device_id"] == unit["id"])


class DiagFlowTest(DiagTestCase):

    def test_01_flow_findings_checklist_review_compare(self):
        site, ticket, job, devs = self.on_site_job(devices=[
            {"model": "TC-200", "serial": SERIAL_1, "firmware_version": "2.3.0"},
            {"model": "TC-200", "serial": SERIAL_2}])
        t0 = now_utc()
        body = self.start(job["id"], settings=self.rtu_settings(), expect=None)
        self.assertEqual(body.status, 201, body.body)
        s = body.body
        sid = s["id"]
        self.assertEqual(body.headers.get("Location"), "/api/v1/diag/sessions/%s" % sid)
        self.assertEqual(s["job_id"], job["id"])
        self.assertEqual(s["ticket_id"], ticket["id"])
        self.assertEqual(s["site_id"], site["id"])
        self.assertEqual(s["engineer_id"], self.users["eng1"].id)
        self.assertEqual(s["settings"]["parity"], "E")
        self.assertEqual(s["settings"]["data_bits"], 8)  # defaults filled in
        # the stream opens after the start: it first replays what it missed
        stream = SseReader(self.server.port, "/api/v1/diag/sessions/%s/events" % sid,
                           self.users["eng1"].token)
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.ctype, "text/event-stream")
        s = self.wait_end(sid)
        t1 = now_utc()
        self.assertEqual(s["status"], "complete", s.get("reason"))
        self.assertIsNone(s["reason"])
        self.assertRecent(s["ended_at"], t0, t1, "ended_at")
        self.assertEqual(s["units_found"], 3)
        self.assertEqual(sorted(u["unit_id"] for u in s["units"]), [1, 2, 5])

        # typed readings
        u1, u2, rc = self.unit(s, SERIAL_1), self.unit(s, SERIAL_2), self.unit(s, SERIAL_RC)
        self.assertEqual((u1["model"], u1["kind"], u1["firmware_version"]),
                         ("TC-200", "turnstile_controller", "2.4.0"))
        self.assertEqual(rc["model"], "RC-50")
        r1, r2 = self.readings_of(s, u1), self.readings_of(s, u2)
        self.assertAlmostEqual(float(r1["supply_voltage"]["value_num"]), 12.05, places=2)
        self.assertEqual(r1["supply_voltage"]["unit"], "V")
        self.assertEqual(r1["supply_voltage"]["raw"], [1205])
        self.assertAlmostEqual(float(r2["supply_voltage"]["value_num"]), 11.0, places=2)
        self.assertEqual(r1["serial_number"]["value_text"], SERIAL_1)
        self.assertEqual(float(r1["rotor_home"]["value_num"]), 1)
        self.assertEqual(r1["mode"]["value_text"], "normal")
        # findings: the low supply on unit 2 only
        self.assertIn("TC_SUPPLY_VOLTAGE", self.findings_of(s, u2))
        self.assertNotIn("TC_SUPPLY_VOLTAGE", self.findings_of(s, u1))
        f = [f for f in s["findings"] if f["code"] == "TC_SUPPLY_VOLTAGE"][0]
        self.assertEqual(f["severity"], "warning")
        self.assertIn("11", f["message"])
        self.assertTrue(f["advice"])
        # event log records (power_on at least)
        self.assertTrue(any(e["diag_device_id"] == u1["id"] and "power_on" in e["description"]
                            for e in s["event_log"]), s["event_log"])

        # inventory: units matched by serial, firmware updated; the reader is unknown
        self.assertEqual(u1["device_id"], devs[0]["id"])
        self.assertFalse(u1["unknown"])
        self.assertEqual(u2["device_id"], devs[1]["id"])
        self.assertTrue(rc["unknown"])
        self.assertEqual(s["unknown_units"], [rc["id"]])
        dev = self.expect(self.get("/api/v1/devices/%s" % devs[0]["id"]), 200, "device")
        self.assertEqual(dev["firmware_version"], "2.4.0")
        self.assertEqual(self.db.count("audit_log", "action = 'firmware_seen' AND object_id = "
                                       ":'d' AND detail->>'from' = '2.3.0'", d=devs[0]["id"]), 1)
        added = self.post("/api/v1/diag/sessions/%s/units/%s/add" % (sid, rc["id"]),
                          {"location": "lobby"}, "eng1")
        added = self.expect(added, 201, "add unknown unit")
        self.assertEqual((added["serial"], added["model"], added["kind"], added["site_id"],
                          added["unit_id"], added["firmware_version"], added["location"]),
                         (SERIAL_RC, "RC-50", "reader_controller", site["id"], 5, "1.9.3",
                          "lobby"))
        self.assertProblem(self.post("/api/v1/diag/sessions/%s/units/%s/add" % (sid, rc["id"]),
                                     {}, "eng1"), 409, "/problems/conflict")
        s = self.expect(self.get("/api/v1/diag/sessions/%s" % sid), 200, "session")
        self.assertEqual(s["unknown_units"], [])

        # raw frames, paged
        frames, after = [], None
        while True:
            page = self.expect(self.get(query("/api/v1/diag/sessions/%s/frames" % sid,
                                              limit=100, after=after), "senior"), 200, "frames")
            frames += page["items"]
            after = page["next_after"]
            if after is None:
                break
        self.assertEqual(len(frames), s["frame_count"])
        self.assertEqual([fr["seq"] for fr in frames], list(range(len(frames))))
        tx = [fr for fr in frames if fr["direction"] == "tx"]
        rx = [fr for fr in frames if fr["direction"] == "rx"]
        self.assertGreater(len(tx), 10)
        self.assertEqual(tx[0]["hex"][:2], "01")  # RTU: unit 1 first
        self.assertIn("FC04 read input registers 0..0 (1)", [fr["decoded"] for fr in tx])
        timeouts = [fr for fr in rx if fr["status"] == "timeout"]
        self.assertEqual(sorted({fr["unit_id"] for fr in timeouts}), [3, 4, 6])  # absent units
        self.assertTrue(all(fr["hex"] == "" for fr in timeouts))
        ok = [fr for fr in rx if fr["status"] == "ok"]
        self.assertTrue(all(fr["elapsed_ms"] > 0 for fr in ok))
        only = self.expect(self.get(query("/api/v1/diag/sessions/%s/frames" % sid,
                                          status="timeout", limit=1000)), 200, "frames")
        self.assertEqual(len(only["items"]), len(timeouts))

        # the live stream saw it all happen and ended with the session
        self.assertTrue(stream.done.wait(10), "the stream ends with the session")
        names = stream.names()
        self.assertEqual(names[0], "diag_started", names)
        self.assertEqual(names[-1], "diag_end", names)
        self.assertEqual(stream.events[-1][1]["status"], "complete")
        for n in ("diag_scan", "diag_unit_reading", "diag_unit_found", "diag_finding",
                  "diag_unit_done", "diag_unit_stored"):
            self.assertIn(n, names)
        self.assertEqual(sum(1 for n, d in stream.events if n == "diag_scan"), 6)
        self.assertEqual(sorted(d["unit_id"] for n, d in stream.events
                                if n == "diag_scan" and d["present"]), [1, 2, 5])
        fnd = [d for n, d in stream.events if n == "diag_finding"]
        self.assertIn(("TC_SUPPLY_VOLTAGE", 2), [(d["code"], d["unit_id"]) for d in fnd])
        self.assertTrue(all(d["session_id"] == sid for _, d in stream.events))
        stream.close()
        # after the end, a stream gives the end at once
        late = SseReader(self.server.port, "/api/v1/diag/sessions/%s/events" % sid,
                         self.users["eng1"].token)
        self.assertTrue(late.done.wait(10))
        self.assertEqual(late.names(), ["diag_end"])
        late.close()

        # checklist: filled from readings on a commissioning job
        cl = self.expect(self.get("/api/v1/diag/jobs/%s/checklist" % job["id"], "eng1"), 200,
                         "checklist")
        items = {(i["serial"], i["key"]): i for i in cl["items"]}
        self.assertEqual(items[(SERIAL_1, "supply_voltage")]["status"], "pass")
        self.assertEqual(items[(SERIAL_1, "rotor_home")]["status"], "pass")
        self.assertEqual(items[(SERIAL_1, "firmware")]["status"], "pass")
        self.assertEqual(items[(SERIAL_2, "supply_voltage")]["status"], "fail")
        self.assertEqual(items[(SERIAL_2, "supply_voltage")]["value"], "11 V")
        self.assertEqual(items[(SERIAL_RC, "test_card")]["status"], "fail")  # no card yet
        self.assertEqual(items[(SERIAL_1, "passage_test")]["status"], "pending")
        blocking = {(b["serial"], b["key"]) for b in cl["blocking"]}
        self.assertIn((SERIAL_2, "supply_voltage"), blocking)
        self.assertIn((SERIAL_1, "passage_test"), blocking)
        self.assertNotIn((SERIAL_1, "labels"), blocking)  # not required

        # the gate: done is refused, naming the items, by the action and by an outcome
        r = self.job_to(job["id"], "done", who="eng1", expect=None)
        b = self.assertProblem(r, 409, "/problems/conflict", what="done with failing items")
        self.assertIn("%s supply_voltage is fail" % SERIAL_2, b["detail"])
        self.assertIn((SERIAL_2, "supply_voltage"),
                      {(i["serial"], i["key"]) for i in b["failing_items"]})
        r = self.post("/api/v1/jobs/%s/outcome" % job["id"],
                      {"resolution_code": "commissioned", "resolved": True}, "eng1")
        self.assertProblem(r, 409, "/problems/conflict", what="outcome with failing items")
        self.assertEqual(self.db.value("SELECT status FROM job WHERE id = :'j'", j=job["id"]),
                         "on_site")
        # manual items ticked by the engineer; an auto item cannot be ticked
        for key in ("passage_test", "labels"):
            for serial in (SERIAL_1, SERIAL_2):
                it = items[(serial, key)]
                self.expect(self.call("PUT", "/api/v1/diag/jobs/%s/checklist/%s"
                                      % (job["id"], it["id"]),
                                      body={"status": "pass", "note": "tested"}, who="eng1"),
                            200, "tick")
        self.expect(self.call("PUT", "/api/v1/diag/jobs/%s/checklist/%s"
                              % (job["id"], items[(SERIAL_RC, "mounting")]["id"]),
                              body={"status": "pass"}, who="eng1"), 200, "tick")
        self.assertProblem(self.call("PUT", "/api/v1/diag/jobs/%s/checklist/%s" % (
            job["id"], items[(SERIAL_2, "supply_voltage")]["id"]), body={"status": "pass"},
            who="eng1"), 409, "/problems/conflict")
        self.assertProblem(self.call("PUT", "/api/v1/diag/jobs/%s/checklist/%s" % (
            job["id"], items[(SERIAL_1, "labels")]["id"]), body={"status": "pass"},
            who="eng2"), 403, "/problems/forbidden")

        # fix the supply, present a test card, diagnose again: only the auto items follow
        ok, text, _ = self.sim.ctl("clear line1/2 low-supply")
        self.assertTrue(ok, text)
        ok, text, _ = self.sim.ctl("card line1/5 4242")
        self.assertTrue(ok, text)
        board = SseReader(self.server.port, "/api/v1/events", self.users["dispatcher"].token)
        s2 = self.start(job["id"], settings=self.rtu_settings(units=[1, 2, 5]))
        s2 = self.wait_end(s2["id"])
        deadline = time.monotonic() + 10
        while not any(n == "diag_session_end" and d["session_id"] == s2["id"]
                      for n, d in board.events):
            self.assertLess(time.monotonic(), deadline, "diag_session_end on /api/v1/events")
            time.sleep(0.05)
        ev = [d for n, d in board.events if n == "diag_session_end"][-1]
        self.assertEqual((ev["job_id"], ev["status"]), (job["id"], "complete"))
        board.close()
        self.assertEqual(s2["status"], "complete", s2.get("reason"))
        self.assertEqual(self.unit(s2, SERIAL_RC)["device_id"], added["id"])
        cl = self.expect(self.get("/api/v1/diag/jobs/%s/checklist" % job["id"], "eng1"), 200,
                         "checklist")
        items2 = {(i["serial"], i["key"]): i for i in cl["items"]}
        self.assertEqual(items2[(SERIAL_2, "supply_voltage")]["status"], "pass")
        self.assertEqual(items2[(SERIAL_RC, "test_card")]["status"], "pass")
        self.assertEqual(items2[(SERIAL_1, "passage_test")]["status"], "pass")  # kept
        self.assertEqual(items2[(SERIAL_1, "passage_test")]["note"], "tested")

        # compare the two sessions of unit 2: supply changed, the finding is gone
        cmp_ = self.expect(self.get(query("/api/v1/diag/compare", a=sid, b=s2["id"],
                                          serial=SERIAL_2), "senior"), 200, "compare")
        self.assertEqual(cmp_["model"], "TC-200")
        self.assertFalse(cmp_["firmware_changed"])
        sv = [x for x in cmp_["readings"] if x["name"] == "supply_voltage"][0]
        self.assertTrue(sv["changed"])
        self.assertAlmostEqual(float(sv["a"]), 11.0, places=2)
        self.assertAlmostEqual(float(sv["b"]), 12.05, places=2)
        self.assertIn("TC_SUPPLY_VOLTAGE", cmp_["findings"]["removed"])
        self.assertProblem(self.get(query("/api/v1/diag/compare", a=sid, b=s2["id"],
                                          serial="NOPE-1")), 400, "/problems/validation",
                           field="serial")
        self.assertProblem(self.get(query("/api/v1/diag/compare", a=sid, b=s2["id"])), 400,
                           "/problems/validation", field="serial")

        # everything passes now except the reader's optional item: done
        cl = self.expect(self.get("/api/v1/diag/jobs/%s/checklist" % job["id"], "eng1"), 200,
                         "checklist")
        self.assertEqual(cl["blocking"], [], cl["blocking"])

        # review: a senior's verdict, seen on the job by the engineer
        self.assertProblem(self.post("/api/v1/diag/sessions/%s/reviews" % sid,
                                     {"verdict": "approved"}, "eng1"), 403, "/problems/forbidden")
        self.assertProblem(self.post("/api/v1/diag/sessions/%s/reviews" % sid,
                                     {"verdict": "needs_rework"}, "senior"), 400,
                           "/problems/validation", field="comment")
        rv = self.expect(self.post("/api/v1/diag/sessions/%s/reviews" % sid,
                                   {"verdict": "needs_rework", "comment": "unit 2 supply"},
                                   "senior"), 201, "review")
        self.assertEqual(rv["reviewer_id"], self.users["senior"].id)
        rv2 = self.expect(self.post("/api/v1/diag/sessions/%s/reviews" % s2["id"],
                                    {"verdict": "approved", "comment": "fixed"}, "senior"),
                          201, "review")
        mine = self.expect(self.get("/api/v1/diag/jobs/%s" % job["id"], "eng1"), 200, "job diag")
        self.assertEqual(mine["verdict"]["verdict"], "approved")
        self.assertEqual(mine["verdict"]["session_id"], s2["id"])
        self.assertEqual(len(mine["sessions"]), 2)
        self.assertEqual(mine["sessions"][1]["review"]["verdict"], "needs_rework")
        self.assertEqual(rv2["verdict"], "approved")
        self.assertProblem(self.get("/api/v1/diag/jobs/%s" % job["id"], "eng2"), 403,
                           "/problems/forbidden")

        # the job reaches done through its outcome now
        out = self.expect(self.post("/api/v1/jobs/%s/outcome" % job["id"],
                                    {"resolution_code": "commissioned", "resolved": True},
                                    "eng1"), 201, "outcome")
        self.assertEqual(out["job_status"], "done")

        # search
        for params, expected in (
                ({"site_id": site["id"]}, {sid, s2["id"]}),
                ({"ticket_id": ticket["id"]}, {sid, s2["id"]}),
                ({"job_id": job["id"]}, {sid, s2["id"]}),
                ({"serial": SERIAL_2}, {sid, s2["id"]}),
                ({"code": "TC_SUPPLY_VOLTAGE", "site_id": site["id"]}, {sid}),
                ({"engineer_id": self.users["eng1"].id, "site_id": site["id"]}, {sid, s2["id"]}),
                ({"from": rfc3339(t0), "to": rfc3339(t1), "site_id": site["id"]}, {sid}),
                ({"status": "failed", "site_id": site["id"]}, set()),
                ({"review": "approved", "site_id": site["id"]}, {s2["id"]}),
                ({"review": "needs_rework", "site_id": site["id"]}, {sid})):
            items, pages = self.list_all("/api/v1/diag/sessions", who="senior", limit=1,
                                         **params)
            self.assertEqual({i["id"] for i in items}, expected, params)
        # an engineer sees only their own
        items, _ = self.list_all("/api/v1/diag/sessions", who="eng2", site_id=site["id"])
        self.assertEqual(items, [])
        self.assertProblem(self.get("/api/v1/diag/sessions/%s" % sid, "eng2"), 403,
                           "/problems/forbidden")
        self.assertProblem(self.get(query("/api/v1/diag/sessions", code="lower")), 400,
                           "/problems/validation", field="code")
        self.assertProblem(self.get(query("/api/v1/diag/sessions", review="maybe")), 400,
                           "/problems/validation", field="review")
        unreviewed, _ = self.list_all("/api/v1/diag/sessions", who="senior", review="none",
                                      limit=50)
        self.assertNotIn(sid, {i["id"] for i in unreviewed})

    def test_02_override_lets_the_job_be_done(self):
        site, ticket, job, devs = self.on_site_job()
        ok, text, _ = self.sim.ctl("fault line1/1 low-supply 11.2")
        self.assertTrue(ok, text)
        try:
            s = self.wait_end(self.start(job["id"], settings=self.rtu_settings(units=[1]))["id"])
        finally:
            self.sim.ctl("clear line1/1 all")
        self.assertEqual(s["status"], "complete", s.get("reason"))
        self.assertProblem(self.job_to(job["id"], "done", who="eng1", expect=None), 409,
                           "/problems/conflict")
        self.assertProblem(self.post("/api/v1/diag/jobs/%s/checklist/override" % job["id"],
                                     {"reason": "x"}, "eng1"), 403, "/problems/forbidden")
        self.assertProblem(self.post("/api/v1/diag/jobs/%s/checklist/override" % job["id"],
                                     {"reason": "  "}, "senior"), 400, "/problems/validation",
                           field="reason")
        ov = self.expect(self.post("/api/v1/diag/jobs/%s/checklist/override" % job["id"],
                                   {"reason": "PSU replacement ordered, client accepts"},
                                   "senior"), 201, "override")
        self.assertEqual(ov["senior_id"], self.users["senior"].id)
        self.assertIn("supply_voltage", [f["key"] for f in ov["failing"]])
        self.assertEqual(self.db.count("audit_log", "action = 'checklist_override' AND "
                                       "object_id = :'j'", j=job["id"]), 1)
        self.job_to(job["id"], "done", who="eng1")
        cl = self.expect(self.get("/api/v1/diag/jobs/%s/checklist" % job["id"], "eng1"), 200,
                         "checklist")
        self.assertEqual(cl["override"]["reason"], "PSU replacement ordered, client accepts")

    def test_09_watch_reads_again_until_time_is_up(self):
        _, _, job, _ = self.on_site_job(kind="visit")
        t0 = time.monotonic()
        s = self.wait_end(self.start(job["id"], "tcp", self.tcp_settings(repeat_s=2, events=2))[
            "id"])
        self.assertGreaterEqual(time.monotonic() - t0, 2.0)
        self.assertEqual(s["status"], "complete", s.get("reason"))
        self.assertEqual(len(s["units"]), 1)
        self.assertGreater(s["passes"], 2, "the unit was read again and again")
        self.assertEqual(s["settings"]["repeat_s"], 2)
        # the detail holds the latest pass; the history of one reading is its own endpoint
        self.assertEqual(sum(1 for r in s["readings"] if r["name"] == "supply_voltage"), 1)
        unit = s["units"][0]["id"]
        hist = self.expect(self.get(query("/api/v1/diag/sessions/%s/readings" % s["id"],
                                          unit=unit, name="supply_voltage", limit=10000),
                                    "senior"), 200, "reading history")["items"]
        self.assertEqual(len(hist), s["passes"])
        self.assertEqual([h["read_at"] for h in hist], sorted(h["read_at"] for h in hist))
        self.assertTrue(all(abs(float(h["value_num"]) - 12.05) < 0.01 for h in hist))
        last = self.expect(self.get(query("/api/v1/diag/sessions/%s/readings" % s["id"],
                                          unit=unit, name="supply_voltage", limit=2)), 200,
                           "reading history")["items"]
        self.assertEqual([h["read_at"] for h in last], [h["read_at"] for h in hist[-2:]])
        self.assertProblem(self.get(query("/api/v1/diag/sessions/%s/readings" % s["id"],
                                          unit=unit)), 400, "/problems/validation", field="name")

    def test_10_watch_applies_rules_between_passes(self):
        """A counter that goes down between two passes of a watch: the decrease rule fires."""
        _, _, job, _ = self.on_site_job(kind="visit")
        ok, text, _ = self.sim.ctl("set gate entry_passages 500")
        self.assertTrue(ok, text)
        try:
            s = self.start(job["id"], "tcp", self.tcp_settings(repeat_s=3, events=1))
            stream = SseReader(self.server.port, "/api/v1/diag/sessions/%s/events" % s["id"],
                               self.users["eng1"].token)
            deadline = time.monotonic() + 20
            while sum(1 for n, _ in stream.events if n == "diag_unit_stored") < 2:
                self.assertLess(time.monotonic(), deadline, stream.names())
                time.sleep(0.05)
            ok, text, _ = self.sim.ctl("set gate entry_passages 0")
            self.assertTrue(ok, text)
            s = self.wait_end(s["id"])
            stream.close()
        finally:
            self.sim.ctl("set gate entry_passages 0")
        self.assertEqual(s["status"], "complete", s.get("reason"))
        codes = [f["code"] for f in s["findings"]]
        self.assertIn("TC_COUNTER_RESET", codes)
        self.assertEqual(codes.count("TC_COUNTER_RESET"), 1, "only the pass that saw it go down")

    def test_10_watch_rides_out_units_that_stop_answering(self):
        """Two units that stop answering for a while (two failures in a row, which end a plain
        session's bus) do not end a watch while another unit still answers: it reads on until
        its time is up, reads them again once they answer, and ends partial naming them."""
        _, _, job, _ = self.on_site_job(kind="visit")
        settings = {"port": self.sim.rtu[0], "baud": 19200, "parity": "E", "units": [1, 2, 5],
                    "turnaround_ms": 300, "events": 2, "repeat_s": 5}
        t0 = time.monotonic()
        sid = self.start(job["id"], "rtu", settings)["id"]
        deadline = time.monotonic() + 30
        while self.expect(self.get("/api/v1/diag/sessions/%s" % sid, "eng1"), 200,
                          "session").get("passes", 0) < 2:
            self.assertLess(time.monotonic(), deadline, "no second pass")
            time.sleep(0.1)
        try:
            for u in ("line1/1", "line1/2"):
                self.assertTrue(self.sim.ctl("fault %s no-answer" % u)[0])
            time.sleep(1.5)
        finally:
            for u in ("line1/1", "line1/2"):
                self.sim.ctl("clear %s" % u)
        cleared = harness.now_utc()
        end = self.wait_end(sid)
        self.assertGreaterEqual(time.monotonic() - t0, 5.0, "the watch ran until its time")
        self.assertEqual(end["status"], "partial", end)
        self.assertIn("did not answer", end["reason"])
        self.assertNotIn("stopped answering", end["reason"])
        # unit 1 was read again after it answered again
        u1 = self.unit(end, SERIAL_1)
        hist = self.expect(self.get(query("/api/v1/diag/sessions/%s/readings" % sid,
                                          unit=u1["id"], name="supply_voltage", limit=10000),
                                    "eng1"), 200, "history")
        after = [r for r in hist["items"] if harness.parse_ts(r["read_at"]) > cleared]
        self.assertTrue(after, "unit 1 read after the fault was cleared")

    def test_08_checklist_templates(self):
        t = self.expect(self.get("/api/v1/diag/checklist-templates", "head"), 200, "templates")
        keys = {(i["kind"], i["key"]): i for i in t["items"]}
        sv = keys[("turnstile_controller", "supply_voltage")]
        self.assertEqual((float(sv["min_value"]), float(sv["max_value"]), sv["required"]),
                         (11.5, 13.5, True))
        self.assertEqual(keys[("reader_controller", "test_card")]["reading"], "read_count")
        self.assertEqual(keys[("turnstile_controller", "firmware")]["min_version"], "2.4.0")

    def test_03_visit_jobs_have_no_gate(self):
        site, ticket, job, devs = self.on_site_job(kind="visit")
        s = self.wait_end(self.start(job["id"], "tcp", self.tcp_settings())["id"])
        self.assertEqual(s["status"], "complete", s.get("reason"))
        self.assertEqual(s["units"][0]["serial"], SERIAL_GATE)
        self.assertEqual(s["units"][0]["bus"], self.tcp_settings()["endpoints"][0])
        cl = self.expect(self.get("/api/v1/diag/jobs/%s/checklist" % job["id"], "eng1"), 200,
                         "checklist")
        self.assertEqual(cl["items"], [])
        self.job_to(job["id"], "done", who="eng1")

    def test_04_two_sessions_on_two_buses_at_once(self):
        _, _, job1, _ = self.on_site_job(kind="visit")
        _, _, job2, _ = self.on_site_job(engineer="eng2", kind="visit")
        a = self.start(job1["id"], settings=self.rtu_settings(unit_from=1, unit_to=5))
        b = self.start(job2["id"], who="eng2", settings={
            "port": self.sim.rtu[1], "baud": 38400, "parity": "N", "unit_from": 1,
            "unit_to": 4, "turnaround_ms": 600, "events": 10})
        # one master per line: the port in use is refused while a runs
        r = self.start(job1["id"], settings=self.rtu_settings(units=[1]), expect=None)
        if r.status == 409:
            b_ = self.assertProblem(r, 409, "/problems/conflict", field="settings")
            self.assertIn(a["id"], b_["detail"])
        else:  # a had already ended (a very fast machine)
            self.expect(r, 201, "start on a free port")
            self.wait_end(r.body["id"])
        running = self.expect(self.get(query("/api/v1/diag/sessions", status="running"),
                                       "senior"), 200, "running")
        self.assertTrue({a["id"], b["id"]} & {i["id"] for i in running["items"]})
        sa, sb = self.wait_end(a["id"]), self.wait_end(b["id"], who="eng2")
        self.assertEqual((sa["status"], sb["status"]), ("complete", "complete"),
                         (sa["reason"], sb["reason"]))
        self.assertEqual(sorted(u["unit_id"] for u in sa["units"]), [1, 2, 5])
        self.assertEqual([u["serial"] for u in sb["units"]], [SERIAL_L2])
        # both ran at the same time
        self.assertLess(harness.parse_ts(sa["started_at"]), harness.parse_ts(sb["ended_at"]))
        self.assertLess(harness.parse_ts(sb["started_at"]), harness.parse_ts(sa["ended_at"]))
        self.assertGreater(self.db.count("diag_frame", "session_id = :'s'", s=sb["id"]), 0)

    def test_05_roles_and_actions(self):
        _, _, job, _ = self.on_site_job(kind="visit")
        # another engineer's job, a dispatcher, a head
        self.assertProblem(self.start(job["id"], who="eng2", expect=None), 403,
                           "/problems/forbidden", field="job_id")
        self.assertProblem(self.start(job["id"], who="dispatcher", expect=None), 403,
                           "/problems/forbidden")
        self.assertProblem(self.start(new_id(), expect=None), 400, "/problems/validation",
                           field="job_id")
        s = self.wait_end(self.start(job["id"], "tcp", self.tcp_settings())["id"])
        unit = s["units"][0]
        path = "/api/v1/diag/sessions/%s/actions" % s["id"]
        r = self.post(path, {"unit": unit["id"], "action": "unlock_entry_once"}, "eng1")
        b = self.assertProblem(r, 400, "/problems/validation", field="confirm")
        self.assertIn("\"confirm\": true", b["detail"])
        r = self.post(path, {"unit": unit["id"], "action": "unlock_entry_once",
                             "confirm": False}, "eng1")
        self.assertProblem(r, 400, "/problems/validation", field="confirm")
        self.assertEqual(self.sim.ctl("get gate entry_unlocked")[1], "off")
        r = self.post(path, {"unit": unit["id"], "action": "unlock_entry_once",
                             "confirm": True}, "eng2")
        self.assertProblem(r, 403, "/problems/forbidden")
        r = self.post(path, {"unit": unit["id"], "action": "fly", "confirm": True}, "eng1")
        b = self.assertProblem(r, 400, "/problems/validation", field="action")
        self.assertIn("beep", b["detail"])
        r = self.post(path, {"unit": unit["id"], "action": "unlock_entry_once",
                             "confirm": True}, "eng1")
        res = self.expect(r, 200, "action")
        self.assertEqual(res["result"], "ok")
        self.assertEqual(self.sim.ctl("get gate entry_unlocked")[1], "on")
        rows = self.db.rows("SELECT actor_id, detail->>'action', detail->>'result',"
                            " (detail->>'confirmed')::text FROM audit_log"
                            " WHERE action = 'device_action' AND object_id = :'s'", s=s["id"])
        self.assertEqual(rows, [[self.users["eng1"].id, "unlock_entry_once", "ok", "true"]])
        # a disruptive action needs a reason, which is recorded
        r = self.post(path, {"unit": unit["id"], "action": "free_passage", "confirm": True},
                      "eng1")
        b = self.assertProblem(r, 400, "/problems/validation", field="reason")
        self.assertIn("free_passage", b["detail"])
        self.expect(self.post(path, {"unit": unit["id"], "action": "free_passage",
                                     "confirm": True, "reason": "evacuation drill"}, "eng1"),
                    200, "free passage")
        self.assertEqual(self.sim.ctl("get gate mode")[1], "free_passage")
        self.expect(self.post(path, {"unit": unit["id"], "action": "normal_mode",
                                     "confirm": True, "reason": "drill over"}, "eng1"),
                    200, "normal mode")
        self.assertEqual(self.sim.ctl("get gate mode")[1], "normal")
        self.assertEqual(self.db.value("SELECT detail->>'reason' FROM audit_log WHERE action ="
                                       " 'device_action' AND detail->>'action' = 'free_passage'"
                                       " AND object_id = :'s'", s=s["id"]), "evacuation drill")
        # a unit that stopped answering: 502 with the driver's sentence, audited as an error
        ok, text, _ = self.sim.ctl("fault gate no-answer")
        self.assertTrue(ok, text)
        try:
            r = self.post(path, {"unit": unit["id"], "action": "beep", "confirm": True},
                          "senior")
            b = self.assertProblem(r, 502, "/problems/device")
            self.assertIn("did not answer", b["detail"])
        finally:
            self.sim.ctl("clear gate all")
        self.assertEqual(self.db.count("audit_log", "action = 'device_action' AND object_id ="
                                       " :'s' AND detail->>'result' = 'error'", s=s["id"]), 1)

    def test_06_bad_settings(self):
        _, _, job, _ = self.on_site_job(kind="visit")
        port = self.sim.rtu[0]
        for transport, settings, field, words in (
                ("rtu", {"port": port, "parity": "X"}, "settings.parity", "N"),
                ("rtu", {"port": port, "baud": 5}, "settings.baud", "1200"),
                ("rtu", {"baud": 9600}, "settings.port", "required"),
                ("rtu", {"port": "COM3"}, "settings.port", "/dev/"),
                ("rtu", {"port": port, "unit_from": 9, "unit_to": 2}, "settings.unit_to",
                 "below"),
                ("rtu", {"port": port, "unit_to": 300}, "settings.unit_to", "247"),
                ("rtu", {"port": port, "speed": 9600}, "settings.speed", "unknown setting"),
                ("rtu", {"port": port, "units": [1, 1]}, "settings.units", "twice"),
                ("tcp", {}, "settings.endpoints", "host:port"),
                ("tcp", {"endpoints": ["10.0.0.1"]}, "settings.endpoints", "host:port"),
                ("tcp", {"endpoints": ["10.0.0.1:70000"]}, "settings.endpoints", "65535"),
                ("usb", {}, "transport", "rtu")):
            r = self.start(job["id"], transport, settings, expect=None)
            b = self.assertProblem(r, 400, "/problems/validation", field=field,
                                   what=repr(settings))
            self.assertIn(words, b["detail"])
        self.assertEqual(self.db.count("diag_session", "job_id = :'j'", j=job["id"]), 0)
        # settings that parse but do not work: the session fails with the driver's sentence
        s = self.wait_end(self.start(job["id"], settings={"port": "/dev/ttyACS-NOPE"})["id"])
        self.assertEqual(s["status"], "failed")
        self.assertIn("/dev/ttyACS-NOPE", s["reason"])
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        closed = srv.getsockname()[1]
        srv.close()
        s = self.wait_end(self.start(job["id"], "tcp", {
            "endpoints": ["127.0.0.1:%d" % closed]})["id"])
        self.assertEqual(s["status"], "failed")
        self.assertIn("127.0.0.1:%d" % closed, s["reason"])
        # nobody answering the scanned ids
        s = self.wait_end(self.start(job["id"], settings=self.rtu_settings(
            unit_from=100, unit_to=102))["id"])
        self.assertEqual(s["status"], "failed")
        self.assertIn("no unit answered", s["reason"])
        # an idempotent replay with the same id starts nothing new
        sid = new_id()
        body = {"id": sid, "job_id": job["id"], "transport": "tcp",
                "settings": self.tcp_settings()}
        self.expect(self.post("/api/v1/diag/sessions", body, "eng1"), 201, "start")
        self.wait_end(sid)
        again = self.expect(self.post("/api/v1/diag/sessions", body, "eng1"), 200, "replay")
        self.assertEqual(again["status"], "complete")
        body["settings"] = self.tcp_settings(events=3)
        self.assertProblem(self.post("/api/v1/diag/sessions", body, "eng1"), 409,
                           "/problems/conflict", field="id")

    def test_07_fd_setsize_guard(self):
        """fieldd with more than 1024 descriptors open: a session gets the clear refusal of
        drivers/transport.c rather than an fd_set overflow in libmodbus's select()."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < 1300:
            self.skipTest("RLIMIT_NOFILE %d is too low to open 1100 connections" % soft)
        _, _, job, _ = self.on_site_job(kind="visit")
        conns = []
        try:
            for _ in range(1100):
                conns.append(socket.create_connection(("127.0.0.1", self.server.port)))
            # let fieldd accept them all: a request on a fresh connection is served after them
            self.expect(self.get("/api/v1/me", "eng1"), 200, "me")
            s = self.wait_end(self.start(job["id"], "tcp", self.tcp_settings())["id"])
            self.assertEqual(s["status"], "failed")
            self.assertIn("below 1024", s["reason"])
        finally:
            for c in conns:
                c.close()
        time.sleep(0.5)
        s = self.wait_end(self.start(job["id"], "tcp", self.tcp_settings())["id"])
        self.assertEqual(s["status"], "complete", s.get("reason"))


class DiagStopTest(DiagTestCase):
    """Sessions that stop: the stop endpoint; a session whose fieldd died (ended by the
    heartbeat of another); fieldd stopped (SIGTERM) while a session runs."""
    sim_site = SLOW_SITE
    server_env = {"FIELDD_DIAG_HEARTBEAT_MS": "300"}

    def test_b_abandoned_session_is_ended(self):
        sid, dd = new_id(), new_id()
        self.db.sql("INSERT INTO diag_session (id, engineer_id, transport, started_at,"
                    " heartbeat_at) VALUES (:'s', :'e', 'tcp', now() - interval '2 hours',"
                    " now() - interval '1 hour');"
                    "INSERT INTO diag_device (id, session_id, bus, unit_id, serial)"
                    " VALUES (:'d', :'s', '10.0.0.9:502', 1, 'X-1');", s=sid, d=dd,
                    e=self.users["eng1"].id)
        deadline = time.monotonic() + 20
        while self.db.value("SELECT status FROM diag_session WHERE id = :'s'", s=sid) == \
                "running":
            if time.monotonic() > deadline:
                self.fail_with_log("the abandoned session was not ended")
            time.sleep(0.2)
        row = self.db.rows("SELECT status, reason FROM diag_session WHERE id = :'s'", s=sid)[0]
        self.assertEqual(row[0], "partial")
        self.assertIn("stopped without ending it", row[1])
        self.assertIn("1 units had been read and are kept", row[1])

    def test_a_stop_endpoint(self):
        _, _, job, _ = self.on_site_job(kind="visit")
        s = self.start(job["id"], settings={"port": self.sim.rtu[0], "baud": 4800,
                                            "parity": "E", "units": list(range(1, 9)),
                                            "turnaround_ms": 600, "events": 10})
        self.assertProblem(self.post("/api/v1/diag/sessions/%s/stop" % s["id"], who="eng2"),
                           403, "/problems/forbidden")
        r = self.post("/api/v1/diag/sessions/%s/stop" % s["id"], who="eng1")
        self.assertEqual(self.expect(r, 202, "stop")["status"], "stopping")
        s = self.wait_end(s["id"])
        self.assertEqual(s["status"], "partial")
        self.assertIn("stopped by %s" % self.users["eng1"].name, s["reason"])
        self.assertLess(len(s["units"]), 8)
        self.assertProblem(self.post("/api/v1/diag/sessions/%s/stop" % s["id"], who="eng1"),
                           409, "/problems/conflict")

    def test_c_database_connections_cut_mid_session(self):
        """fieldd's connections are cut while a unit's statement runs: the pool reconnects,
        the statement is sent again, and nothing is lost or stored twice. A lock held by
        another session keeps the statement running until the cut."""
        _, _, job, _ = self.on_site_job(kind="visit")
        c = self.cluster
        locker = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-h", c.host, "-p", str(c.port), "-U", c.user,
             "-d", self.db.name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        try:
            locker.stdin.write("SET application_name = 'diag_test_locker'; BEGIN;"
                               " LOCK TABLE diag_reading IN EXCLUSIVE MODE; SELECT 'locked';\n")
            locker.stdin.flush()
            self.assertEqual(locker.stdout.readline().strip(), "locked")
            s = self.start(job["id"], settings={"port": self.sim.rtu[0], "baud": 4800,
                                                "parity": "E", "units": list(range(1, 9)),
                                                "turnaround_ms": 600, "events": 10})
            stream = SseReader(self.server.port, "/api/v1/diag/sessions/%s/events" % s["id"],
                               self.users["eng1"].token)
            deadline = time.monotonic() + SESSION_TIMEOUT
            while "diag_unit_done" not in stream.names():
                self.assertLess(time.monotonic(), deadline, stream.names())
                time.sleep(0.02)
            time.sleep(0.3)  # the unit's statement now waits for the lock
            cut = self.db.value(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND application_name <> 'diag_test_locker';")
            self.assertGreater(int(cut), 0)
            time.sleep(0.5)
            locker.stdin.write("COMMIT;\n")
            locker.stdin.close()
            locker.wait(10)
        finally:
            if locker.poll() is None:
                locker.kill()
                locker.wait(5)
            locker.stdout.close()
        s = self.wait_end(s["id"])
        stream.close()
        self.assertEqual(s["status"], "complete", s.get("reason"))
        self.assertEqual(len(s["units"]), 8)
        self.assertIn("storing unit 1 on %s again" % self.sim.rtu[0], self.server.log_tail(400))
        dup = self.db.value("SELECT count(*) FROM (SELECT diag_device_id, name FROM diag_reading"
                            " WHERE session_id = :'s' GROUP BY 1, 2 HAVING count(*) > 1) d",
                            s=s["id"])
        self.assertEqual(dup, "0")
        per_unit = self.db.rows("SELECT count(*) FROM diag_reading WHERE session_id = :'s'"
                                " GROUP BY diag_device_id", s=s["id"])
        self.assertEqual(len(per_unit), 8)
        self.assertEqual(len({r[0] for r in per_unit}), 1, "every unit has all its readings")
        frames = self.db.rows("SELECT count(*), max(seq) FROM diag_frame WHERE session_id = :'s'",
                              s=s["id"])[0]
        self.assertEqual(int(frames[0]), int(frames[1]) + 1, "no frame lost")

    def test_sigterm_mid_session_stores_partial(self):
        _, _, job, _ = self.on_site_job(kind="visit")
        s = self.start(job["id"], settings={"port": self.sim.rtu[0], "baud": 4800,
                                            "parity": "E", "units": list(range(1, 9)),
                                            "turnaround_ms": 600, "events": 10})
        stream = SseReader(self.server.port, "/api/v1/diag/sessions/%s/events" % s["id"],
                           self.users["eng1"].token)
        deadline = time.monotonic() + SESSION_TIMEOUT
        while "diag_unit_stored" not in stream.names():
            if time.monotonic() > deadline or stream.done.is_set():
                self.fail_with_log("no unit was stored: %r" % stream.names())
            time.sleep(0.05)
        self.assertEqual(self.server.stop(), 0, "fieldd exits 0 after draining the session")
        row = self.db.rows("SELECT status, reason, ended_at IS NOT NULL FROM diag_session"
                           " WHERE id = :'s'", s=s["id"])
        self.assertEqual(row[0][0], "partial", row)
        self.assertIn("fieldd was stopped", row[0][1])
        self.assertEqual(row[0][2], "t")
        self.assertGreaterEqual(self.db.count("diag_device", "session_id = :'s' AND error IS"
                                              " NULL", s=s["id"]), 1)
        self.assertTrue(stream.done.wait(10))
        self.assertEqual(stream.events[-1][0], "diag_end")
        stream.close()


class DiagUnplugTest(DiagTestCase):
    """A bus unplugged mid-session: the simulator killed while units are read."""
    sim_site = SLOW_SITE

    def test_partial_session_keeps_what_was_read(self):
        _, _, job, _ = self.on_site_job(kind="visit")
        s = self.start(job["id"], settings={"port": self.sim.rtu[0], "baud": 4800,
                                            "parity": "E", "units": list(range(1, 9)),
                                            "turnaround_ms": 600, "events": 60})
        stream = SseReader(self.server.port, "/api/v1/diag/sessions/%s/events" % s["id"],
                           self.users["eng1"].token)
        deadline = time.monotonic() + SESSION_TIMEOUT
        while "diag_unit_stored" not in stream.names():
            if time.monotonic() > deadline or stream.done.is_set():
                self.fail_with_log("no unit was stored: %r" % stream.names())
            time.sleep(0.05)
        self.sim.proc.send_signal(signal.SIGKILL)
        self.sim.proc.wait(10)
        s = self.wait_end(s["id"])
        self.assertEqual(s["status"], "partial", s)
        read = [u for u in s["units"] if u["error"] is None]
        failed = [u for u in s["units"] if u["error"] is not None]
        self.assertGreaterEqual(len(read), 1)
        self.assertLess(len(read), 8)
        self.assertGreaterEqual(len(failed), 1)
        self.assertIn("stopped answering", s["reason"])
        self.assertIn(self.sim.rtu[0], s["reason"])
        self.assertIn("%d of 8 units read" % len(read), s["reason"])
        # everything read before the cut is there
        for u in read:
            rd = self.readings_of(s, u)
            self.assertIn("supply_voltage", rd)
            self.assertEqual(rd["serial_number"]["value_text"], u["serial"])
        self.assertGreater(s["frame_count"], 0)
        self.assertTrue(stream.done.wait(10))
        self.assertEqual(stream.events[-1][0], "diag_end")
        self.assertEqual(stream.events[-1][1]["status"], "partial")
        stream.close()


if __name__ == "__main__":
    harness.main()
