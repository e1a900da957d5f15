#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""fieldctl against a third-party Modbus server: a pymodbus 3.0 TCP server (Debian's
python3-pymodbus) serving the registers of a TC-200 whose values this test encodes itself from
drivers/profiles/tc200.json - struct.pack, the profile's word order, scale, string layout, bit
numbers and enumeration values - without any acsfield code. fieldctl identify and read must
give back exactly the values put in, with their units, the model and the serial; and the
findings of `read --json` must be the ones the profile's faults and rules give for the data
(computed here from the JSON too): none spurious at the exact thresholds, the matching ones for
values outside the limits and for fault bits and fault inputs set.

The datastore holds exactly the addresses the profile maps (ModbusSparseDataBlock), so like an
acsfield device the server answers exception 02 for a hole (input registers 13-15) and past
the end; every mapped address not given a value here holds 0. zero_mode=True: pymodbus 3.0's
ModbusSlaveContext otherwise adds 1 to every protocol address before looking it up in the
block (test_datastore_addresses pins this with raw frames).

ACS_FIELDCTL_BIN names fieldctl (ctest sets it); ACS_SOURCE_DIR the source tree.
Run alone: ACS_FIELDCTL_BIN=build/asan/fieldctl/fieldctl \
  /usr/bin/python3 tests/integration/test_pymodbus_peer.py
"""
import asyncio
import json
import logging
import math
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("ACS_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
PROFILES = os.path.join(SOURCE_DIR, "drivers", "profiles")
TC200 = os.path.join(PROFILES, "tc200.json")

RUN_TIMEOUT = 30           # every fieldctl run
SERVER_START_TIMEOUT = 10  # the server thread binding its port
SERVER_MAX_LIFETIME = 120  # the server closes itself after this, whatever happens
UNIT = 1

VENDOR = "acsfield reference hardware"
# FC 43/14 MajorMinorRevision and the firmware registers fw_major/fw_minor/fw_patch agree,
# as on a real unit; both differ from the profile's 2.4.0 so a default cannot pass for them.
REVISION = "2.7.3"
SERIAL = "TC200-2511-7771"  # 15 of 16 bytes: the last register is '1' and a NUL pad


def fieldctl_bin():
    b = os.environ.get("ACS_FIELDCTL_BIN")
    if not b or not os.access(b, os.X_OK):
        raise RuntimeError("ACS_FIELDCTL_BIN does not name fieldctl (got %r)" % b)
    return b


def load_profile():
    with open(TC200) as f:
        return json.load(f)


# --- encoding, from the profile's description of each type (docs/profiles.md) -------------

WORDS = {"u16": 1, "i16": 1, "bitfield": 1, "u32": 2, "i32": 2, "float32": 2}


def reg_words(reg):
    if reg["type"] == "string":
        return (reg["length"] + 1) // 2
    return WORDS[reg["type"]]


def enum_value(reg, name):
    for v in reg["values"]:
        if v["name"] == name:
            return v["value"]
    raise KeyError("%s has no value %r" % (reg["name"], name))


def bit_number(reg, name):
    for b in reg["bits"]:
        if b["name"] == name:
            return b["bit"]
    raise KeyError("%s has no bit %r" % (reg["name"], name))


def encode(reg, value):
    """Engineering value -> list of 16-bit words (or [bool] for a bit), as a device holds it."""
    t = reg["type"]
    if t == "bool":
        return [bool(value)]
    if t == "string":
        raw = value.encode("ascii")
        n = reg_words(reg)
        assert len(raw) <= reg["length"], value
        raw = raw.ljust(2 * n, b"\0")  # first character in the high byte, NUL-padded
        return list(struct.unpack(">%dH" % n, raw))
    if t == "bitfield":
        if isinstance(value, (list, tuple, set)):
            value = sum(1 << bit_number(reg, b) for b in value)
        return [value & 0xFFFF]
    if "values" in reg and isinstance(value, str):
        value = enum_value(reg, value)
    if t == "float32":
        hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    else:
        scale = reg.get("scale", 1)
        raw = int(round(value / scale))
        fmt = {"u16": ">H", "i16": ">h", "u32": ">I", "i32": ">i"}[t]
        packed = struct.pack(fmt, raw)  # raises if the raw value does not fit the type
        if WORDS[t] == 1:
            return list(struct.unpack(">H", packed))
        hi, lo = struct.unpack(">HH", packed)
    order = reg["word_order"]
    if order == "high_first":
        return [hi, lo]
    if order == "low_first":
        return [lo, hi]
    raise ValueError(order)


def zero_value(reg):
    """What a register holding only zeros means."""
    t = reg["type"]
    if t == "bool":
        return False
    if t == "string":
        return ""
    if t == "float32":
        return 0.0
    if "values" in reg:
        for v in reg["values"]:
            if v["value"] == 0:
                return v["name"]
    return 0


def raw_number(reg, value):
    """The integer the device holds for an enumeration name / bit list / number (for rules)."""
    if reg["type"] == "bitfield" and isinstance(value, (list, tuple, set)):
        return sum(1 << bit_number(reg, b) for b in value)
    if "values" in reg and isinstance(value, str):
        return enum_value(reg, value)
    return value


class Unit:
    """One TC-200's data: engineering values by register name, the rest zeros."""

    TABLES = {"coil": "co", "discrete_input": "di", "input": "ir", "holding": "hr"}

    def __init__(self, profile, values):
        self.profile = profile
        self.regs = {r["name"]: r for r in profile["registers"]}
        unknown = set(values) - set(self.regs)
        assert not unknown, unknown
        self.values = {n: values.get(n, zero_value(r)) for n, r in self.regs.items()}

    def blocks(self):
        """{"co"|"di"|"ir"|"hr": {address: value}} holding every mapped address, no other."""
        out = {k: {} for k in self.TABLES.values()}
        for name, reg in self.regs.items():
            words = encode(reg, self.values[name])
            assert len(words) == (1 if reg["type"] == "bool" else reg_words(reg))
            block = out[self.TABLES[reg["table"]]]
            for i, w in enumerate(words):
                assert reg["address"] + i not in block, (name, reg["address"] + i)
                block[reg["address"] + i] = w
        return out

    def expected_findings(self):
        """{code: severity}, from the profile's faults and (single-reading) rules."""
        out = {}
        for f in self.profile.get("faults", []):
            reg = self.regs[f["register"]]
            val = self.values[f["register"]]
            if reg["type"] == "bitfield":
                bit = bit_number(reg, f["bit"])
                on = bool(raw_number(reg, val) >> bit & 1)
            else:
                on = bool(val)
            if on == f.get("active", True):
                out[f["code"]] = f["severity"]
        for r in self.profile.get("rules", []):
            kind = r.get("kind", "threshold")
            reg = self.regs[r["register"]]
            val = self.values[r["register"]]
            if kind == "threshold":
                if isinstance(val, float) and math.isnan(val):
                    continue
                if ("min" in r and val < r["min"]) or ("max" in r and val > r["max"]):
                    out[r["code"]] = r["severity"]
            elif kind == "equals":
                want = r["equals"]
                if "values" in reg and isinstance(want, str):
                    want = enum_value(reg, want)
                if raw_number(reg, val) == want:
                    out[r["code"]] = r["severity"]
            # rate and decrease compare two readings: one `read` never fires them
        return out


