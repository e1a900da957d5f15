#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration tests of acs-sim (hardware-sim/): a real simulator process talked to by
third-party Modbus clients - mbpoll (libmodbus) over Modbus TCP and over Modbus RTU on the
simulator's pseudo-terminal, pymodbus over TCP (registers and FC 43/14) - and driven through
its control channel to show each fault's visible effect. No PostgreSQL is needed.

ACS_SIM_BIN names the acs-sim binary (ctest sets it); ACS_SOURCE_DIR the source tree.
Run alone: ACS_SIM_BIN=build/hardware-sim/acs-sim /usr/bin/python3 tests/integration/test_sim.py
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("ACS_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
PROFILES = os.path.join(SOURCE_DIR, "drivers", "profiles")


def sim_bin():
    b = os.environ.get("ACS_SIM_BIN")
    if not b or not os.access(b, os.X_OK):
        raise RuntimeError("ACS_SIM_BIN does not name the acs-sim binary (got %r)" % b)
    return b


def import_pymodbus():
    """Debian's python3-pymodbus 3.0 (with python3-serial and python3-serial-asyncio, which it
    imports even for TCP use; scripts/deps installs them)."""
    from pymodbus.client import ModbusTcpClient
    from pymodbus.mei_message import ReadDeviceInformationRequest
    return ModbusTcpClient, ReadDeviceInformationRequest


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def words_crc(words):
    return crc16(b"".join(struct.pack(">H", w) for w in words))


SITE = {
    "name": "integration",
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
        {"name": "slow", "type": "rtu", "baud": 1200, "parity": "none", "stop_bits": 2,
         "pacing": True, "units": [{"model": "TC-200", "unit_id": 7}]},
        {"name": "fast", "type": "rtu", "baud": 1200, "parity": "none", "stop_bits": 2,
         "pacing": False, "units": [{"model": "TC-200", "unit_id": 7}]},
    ],
}


