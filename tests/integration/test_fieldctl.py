#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration tests of fieldctl (fieldctl/, drivers/transport*, bus, device) against a real
acs-sim process: a scan over RTU on the simulator's pseudo-terminal finds exactly the units of
the site file; identify and read over TCP and RTU give the values of the site file's state; a
unit made silent through the control channel is reported with the actionable sentence while
the scan goes on; --json parses; an action without --confirm is refused and sends nothing.

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
    ],
}


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
        ok, text, _ = self.sim.ctl("clear line1/2 all")
        self.assertTrue(ok, text)

    def run_fc(self, *args, rc=0):
        p = subprocess.run([fieldctl_bin()] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120, stdin=subprocess.DEVNULL,
                           env=dict(os.environ, ACS_PROFILES=PROFILES))
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

    def test_usage(self):
        for cmd in ("scan", "identify", "read", "events", "action", "trace"):
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