# --- the pymodbus server -------------------------------------------------------------------

class PymodbusPeer:
    """A pymodbus 3.0 ModbusTcpServer on 127.0.0.1:<free port> in a thread of its own."""

    def __init__(self, unit, devid=True):
        from pymodbus.datastore import (ModbusServerContext, ModbusSlaveContext,
                                        ModbusSparseDataBlock)
        from pymodbus.device import ModbusDeviceIdentification
        from pymodbus.server.async_io import ModbusTcpServer

        ident = unit.profile["identification"]
        # pymodbus keeps one identification per process (ModbusControlBlock is a singleton):
        # every server sets all three objects, empty ones for a unit without FC 43 data.
        self.identity = ModbusDeviceIdentification(info_name={
            "VendorName": VENDOR if devid else "",
            "ProductCode": ident["product_code"] if devid else "",
            "MajorMinorRevision": REVISION if devid else "",
        })
        blocks = unit.blocks()
        slave = ModbusSlaveContext(zero_mode=True,
                                   **{k: ModbusSparseDataBlock(v) for k, v in blocks.items()})
        self.context = ModbusServerContext(slaves={UNIT: slave}, single=False)
        self._server_cls = ModbusTcpServer
        self.loop = asyncio.new_event_loop()
        self.port = None
        self.error = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pymodbus-peer", daemon=True)
        self.thread.start()
        if not self._ready.wait(SERVER_START_TIMEOUT):
            self.stop()
            raise AssertionError("the pymodbus server did not start within %d s"
                                 % SERVER_START_TIMEOUT)
        if self.error is not None:
            self.stop()
            raise AssertionError("the pymodbus server did not start: %r" % (self.error,))
        self._wait_port()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self._server_cls(self.context, identity=self.identity,
                                           address=("127.0.0.1", 0), loop=self.loop)
            task = self.loop.create_task(self.server.serve_forever())
            done, _ = self.loop.run_until_complete(asyncio.wait(
                [task, self.server.serving], timeout=SERVER_START_TIMEOUT,
                return_when=asyncio.FIRST_COMPLETED))
            if not self.server.serving.done():
                raise RuntimeError("serve_forever ended before serving: %r"
                                   % (task.exception() if task.done() else "timeout"))
            self.port = self.server.server.sockets[0].getsockname()[1]
            self._ready.set()
            # Bounded lifetime: close on our own if nobody stops us.
            self.loop.call_later(SERVER_MAX_LIFETIME,
                                 lambda: self.loop.create_task(self.server.server_close()))
            try:
                self.loop.run_until_complete(task)
            except asyncio.CancelledError:
                pass
        except BaseException as e:  # reported to the test through self.error
            self.error = e
            self._ready.set()
        finally:
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    def _wait_port(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self):
        if self.thread.is_alive() and not self.loop.is_closed():
            try:
                fut = asyncio.run_coroutine_threadsafe(self.server.server_close(), self.loop)
                fut.result(10)
            except Exception:  # the loop may have ended on its own meanwhile
                pass
        self.thread.join(15)
        if self.thread.is_alive():
            raise AssertionError("the pymodbus server thread did not end")