class Sim:
    def __init__(self, site, workdir):
        self.path = os.path.join(workdir, "site-%d.json" % id(self))
        with open(self.path, "w") as f:
            json.dump(site, f)
        self.err_path = self.path + ".stderr"
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([sim_bin(), "--site", self.path], stdout=subprocess.PIPE,
                                     stderr=self.err, stdin=subprocess.DEVNULL)
        self.tcp, self.rtu, self.control = [], [], None
        deadline = time.monotonic() + 15
        buf = b""
        while self.control is None:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.kill()
                raise AssertionError("acs-sim did not print its addresses: %r\n%s"
                                     % (buf, self.stderr()))
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    kind, _, addr = line.decode().partition(" ")
                    if kind == "tcp":
                        host, port = addr.rsplit(":", 1)
                        self.tcp.append((host, int(port)))
                    elif kind == "rtu":
                        self.rtu.append(addr)
                    elif kind == "control":
                        host, port = addr.split(" ")[1].rsplit(":", 1)
                        self.control = socket.create_connection((host, int(port)), timeout=10)
                        self.cf = self.control.makefile("rwb")

    def ctl(self, line):
        """Send one control command; return (ok, text, info lines)."""
        self.cf.write(line.encode() + b"\n")
        self.cf.flush()
        info = []
        while True:
            got = self.cf.readline().decode()
            if not got:
                raise AssertionError("control channel closed after %r" % line)
            got = got.rstrip("\n")
            if got.startswith("- "):
                info.append(got[2:])
                continue
            status, _, text = got.partition(" ")
            return status == "ok", text, info

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        try:
            self.control.close()
        except Exception:
            pass
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        self.proc.stdout.close()
        self.err.close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def mbpoll(args, timeout=15):
    """Run mbpoll once; return (returncode, output, elapsed seconds, values by reference)."""
    t0 = time.monotonic()
    p = subprocess.run(["mbpoll", "-1"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    values = {}
    for m in re.finditer(r"^\[(\d+)\]:\s+(-?\d+)(?:\s+\(-?\d+\))?\s*$", out, re.M):
        values[int(m.group(1))] = int(m.group(2))
    return p.returncode, out, elapsed, values


class SimTestCase(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="acs_sim_it_")
        cls.sim = Sim(SITE, cls.workdir)
        cls.tcp_host, cls.tcp_port = cls.sim.tcp[0]
        cls.pty = cls.sim.rtu[0]

    @classmethod
    def tearDownClass(cls):
        rc = cls.sim.stop()
        err = cls.sim.stderr()
        shutil.rmtree(cls.workdir, ignore_errors=True)
        if rc != 0 or "Sanitizer" in err or "runtime error" in err:
            raise AssertionError("acs-sim did not stop cleanly on SIGTERM (status %s)\n%s"
                                 % (rc, err))

    def tearDown(self):
        for unit in ("gate", "line1/1", "line1/2", "line1/5"):
            ok, text, _ = self.sim.ctl("clear %s all" % unit)
            self.assertTrue(ok, text)

    # --- clients ------------------------------------------------------------------------

    def tcp_read(self, table, ref, count, unit=1, extra=()):
        rc, out, _, values = mbpoll(["-m", "tcp", "-a", str(unit), "-t", table, "-r", str(ref),
                                     "-c", str(count), "-o", "1", "-p", str(self.tcp_port)]
                                    + list(extra) + [self.tcp_host])
        self.assertEqual(rc, 0, out)
        return [values[r] for r in range(ref, ref + count)]

    def rtu(self, unit, table, ref, count, timeout="1", extra=()):
        return mbpoll(["-m", "rtu", "-b", "19200", "-P", "even", "-a", str(unit), "-t", table,
                       "-r", str(ref), "-c", str(count), "-o", timeout] + list(extra)
                      + [self.pty])

    def rtu_read(self, unit, table, ref, count):
        rc, out, _, values = self.rtu(unit, table, ref, count)
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(values), count, out)
        return [values[r] for r in range(ref, ref + count)]

    def raw_tcp(self, pdu, unit=1, tid=0x0102):
        with socket.create_connection((self.tcp_host, self.tcp_port), timeout=3) as s:
            s.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)
            hdr = b""
            while len(hdr) < 7:
                chunk = s.recv(7 - len(hdr))
                if not chunk:
                    raise AssertionError("connection closed")
                hdr += chunk
            rtid, proto, length, runit = struct.unpack(">HHHB", hdr)
            body = b""
            while len(body) < length - 1:
                body += s.recv(length - 1 - len(body))
            self.assertEqual(rtid, tid)
            self.assertEqual(proto, 0)
            return runit, body

    # --- helpers on the event log (TC-200: count IR 29, head IR 30, select HR 2, window IR
    # 100..107 = seq(2) timestamp(2) code detail supply crc) ------------------------------

    def newest_event_tcp(self):
        count, head = self.tcp_read("3", 30, 2)
        self.assertGreater(count, 0)
        slot = (head - 1) % 256
        rc, out, _, _ = mbpoll(["-m", "tcp", "-a", "1", "-t", "4", "-r", "3", "-p",
                                str(self.tcp_port), self.tcp_host, str(slot)])
        self.assertEqual(rc, 0, out)
        return self.tcp_read("3", 101, 8)


