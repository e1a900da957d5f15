#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration tests of firmware updates run by fieldd (core/api_firmware.c, core/fwupdate.c,
db/migrations/0014_firmware_service.sql; docs/firmware.md, "In the service"): a real PostgreSQL,
a real fieldd trusting one acs-fw key (FIELDD_FIRMWARE_KEYS) and a real acs-sim whose units have
the bootloader, the same key and a flash folder, reached over Modbus RTU on its pseudo-terminal.

- uploads: a truncated, a corrupted, a forged and a foreign-key image are refused (422 naming
  the verdict and acs-fw's sentence), text that is not base64 too; an engineer may not upload;
  a good image is stored with its header fields, and uploading it again returns the same row;
- an update for a job: refused without "confirm", for an engineer on another engineer's job
  for an image of another model, and while a diagnostic session uses the port; run by the
  job's engineer over RTU, readable while it runs, the port refused to a second update and to
  a diagnostic session meanwhile; it ends succeeded with the version the
  simulator runs, the inventory's firmware_version updated with an audit row, and the update in
  the device's firmware history;
- a transfer cut by a power loss (acs-sim `fault UNIT flash-cut N`) ends interrupted with the
  reason and the bytes the device kept; the same image started again resumes there and ends
  succeeded, its live event stream giving progress and then the end;
- an image for another hardware revision ends failed with the tool's reason, the inventory
  unchanged; a row left running by a fieldd that stopped is ended interrupted when the next
  update of the device starts; a dispatcher may not start one, nor an engineer on a job not yet
  on site, nor for a device of another site;
- the fleet: versions counted per model across sites (2.10.0 ordered above 2.7.0), the
  recommended version set by an admin only, and the devices below it with site and client.

ACS_SIM_BIN and ACS_FW_BIN name the binaries (ctest sets them); the PostgreSQL contract is
harness.py's.
"""
import base64
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FielddTestCase  # noqa: E402
from test_diag import SseReader  # noqa: E402
from test_firmware import PROFILES, Sim, fw  # noqa: E402

UPDATE_TIMEOUT = 120
SERIAL = "TC200-2411-09001"


class FirmwareServiceTest(FielddTestCase):

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="acs_fwsvc_")
        cls.key = os.path.join(cls.keydir, "vendor")
        cls.stranger = os.path.join(cls.keydir, "stranger")
        for k in (cls.key, cls.stranger):
            rc, out, err = fw("keygen", "--out", k)
            assert rc == 0, err
        cls.pub = cls.key + ".pub"
        payload = os.path.join(cls.keydir, "app.bin")
        with open(payload, "wb") as f:
            f.write(bytes((i * 13 + (i >> 7)) & 0xFF for i in range(12000)))
        cls.images = {}
        for spec in [("v260", cls.key, "TC-200", "2.6.0"),
                                          ("v270", cls.key, "TC-200", "2.7.0"),
                                          ("rc50", cls.key, "RC-50", "2.6.0"),
                                          ("hw5", cls.key, "TC-200", "2.8.0", "5-6"),
                                          ("foreign", cls.stranger, "TC-200", "2.6.0")]:
            name, key, model, version, hw = (spec + ("1-3",))[:5]
            path = os.path.join(cls.keydir, name + ".img")
            rc, out, err = fw("pack", "--key", key + ".key", "--model", model, "--hw-rev", hw,
                              "--version", version, "--bin", payload, "--out", path,
                              "--build-time", "1732406400")
            assert rc == 0, err
            with open(path, "rb") as f:
                cls.images[name] = f.read()
        good = bytearray(cls.images["v260"])
        forged = bytearray(good)
        forged[40] ^= 1  # build time: the header stays well-formed, the signature breaks
        cls.images["badsig"] = bytes(forged)
        damaged = bytearray(good)
        damaged[128 + 5000] ^= 0x40  # the payload no longer matches its SHA-256
        cls.images["corrupt"] = bytes(damaged)
        cls.images["truncated"] = bytes(good[:len(good) - 100])
        cls.server_env = dict(cls.server_env, ACS_PROFILES=PROFILES, FIELDD_FIRMWARE_KEYS=cls.pub,
                              FIELDD_FWUPDATE_TICK_MS="300")
        super().setUpClass()
        site = {
            "name": "fwsvc",
            "profiles": PROFILES,
            "flash_dir": "flash",
            "firmware_key": cls.pub,
            "buses": [{"name": "line", "type": "rtu", "baud": 115200, "parity": "even",
                       "units": [{"model": "TC-200", "unit_id": 1, "hardware_revision": 3,
                                  "serial": SERIAL, "firmware": "2.4.0"}]}],
        }
        cls.sim = Sim(site, cls.workdir, "fwsvc")
        cls.uploaded = {}

    @classmethod
    def tearDownClass(cls):
        rc = cls.sim.stop() if cls.sim.proc.poll() is None else 0
        err = cls.sim.stderr()
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.keydir, ignore_errors=True)
        if rc != 0 or "Sanitizer" in err or "runtime error" in err:
            raise AssertionError("acs-sim did not stop cleanly (%s)\n%s" % (rc, err))
        with open(cls.server.log_path, "rb") as f:
            log = f.read().decode(errors="replace")
        if "Sanitizer" in log or "runtime error" in log:
            raise AssertionError("fieldd reported a sanitizer error:\n%s" % log[-4000:])

    # --- helpers ----------------------------------------------------------------------------

    def upload(self, name, who="senior"):
        return self.post("/api/v1/firmware/images",
                         {"image": base64.b64encode(self.images[name]).decode()}, who)

    def image_id(self, name):
        if name not in self.uploaded:
            r = self.upload(name)
            self.assertIn(r.status, (200, 201), r.body)
            self.uploaded[name] = r.body["id"]
        return self.uploaded[name]

    def running(self):
        """The version the simulated unit runs ("2.4.0(factory)" is its factory image)."""
        return self.sim.fw_state("line/1")["running"].split("(")[0]

    def settings(self):
        return {"port": self.sim.rtu[0], "baud": 115200, "parity": "E", "turnaround_ms": 250}

    def place(self):
        """The site of the simulated unit, its inventory device and an on-site job of eng1,
        made once per class."""
        if not hasattr(type(self), "job"):
            c, site = self.make_place()
            dev = self.make_device(site["id"], model="TC-200", serial=SERIAL, unit_id=1,
                                   bus="line", firmware_version="2.4.0")
            ticket = self.make_ticket(c["id"], site["id"])
            job = self.make_job(ticket)
            self.assign(job["id"], "eng1")
            self.job_to(job["id"], "on_site", who="eng1")
            type(self).client, type(self).site, type(self).device = c, site, dev
            type(self).job = job
        return self.job, self.device

    def start(self, image, who="eng1", expect=201, **extra):
        job, dev = self.place()
        body = {"job_id": job["id"], "device_id": dev["id"], "image_id": self.image_id(image),
                "transport": "rtu", "settings": self.settings(), "confirm": True}
        body.update(extra)
        r = self.post("/api/v1/firmware/updates", body, who)
        if expect is None:
            return r
        return self.expect(r, expect, "start firmware update")

    def wait_end(self, update_id, who="eng1"):
        deadline = time.monotonic() + UPDATE_TIMEOUT
        seen = []
        while True:
            u = self.expect(self.get("/api/v1/firmware/updates/%s" % update_id, who), 200,
                            "firmware update")
            seen.append(u)
            if u["status"] != "running":
                return u, seen
            if time.monotonic() > deadline:
                self.fail_with_log("update %s still running after %d s" % (update_id,
                                                                            UPDATE_TIMEOUT))
            time.sleep(0.1)

    # --- tests ------------------------------------------------------------------------------

    def test_1_upload_refusals_and_store(self):
        cases = [("truncated", "ETRUNCATED", "truncated image"),
                 ("corrupt", "ECORRUPT", "SHA-256 does not match"),
                 ("foreign", "EUNKNOWNKEY", "not among the 1 trusted key"),
                 ("badsig", "EBADSIG", "signature does not verify")]
        for name, code, sentence in cases:
            b = self.assertProblem(self.upload(name), 422, "/problems/firmware-image", "image",
                                   what=name)
            self.assertEqual(b["code"], code, b)
            self.assertIn(sentence, b["detail"], b)
        r = self.post("/api/v1/firmware/images", {"image": "not base64 at all!"}, "senior")
        self.assertProblem(r, 400, "/problems/validation", "image")
        self.assertProblem(self.upload("v260", who="eng1"), 403, "/problems/forbidden")
        self.assertEqual(self.db.count("firmware_image"), 0)

        r = self.upload("v260", who="admin")
        img = self.expect(r, 201, "upload")
        self.assertEqual((img["model"], img["version"], img["hw_rev_min"], img["hw_rev_max"],
                          img["size_bytes"]), ("TC-200", "2.6.0", 1, 3, len(self.images["v260"])))
        self.assertRegex(img["key_id"], "^[0-9a-f]{16}$")
        import hashlib
        self.assertEqual(img["sha256"], hashlib.sha256(self.images["v260"]).hexdigest())
        self.assertEqual(self.db.value("SELECT length(data) FROM firmware_image WHERE id = "
                                       ":'id'", id=img["id"]), str(len(self.images["v260"])))
        again = self.expect(self.upload("v260"), 200, "upload again")
        self.assertEqual(again["id"], img["id"])
        self.uploaded["v260"] = img["id"]
        listed = self.expect(self.get("/api/v1/firmware/images?model=TC-200", "eng2"), 200, "")
        self.assertEqual([i["id"] for i in listed["items"]], [img["id"]])
        got = self.expect(self.get("/api/v1/firmware/images/%s" % img["id"], "head"), 200, "")
        self.assertEqual(got["version"], "2.6.0")
        self.assertNotIn("data", got)

    def test_2_update_through_the_service(self):
        job, dev = self.place()
        # refusals first: nothing may reach the device
        r = self.start("v260", expect=None, confirm=False)
        self.assertProblem(r, 400, "/problems/validation", "confirm")
        r = self.start("v260", who="eng2", expect=None)
        self.assertProblem(r, 403, "/problems/forbidden", "job_id")
        r = self.start("rc50", expect=None)
        b = self.assertProblem(r, 400, "/problems/validation", "image_id")
        self.assertIn("RC-50", b["detail"])
        r = self.start("v260", expect=None, settings={"port": self.sim.rtu[0], "baud": 7})
        self.assertProblem(r, 400, "/problems/validation", "settings.baud")
        # a diagnostic session on the port: the update is refused until it ends
        settings = dict(self.settings(), units=[1], repeat_s=60)
        diag = self.expect(self.post("/api/v1/diag/sessions", {
            "job_id": job["id"], "transport": "rtu", "settings": settings}, "eng1"), 201, "diag")
        r = self.start("v260", expect=None)
        b = self.assertProblem(r, 409, "/problems/conflict", "settings")
        self.assertIn("diagnostic session %s" % diag["id"], b["detail"])
        self.expect(self.post("/api/v1/diag/sessions/%s/stop" % diag["id"], who="eng1"), 202,
                    "stop diagnostics")
        deadline = time.monotonic() + 30
        while self.expect(self.get("/api/v1/diag/sessions/%s" % diag["id"], "eng1"), 200,
                          "")["status"] == "running":
            self.assertLess(time.monotonic(), deadline, "diagnostic session did not stop")
            time.sleep(0.1)
        self.assertEqual(self.db.count("firmware_update"), 0)
        self.assertEqual(self.running(), "2.4.0")

        # the session's row ends a moment before its bus is released
        deadline = time.monotonic() + 10
        while True:
            r = self.start("v260", expect=None)
            if r.status != 409 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        u = self.expect(r, 201, "start firmware update")
        self.assertEqual((u["status"], u["from_version"], u["to_version"], u["unit_id"]),
                         ("running", "2.4.0", "2.6.0", 1))
        # one master per line: the port is refused while the update runs
        r = self.start("v260", who="senior", expect=None)
        b = self.assertProblem(r, 409, "/problems/conflict", "settings")
        self.assertIn(u["id"], b["detail"])
        # and a diagnostic session on that port is refused too, naming the update
        r = self.post("/api/v1/diag/sessions", {"job_id": job["id"], "transport": "rtu",
                                                "settings": dict(self.settings(), units=[1])},
                      "eng1")
        b = self.assertProblem(r, 409, "/problems/conflict", "settings")
        self.assertIn("firmware update %s" % u["id"], b["detail"])
        end, seen = self.wait_end(u["id"])
        self.assertEqual(end["status"], "succeeded", end)
        self.assertIn("runs 2.6.0 (confirmed)", end["result"])
        self.assertEqual(end["bytes_done"], len(self.images["v260"]))
        self.assertEqual(end["bytes_total"], len(self.images["v260"]))
        self.assertTrue(end["log"], end)
        self.assertIsNotNone(end["ended_at"])
        # progress was readable while it ran, and only went forward
        running = [s for s in seen if s["status"] == "running"]
        self.assertTrue(running, "the update was never seen running")
        done = [s["bytes_done"] for s in running]
        self.assertEqual(done, sorted(done))
        for s in running:
            self.assertIn(s["step"], ("status", "enter", "transfer", "verify", "reset",
                                      "confirm", "done"))
            self.assertEqual(s["bytes_total"], len(self.images["v260"]))
        self.assertEqual(self.running(), "2.6.0")
        d = self.expect(self.get("/api/v1/devices/%s" % dev["id"]), 200, "device")
        self.assertEqual(d["firmware_version"], "2.6.0")
        audit = self.db.rows("SELECT actor_id, detail->>'from', detail->>'to' FROM audit_log "
                             "WHERE action = 'firmware_updated' AND object_id = :'id'",
                             id=dev["id"])
        self.assertEqual(audit, [[self.users["eng1"].id, "2.4.0", "2.6.0"]])
        h = self.expect(self.get("/api/v1/devices/%s/firmware-history" % dev["id"], "senior"),
                        200, "history")
        self.assertEqual(h["firmware_version"], "2.6.0")
        self.assertEqual([(x["id"], x["status"], x["job_id"]) for x in h["updates"]],
                         [(u["id"], "succeeded", job["id"])])
        r = self.get("/api/v1/devices/%s/firmware-history" % harness.new_id(), "senior")
        self.assertProblem(r, 404, "/problems/not-found")

    def test_3_interrupted_update_resumes(self):
        job, dev = self.place()
        ok, text = self.sim.ctl("fault line/1 flash-cut 30")
        self.assertTrue(ok, text)
        u = self.start("v270")
        end, _ = self.wait_end(u["id"])
        self.assertEqual(end["status"], "interrupted", end)
        self.assertIn("resume", end["result"])
        self.assertGreater(end["bytes_done"], 0)
        self.assertLess(end["bytes_done"], len(self.images["v270"]))
        kept = end["bytes_done"]
        self.assertEqual(self.expect(self.get("/api/v1/devices/%s" % dev["id"]), 200,
                                     "")["firmware_version"], "2.6.0")
        ok, text = self.sim.ctl("power line/1 on")
        self.assertTrue(ok, text)

        again = self.start("v270")
        stream = SseReader(self.server.port, "/api/v1/firmware/updates/%s/events" % again["id"],
                           self.token("senior"))
        end2, _ = self.wait_end(again["id"])
        self.assertTrue(stream.done.wait(30), "the event stream did not end")
        stream.close()
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.ctype.split(";")[0], "text/event-stream")
        names = stream.names()
        self.assertEqual(names[-1], "update_end", names)
        self.assertEqual(stream.events[-1][1]["status"], "succeeded")
        progress = [d for n, d in stream.events if n == "update_progress"]
        self.assertTrue(progress, names)
        self.assertTrue(all(d["bytes_total"] == len(self.images["v270"]) for d in progress))
        # an update that is over: its end as the only event
        late = SseReader(self.server.port, "/api/v1/firmware/updates/%s/events" % u["id"],
                         self.token("eng1"))
        self.assertTrue(late.done.wait(30))
        late.close()
        self.assertEqual([(n, d["status"]) for n, d in late.events],
                         [("update_end", "interrupted")])
        self.assertEqual(end2["status"], "succeeded", end2)
        self.assertGreater(end2["resumed_from"], 0)
        self.assertLessEqual(end2["resumed_from"], kept)
        self.assertIn("from byte %d" % end2["resumed_from"], end2["result"])
        self.assertEqual(self.running(), "2.7.0")
        h = self.expect(self.get("/api/v1/devices/%s/firmware-history" % dev["id"]), 200, "")
        self.assertEqual([x["status"] for x in h["updates"]],
                         ["succeeded", "interrupted", "succeeded"])
        self.assertEqual(h["firmware_version"], "2.7.0")

    def test_4_fleet(self):
        self.place()
        c2 = self.make_client(name="Alpha Homes")
        s2 = self.make_site(c2["id"], name="Alpha North")
        older = self.make_device(s2["id"], model="TC-200", firmware_version="2.5.1")
        newer = self.make_device(s2["id"], model="TC-200", firmware_version="2.10.0")
        unknown = self.make_device(s2["id"], model="TC-200")
        self.make_device(s2["id"], model="RC-50", kind="reader_controller",
                         firmware_version="1.0.0")

        r = self.call("PUT", "/api/v1/firmware/recommended/TC-200", "senior",
                      body={"version": "2.7.0"})
        self.assertProblem(r, 403, "/problems/forbidden")
        r = self.call("PUT", "/api/v1/firmware/recommended/TC-200", "admin",
                      body={"version": "2.7"})
        self.assertProblem(r, 400, "/problems/validation", "version")
        r = self.call("PUT", "/api/v1/firmware/recommended/TC-200", "admin",
                      body={"version": "2.7.0"})
        self.assertEqual(self.expect(r, 200, "recommend")["version"], "2.7.0")

        self.assertProblem(self.get("/api/v1/firmware/fleet", "eng1"), 403,
                           "/problems/forbidden")
        fleet = self.expect(self.get("/api/v1/firmware/fleet", "head"), 200, "fleet")
        models = {m["model"]: m for m in fleet["models"]}
        tc = models["TC-200"]
        self.assertEqual(tc["recommended"], "2.7.0")
        self.assertEqual(tc["devices"], 4)
        self.assertEqual([(v["version"], v["devices"]) for v in tc["versions"]],
                         [("2.10.0", 1), ("2.7.0", 1), ("2.5.1", 1), (None, 1)])
        below = {b["device_id"]: b for b in tc["below_recommended"]}
        self.assertEqual(set(below), {older["id"], unknown["id"]})
        self.assertEqual(tc["below_recommended_count"], 2)
        self.assertEqual((below[older["id"]]["site"], below[older["id"]]["client"],
                          below[older["id"]]["firmware_version"]),
                         ("Alpha North", "Alpha Homes", "2.5.1"))
        self.assertNotIn(newer["id"], below)
        rc = models["RC-50"]
        self.assertIsNone(rc["recommended"])
        self.assertEqual(rc["below_recommended"], [])
        self.assertEqual(rc["versions"], [{"version": "1.0.0", "devices": 1}])
        for who in ("dispatcher", "senior", "admin"):
            self.expect(self.get("/api/v1/firmware/fleet", who), 200, who)

    def test_5_refused_update_fails_and_stale_rows_end(self):
        job, dev = self.place()
        # who may start one, and when
        self.assertProblem(self.start("hw5", who="dispatcher", expect=None), 403,
                           "/problems/forbidden")
        c, other_site = self.make_place()
        elsewhere = self.make_device(other_site["id"], model="TC-200", unit_id=1)
        r = self.start("hw5", expect=None, device_id=elsewhere["id"])
        self.assertProblem(r, 400, "/problems/validation", "device_id")
        ticket = self.make_ticket(self.client["id"], self.site["id"])
        assigned = self.make_job(ticket)
        self.assign(assigned["id"], "eng1")
        r = self.start("hw5", expect=None, job_id=assigned["id"])
        b = self.assertProblem(r, 409, "/problems/conflict", "job_id")
        self.assertEqual(b["current_status"], "assigned")

        # a row left running by a fieldd that stopped is ended when the next update starts
        stale = harness.new_id()
        self.db.sql("INSERT INTO firmware_update (id, device_id, job_id, image_id, to_version,"
                    " started_at, updated_at) VALUES (:'id', :'dev', :'job', :'img', '2.7.0',"
                    " now() - interval '10 minutes', now() - interval '10 minutes')",
                    id=stale, dev=dev["id"], job=job["id"], img=self.image_id("v270"))
        u = self.start("hw5")
        row = self.db.rows("SELECT status, result FROM firmware_update WHERE id = :'id'",
                           id=stale)[0]
        self.assertEqual(row[0], "interrupted")
        self.assertIn("fieldd stopped", row[1])

        # the tool refuses an image for another hardware revision: failed, nothing sent
        end, _ = self.wait_end(u["id"])
        self.assertEqual(end["status"], "failed", end)
        self.assertIn("revision", end["result"])
        self.assertEqual(end["from_version"], "2.7.0")
        self.assertEqual(self.running(), "2.7.0")
        d = self.expect(self.get("/api/v1/devices/%s" % dev["id"]), 200, "device")
        self.assertEqual(d["firmware_version"], "2.7.0")


if __name__ == "__main__":
    harness.main()