def raw_request(port, pdu, unit=UNIT, tid=0x4242):
    """One Modbus TCP request with a plain socket; returns the reply PDU."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)
        buf = b""
        while len(buf) < 7 or len(buf) < 6 + struct.unpack(">H", buf[4:6])[0]:
            chunk = s.recv(512)
            if not chunk:
                raise AssertionError("connection closed after %d bytes" % len(buf))
            buf += chunk
    rtid, proto, length, runit = struct.unpack(">HHHB", buf[:7])
    assert (rtid, proto, runit) == (tid, 0, unit), buf.hex()
    return buf[7:6 + length]


def read_words(port, fc, address, count):
    body = raw_request(port, struct.pack(">BHH", fc, address, count))
    if body[0] != fc:
        return ("exception", body[1])
    return list(struct.unpack(">%dH" % count, body[2:2 + 2 * count]))


def read_bits(port, fc, address, count):
    body = raw_request(port, struct.pack(">BHH", fc, address, count))
    if body[0] != fc:
        return ("exception", body[1])
    return [bool(body[2 + i // 8] >> (i % 8) & 1) for i in range(count)]


def fc43_basic(port):
    """FC 43/14 read code 1 with a raw frame; {object id: bytes} or None if refused."""
    body = raw_request(port, bytes([0x2B, 0x0E, 0x01, 0x00]))
    if body[0] != 0x2B or len(body) < 7:
        return None
    n, pos, objs = body[6], 7, {}
    for _ in range(n):
        oid, ln = body[pos], body[pos + 1]
        objs[oid] = body[pos + 2:pos + 2 + ln]
        pos += 2 + ln
    return objs


# --- the tests ---------------------------------------------------------------------------

# A TC-200 in service, chosen to exercise each kind of register.
GOOD = {
    "unlock_exit": True,                     # coil 1
    "rotor_home": True,                      # discrete input 0
    "exit_unlocked": True,                   # discrete input 6
    "model_code": None,                      # the profile's model code (set below)
    "hw_revision": 5,
    "fw_major": 2, "fw_minor": 7, "fw_patch": 3,
    "serial_number": SERIAL,                 # string, 8 registers
    "supply_voltage": 12.34,                 # u16 x0.01 V: raw 1234
    "motor_current": 850,                    # u16 mA
    "board_temperature": -5.5,               # i16 x0.1 C: raw -55 = 0xffc9
    "fault_bitmap": 0,
    "state": "passing",                      # enumeration (3)
    "entry_passages": 123456,                # u32 high_first: 0x0001 0xe240
    "exit_passages": 70001,                  # 0x0001 0x1171
    "uptime": 262817,                        # s, 0x0004 0x02a1
    "motor_peak_current": 2.3,               # float32 high_first, A (not exact in binary32)
    "mode": "free_passage",                  # holding enumeration (1)
    "unlock_timeout": 12,
    "motor_current_limit": 2200,
    "rtc_time": 1767225600,                  # 2026-01-01T00:00:00Z: 0x6955 0xb900
}


class PymodbusPeerTest(unittest.TestCase):
    maxDiff = 6000

    @classmethod
    def setUpClass(cls):
        cls.profile = load_profile()
        cls.model_code = cls.profile["identification"]["model_code"]
        cls.model = cls.profile["identification"]["product_code"]
        cls.regs = {r["name"]: r for r in cls.profile["registers"]}

    def setUp(self):
        self.peer = None

    def tearDown(self):
        if self.peer is not None:
            self.peer.stop()
            self.peer = None

    def serve(self, values, devid=True):
        values = dict(values)
        if values.get("model_code", 0) is None:
            values["model_code"] = self.model_code
        unit = Unit(self.profile, values)
        self.peer = PymodbusPeer(unit, devid)
        self.link = ["--tcp", "127.0.0.1:%d" % self.peer.port, "--unit", str(UNIT)]
        return unit

    def run_fc(self, *args, rc=0):
        p = subprocess.run([fieldctl_bin()] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL,
                           env=dict(os.environ, ACS_PROFILES=PROFILES))
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)
        self.assertEqual(p.returncode, rc, "fieldctl %s\nstdout:\n%s\nstderr:\n%s"
                         % (" ".join(args), out, err))
        return out, err

    def read_json(self):
        out, _ = self.run_fc("read", *self.link, "--json")
        return json.loads(out)

    def fc43_answered(self):
        """Whether pymodbus 3.0 answers FC 43/14 with our three basic objects."""
        objs = fc43_basic(self.peer.port)
        want = {0: VENDOR.encode(), 1: self.model.encode(), 2: REVISION.encode()}
        return objs is not None and all(objs.get(k) == v for k, v in want.items())

    def assert_values(self, d, unit):
        """Every register of the profile decoded as encoded, with the profile's unit."""
        got = {v["name"]: v for v in d["values"]}
        self.assertEqual(sorted(got), sorted(self.regs), "read does not list the profile")
        mismatches = []
        for name, reg in self.regs.items():
            v = got[name]
            want = unit.values[name]
            if reg["type"] == "bitfield":
                want = raw_number(reg, want)
            self.assertEqual((v["table"], v["address"]), (reg["table"], reg["address"]), name)
            self.assertEqual(v["unit"], reg.get("unit", ""), name)
            if reg["type"] == "float32":
                f32 = struct.unpack(">f", struct.pack(">f", want))[0]
                ok = math.isclose(v["value"], f32, rel_tol=1e-6, abs_tol=1e-9)
            elif reg["type"] == "bool":
                ok = v["value"] is want
            else:
                # Scaled integers are raw / n exactly (docs/profiles.md): 1234 x 0.01 is the
                # double 12.34, so exact equality is right.
                ok = v["value"] == want and type(v["value"]) is type(want)
            if not ok:
                mismatches.append("%s (%s:%d, %s%s): expected %r, fieldctl gave %r (text %r)"
                                  % (name, reg["table"], reg["address"], reg["type"],
                                     " " + reg.get("word_order", "") if "word_order" in reg
                                     else "", want, v["value"], v["text"]))
        if mismatches:
            self.fail("fieldctl disagrees with the encoded values:\n" + "\n".join(mismatches))

    def assert_findings(self, d, unit):
        want = unit.expected_findings()
        got = {f["code"]: f["severity"] for f in d["findings"]}
        self.assertEqual(got, want)
        for f in d["findings"]:
            self.assertTrue(f["message"] and f["advice"], f)
        return got

    # -----------------------------------------------------------------------------------

    def test_datastore_addresses(self):
        """The server holds the values at the profile's own addresses (pymodbus zero_mode)."""
        unit = self.serve(GOOD)
        port = self.peer.port
        self.assertEqual(read_words(port, 4, 0, 1), [self.model_code])
        self.assertEqual(read_words(port, 4, 16, 1), [1234])
        self.assertEqual(read_words(port, 4, 18, 1), [0xFFC9])
        self.assertEqual(read_words(port, 4, 21, 2), [0x0001, 0xE240])
        self.assertEqual(read_words(port, 4, 27, 2), list(struct.unpack(">HH",
                                                                        struct.pack(">f", 2.3))))
        self.assertEqual(read_words(port, 4, 5, 8)[:2], [ord("T") << 8 | ord("C"),
                                                         ord("2") << 8 | ord("0")])
        self.assertEqual(read_words(port, 4, 12, 1), [ord("1") << 8])
        self.assertEqual(read_words(port, 3, 0, 1), [1])    # mode free_passage
        self.assertEqual(read_words(port, 3, 5, 2), [0x6955, 0xB900])
        self.assertEqual(read_bits(port, 1, 0, 4), [False, True, False, False])
        self.assertEqual(read_bits(port, 2, 0, 7),
                         [True, False, False, False, False, False, True])
        # holes and past the end: exception 02, as an acsfield device answers
        self.assertEqual(read_words(port, 4, 13, 1), ("exception", 2))
        self.assertEqual(read_words(port, 4, 12, 4), ("exception", 2))
        self.assertEqual(read_words(port, 4, 31, 1), ("exception", 2))
        self.assertEqual(read_words(port, 3, 7, 1), ("exception", 2))
        self.assertEqual(read_bits(port, 2, 7, 1), ("exception", 2))
        self.assertEqual(unit.blocks()["ir"][0], self.model_code)

    def test_identify(self):
        self.serve(GOOD)
        fc43 = self.fc43_answered()
        out, _ = self.run_fc("identify", *self.link, "--json")
        d = json.loads(out)
        # pymodbus 3.0 serves FC 43/14 from ModbusDeviceIdentification; when it answers with
        # our three objects fieldctl must have used them, else it must have fallen back to the
        # model code register and the firmware registers. Either way the result is the same
        # here (REVISION is both the FC 43 answer and fw_major.fw_minor.fw_patch).
        self.assertEqual(d["identified_by"], "fc43" if fc43 else "registers",
                         "pymodbus answered FC 43/14: %s" % fc43)
        self.assertEqual(d["vendor"], VENDOR)
        self.assertEqual(d["product"], self.model)
        self.assertEqual(d["revision"], REVISION)
        self.assertEqual(d["serial"], SERIAL)
        self.assertEqual(d["model_code"], self.model_code)
        self.assertEqual(d["unit"], UNIT)
        self.assertEqual(d["kind"], self.profile["kind"])
        out, _ = self.run_fc("identify", *self.link)
        self.assertIn("unit %d: %s %s, firmware %s, serial %s (model code %d, identified by %s)"
                      % (UNIT, VENDOR, self.model, REVISION, SERIAL, self.model_code,
                         "FC 43/14" if fc43 else "registers"), out)

    def test_fc43_is_served(self):
        """Pins which identification path test_identify exercised with this pymodbus."""
        self.serve(GOOD)
        self.assertTrue(self.fc43_answered(),
                        "pymodbus no longer answers FC 43/14 as before: test_identify now "
                        "tests the fallback to register identification")

    def test_identify_by_registers(self):
        """FC 43/14 answered without a ProductCode: identified by the model code register,
        revision from fw_major.fw_minor.fw_patch (2.7.4 here, so it cannot come from FC 43)."""
        self.serve(dict(GOOD, fw_patch=4), devid=False)
        objs = fc43_basic(self.peer.port)
        self.assertFalse(objs and objs.get(1), objs)  # really no product code on the wire
        out, _ = self.run_fc("identify", *self.link, "--json")
        d = json.loads(out)
        self.assertEqual((d["identified_by"], d["vendor"], d["product"], d["revision"],
                          d["serial"], d["model_code"]),
                         ("registers", self.profile["identification"]["vendor_name"],
                          self.model, "2.7.4", SERIAL, self.model_code))

    def test_read_decodes_every_register(self):
        unit = self.serve(GOOD)
        d = self.read_json()
        self.assertEqual(d["model"], self.model)
        self.assertEqual(d["product"], self.model)
        self.assertEqual(d["serial"], SERIAL)
        self.assertEqual(d["model_code"], self.model_code)
        self.assertEqual(d["requests"], 5)  # coils, discrete inputs, IR 0-12, IR 16-30, HR 0-6
        self.assertEqual(d["failed_requests"], 0)
        self.assert_values(d, unit)
        vals = {v["name"]: v for v in d["values"]}
        # spot checks spelled out, independent of the generic comparison
        self.assertEqual(vals["model_code"]["value"], 200)
        self.assertEqual(vals["serial_number"]["value"], SERIAL)
        self.assertEqual((vals["supply_voltage"]["value"], vals["supply_voltage"]["unit"]),
                         (12.34, "V"))
        self.assertRegex(vals["supply_voltage"]["text"], r"^12\.34 ?V$")
        self.assertEqual((vals["board_temperature"]["value"],
                          vals["board_temperature"]["unit"]), (-5.5, "C"))
        self.assertEqual(vals["entry_passages"]["value"], 123456)
        self.assertEqual((vals["uptime"]["value"], vals["uptime"]["unit"]), (262817, "s"))
        self.assertAlmostEqual(vals["motor_peak_current"]["value"], 2.3, places=6)
        self.assertEqual(vals["motor_peak_current"]["unit"], "A")
        self.assertEqual(vals["state"]["value"], "passing")
        self.assertEqual(vals["mode"]["value"], "free_passage")
        self.assertEqual(vals["rtc_time"]["value"], 1767225600)
        self.assertEqual(vals["fault_bitmap"]["value"], 0)
        self.assertIs(vals["unlock_exit"]["value"], True)
        self.assertIs(vals["unlock_entry"]["value"], False)
        self.assertIs(vals["rotor_home"]["value"], True)
        self.assertIs(vals["exit_unlocked"]["value"], True)
        self.assertIs(vals["tamper"]["value"], False)
        # the only finding: the free_passage mode (an `equals` rule, info)
        self.assertEqual(self.assert_findings(d, unit), {"TC_MODE_FREE_PASSAGE": "info"})

    def test_thresholds_are_strict(self):
        """Values exactly at the rules' limits fire nothing (11.50 V is not below 11.5)."""
        unit = self.serve(dict(GOOD, supply_voltage=11.5, board_temperature=70.0,
                               motor_current=3000, mode="normal", state="idle"))
        d = self.read_json()
        vals = {v["name"]: v["value"] for v in d["values"]}
        self.assertEqual((vals["supply_voltage"], vals["board_temperature"],
                          vals["motor_current"]), (11.5, 70.0, 3000))
        self.assert_values(d, unit)
        self.assertEqual(self.assert_findings(d, unit), {})

    def test_out_of_range_and_faults_are_findings(self):
        fault_reg = self.regs["fault_bitmap"]
        bits = ["motor_stall", "rtc_invalid"]
        unit = self.serve(dict(
            GOOD,
            supply_voltage=10.49,         # below both 11.5 and 10.5
            board_temperature=71.2,       # above 70
            motor_current=3001,           # above 3000
            fault_bitmap=bits,            # bits 1 and 8
            tamper=True,                  # discrete input 4
            unlock_timeout=90,            # outside its write limits 1-60: shown as it is
            mode="locked",
        ))
        d = self.read_json()
        self.assertEqual(d["failed_requests"], 0)
        self.assert_values(d, unit)
        vals = {v["name"]: v["value"] for v in d["values"]}
        self.assertEqual(vals["fault_bitmap"],
                         sum(1 << bit_number(fault_reg, b) for b in bits))
        self.assertEqual(vals["fault_bitmap"], 0x0102)
        self.assertEqual(vals["unlock_timeout"], 90)
        got = self.assert_findings(d, unit)
        self.assertEqual(got, {
            "TC_SUPPLY_VOLTAGE": "warning",
            "TC_SUPPLY_VOLTAGE_LOW": "critical",
            "TC_BOARD_TEMPERATURE": "warning",
            "TC_MOTOR_CURRENT": "warning",
            "TC_MOTOR_STALL": "critical",
            "TC_RTC_INVALID": "info",
            "TC_TAMPER": "warning",
            "TC_MODE_LOCKED": "info",
        })
        low = [f for f in d["findings"] if f["code"] == "TC_SUPPLY_VOLTAGE_LOW"][0]
        self.assertIn("supply_voltage", low["message"])
        self.assertRegex(low["message"], r"10\.49")


if __name__ == "__main__":
    try:
        fieldctl_bin()
        import pymodbus  # noqa: F401
    except (RuntimeError, ImportError) as e:
        print("error: %s" % e)
        sys.exit(1)
    # pymodbus 3.0 logs each closed client connection as an ERROR; only real trouble here.
    logging.getLogger("pymodbus").setLevel(
        logging.DEBUG if os.environ.get("ACS_PYMODBUS_LOG") else logging.CRITICAL)
    prog = unittest.main(exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