class TestRegisters(SimTestCase):
    def test_tcp_input_registers_from_profile(self):
        # model code, hardware revision, firmware 2.4.0, then the serial as ASCII
        self.assertEqual(self.tcp_read("3", 1, 5), [200, 3, 2, 4, 0])
        serial = b"".join(struct.pack(">H", w) for w in self.tcp_read("3", 6, 8))
        self.assertEqual(serial, b"TC200-2404-00101")
        # supply voltage (scale 0.01) and the entry counter from the site file's state
        self.assertEqual(self.tcp_read("3", 17, 1), [1220])
        self.assertEqual(self.tcp_read("3", 22, 2), [0, 1520])

    def test_tcp_holding_coils_discrete(self):
        # mode normal, unlock_timeout 5 s, event_select, motor_current_limit 2500 mA
        self.assertEqual(self.tcp_read("4", 1, 4)[0:2], [0, 5])
        self.assertEqual(self.tcp_read("4", 4, 1), [2500])
        self.assertEqual(self.tcp_read("0", 1, 4), [0, 0, 0, 0])
        # rotor home, sensors clear, no fire alarm, no tamper
        self.assertEqual(self.tcp_read("1", 1, 5), [1, 0, 0, 0, 0])

    def test_rtu_units_share_the_line(self):
        self.assertEqual(self.rtu_read(1, "3", 1, 2), [200, 3])
        self.assertEqual(self.rtu_read(2, "3", 1, 1), [200])
        self.assertEqual(self.rtu_read(2, "3", 19, 1), [415])  # board_temperature 41.5 C
        self.assertEqual(self.rtu_read(5, "3", 1, 5), [50, 2, 1, 9, 4])  # RC-50, fw 1.9.4
        # RC-50 supply_voltage: float32 low word first, 12.1 V by default
        lo, hi = self.rtu_read(5, "3", 17, 2)
        self.assertAlmostEqual(struct.unpack(">f", struct.pack(">HH", hi, lo))[0], 12.1,
                               places=4)
        self.assertEqual(self.rtu_read(1, "4", 1, 2), [0, 5])
        self.assertEqual(self.rtu_read(5, "0", 1, 3), [0, 1, 0])  # led_green, led_red, beep
        self.assertEqual(self.rtu_read(1, "1", 1, 1), [1])

    def test_rtu_absent_unit_is_silent(self):
        rc, out, elapsed, values = self.rtu(9, "3", 1, 1, timeout="0.5")
        self.assertNotEqual(rc, 0)
        self.assertEqual(values, {})
        self.assertIn("timed out", out)
        self.assertGreaterEqual(elapsed, 0.45)
        # and the units that exist still answer afterwards
        self.assertEqual(self.rtu_read(2, "3", 1, 1), [200])

    def test_rtu_pacing_at_the_line_rate(self):
        # 15 input registers: a 35-byte reply, 11 bits a character (8N2) at 1200 baud =
        # 321 ms on a paced line; the same bus without pacing answers at once.
        def read(pty):
            rc, out, elapsed, values = mbpoll(["-m", "rtu", "-b", "1200", "-P", "none",
                                               "-s", "2", "-a", "7", "-t", "3", "-r", "17",
                                               "-c", "15", "-o", "3", pty])
            self.assertEqual(rc, 0, out)
            self.assertEqual(values[17], 1205)
            return elapsed
        paced, unpaced = read(self.sim.rtu[1]), read(self.sim.rtu[2])
        self.assertGreaterEqual(paced, 0.32)
        self.assertLess(paced, 1.2)
        self.assertGreaterEqual(paced - unpaced, 0.25, (paced, unpaced))

    def test_rtu_report_server_id(self):
        rc, out, _, _ = mbpoll(["-m", "rtu", "-b", "19200", "-P", "even", "-u", "-a", "5",
                                self.pty])
        self.assertEqual(rc, 0, out)
        self.assertIn("Id    : 0x05", out)
        self.assertIn("Status: On", out)
        self.assertIn("RC-50 RC50-2311-000105 1.9.4", out)

    def test_pymodbus_identification_and_registers(self):
        ModbusTcpClient, ReadDeviceInformationRequest = import_pymodbus()
        c = ModbusTcpClient(self.tcp_host, port=self.tcp_port, timeout=3)
        self.assertTrue(c.connect())
        try:
            r = c.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, unit=1))
            self.assertFalse(r.isError(), r)
            self.assertEqual(r.information[0], b"acsfield reference hardware")
            self.assertEqual(r.information[1], b"TC-200")
            self.assertEqual(r.information[2], b"2.4.0")
            self.assertEqual(set(r.information), {0, 1, 2})
            r = c.execute(ReadDeviceInformationRequest(read_code=4, object_id=1, unit=1))
            self.assertFalse(r.isError(), r)
            self.assertEqual(r.information, {1: b"TC-200"})
            r = c.execute(ReadDeviceInformationRequest(read_code=2, object_id=0, unit=1))
            self.assertFalse(r.isError(), r)
            self.assertEqual(r.information[5], b"TC-200")
            r = c.read_input_registers(0, 5, slave=1)
            self.assertFalse(r.isError(), r)
            self.assertEqual(r.registers, [200, 3, 2, 4, 0])
            r = c.read_holding_registers(3, 1, slave=1)
            self.assertEqual(r.registers, [2500])
            # a write within limits is taken; outside min/max is exception 03
            r = c.write_register(1, 10, slave=1)
            self.assertFalse(r.isError(), r)
            self.assertEqual(c.read_holding_registers(1, 1, slave=1).registers, [10])
            r = c.write_register(1, 999, slave=1)
            self.assertTrue(r.isError())
            self.assertEqual(r.exception_code, 3)
            c.write_register(1, 5, slave=1)
            # another unit id behind this endpoint: gateway exception 0x0B
            r = c.read_input_registers(0, 1, slave=7)
            self.assertTrue(r.isError())
            self.assertEqual(r.exception_code, 0x0B)
        finally:
            c.close()

    def test_exceptions(self):
        # illegal data address: past the holding registers, and a hole in the input registers
        rc, out, _, _ = mbpoll(["-m", "tcp", "-t", "4", "-r", "50", "-p", str(self.tcp_port),
                                self.tcp_host])
        self.assertNotEqual(rc, 0)
        self.assertIn("Illegal data address", out)
        unit, body = self.raw_tcp(bytes([0x04, 0x00, 0x1F, 0x00, 0x01]))  # IR 31 is a hole
        self.assertEqual(body, bytes([0x84, 0x02]))
        # illegal function
        unit, body = self.raw_tcp(bytes([0x07]))
        self.assertEqual((unit, body), (1, bytes([0x87, 0x01])))
        # illegal data value: 126 registers, and a coil value that is neither 0 nor FF00
        unit, body = self.raw_tcp(bytes([0x03, 0x00, 0x00, 0x00, 0x7E]))
        self.assertEqual(body, bytes([0x83, 0x03]))
        unit, body = self.raw_tcp(bytes([0x05, 0x00, 0x00, 0x12, 0x34]))
        self.assertEqual(body, bytes([0x85, 0x03]))
        # writing a read-only register
        unit, body = self.raw_tcp(bytes([0x06, 0x00, 0x10, 0x00, 0x01]))
        self.assertEqual(body, bytes([0x86, 0x02]))


