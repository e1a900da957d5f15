# SPDX-License-Identifier: MIT
"""Live events for the dispatcher's board (db/migrations/0013_live_events.sql): a new ticket
and every job status change reach GET /api/v1/events at once, with the fields the board reads;
a bulk load of tickets sends none of its rows live.
"""

import json
import socket
import threading
import time

import harness


class Events:
    """GET /api/v1/events read in a thread; events are (name, data dict)."""

    def __init__(self, port, token):
        self.events = []
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
                           "\r\n\r\n" % token).encode())
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise AssertionError("the event stream did not open")

    def _run(self):
        buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if b"acsfield live events" in buf:
                    self.ready.set()
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    name, data = None, []
                    for line in block.decode(errors="replace").split("\n"):
                        if line.startswith("event: "):
                            name = line[7:]
                        elif line.startswith("data: "):
                            data.append(line[6:])
                    if name is not None and data:
                        self.events.append((name, json.loads("\n".join(data))))
        except OSError:
            pass

    def of(self, name):
        return [d for n, d in self.events if n == name]

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class LiveEventsTest(harness.FielddTestCase):

    def wait_for(self, pred, what, timeout=8.0):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                self.fail_with_log("%s did not arrive within %.0f s" % (what, timeout))
            time.sleep(0.05)

    def test_ticket_created_and_job_status(self):
        ev = Events(self.server.port, self.token("dispatcher"))
        self.addCleanup(ev.close)
        client, site = self.make_place()
        t = self.make_ticket(client["id"], site["id"], category="emergency",
                             subject="Turnstile 3 stuck")
        self.wait_for(lambda: any(d["ticket_id"] == t["id"] for d in ev.of("ticket_created")),
                      "ticket_created")
        d = [d for d in ev.of("ticket_created") if d["ticket_id"] == t["id"]][0]
        self.assertEqual((d["number"], d["subject"], d["category"], d["site_id"]),
                         (t["number"], "Turnstile 3 stuck", "emergency", site["id"]))

        _, job = self.assigned_job("eng1", ticket=t)
        self.job_to(job["id"], "en_route", who="eng1")
        self.job_to(job["id"], "on_site", who="eng1")

        def statuses():
            return [(d["from_status"], d["status"]) for d in ev.of("job_status")
                    if d["job_id"] == job["id"]]
        self.wait_for(lambda: ("assigned", "en_route") in statuses()
                      and ("en_route", "on_site") in statuses(), "job_status events")
        for d in ev.of("job_status"):
            if d["job_id"] == job["id"] and d["status"] == "on_site":
                self.assertEqual(d["engineer_id"], self.users["eng1"].id)
                harness.parse_ts(d["at"])

    def test_bulk_load_is_not_sent_live(self):
        ev = Events(self.server.port, self.token("head"))
        self.addCleanup(ev.close)
        client, site = self.make_place()
        self.db.sql("INSERT INTO ticket (client_id, site_id, category, subject)"
                    " SELECT :'c'::uuid, :'s'::uuid, 'standard', 'bulk ' || g"
                    " FROM generate_series(1, 50) g;", c=client["id"], s=site["id"])
        # A ticket made after the load is the next ticket_created the stream carries.
        t = self.make_ticket(client["id"], site["id"], subject="after the load")
        self.wait_for(lambda: any(d["ticket_id"] == t["id"] for d in ev.of("ticket_created")),
                      "the ticket made after the load")
        subjects = [d["subject"] for d in ev.of("ticket_created")]
        self.assertNotIn("bulk 1", subjects)
        self.assertEqual(self.db.count("ticket", "subject LIKE 'bulk %'"), 50)


if __name__ == "__main__":
    harness.main()
