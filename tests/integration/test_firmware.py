#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration tests of firmware images and updates: acs-fw (firmware-tools/) against acs-sim's
simulated bootloader (hardware-sim/simboot.c, fwslot.c) over Modbus TCP and over Modbus RTU on
the simulator's pseudo-terminal. No PostgreSQL is needed.

What is shown: every refusal of `acs-fw verify` with its own exit status, Intel HEX errors with
line numbers; updates over TCP and RTU with the running version read back; a transfer cut by a
power loss at a chosen flash write and resumed (also after a simulator restart, the flash being
kept in a file per unit); power cuts at the first and last flash writes of an update leaving
the old or the new image running, never neither; a chunk whose CRC does not match refused by
the device; a wrong model, a foreign key and a bad signature refused by the tool and, with
--skip-checks, by the device; a trial image reverting at reset unless confirmed.

ACS_SIM_BIN and ACS_FW_BIN name the binaries (ctest sets them).
Run alone: ACS_SIM_BIN=build/hardware-sim/acs-sim ACS_FW_BIN=build/firmware-tools/acs-fw \
    /usr/bin/python3 tests/integration/test_firmware.py
"""
import hashlib
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


def binary(var):
    b = os.environ.get(var)
    if not b or not os.access(b, os.X_OK):
        raise RuntimeError("%s does not name an executable (got %r)" % (var, b))
    return b


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def fw(*args, timeout=120):
    """Run acs-fw; return (status, stdout, stderr)."""
    p = subprocess.run([binary("ACS_FW_BIN")] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class Sim:
    """One acs-sim process; its stdout gives the bus addresses and the control channel."""

    def __init__(self, site, workdir, name="site"):
        self.path = os.path.join(workdir, name + ".json")
        with open(self.path, "w") as f:
            json.dump(site, f)
        self.err_path = self.path + ".stderr"
        self.err = open(self.err_path, "ab")
        self.proc = subprocess.Popen([binary("ACS_SIM_BIN"), "--site", self.path],
                                     stdout=subprocess.PIPE, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        self.tcp, self.rtu, self.control = [], [], None
        deadline = time.monotonic() + 15
        buf = b""
        while self.control is None:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.kill()
                raise AssertionError("acs-sim did not start: %r\n%s" % (buf, self.stderr()))
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                kind, _, addr = line.decode().partition(" ")
                if kind == "tcp":
                    host, port = addr.rsplit(":", 1)
                    self.tcp.append("%s:%s" % (host, port))
                elif kind == "rtu":
                    self.rtu.append(addr)
                elif kind == "control":
                    host, port = addr.split(" ")[1].rsplit(":", 1)
                    self.control = socket.create_connection((host, int(port)), timeout=10)
                    self.cf = self.control.makefile("rwb")

    def ctl(self, line):
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
            return status == "ok", text

    def fw_state(self, unit):
        ok, text = self.ctl("fw " + unit)
        if not ok:
            raise AssertionError(text)
        return dict(kv.split("=", 1) for kv in text.split() if "=" in kv)

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        try:
            self.control.close()
        except Exception:
            pass
        self.proc.send_signal(signal.SIGTERM)
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


class ModbusTcp:
    """A minimal Modbus TCP client for the protocol tests that acs-fw would not send."""

    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=5)
        self.tid = 0

    def request(self, pdu):
        self.tid += 1
        self.s.sendall(struct.pack(">HHHB", self.tid, 0, len(pdu) + 1, 1) + pdu)
        head = b""
        while len(head) < 7:
            head += self.s.recv(7 - len(head))
        tid, _, length, _ = struct.unpack(">HHHB", head)
        body = b""
        while len(body) < length - 1:
            body += self.s.recv(length - 1 - len(body))
        return body

    def write(self, addr, words):
        pdu = struct.pack(">BHHB", 16, addr, len(words), 2 * len(words))
        pdu += b"".join(struct.pack(">H", w) for w in words)
        return self.request(pdu)

    def read(self, addr, n):
        rsp = self.request(struct.pack(">BHH", 3, addr, n))
        if rsp[0] != 3:
            raise AssertionError("read refused: %s" % rsp.hex())
        return list(struct.unpack(">%dH" % n, rsp[2:2 + 2 * n]))

    def close(self):
        self.s.close()


class FirmwareTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="acs_fw_it_")
        cls.key = os.path.join(cls.dir, "vendor")
        cls.other_key = os.path.join(cls.dir, "stranger")
        for k in (cls.key, cls.other_key):
            rc, out, err = fw("keygen", "--out", k)
            assert rc == 0, err
            assert "key id:" in out
        cls.pub = cls.key + ".pub"
        # The payloads: deterministic bytes, so a failure can be reproduced.
        cls.bin = os.path.join(cls.dir, "app.bin")
        with open(cls.bin, "wb") as f:
            f.write(bytes((i * 7 + (i >> 8)) & 0xFF for i in range(12000)))
        cls.images = {}
        for name, key, model, hw, version in [
                ("v250", cls.key, "TC-200", "1-3", "2.5.0"),
                ("v260", cls.key, "TC-200", "1-3", "2.6.0"),
                ("v230", cls.key, "TC-200", "1-3", "2.3.0"),
                ("rc50", cls.key, "RC-50", "1-3", "2.5.0"),
                ("hw5", cls.key, "TC-200", "5-6", "2.5.0"),
                ("foreign", cls.other_key, "TC-200", "1-3", "2.5.0")]:
            path = os.path.join(cls.dir, name + ".img")
            rc, out, err = fw("pack", "--key", key + ".key", "--model", model, "--hw-rev", hw,
                              "--version", version, "--bin", cls.bin, "--out", path,
                              "--build-time", "1732406400")
            assert rc == 0, err
            cls.images[name] = path
        with open(cls.images["v250"], "rb") as f:
            good = bytearray(f.read())
        cls.good_bytes = bytes(good)

        def variant(name, data):
            path = os.path.join(cls.dir, name + ".img")
            with open(path, "wb") as f:
                f.write(data)
            cls.images[name] = path
        forged = bytearray(good)
        forged[40] ^= 1  # build time: the header stays well-formed, the signature breaks
        variant("badsig", forged)
        damaged = bytearray(good)
        damaged[128 + 5000] ^= 0x40  # payload no longer matches its SHA-256
        variant("corrupt", damaged)
        variant("truncated", good[:len(good) - 100])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="run_", dir=self.dir)
        self.sims = []

    def tearDown(self):
        for sim in self.sims:
            if sim.proc.poll() is None:
                rc = sim.stop()
                err = sim.stderr()
                if rc != 0 or "Sanitizer" in err or "runtime error" in err:
                    self.fail("acs-sim did not stop cleanly (status %s)\n%s" % (rc, err))

    def start_sim(self, name="site"):
        site = {
            "name": "firmware",
            "profiles": PROFILES,
            "flash_dir": "flash",
            "firmware_key": self.pub,
            "buses": [
                {"name": "gate", "type": "tcp", "units": [
                    {"model": "TC-200", "unit_id": 1, "hardware_revision": 3}]},
                {"name": "line", "type": "rtu", "baud": 115200, "parity": "even", "units": [
                    {"model": "TC-200", "unit_id": 1, "hardware_revision": 3},
                    {"model": "RC-50", "unit_id": 2}]},
                {"name": "paced", "type": "rtu", "baud": 115200, "parity": "even",
                 "pacing": True, "pace_requests": True, "units": [
                     {"model": "TC-200", "unit_id": 1, "hardware_revision": 3}]},
            ],
        }
        sim = Sim(site, self.work, name)
        self.sims.append(sim)
        return sim

    def link(self, sim, unit):
        # Allowances a loaded test machine needs (the defaults suit a real line); a power cut
        # still ends a run after a few timeouts.
        if unit == "gate":
            return ["--tcp", sim.tcp[0], "--timeout", "500"]
        return ["--port", sim.rtu[0 if unit.startswith("line/") else 1], "--baud", "115200", "--turnaround", "250", "--unit",
                unit.split("/")[1]]

    def flash(self, sim, unit, image, *extra):
        return fw("flash", self.images[image], "--key", self.pub, "--progress", "lines",
                  *(self.link(sim, unit) + list(extra)))

    def status(self, sim, unit):
        rc, out, err = fw("status", "--json", *self.link(sim, unit))
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    # --- images without a device ------------------------------------------------------------

    def test_verify_refusals_have_distinct_exit_codes(self):
        img = self.images
        cases = [
            ("v250", [], 0, "ok"),
            ("truncated", [], 10, "truncated image"),
            ("corrupt", [], 11, "SHA-256 does not match"),
            ("foreign", [], 12, "not among the 1 trusted key"),
            ("badsig", [], 13, "signature does not verify"),
            ("rc50", ["--model", "TC-200"], 14, "for model RC-50, the device is a TC-200"),
            ("hw5", ["--model", "TC-200", "--hw-rev", "3"], 15, "revisions 5..6"),
            ("v230", ["--running", "2.5.0"], 16, "--allow-downgrade"),
            ("v230", ["--running", "2.5.0", "--allow-downgrade"], 0, "ok"),
        ]
        for name, extra, want, text in cases:
            rc, out, err = fw("verify", img[name], "--key", self.pub, *extra)
            self.assertEqual(rc, want, "%s: %s%s" % (name, out, err))
            self.assertIn(text, out + err, name)
        rc, out, err = fw("verify", os.path.join(self.dir, "missing.img"), "--key", self.pub)
        self.assertEqual(rc, 3)
        self.assertIn("cannot open", err)
        rc, out, err = fw("verify", img["v250"])
        self.assertEqual(rc, 2)
        self.assertIn("--key", err)

    def test_inspect_json(self):
        rc, out, err = fw("inspect", self.images["v250"], "--json", "--key", self.pub)
        self.assertEqual(rc, 0, err)
        j = json.loads(out)
        self.assertEqual(j["model"], "TC-200")
        self.assertEqual(j["version"], "2.5.0")
        self.assertEqual((j["hw_rev_min"], j["hw_rev_max"]), (1, 3))
        self.assertEqual(j["payload_size"], 12000)
        self.assertEqual(j["build_time_utc"], "2024-11-24T00:00:00Z")
        self.assertEqual(j["signature"], "ok")
        with open(self.bin, "rb") as f:
            self.assertEqual(j["payload_sha256"], hashlib.sha256(f.read()).hexdigest())
        rc, out, err = fw("inspect", self.images["badsig"], "--json", "--key", self.pub)
        self.assertEqual(rc, 13)
        j = json.loads(out)
        self.assertEqual((j["ok"], j["error"], j["signature"]), (False, "EBADSIG", "BAD"))
        rc, out, err = fw("inspect", self.images["v250"])
        self.assertEqual(rc, 0, err)
        self.assertIn("signature:       not checked (no --key)", out)

    def test_pack_intel_hex(self):
        def rec(body):
            b = bytes.fromhex(body)
            return ":%s%02X" % (body.upper(), (-sum(b)) & 0xFF)
        lines = [rec("020000040800"), rec("0400000001020304"), rec("02000600AABB"),
                 rec("00000001")]
        hexf = os.path.join(self.work, "app.hex")
        with open(hexf, "w") as f:
            f.write("\n".join(lines) + "\n")
        out_img = os.path.join(self.work, "hex.img")
        rc, out, err = fw("pack", "--key", self.key + ".key", "--model", "TC-200", "--hw-rev",
                          "3", "--version", "1.0.1", "--hex", hexf, "--out", out_img)
        self.assertEqual(rc, 0, err)
        self.assertIn("from 0x08000000 (2 records, 2 gap bytes filled with 0xFF)", out)
        with open(out_img, "rb") as f:
            data = f.read()
        self.assertEqual(data[128:136], bytes([1, 2, 3, 4, 0xFF, 0xFF, 0xAA, 0xBB]))
        # A damaged line is named by its number; nothing is written.
        lines[2] = lines[2][:-2] + "00"
        with open(hexf, "w") as f:
            f.write("\n".join(lines) + "\n")
        bad_img = os.path.join(self.work, "bad.img")
        rc, out, err = fw("pack", "--key", self.key + ".key", "--model", "TC-200", "--hw-rev",
                          "3", "--version", "1.0.1", "--hex", hexf, "--out", bad_img)
        self.assertEqual(rc, 11)
        self.assertIn("line 3: checksum 0x00 does not match", err)
        self.assertFalse(os.path.exists(bad_img))

    def test_bad_bootloader_settings_are_refused(self):
        """A bad firmware key or hardware revision in the site file: exit 2, one sentence."""
        def start(site):
            path = os.path.join(self.work, "bad.json")
            with open(path, "w") as f:
                json.dump(site, f)
            p = subprocess.run([binary("ACS_SIM_BIN"), "--site", path], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=20, stdin=subprocess.DEVNULL)
            return p.returncode, p.stderr.decode(errors="replace")
        unit = {"model": "TC-200", "unit_id": 1}
        base = {"profiles": PROFILES, "buses": [{"name": "gate", "type": "tcp", "units": [unit]}]}
        rc, err = start(dict(base, buses=[{"name": "gate", "type": "tcp", "units": [
            dict(unit, firmware_key="abc")]}]))
        self.assertEqual(rc, 2, err)
        self.assertIn("buses[0].units[0].firmware_key", err)
        self.assertIn("neither 64 hex digits nor a readable .pub file", err)
        rc, err = start(dict(base, buses=[{"name": "gate", "type": "tcp", "units": [
            dict(unit, hardware_revision=0)]}]))
        self.assertEqual(rc, 2, err)
        self.assertIn("hardware_revision: must be an integer 1..65535", err)
        rc, err = start(dict(base, firmware_key=self.key + ".key"))
        self.assertEqual(rc, 2, err)
        self.assertIn("firmware_key", err)
        self.assertIn("secret key where a public key was expected", err)

    # --- updates ----------------------------------------------------------------------------

    def test_update_over_tcp_and_rtu(self):
        sim = self.start_sim()
        for unit in ("gate", "line/1"):
            st = self.status(sim, unit)
            self.assertEqual((st["model"], st["hw_rev"], st["running"]), ("TC-200", 3, "2.4.0"))
            rc, out, err = self.flash(sim, unit, "v250")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("updated 2.4.0 -> 2.5.0 (slot B, confirmed)", out)
            self.assertIn("running version: 2.5.0", out)
            self.assertIn("transfer 100%", err)
            st = self.status(sim, unit)
            self.assertEqual((st["running"], st["slot"], st["trial"], st["other"]),
                             ("2.5.0", "B", False, "2.4.0"))
            self.assertEqual(sim.fw_state(unit)["running"], "2.5.0")
            rc, out, err = self.flash(sim, unit, "v250")
            self.assertEqual(rc, 0, err)
            self.assertIn("already runs 2.5.0", out)
        # FC 43/14 MajorMinorRevision (object 2, individual access) follows the running image.
        m = ModbusTcp(sim.tcp[0])
        try:
            rsp = m.request(bytes([0x2B, 0x0E, 0x04, 0x02]))
        finally:
            m.close()
        self.assertEqual(rsp[7:9], bytes([2, 5]))
        self.assertEqual(rsp[9:14], b"2.5.0")
        # Control channel: a planned cut is refused without its argument, cleared by clear.
        ok, text = sim.ctl("fault gate flash-cut")
        self.assertFalse(ok)
        self.assertIn("flash-cut takes", text)
        # The RC-50 on the same line is another model: the tool refuses before sending.
        rc, out, err = self.flash(sim, "line/2", "v250")
        self.assertEqual(rc, 14)
        self.assertIn("not sent to unit 2", err)
        # The flash is kept across a simulator restart.
        self.assertEqual(sim.stop(), 0)
        sim2 = self.start_sim("restart")
        self.assertEqual(self.status(sim2, "gate")["running"], "2.5.0")
        self.assertEqual(sim2.fw_state("line/1")["running"], "2.5.0")

    def test_paced_line_takes_line_time(self):
        """With "pacing" and "pace_requests" both directions cost time at the baud rate: the
        update cannot take less than its wire bytes need at 115200 baud (bench/flash measures
        the same at 256 KiB)."""
        sim = self.start_sim()
        rc, out, err = self.flash(sim, "paced/1", "v250", "--stats")
        self.assertEqual(rc, 0, out + err)
        m = re.search(r"line-rate limit ([0-9.]+) s .* ratio ([0-9.]+)", out)
        self.assertIsNotNone(m, out)
        limit, ratio = float(m.group(1)), float(m.group(2))
        wire = re.search(r"wire (\d+) bytes out, (\d+) bytes in", out)
        self.assertAlmostEqual(limit, (int(wire.group(1)) + int(wire.group(2))) * 11 / 115200,
                               places=2)
        self.assertGreaterEqual(ratio, 1.0, out)
        self.assertLess(ratio, 3.0, out)
        self.assertEqual(self.status(sim, "paced/1")["running"], "2.5.0")

    def test_interrupted_transfer_resumes(self):
        sim = self.start_sim()
        for unit in ("line/1", "gate"):
            # Power goes at the 61st flash write: BEGIN, then two writes per chunk.
            ok, text = sim.ctl("fault %s flash-cut 61" % unit)
            self.assertTrue(ok, text)
            rc, out, err = self.flash(sim, unit, "v250")
            self.assertEqual(rc, 20, out + err)
            self.assertIn("run the same command again to resume", err)
            self.assertEqual(sim.fw_state(unit)["power"], "off")
            ok, text = sim.ctl("power %s on" % unit)
            self.assertTrue(ok, text)
            st = self.status(sim, unit)
            self.assertEqual(st["state"], "receiving")
            self.assertEqual(st["running"], "2.4.0")
            acked = st["dl_acked"]
            # Write 61 was chunk 29's boot record: torn, so chunk 29 is not acknowledged.
            self.assertEqual(acked, 29 * 240)
            rc, out, err = self.flash(sim, unit, "v250")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("resuming at byte %d of" % acked, err)
            self.assertIn("resumed at byte %d" % acked, out)
            self.assertEqual(self.status(sim, unit)["running"], "2.5.0")

    def test_transfer_resumes_after_simulator_restart(self):
        sim = self.start_sim()
        ok, text = sim.ctl("fault line/1 flash-cut 30")
        self.assertTrue(ok, text)
        rc, out, err = self.flash(sim, "line/1", "v260")
        self.assertEqual(rc, 20, out + err)
        self.assertEqual(sim.stop(), 0)
        sim = self.start_sim("again")
        st = self.status(sim, "line/1")
        self.assertEqual((st["state"], st["running"]), ("receiving", "2.4.0"))
        acked = st["dl_acked"]
        self.assertEqual(acked, 14 * 240)  # write 30 was chunk 14's data, torn
        rc, out, err = self.flash(sim, "line/1", "v260")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("resumed at byte %d" % acked, out)
        self.assertEqual(self.status(sim, "line/1")["running"], "2.6.0")

    def test_power_cut_at_first_and_last_writes(self):
        """Cut power at the first and last few flash writes of an update (the unit test
        tests/unit/test_fwslot.c cuts at every one): after each the unit runs the old or the
        new image, and running acs-fw flash again completes the update."""
        sim = self.start_sim()
        before = self.status(sim, "line/1")["writes"]
        rc, out, err = self.flash(sim, "line/1", "v250")
        self.assertEqual(rc, 0, err)
        steps = self.status(sim, "line/1")["writes"] - before
        chunks = (len(self.good_bytes) + 239) // 240
        self.assertEqual(steps, 1 + 2 * chunks + 3)  # BEGIN, chunks, VERIFY, boot, CONFIRM
        image = "v260"
        current = "2.5.0"
        for i in (1, 2, 3, steps - 3, steps - 2, steps - 1, steps):
            ok, text = sim.ctl("fault line/1 flash-cut %d" % i)
            self.assertTrue(ok, text)
            rc, out, err = self.flash(sim, "line/1", image, "--allow-downgrade")
            self.assertEqual(rc, 20, "cut at %d: %s%s" % (i, out, err))
            ok, text = sim.ctl("power line/1 on")
            self.assertTrue(ok, text)
            new = "2.6.0" if image == "v260" else "2.5.0"
            st = self.status(sim, "line/1")
            self.assertIn(st["running"], (current, new), "cut at %d" % i)
            rc, out, err = self.flash(sim, "line/1", image, "--allow-downgrade")
            self.assertEqual(rc, 0, "cut at %d: %s%s" % (i, out, err))
            st = self.status(sim, "line/1")
            self.assertEqual((st["running"], st["trial"]), (new, False), "cut at %d" % i)
            # Next round goes the other way.
            current, image = new, ("v250" if image == "v260" else "v260")

    def test_lost_answers_do_not_end_the_update(self):
        """The answer to one request lost on the line (lose-reply N: the device carries the
        request out, its answer never arrives): a chunk is sent again, and for VERIFY, RESET
        and CONFIRM, which cannot simply be repeated, the status says whether they happened.
        Requests of an update of v250 (51 chunks): 1 status, 2 ENTER, 3 BEGIN, 4 status,
        5-55 chunks, 56 VERIFY, 57 RESET, 58 status, 59 ENTER, 60 CONFIRM, 61 status."""
        sim = self.start_sim()
        for lose, image, text in [(56, "v250", "the answer to VERIFY was lost"),
                                  (57, "v260", "the answer to RESET was lost"),
                                  (60, "v250", "the answer to CONFIRM was lost"),
                                  (10, "v260", "no answer for the chunk at byte 1200")]:
            ok, msg = sim.ctl("fault line/1 lose-reply %d" % lose)
            self.assertTrue(ok, msg)
            rc, out, err = self.flash(sim, "line/1", image, "--allow-downgrade")
            self.assertEqual(rc, 0, "lost answer %d: %s%s" % (lose, out, err))
            self.assertIn(text, err)
            st = self.status(sim, "line/1")
            want = "2.5.0" if image == "v250" else "2.6.0"
            self.assertEqual((st["running"], st["trial"]), (want, False), "lost %d" % lose)
            self.assertNotIn("lose-reply", sim.fw_state("line/1"))

    def test_corrupted_chunk_is_refused(self):
        sim = self.start_sim()
        data = self.good_bytes
        ident = hashlib.sha256(data).digest()[:8]
        m = ModbusTcp(sim.tcp[0])
        try:
            self.assertEqual(m.write(0xF040, [1, 0x4143, 0x5346])[0], 16)
            begin = [2, len(data) >> 16, len(data) & 0xFFFF] + list(struct.unpack(">4H", ident))
            self.assertEqual(m.write(0xF040, begin)[0], 16)
            chunk = data[:240]
            words = list(struct.unpack(">120H", chunk))
            crc = crc16(struct.pack(">I", 0) + chunk)
            rsp = m.write(0xF100, [0, 0, crc ^ 0x0101] + words)
            self.assertEqual(rsp, bytes([0x90, 0x04]))  # exception 04
            st = m.read(0xF000, 8)
            self.assertEqual(st[2], 3)  # bootloader error 3: chunk CRC
            self.assertEqual(st[6:8], [0, 0])  # nothing acknowledged
            # The same chunk sent again intact is acknowledged.
            self.assertEqual(m.write(0xF100, [0, 0, crc] + words)[0], 16)
            self.assertEqual(m.read(0xF006, 2), [0, 240])
            # Out of order: refused with error 4.
            self.assertEqual(m.write(0xF100, [0, 480, crc16(struct.pack(">I", 480) + chunk)]
                                     + words), bytes([0x90, 0x04]))
            self.assertEqual(m.read(0xF002, 1), [4])
        finally:
            m.close()
        rc, out, err = self.flash(sim, "gate", "v250")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("resumed at byte 240", out)

    def test_device_refuses_what_the_tool_refuses(self):
        sim = self.start_sim()
        cases = [
            ("rc50", 14, "image is for another device model"),
            ("hw5", 15, "image is for another hardware revision"),
            ("foreign", 12, "signed with a key the device does not trust"),
            ("badsig", 13, "image signature does not verify with the device's key"),
            ("corrupt", 11, "payload does not match its SHA-256"),
        ]
        for image, want, device_text in cases:
            for unit in ("gate", "line/1"):
                # The tool refuses first: nothing is sent.
                writes = self.status(sim, unit)["writes"]
                rc, out, err = self.flash(sim, unit, image)
                self.assertEqual(rc, want, "%s: %s" % (image, err))
                self.assertIn("not sent to", err)
                self.assertEqual(self.status(sim, unit)["writes"], writes)
                # Sent anyway, the device refuses it the same way and keeps running 2.4.0.
                rc, out, err = self.flash(sim, unit, image, "--skip-checks")
                self.assertEqual(rc, want, "%s: %s" % (image, err))
                self.assertIn("refused", err)
                self.assertIn(device_text, err)
                st = self.status(sim, unit)
                self.assertEqual((st["running"], st["transfer"], st["pending"]),
                                 ("2.4.0", False, False), image)

    def test_trial_image_reverts_unless_confirmed(self):
        sim = self.start_sim()
        for unit in ("gate", "line/1"):
            rc, out, err = self.flash(sim, unit, "v250")
            self.assertEqual(rc, 0, err)
            rc, out, err = self.flash(sim, unit, "v260", "--no-confirm")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("on trial", out)
            st = self.status(sim, unit)
            self.assertEqual((st["running"], st["trial"]), ("2.6.0", True))
            # A power cycle before confirming: back to 2.5.0.
            self.assertTrue(sim.ctl("power %s off" % unit)[0])
            self.assertTrue(sim.ctl("power %s on" % unit)[0])
            st = self.status(sim, unit)
            self.assertEqual((st["running"], st["trial"], st["other"]), ("2.5.0", False, "2.6.0"))
            # Again, confirmed this time: it stays after a reset.
            rc, out, err = self.flash(sim, unit, "v260", "--no-confirm")
            self.assertEqual(rc, 0, out + err)
            rc, out, err = fw("confirm", *self.link(sim, unit))
            self.assertEqual(rc, 0, err)
            rc, out, err = fw("reset", *self.link(sim, unit))
            self.assertEqual(rc, 0, err)
            st = self.status(sim, unit)
            self.assertEqual((st["running"], st["trial"]), ("2.6.0", False))
            rc, out, err = fw("confirm", *self.link(sim, unit))
            self.assertEqual(rc, 21)
            self.assertIn("nothing to confirm", err)
            # A downgrade needs --allow-downgrade.
            rc, out, err = self.flash(sim, unit, "v250")
            self.assertEqual(rc, 16, err)
            rc, out, err = self.flash(sim, unit, "v250", "--allow-downgrade")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("running version: 2.5.0", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