class TestBehaviour(SimTestCase):
    def test_uptime_ticks(self):
        a = self.tcp_read("3", 26, 2)
        time.sleep(1.3)
        b = self.tcp_read("3", 26, 2)
        self.assertGreaterEqual((b[0] << 16 | b[1]) - (a[0] << 16 | a[1]), 1)

    def test_unlock_then_passage_counts_and_logs(self):
        before = self.tcp_read("3", 22, 2)[1]
        rc, out, _, _ = mbpoll(["-m", "tcp", "-t", "0", "-r", "1", "-p", str(self.tcp_port),
                                self.tcp_host, "1"])
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.tcp_read("1", 6, 1), [1])  # entry_unlocked
        self.assertEqual(self.tcp_read("3", 21, 1), [1])  # state entry_released
        ok, text, _ = self.sim.ctl("pass gate entry")
        self.assertTrue(ok, text)
        self.assertEqual(self.tcp_read("3", 22, 2)[1], before + 1)
        self.assertEqual(self.tcp_read("0", 1, 1), [0])  # unlock_entry cleared
        rec = self.newest_event_tcp()
        self.assertEqual(rec[4], 2)  # passage_entry
        self.assertEqual(rec[7], words_crc(rec[:7]))
        self.assertEqual(rec[6], 1220)  # supply voltage when logged
        # a passage without a release is logged as forced, not counted
        ok, text, _ = self.sim.ctl("pass gate entry")
        self.assertTrue(ok, text)
        self.assertIn("forced", text)
        self.assertEqual(self.tcp_read("3", 22, 2)[1], before + 1)
        self.assertEqual(self.newest_event_tcp()[4], 5)

    def test_card_reads_logged_with_decision(self):
        ok, text, _ = self.sim.ctl("card line1/5 1234563")
        self.assertTrue(ok, text)
        self.assertIn("granted", text)
        lo, hi = self.rtu_read(5, "3", 21, 2)  # last_card_uid, low word first
        self.assertEqual(hi << 16 | lo, 1234563)
        ok, text, _ = self.sim.ctl("card line1/5 1234568")
        self.assertIn("denied_unknown", text)
        count, head = self.rtu_read(5, "3", 31, 2)
        slot = (head - 1) % 512
        rc, out, _, _ = self.rtu(5, "4", 4, 1, extra=())  # read select first (sanity)
        self.assertEqual(rc, 0, out)
        rc, out, _, _ = mbpoll(["-m", "rtu", "-b", "19200", "-P", "even", "-a", "5", "-t", "4",
                                "-r", "4", self.pty, str(slot)])
        self.assertEqual(rc, 0, out)
        rec = self.rtu_read(5, "3", 101, 10)
        self.assertEqual(rec[4], 2)  # card_read
        self.assertEqual(rec[6] << 16 | rec[5], 1234568)
        self.assertEqual(rec[7], 2)  # denied_unknown
        self.assertEqual(rec[8], 26)  # wiegand26
        self.assertEqual(rec[9], words_crc(rec[:9]))

    def test_event_log_ring_wraps(self):
        for _ in range(300):
            ok, text, _ = self.sim.ctl("pass line1/2 exit")
            self.assertTrue(ok, text)
        count, head = self.rtu_read(2, "3", 30, 2)
        self.assertEqual(count, 256)
        # power_on + 300 forced passages (the ring holds 256): the head went round
        self.assertEqual(head, 301 % 256)
        rc, out, _, _ = mbpoll(["-m", "rtu", "-b", "19200", "-P", "even", "-a", "2", "-t", "4",
                                "-r", "3", self.pty, str(head)])  # the oldest record
        self.assertEqual(rc, 0, out)
        rec = self.rtu_read(2, "3", 101, 8)
        self.assertEqual(rec[0] << 16 | rec[1], 301 - 256 + 1)  # its seq
        self.assertEqual(rec[4], 5)


