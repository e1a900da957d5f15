# SPDX-License-Identifier: MIT
"""Webhooks for SLA warnings and breaches: a real HTTP receiver (http.server in this process)
gets each event as a signed POST; an unreachable or failing receiver is retried with backoff
and finally given up; two fieldd instances deliver each event once; the API validates
webhooks, hides their secrets and shows each delivery's state.

The SLA clock is driven with acs_test_clock (see test_sla.py); retries are made fast with
FIELDD_WEBHOOK_RETRY_MS so that nothing here sleeps for long.
"""

import hashlib
import hmac
import http.server
import json
import threading
import time
import unittest

import harness


class Receiver:
    """An HTTP server that records every POST; `answers` is a list of statuses to give in
    turn (then 204 for ever)."""

    def __init__(self, answers=None):
        self.requests = []
        self.answers = list(answers or [])
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    outer.requests.append((dict(self.headers), body))
                    status = outer.answers.pop(0) if outer.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            # Several instances POST at once: the default listen backlog (5) would drop
            # connections and turn them into connect timeouts.
            request_queue_size = 128

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hooks/sla" % self.port

    def received(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class WebhookTest(harness.FielddTestCase):
    server_env = {"FIELDD_WEBHOOK_RETRY_MS": "100", "FIELDD_WEBHOOK_RETRY_MAX_MS": "400",
                  "FIELDD_WEBHOOK_POLL_MS": "50", "FIELDD_WEBHOOK_MAX_ATTEMPTS": "4",
                  "FIELDD_WEBHOOK_TIMEOUT_MS": "1000"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db.sql("UPDATE business_calendar SET last_year = greatest(last_year,"
                   " extract(year FROM now())::int + 2) WHERE id = 'ru-business';")
        cls.place = None

    def setUp(self):
        self.minutes = 0
        self.set_clock("0")
        # Each test has its own webhooks: switch off those of earlier tests.
        self.db.sql("UPDATE webhook SET active = false;")
        if WebhookTest.place is None:
            WebhookTest.place = self.make_place()

    def tearDown(self):
        self.set_clock("0")

    def set_clock(self, offset):
        self.db.sql("INSERT INTO acs_test_clock (offset_by) VALUES (:'o'::interval)"
                    " ON CONFLICT (id) DO UPDATE SET offset_by = EXCLUDED.offset_by;", o=offset)

    def wait_for(self, pred, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                self.fail_with_log("%s did not happen within %.0f s" % (what, timeout))
            time.sleep(0.05)

    def hook(self, url, events=("sla_warning", "sla_breach"), **extra):
        body = {"name": "CRM", "url": url, "events": list(events)}
        body.update(extra)
        return self.expect(self.post("/api/v1/webhooks", body, who="admin"), 201, "webhook")

    def ticket(self):
        client, site = self.place
        return self.make_ticket(client["id"], site["id"], category="emergency")

    def breach(self):
        """A new emergency ticket taken past its first-contact warning and breach."""
        t = self.ticket()
        # The clock only moves forward: the ticket was made at the current offset.
        self.set_clock("%d minutes" % (self.minutes + 13))
        self.wait_for(lambda: self.db.count("ticket_event", "ticket_id = :'t' AND kind ="
                                            " 'sla_warning'", t=t["id"]) == 1, "the warning")
        self.minutes += 16
        self.set_clock("%d minutes" % self.minutes)
        self.wait_for(lambda: self.db.count("ticket_event", "ticket_id = :'t' AND kind ="
                                            " 'sla_breach'", t=t["id"]) == 1, "the breach")
        return t

    # --- tests ----------------------------------------------------------------------------

    def test_warning_and_breach_are_posted_signed(self):
        rx = Receiver()
        self.addCleanup(rx.close)
        h = self.hook(rx.url)
        self.assertEqual(len(h["secret"]), 64, "a generated secret: 32 random bytes in hex")
        t = self.breach()
        self.wait_for(lambda: len(rx.received()) == 2, "two deliveries")
        kinds = []
        for headers, body in rx.received():
            doc = json.loads(body)
            kinds.append(doc["event"])
            self.assertEqual(headers["X-Acs-Event"], doc["event"])
            want = "sha256=" + hmac.new(h["secret"].encode(), body, hashlib.sha256).hexdigest()
            self.assertEqual(headers["X-Acs-Signature"], want, "HMAC of the exact body")
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertEqual(doc["ticket"]["id"], t["id"])
            self.assertEqual(doc["ticket"]["number"], t["number"])
            self.assertEqual(doc["ticket"]["category"], "emergency")
            self.assertEqual(doc["clock"], "first_contact")
            self.assertSameTime(doc["due"], t["sla"]["first_contact"]["due"])
            # the delivery id in the header is the one the API lists
            self.assertTrue(headers["X-Acs-Delivery"].isdigit())
        self.assertEqual(sorted(kinds), ["sla_breach", "sla_warning"])
        # recorded as delivered, once each
        d = self.expect(self.get("/api/v1/webhooks/%s/deliveries" % h["id"], who="head"), 200)
        self.wait_for(lambda: all(x["status"] == "delivered" for x in self.expect(
            self.get("/api/v1/webhooks/%s/deliveries" % h["id"], who="head"), 200)["items"]),
            "deliveries recorded")
        d = self.expect(self.get("/api/v1/webhooks/%s/deliveries" % h["id"], who="head"), 200)
        self.assertEqual(len(d["items"]), 2)
        for x in d["items"]:
            self.assertEqual(x["attempts"], 1)
            self.assertEqual(x["last_status"], 204)
        got = self.expect(self.get("/api/v1/webhooks/%s" % h["id"], who="admin"), 200)
        self.assertNotIn("secret", got, "reads never show the secret")
        self.assertEqual(got["deliveries"], {"pending": 0, "delivered": 2, "gave_up": 0})

    def test_subscription_filters_events(self):
        rx = Receiver()
        self.addCleanup(rx.close)
        self.hook(rx.url, events=["sla_breach"])
        self.breach()
        self.wait_for(lambda: len(rx.received()) == 1, "the breach delivery")
        time.sleep(0.3)
        self.assertEqual([json.loads(b)["event"] for _, b in rx.received()], ["sla_breach"])

    def test_failing_receiver_is_retried_then_given_up(self):
        rx = Receiver(answers=[500, 503])  # two failures, then 204
        self.addCleanup(rx.close)
        h = self.hook(rx.url, events=["sla_warning"])
        self.breach()
        self.wait_for(lambda: len(rx.received()) == 3, "two retries after failures")
        ids = {hd["X-Acs-Delivery"] for hd, _ in rx.received()}
        self.assertEqual(len(ids), 1, "the same delivery each time")
        self.assertEqual([hd["X-Acs-Attempt"] for hd, _ in rx.received()], ["1", "2", "3"])

        def state():
            return self.expect(self.get("/api/v1/webhooks/%s/deliveries" % h["id"],
                                        who="admin"), 200)["items"]
        self.wait_for(lambda: state()[0]["status"] == "delivered", "delivered on attempt 3")
        self.assertEqual(state()[0]["attempts"], 3)

        # A receiver that is not there at all: refused connections, 4 attempts, given up.
        dead = harness.free_port()
        h2 = self.hook("http://127.0.0.1:%d/nobody" % dead, events=["sla_breach"])
        self.breach()

        def dead_state():
            return self.expect(self.get("/api/v1/webhooks/%s/deliveries" % h2["id"],
                                        who="admin"), 200)["items"]
        self.wait_for(lambda: dead_state() and dead_state()[0]["status"] == "gave_up",
                      "given up after the last attempt", timeout=15)
        x = dead_state()[0]
        self.assertEqual(x["attempts"], 4)
        self.assertIsNone(x["last_status"])
        self.assertIn("127.0.0.1:%d" % dead, x["last_error"])
        # an admin sends it again once the receiver is back: delivered on the next attempt
        rx2 = Receiver()
        self.addCleanup(rx2.close)
        self.expect(self.patch("/api/v1/webhooks/%s" % h2["id"], {"url": rx2.url},
                               who="admin"), 200)
        self.assertProblem(self.post("/api/v1/webhooks/%s/deliveries/%d/redeliver"
                                     % (h2["id"], x["id"]), who="head"), 403,
                           "/problems/forbidden")
        again = self.expect(self.post("/api/v1/webhooks/%s/deliveries/%d/redeliver"
                                      % (h2["id"], x["id"]), who="admin"), 200, "redeliver")
        self.assertEqual(again["status"], "pending")
        self.wait_for(lambda: dead_state()[0]["status"] == "delivered", "redelivered")
        self.assertEqual(len(rx2.received()), 1)
        self.assertEqual(rx2.received()[0][0]["X-Acs-Delivery"], str(x["id"]))
        self.assertProblem(self.post("/api/v1/webhooks/%s/deliveries/%d/redeliver"
                                     % (h2["id"], x["id"]), who="admin"), 409,
                           "/problems/conflict")
        self.assertProblem(self.post("/api/v1/webhooks/%s/deliveries/999999/redeliver"
                                     % h2["id"], who="admin"), 404, "/problems/not-found")
        metrics = self.get("/metrics", who="admin").body
        self.assertRegex(metrics, r'fieldd_webhook_gave_up_total [1-9]')

    def test_two_instances_deliver_each_once(self):
        rx = Receiver()
        self.addCleanup(rx.close)
        self.hook(rx.url)
        other = harness.Server(self.db, self.workdir, self.server_env, name="fieldd-b").start()
        try:
            tickets = [self.ticket() for _ in range(5)]
            self.set_clock("16 minutes")
            self.wait_for(lambda: len(rx.received()) >= 10, "10 deliveries")
            time.sleep(0.5)
        finally:
            self.assertEqual(other.stop(), 0)
        got = [json.loads(b) for _, b in rx.received()]
        self.assertEqual(len(got), 10, "one warning and one breach per ticket, once each")
        self.assertEqual(sorted((g["ticket"]["id"], g["event"]) for g in got),
                         sorted((t["id"], k) for t in tickets
                                for k in ("sla_breach", "sla_warning")))

    def test_validation_roles_and_secrets(self):
        ok = {"name": "CRM", "url": "https://crm.example.ru/hooks", "events": ["sla_breach"]}
        for bad, field in [({"url": "ftp://x/y"}, "url"), ({"url": "https://"}, "url"),
                           ({"url": "https://user@crm.example.ru/"}, "url"),
                           ({"events": []}, "events"), ({"events": ["sla_tea"]}, "events"),
                           ({"secret": "short"}, "secret"), ({"colour": "red"}, None)]:
            body = dict(ok)
            body.update(bad)
            b = self.assertProblem(self.post("/api/v1/webhooks", body, who="admin"), 400,
                                   "/problems/validation", what=repr(bad))
            if field:
                self.assertEqual(b.get("field"), field, repr(b))
        for who in ("dispatcher", "head", "eng1", "senior"):
            self.assertProblem(self.post("/api/v1/webhooks", ok, who=who), 403,
                               "/problems/forbidden", what=who)
        self.assertProblem(self.get("/api/v1/webhooks", who="dispatcher"), 403,
                           "/problems/forbidden")
        # a client-chosen id and secret; replay gives the same object
        ident = harness.new_id()
        body = dict(ok, id=ident, secret="s" * 32)
        h = self.expect(self.post("/api/v1/webhooks", body, who="admin"), 201)
        self.assertEqual(h["secret"], "s" * 32)
        again = self.expect(self.post("/api/v1/webhooks", body, who="admin"), 200, "replay")
        self.assertEqual(again["id"], ident)
        self.assertProblem(self.post("/api/v1/webhooks", dict(body, name="Other"), who="admin"),
                           409, "/problems/conflict")
        # patch: deactivate, rotate the secret (audited without its value), bad url refused
        p = self.expect(self.patch("/api/v1/webhooks/%s" % ident,
                                   {"active": False, "secret": "t" * 40}, who="admin"), 200)
        self.assertFalse(p["active"])
        self.assertNotIn("secret", p)
        self.assertEqual(self.db.value("SELECT secret FROM webhook WHERE id = :'i';", i=ident),
                         "t" * 40)
        audit = self.db.value("SELECT detail::text FROM audit_log WHERE object_id = :'i'"
                              " AND action = 'update';", i=ident)
        self.assertNotIn("t" * 40, audit)
        self.assertProblem(self.patch("/api/v1/webhooks/%s" % ident, {"url": "x"},
                                      who="admin"), 400, "/problems/validation", field="url")
        self.assertProblem(self.get("/api/v1/webhooks/%s" % harness.new_id(), who="admin"),
                           404, "/problems/not-found")
        self.assertProblem(self.get("/api/v1/webhooks/%s/deliveries" % harness.new_id(),
                                    who="admin"), 404, "/problems/not-found")
        self.assertProblem(self.get("/api/v1/webhooks/%s/deliveries?status=lost" % ident,
                                    who="admin"), 400, "/problems/validation")
        listed = self.expect(self.get("/api/v1/webhooks", who="head"), 200)["items"]
        self.assertIn(ident, [x["id"] for x in listed])
        self.assertTrue(all("secret" not in x for x in listed))


if __name__ == "__main__":
    harness.main()
