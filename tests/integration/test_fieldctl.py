#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration tests of fieldctl (fieldctl/, drivers/transport*, bus, device) against a real
acs-sim process: a scan over RTU on the simulator's pseudo-terminal finds exactly the units of
the site file; identify and read over TCP and RTU give the values of the site file's state; a
unit made silent through the control channel is reported with the actionable sentence while
the scan goes on; --json parses; an action without --confirm is refused and sends nothing.

Faults set through acs-sim's control channel, each seen through fieldctl with the status of the
frame in the trace and an actionable sentence, and none taking longer than its timeout allows:
a bad CRC, a reply from the wrong unit id, a forced exception, a late answer within and beyond
the timeout, a stuck sensor, a low supply, a tamper switch and a corrupt event log record.
`fieldctl watch` reports a value changed through the control channel; `fieldctl ports` lists
what this machine has (possibly nothing); `fieldctl sweep` reads several buses at once.

ACS_FIELDCTL_BIN names fieldctl, ACS_SIM_BIN acs-sim (ctest sets both).
Run alone: ACS_SIM_BIN=build/hardware-sim/acs-sim ACS_FIELDCTL_BIN=build/fieldctl/fieldctl \
  /usr/bin/python3 tests/integration/test_fieldctl.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sim import PROFILES, Sim  # noqa: E402

SITE = {
    "name": "fieldctl",
    "profiles": PROFILES,
    "buses": [
        {"name": "gate", "type": "tcp", "port": 0, "units": [
            {"model": "TC-200", "unit_id": 1, "serial": "TC200-2404-00101",
             "state": {"supply_voltage": 12.2, "entry_passages": 1520}}]},
        {"name": "line1", "type": "rtu", "baud": 19200, "parity": "even", "pacing": True,
         "units": [
             {"model": "TC-200", "unit_id": 1, "serial": "TC200-2404-00102"},
             {"model": "TC-200", "unit_id": 2, "serial": "TC200-2404-00103",
              "state": {"board_temperature": 41.5}},
             {"model": "RC-50", "unit_id": 5, "serial": "RC50-2311-000105",
              "firmware": "1.9.4"}]},
        # The stuck-sensor bit needs the sensor held for 30 s: pinned from the start.
        {"name": "stuck", "type": "tcp", "port": 0, "units": [
            {"model": "TC-200", "unit_id": 1, "serial": "TC200-2404-00199",
             "faults": {"stuck-sensor": "entry_sensor 1"}}]},
    ],
}

# Every fieldctl run is bounded; a fault test also asserts the run ended soon after its timeout.
RUN_TIMEOUT = 60


def fieldctl_bin():
    b = os.environ.get("ACS_FIELDCTL_BIN")
    if not b or not os.access(b, os.X_OK):
        raise RuntimeError("ACS_FIELDCTL_BIN does not name fieldctl (got %r)" % b)
    return b


class FieldctlTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="acs_fieldctl_it_")
        cls.sim = Sim(SITE, cls.workdir)
        host, port = cls.sim.tcp[0]
        cls.tcp = ["--tcp", "%s:%d" % (host, port)]
        # A generous turnaround: the simulator may run under sanitizers on a busy machine.
        cls.rtu = ["--port", cls.sim.rtu[0], "--baud", "19200", "--parity", "E",
                   "--turnaround", "150"]

    @classmethod
    def tearDownClass(cls):
        rc = cls.sim.stop()
        err = cls.sim.stderr()
        shutil.rmtree(cls.workdir, ignore_errors=True)
        if rc != 0 or "Sanitizer" in err:
            raise AssertionError("acs-sim did not stop cleanly (%s)\n%s" % (rc, err))

    def tearDown(self):
        for unit in ("line1/1", "line1/2"):
            ok, text, _ = self.sim.ctl("clear %s all" % unit)
            self.assertTrue(ok, text)

    def run_fc(self, *args, rc=0):
        t0 = time.monotonic()
        p = subprocess.run([fieldctl_bin()] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL,
                           env=dict(os.environ, ACS_PROFILES=PROFILES))
        self.last_elapsed = time.monotonic() - t0
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)
        if rc is not None:
            self.assertEqual(p.returncode, rc, "fieldctl %s\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(args), out, err))
        return p.returncode, out, err

    def test_scan_rtu_finds_the_site_units(self):
        _, out, err = self.run_fc("scan", *self.rtu, "--units", "1-10")
        found = [line.split(":")[0] for line in out.splitlines() if "model code" in line]
        self.assertEqual(found, ["unit 1", "unit 2", "unit 5"])
        self.assertIn("unit 5: model code 50 (RC-50)", out)
        self.assertIn("scan: unit 10 (10 of 10)", err)  # progress line
        self.assertIn("3 of 10 units answered", err)

    def test_silent_unit_reported_and_scan_goes_on(self):
        ok, text, _ = self.sim.ctl("fault line1/2 no-answer")
        self.assertTrue(ok, text)
        _, out, _ = self.run_fc("scan", *self.rtu, "--units", "1-5", "--verbose")
        self.assertIn("unit 1: model code 200", out)
        self.assertIn("unit 5: model code 50", out)
        self.assertRegex(out, r"unit 2: unit 2 on \S+ did not answer within \d+ ms at 19200 8E1 "
                              r"\(check wiring, termination, baud and parity\)")
        _, _, err = self.run_fc("read", *self.rtu, "--unit", "2", rc=1)
        self.assertRegex(err, r"did not answer within \d+ ms at 19200 8E1 \(check wiring")

    def test_identify_tcp_and_rtu(self):
        _, out, _ = self.run_fc("identify", *self.tcp, "--json")
        d = json.loads(out)
        self.assertEqual((d["product"], d["revision"], d["serial"], d["model_code"],
                          d["identified_by"]), ("TC-200", "2.4.0", "TC200-2404-00101", 200, "fc43"))
        _, out, _ = self.run_fc("identify", *self.rtu, "--unit", "5")
        self.assertIn("RC-50, firmware 1.9.4, serial RC50-2311-000105", out)

    def test_read_values_from_site_state(self):
        _, out, _ = self.run_fc("read", *self.tcp, "--json")
        d = json.loads(out)
        vals = {v["name"]: v for v in d["values"]}
        self.assertEqual(d["model"], "TC-200")
        self.assertAlmostEqual(vals["supply_voltage"]["value"], 12.2)
        self.assertEqual(vals["supply_voltage"]["unit"], "V")
        self.assertEqual(vals["entry_passages"]["value"], 1520)
        self.assertEqual(vals["serial_number"]["value"], "TC200-2404-00101")
        self.assertEqual(vals["mode"]["value"], "normal")
        self.assertEqual(d["requests"], 5)  # as range.h plans the TC-200
        self.assertEqual(d["failed_requests"], 0)
        _, out, _ = self.run_fc("read", *self.rtu, "--unit", "2")
        self.assertRegex(out, r"board_temperature\s+input:18\s+41.5 C")
        self.assertIn("serial TC200-2404-00103", out)
        _, out, _ = self.run_fc("read", *self.rtu, "--unit", "5", "--json")
        d = json.loads(out)
        vals = {v["name"]: v["value"] for v in d["values"]}
        self.assertAlmostEqual(vals["supply_voltage"], 12.1, places=4)  # float32 low_first
        self.assertEqual(vals["fw_major"], 1)

    def test_findings_and_events(self):
        ok, text, _ = self.sim.ctl("fault line1/2 low-supply 9.6")
        self.assertTrue(ok, text)
        _, out, _ = self.run_fc("read", *self.rtu, "--unit", "2", "--json")
        codes = {f["code"] for f in json.loads(out)["findings"]}
        self.assertIn("TC_SUPPLY_VOLTAGE_LOW", codes)
        _, out, _ = self.run_fc("events", *self.rtu, "--unit", "2", "--json")
        events = json.loads(out)
        self.assertEqual(events[0]["event"], "power_on")
        self.assertTrue(all(e["status"] == "ok" for e in events))

    def test_action_needs_confirm(self):
        _, out, _ = self.run_fc("trace", *self.tcp)
        tx_before = out.count(" tx ")
        self.assertGreater(tx_before, 0)
        self.assertRegex(out, r"rx ok\s+[\d.]+ ms 00 00 00 00 ")
        _, _, err = self.run_fc("action", "beep", *self.tcp, "--trace", rc=1)
        self.assertIn("needs an explicit confirmation (--confirm)", err)
        self.assertNotIn(" tx ", err)  # nothing was sent
        _, out, _ = self.run_fc("action", "beep", *self.tcp, "--confirm")
        self.assertIn("beep done", out)

    def fault(self, line):
        ok, text, _ = self.sim.ctl("fault " + line)
        self.assertTrue(ok, text)

    def read_json(self, *link):
        _, out, _ = self.run_fc("read", *link, "--json")
        return json.loads(out)

    # --- faults -------------------------------------------------------------------------

    def test_fault_bad_crc(self):
        self.fault("line1/2 bad-crc")
        _, out, err = self.run_fc("trace", *self.rtu, "--unit", "2", rc=1)
        self.assertRegex(out, r"rx crc_error\s+[\d.]+ ms 02 04 02 00 c8 ")
        self.assertNotRegex(out, r"rx ok")
        self.assertRegex(err, r"unit 2 on \S+ answered with a bad CRC at 19200 8E1 \(check "
                              r"termination and shield grounding")
        _, _, err = self.run_fc("read", *self.rtu, "--unit", "2", "--trace", rc=1)
        self.assertIn(" rx crc_error ", err)
        self.assertLess(self.last_elapsed, 10)

    def test_fault_wrong_unit(self):
        self.fault("line1/2 wrong-unit 3")
        _, out, err = self.run_fc("trace", *self.rtu, "--unit", "2", rc=1)
        self.assertRegex(out, r"rx wrong_unit\s+[\d.]+ ms 03 04 02 00 c8 ")
        self.assertIn("the reply to unit 2 on %s came from unit 3 (two devices share an id"
                      % self.sim.rtu[0], err)
        # JSON frames: the same statuses, machine-readable.
        _, _, err = self.run_fc("identify", *self.rtu, "--unit", "2", "--trace", "--json", rc=1)
        frames = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        self.assertEqual(frames[0]["dir"], "tx")
        self.assertIn("wrong_unit", {f["status"] for f in frames if f["dir"] == "rx"})

    def test_fault_exception(self):
        self.fault("line1/2 exception 4")
        _, _, err = self.run_fc("read", *self.rtu, "--unit", "2", "--trace", rc=1)
        self.assertIn("(exception 4 server device failure)", err)
        self.assertIn("unit 2 on %s refused FC 04: exception 04 server device failure (the "
                      "device reports an internal failure" % self.sim.rtu[0], err)
        self.fault("line1/2 exception 6")
        _, _, err = self.run_fc("read", *self.rtu, "--unit", "2", rc=1)
        self.assertIn("exception 06 server device busy", err)

    def test_fault_late_within_timeout(self):
        self.fault("line1/2 late 150")
        _, out, err = self.run_fc("read", *self.rtu, "--unit", "2", "--timeout", "800",
                                  "--json", "--trace")
        self.assertEqual(json.loads(out)["failed_requests"], 0)
        rx = [json.loads(line) for line in err.splitlines() if '"dir": "rx"' in line]
        self.assertTrue(rx)
        self.assertTrue(all(f["status"] == "ok" and 150 <= f["ms"] < 800 for f in rx), rx)

    def test_fault_late_beyond_timeout(self):
        self.fault("line1/2 late 1500")
        _, out, err = self.run_fc("read", *self.rtu, "--unit", "2", "--timeout", "300",
                                  "--trace", rc=1)
        self.assertRegex(err, r"rx timeout\s+3\d\d\.\d ms")
        self.assertIn("unit 2 on %s did not answer within 300 ms at 19200 8E1 (check wiring"
                      % self.sim.rtu[0], err)
        # One timed-out request, then the command gives up: no waiting for the late reply.
        self.assertLess(self.last_elapsed, 1.4)
        # The late reply still arrives on the line; the next command must not take it for
        # its own (the input is flushed before each request).
        time.sleep(1.6)
        ok, text, _ = self.sim.ctl("clear line1/2 late")
        self.assertTrue(ok, text)
        _, out, _ = self.run_fc("identify", *self.rtu, "--unit", "2")
        self.assertIn("serial TC200-2404-00103", out)

    def test_fault_stuck_sensor(self):
        host, port = self.sim.tcp[1]
        link = ["--tcp", "%s:%d" % (host, port)]
        deadline = time.monotonic() + 45  # the bit is set 30 s after the sim started
        while True:
            d = self.read_json(*link)
            codes = {f["code"] for f in d["findings"]}
            if "TC_ENTRY_SENSOR_STUCK" in codes or time.monotonic() > deadline:
                break
            time.sleep(1)
        vals = {v["name"]: v["value"] for v in d["values"]}
        self.assertIs(vals["entry_sensor"], True)
        self.assertIn("TC_ENTRY_SENSOR_STUCK", codes)
        self.assertNotIn("TC_EXIT_SENSOR_STUCK", codes)

    def test_fault_low_supply(self):
        self.fault("line1/2 low-supply 9.2")
        deadline = time.monotonic() + 10  # supply_brownout is raised on the next tick
        while True:
            d = self.read_json(*self.rtu, "--unit", "2")
            codes = {f["code"] for f in d["findings"]}
            if "TC_SUPPLY_BROWNOUT" in codes or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        vals = {v["name"]: v["value"] for v in d["values"]}
        self.assertAlmostEqual(vals["supply_voltage"], 9.2, places=3)
        self.assertIn("TC_SUPPLY_VOLTAGE_LOW", codes)
        self.assertIn("TC_SUPPLY_BROWNOUT", codes)
        low = [f for f in d["findings"] if f["code"] == "TC_SUPPLY_VOLTAGE_LOW"][0]
        self.assertTrue(low["advice"])

    def test_fault_tamper(self):
        self.assertNotIn("TC_TAMPER", {f["code"] for f in
                                       self.read_json(*self.rtu, "--unit", "1")["findings"]})
        self.fault("line1/1 tamper")
        d = self.read_json(*self.rtu, "--unit", "1")
        vals = {v["name"]: v["value"] for v in d["values"]}
        self.assertIs(vals["tamper"], True)
        tamper = [f for f in d["findings"] if f["code"] == "TC_TAMPER"]
        self.assertEqual(len(tamper), 1)
        self.assertEqual(tamper[0]["severity"], "warning")
        _, out, _ = self.run_fc("events", *self.rtu, "--unit", "1", "--json")
        self.assertEqual(json.loads(out)[-1]["event"], "tamper_open")

    def test_fault_corrupt_event(self):
        self.fault("line1/1 corrupt-event")
        _, out, _ = self.run_fc("events", *self.rtu, "--unit", "1", "--json")
        events = json.loads(out)
        self.assertEqual(events[-1]["status"], "corrupt")
        self.assertTrue(all(e["status"] == "ok" for e in events[:-1]), events)
        _, out, _ = self.run_fc("events", *self.rtu, "--unit", "1")
        self.assertRegex(out.splitlines()[-1], r" corrupt( |$)")
        # The sweep evaluates the log too: the corrupt record is a finding.
        site = os.path.join(self.workdir, "sweep-corrupt.json")
        with open(site, "w") as f:
            json.dump({"buses": [{"port": self.sim.rtu[0], "turnaround": 150,
                                  "units": [1]}]}, f)
        _, out, _ = self.run_fc("sweep", "--site", site, "--json")
        d = json.loads(out)[0]
        self.assertGreaterEqual(d["corrupt_events"], 1)
        self.assertIn("TC_EVENT_LOG_CORRUPT", d["findings"])

    # --- watch, ports, sweep ------------------------------------------------------------

    def test_watch_reports_a_change(self):
        p = subprocess.Popen([fieldctl_bin(), "watch", *self.rtu, "--unit", "2", "--interval",
                              "400", "--count", "4", "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, bufsize=0,
                             env=dict(os.environ, ACS_PROFILES=PROFILES))
        try:
            # Unbuffered: communicate() below reads the descriptor, past any Python buffer.
            first = json.loads(p.stdout.readline())  # the first reading is printed whole
            self.assertIsNone(first["was"])
            ok, text, _ = self.sim.ctl("set line1/2 board_temperature 55")
            self.assertTrue(ok, text)
            out, err = p.communicate(timeout=RUN_TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, 0, err)
        self.assertNotIn("Sanitizer", err.decode())
        # The rest of the first reading (was: null), then only the changes.
        later = [json.loads(line) for line in out.decode().splitlines()]
        first_rest = [c for c in later if c["was"] is None]
        self.assertIn("rtc_time", {c["name"] for c in first_rest})
        later = [c for c in later if c["was"] is not None]
        temps = [c for c in later if c["name"] == "board_temperature"]
        self.assertEqual(len(temps), 1, later)
        self.assertEqual(temps[0]["value"], 55)
        self.assertEqual(temps[0]["was"], "41.5 C")
        self.assertRegex(temps[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # Unchanged values are not repeated (uptime may tick; model_code never changes).
        self.assertNotIn("model_code", {c["name"] for c in later})
        ok, text, _ = self.sim.ctl("set line1/2 board_temperature 41.5")
        self.assertTrue(ok, text)
        _, out, _ = self.run_fc("watch", *self.tcp, "--count", "2", "--interval", "50")
        self.assertIn("supply_voltage", out)
        self.assertEqual(out.count("serial_number"), 1)

    def test_ports(self):
        _, out, _ = self.run_fc("ports")
        self.assertTrue(out.strip() == "no serial ports found" or
                        all(": " in line for line in out.splitlines()), out)
        _, out, _ = self.run_fc("ports", "--json")
        ports = json.loads(out)
        self.assertIsInstance(ports, list)
        for p in ports:
            self.assertIn(p["transport"], ("USB", "native", "Bluetooth"))
            self.assertEqual(p["rs485_adapter"], p["adapter"] is not None)
        self.run_fc("ports", "--port", "/dev/null", rc=2)

    def test_sweep_two_buses(self):
        site = os.path.join(self.workdir, "sweep.json")
        host, port = self.sim.tcp[0]
        with open(site, "w") as f:
            json.dump({"buses": [
                {"name": "line1", "port": self.sim.rtu[0], "baud": 19200, "parity": "E",
                 "turnaround": 150, "units": [1, 2, 5, 9]},
                {"name": "gate", "tcp": "%s:%d" % (host, port), "units": [1]}]}, f)
        _, out, err = self.run_fc("sweep", "--site", site, "--json", "--count", "3", rc=1)
        res = {(d["bus"], d["unit"]): d for d in json.loads(out)}
        self.assertEqual(set(res), {("line1", 1), ("line1", 2), ("line1", 5), ("line1", 9),
                                    ("gate", 1)})
        self.assertEqual(res[("line1", 5)]["model"], "RC-50")
        self.assertEqual(res[("gate", 1)]["serial"], "TC200-2404-00101")
        self.assertEqual(res[("line1", 2)]["requests"], 5)
        self.assertFalse(res[("line1", 9)]["ok"])
        self.assertIn("did not answer", res[("line1", 9)]["error"])
        self.assertIn("5 units on 2 buses", err)
        self.assertIn("1 of 5 units could not be read", err)
        with open(site, "w") as f:
            json.dump({"buses": [{"port": self.sim.rtu[0], "units": [1], "speed": 9600}]}, f)
        _, _, err = self.run_fc("sweep", "--site", site, rc=1)
        self.assertIn("buses[0].speed: unknown key", err)

    def test_usage(self):
        for cmd in ("scan", "identify", "read", "events", "action", "trace", "watch", "ports",
                    "sweep"):
            _, out, _ = self.run_fc(cmd, "--help")
            self.assertIn("usage: fieldctl " + cmd, out)
        _, _, err = self.run_fc("read", rc=2)
        self.assertIn("--port DEV or --tcp HOST:PORT", err)
        self.run_fc("frobnicate", rc=2)


if __name__ == "__main__":
    try:
        fieldctl_bin()
    except RuntimeError as e:
        print("error: %s" % e)
        sys.exit(1)
    prog = unittest.main(exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