class TestFaults(SimTestCase):
    def test_no_answer(self):
        self.assertTrue(self.sim.ctl("fault line1/2 no-answer")[0])
        rc, out, _, values = self.rtu(2, "3", 1, 1, timeout="0.5")
        self.assertNotEqual(rc, 0)
        self.assertIn("timed out", out)
        self.assertEqual(self.rtu_read(1, "3", 1, 1), [200])  # its neighbour still answers
        self.assertTrue(self.sim.ctl("clear line1/2 no-answer")[0])
        self.assertEqual(self.rtu_read(2, "3", 1, 1), [200])

    def test_late_answer(self):
        _, _, base, _ = self.rtu(1, "3", 1, 1, timeout="2")
        self.assertTrue(self.sim.ctl("fault line1/1 late 400")[0])
        rc, out, late, values = self.rtu(1, "3", 1, 1, timeout="2")
        self.assertEqual(rc, 0, out)
        self.assertEqual(values, {1: 200})
        self.assertGreaterEqual(late - base, 0.35, (base, late))
        # a late unit does not hold up the others on TCP or on its own line
        t0 = time.monotonic()
        self.assertEqual(self.tcp_read("3", 1, 1), [200])
        self.assertLess(time.monotonic() - t0, 0.35)

    def test_bad_crc(self):
        ok, text, _ = self.sim.ctl("fault line1/1 bad-crc")
        self.assertTrue(ok, text)
        rc, out, _, values = self.rtu(1, "3", 1, 1, timeout="0.5")
        self.assertNotEqual(rc, 0)
        self.assertIn("CRC", out)
        ok, text, _ = self.sim.ctl("fault gate bad-crc")
        self.assertFalse(ok)
        self.assertIn("RTU", text)

    def test_wrong_unit(self):
        self.assertTrue(self.sim.ctl("fault line1/2 wrong-unit 3")[0])
        rc, out, _, values = self.rtu(2, "3", 1, 1, timeout="0.5")
        self.assertNotEqual(rc, 0)
        self.assertEqual(values, {})
        self.assertTrue(self.sim.ctl("fault gate wrong-unit 9")[0])
        unit, body = self.raw_tcp(bytes([0x04, 0x00, 0x00, 0x00, 0x01]))
        self.assertEqual(unit, 9)
        self.assertEqual(body, bytes([0x04, 0x02, 0x00, 0xC8]))

    def test_forced_exception(self):
        self.assertTrue(self.sim.ctl("fault gate exception 4")[0])
        unit, body = self.raw_tcp(bytes([0x03, 0x00, 0x00, 0x00, 0x01]))
        self.assertEqual(body, bytes([0x83, 0x04]))
        self.assertTrue(self.sim.ctl("fault line1/1 exception 6")[0])
        rc, out, _, _ = self.rtu(1, "3", 1, 1)
        self.assertNotEqual(rc, 0)
        self.assertIn("busy", out.lower())

    def test_stuck_sensor(self):
        ok, text, _ = self.sim.ctl("fault gate stuck-sensor entry_sensor")
        self.assertTrue(ok, text)
        self.assertEqual(self.tcp_read("1", 2, 1), [1])
        ok, text, _ = self.sim.ctl("set gate entry_sensor off")
        self.assertFalse(ok)  # the model cannot move a stuck sensor
        self.assertEqual(self.tcp_read("1", 2, 1), [1])
        ok, text, _ = self.sim.ctl("fault line1/2 stuck-sensor board_temperature 85")
        self.assertTrue(ok, text)
        self.assertEqual(self.rtu_read(2, "3", 19, 1), [850])
        self.assertTrue(self.sim.ctl("clear gate stuck-sensor entry_sensor")[0])
        self.assertTrue(self.sim.ctl("set gate entry_sensor off")[0])
        self.assertEqual(self.tcp_read("1", 2, 1), [0])

    def test_low_supply(self):
        ok, text, _ = self.sim.ctl("fault gate low-supply 9.6")
        self.assertTrue(ok, text)
        self.assertEqual(self.tcp_read("3", 17, 1), [960])
        time.sleep(0.3)  # the brown-out bit is raised on the next tick
        self.assertTrue(self.tcp_read("3", 20, 1)[0] & (1 << 5))
        self.assertTrue(self.sim.ctl("clear gate low-supply")[0])
        self.assertEqual(self.tcp_read("3", 20, 1)[0] & (1 << 5), 0)

    def test_tamper(self):
        self.assertTrue(self.sim.ctl("fault gate tamper")[0])
        self.assertEqual(self.tcp_read("1", 5, 1), [1])
        self.assertEqual(self.newest_event_tcp()[4], 8)  # tamper_open
        self.assertTrue(self.sim.ctl("clear gate tamper")[0])
        self.assertEqual(self.tcp_read("1", 5, 1), [0])
        self.assertEqual(self.newest_event_tcp()[4], 9)  # tamper_closed

    def test_corrupt_event(self):
        rec = self.newest_event_tcp()
        self.assertEqual(rec[7], words_crc(rec[:7]))
        ok, text, _ = self.sim.ctl("fault gate corrupt-event")
        self.assertTrue(ok, text)
        rec = self.newest_event_tcp()
        self.assertNotEqual(rec[7], words_crc(rec[:7]))

    def test_power_loss(self):
        self.assertTrue(self.sim.ctl("fault line1/5 power-loss")[0])
        rc, out, _, _ = self.rtu(5, "3", 1, 1, timeout="0.5")
        self.assertNotEqual(rc, 0)
        self.assertIn("timed out", out)
        time.sleep(1.2)
        self.assertTrue(self.sim.ctl("power line1/5 on")[0])
        self.assertEqual(self.rtu_read(5, "3", 1, 1), [50])
        lo, hi = self.rtu_read(5, "3", 28, 2)  # uptime restarted
        self.assertLess(hi << 16 | lo, 2)


class TestProcess(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="acs_sim_it_")

    def tearDown(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def run_site(self, site):
        path = os.path.join(self.workdir, "bad.json")
        with open(path, "w") as f:
            f.write(site if isinstance(site, str) else json.dumps(site))
        p = subprocess.run([sim_bin(), "--site", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, stdin=subprocess.DEVNULL)
        return p.returncode, p.stderr.decode(), path

    def test_bad_site_files_are_refused(self):
        cases = [
            ({"buses": [{"name": "a", "type": "serial", "units": []}]}, "buses[0].type"),
            ({"buses": [{"name": "a", "type": "rtu", "baud": 12,
                         "units": [{"model": "TC-200", "unit_id": 1}]}]}, "buses[0].baud"),
            ({"buses": [{"name": "a", "type": "rtu", "units": [
                {"model": "TC-200", "unit_id": 1}, {"model": "TC-200", "unit_id": 1}]}]},
             "buses[0].units[1].unit_id"),
            ({"buses": [{"name": "a", "type": "tcp", "units": [
                {"model": "XX-1", "unit_id": 1}]}]}, "buses[0].units[0].model"),
            ({"buses": [{"name": "a", "type": "tcp", "units": [
                {"model": "TC-200", "unit_id": 1, "state": {"nope": 1}}]}]},
             "buses[0].units[0].state.nope"),
            ({"buses": [{"name": "a", "type": "tcp", "units": [
                {"model": "TC-200", "unit_id": 1, "colour": "red"}]}]},
             "buses[0].units[0].colour"),
            ("{\"buses\": [", "line"),
        ]
        for site, field in cases:
            if isinstance(site, dict):
                site["profiles"] = PROFILES
            rc, err, path = self.run_site(site)
            self.assertEqual(rc, 2, err)
            self.assertIn(path, err)
            self.assertIn(field, err)
            self.assertNotIn("Sanitizer", err)

    def test_sigterm_and_sigint_exit_cleanly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            sim = Sim(SITE, self.workdir)
            # a late reply and a client connection are pending when the signal comes
            self.assertTrue(sim.ctl("fault gate late 5000")[0])
            s = socket.create_connection(sim.tcp[0], timeout=3)
            s.sendall(struct.pack(">HHHB", 1, 0, 6, 1) + bytes([0x03, 0, 0, 0, 1]))
            time.sleep(0.2)
            rc = sim.stop(sig)
            s.close()
            err = sim.stderr()
            self.assertEqual(rc, 0, err)
            self.assertNotIn("Sanitizer", err)
            self.assertIn("stopped", err)


if __name__ == "__main__":
    try:
        sim_bin()
    except RuntimeError as e:
        print("error: %s" % e)
        sys.exit(1)
    prog = unittest.main(exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
