# SPDX-License-Identifier: MIT
"""Business calendars and working-time arithmetic: acs_work_add and
acs_work_between against cases computed by hand and written as literals (nights, weekends,
lunch breaks, Russian holidays, transferred and shortened days, month and year ends, DST days
on a Berlin test calendar), the covered-years and unknown-calendar errors, SLA policies,
`fieldd calendar import` of an iCalendar file, and the /api/v1/calendars and
/api/v1/sla-policies endpoints (roles, validation, audit).

Moscow is UTC+3 all year (no DST), so the ru-business literals carry +03."""

import sys

sys.dont_write_bytecode = True

import os  # noqa: E402
import tempfile  # noqa: E402

import harness  # noqa: E402

RU = "ru-business"

# (start, amount, expected end). Hours on ru-business: Mon-Fri 09:00-13:00, 14:00-18:00.
ADD_CASES = [
    # a plain Tuesday
    ("2026-11-24 09:00+03", "2 hours", "2026-11-24 11:00+03"),
    ("2026-11-24 09:00+03", "4 hours", "2026-11-24 13:00+03"),   # ends as lunch starts
    ("2026-11-24 12:00+03", "2 hours", "2026-11-24 15:00+03"),   # across lunch
    ("2026-11-24 13:30+03", "1 hour", "2026-11-24 15:00+03"),    # starts in lunch
    ("2026-11-24 12:59:59.5+03", "1 second", "2026-11-24 14:00:00.5+03"),
    ("2026-11-24 10:00+03", "8 hours", "2026-11-25 10:00+03"),
    # nights
    ("2026-11-24 22:00+03", "1 hour", "2026-11-25 10:00+03"),
    ("2026-11-25 06:00+03", "30 minutes", "2026-11-25 09:30+03"),
    ("2026-11-24 18:00+03", "1 minute", "2026-11-25 09:01+03"),
    # Friday evening to Monday, weekend starts
    ("2026-11-27 17:00+03", "2 hours", "2026-11-30 10:00+03"),
    ("2026-11-28 12:00+03", "3 hours", "2026-11-30 12:00+03"),
    # 24 working hours (3 working days) from Tuesday 10:00: 7 + 8 + 8 + 1
    ("2026-11-24 10:00+03", "24 hours", "2026-11-27 10:00+03"),
    ("2026-11-24 10:00+03", "1 day", "2026-11-27 10:00+03"),      # a day is 24 hours
    # month end: Wednesday 30 September 2026 to Thursday 1 October
    ("2026-09-30 17:30+03", "1 hour", "2026-10-01 09:30+03"),
    # the New Year run: 31 Dec 2025 (moved day off) and 1-11 Jan 2026 are not worked
    ("2025-12-30 17:00+03", "2 hours", "2026-01-12 10:00+03"),
    ("2025-12-31 10:00+03", "1 hour", "2026-01-12 10:00+03"),
    ("2026-01-05 10:00+03", "16 hours", "2026-01-13 18:00+03"),
    ("2025-12-29 09:00+03", "20 hours", "2026-01-12 13:00+03"),  # 8 + 8 on 29-30 Dec, then 4
    # 2025 New Year run: 1-8 January, first working day Thursday 9 January
    ("2025-01-01 00:00+03", "1 hour", "2025-01-09 10:00+03"),
    # shortened days end at 17:00 (the hour is taken off the end of the day)
    ("2026-11-03 16:00+03", "2 hours", "2026-11-05 10:00+03"),   # 4 Nov Unity Day
    ("2026-11-03 16:30+03", "30 minutes", "2026-11-03 17:00+03"),
    ("2026-04-30 16:00+03", "90 minutes", "2026-05-04 09:30+03"),  # 1-3 May off
    ("2026-05-08 16:00+03", "2 hours", "2026-05-12 10:00+03"),  # 9-11 May off
    ("2025-03-07 16:00+03", "2 hours", "2025-03-10 10:00+03"),  # 8 March on a Saturday
    ("2025-06-11 15:00+03", "3 hours", "2025-06-16 10:00+03"),  # 12-15 June off
    # transferred working Saturday 1 Nov 2025 (Monday hours, shortened), then 2-4 Nov off
    ("2025-10-31 17:00+03", "2 hours", "2025-11-01 10:00+03"),
    ("2025-11-01 16:00+03", "2 hours", "2025-11-05 10:00+03"),
    # moved days off in 2025: 2 May, 8 May, 13 June
    ("2025-04-30 17:00+03", "2 hours", "2025-05-05 11:00+03"),  # 30 Apr ends at 17:00
    ("2025-05-07 17:00+03", "2 hours", "2025-05-12 10:00+03"),
    ("2025-06-11 17:00+03", "1 hour", "2025-06-16 10:00+03"),
    # 2026: 23 Feb (Monday), 9 March (moved from Sunday 8 March)
    ("2026-02-20 17:00+03", "2 hours", "2026-02-24 10:00+03"),
    ("2026-03-06 17:00+03", "2 hours", "2026-03-10 10:00+03"),
    # the last hour of the covered years
    ("2026-12-30 17:00+03", "1 hour", "2026-12-30 18:00+03"),
    # zero amount: the first working moment at or after the start
    ("2026-11-24 10:15+03", "0", "2026-11-24 10:15+03"),
    ("2026-11-24 13:00+03", "0", "2026-11-24 14:00+03"),
    ("2026-11-24 18:00+03", "0", "2026-11-25 09:00+03"),
    ("2026-11-28 00:00+03", "0", "2026-11-30 09:00+03"),
    ("2026-01-01 00:00+03", "0", "2026-01-12 09:00+03"),
    ("2025-01-01 00:00+03", "0", "2025-01-09 09:00+03"),
]

# (from, to, expected working time)
BETWEEN_CASES = [
    ("2026-11-24 09:00+03", "2026-11-24 11:00+03", "2 hours"),
    ("2026-11-24 12:00+03", "2026-11-24 15:00+03", "2 hours"),
    ("2026-11-24 13:00+03", "2026-11-24 14:00+03", "0"),
    ("2026-11-24 00:00+03", "2026-11-25 00:00+03", "8 hours"),
    ("2026-11-24 11:00+03", "2026-11-24 11:00+03", "0"),
    ("2026-11-24 15:00+03", "2026-11-24 11:00+03", "0"),         # to before from
    ("2026-11-27 17:00+03", "2026-11-30 10:00+03", "2 hours"),
    ("2026-11-28 00:00+03", "2026-11-30 00:00+03", "0"),
    ("2025-12-30 17:00+03", "2026-01-12 10:00+03", "2 hours"),
    ("2026-01-01 00:00+03", "2026-01-12 00:00+03", "0"),
    ("2025-12-31 00:00+03", "2026-01-01 00:00+03", "0"),
    ("2026-11-03 00:00+03", "2026-11-04 00:00+03", "7 hours"),
    ("2025-11-01 00:00+03", "2025-11-02 00:00+03", "7 hours"),   # working Saturday, short
    ("2025-11-01 00:00+03", "2025-11-06 00:00+03", "15 hours"),  # 7 + (2-4 Nov off) + 8
    ("2026-11-24 12:59:59.5+03", "2026-11-24 14:00:00.5+03", "1 second"),
    # whole months (working days x 8 - shortened days)
    ("2026-01-01 00:00+03", "2026-02-01 00:00+03", "120 hours"),  # 15 days
    ("2026-02-01 00:00+03", "2026-03-01 00:00+03", "152 hours"),  # 19 days
    ("2026-03-01 00:00+03", "2026-04-01 00:00+03", "168 hours"),  # 21 days
    ("2026-05-01 00:00+03", "2026-06-01 00:00+03", "151 hours"),  # 19 days, 8 May short
    ("2026-11-01 00:00+03", "2026-12-01 00:00+03", "159 hours"),  # 20 days, 3 Nov short
    ("2025-03-01 00:00+03", "2025-04-01 00:00+03", "167 hours"),  # 21 days, 7 Mar short
    ("2025-05-01 00:00+03", "2025-06-01 00:00+03", "144 hours"),  # 18 days
    ("2025-06-01 00:00+03", "2025-07-01 00:00+03", "151 hours"),  # 19 days, 11 Jun short
    ("2025-12-01 00:00+03", "2026-01-01 00:00+03", "176 hours"),  # 22 days
    # whole years: 247 working days, 4 shortened days each
    ("2025-01-01 00:00+03", "2026-01-01 00:00+03", "1972 hours"),
    ("2026-01-01 00:00+03", "2027-01-01 00:00+03", "1972 hours"),
]

# A DST test calendar on Europe/Berlin: Mon-Fri 09:00-18:00 and a Sunday night duty
# 00:00-06:00 local, which the clock changes of 29 March and 25 October 2026 cut into.
# 29 March: 02:00 CET becomes 03:00 CEST; 25 October: 03:00 CEST becomes 02:00 CET.
BERLIN = "test-berlin"
BERLIN_ADD = [
    ("2026-03-27 17:00+01", "2 hours", "2026-03-29 01:00+01"),
    ("2026-03-29 01:30+01", "1 hour", "2026-03-29 03:30+02"),     # real hour across 02:00
    ("2026-03-29 05:30+02", "1 hour", "2026-03-30 09:30+02"),
    ("2026-10-25 01:30+02", "2 hours", "2026-10-25 02:30+01"),
    ("2026-10-23 17:30+02", "7 hours", "2026-10-25 05:30+01"),   # 0.5 Fri + 6.5 of 7 Sun
    ("2026-03-30 09:00+02", "9 hours", "2026-03-30 18:00+02"),
]
BERLIN_BETWEEN = [
    ("2026-03-29 00:00+01", "2026-03-30 00:00+02", "5 hours"),    # 23-hour day
    ("2026-10-25 00:00+02", "2026-10-26 00:00+01", "7 hours"),    # 25-hour day
    ("2026-03-22 00:00+01", "2026-03-23 00:00+01", "6 hours"),    # an ordinary Sunday
    ("2026-03-27 00:00+01", "2026-03-28 00:00+01", "9 hours"),    # Friday before, CET
    ("2026-03-30 00:00+02", "2026-03-31 00:00+02", "9 hours"),    # Monday after, CEST
    ("2026-03-23 00:00+01", "2026-03-30 00:00+02", "50 hours"),   # 5 x 9 + 5
    ("2026-10-19 00:00+02", "2026-10-26 00:00+01", "52 hours"),   # 5 x 9 + 7
]

BERLIN_SQL = """
INSERT INTO business_calendar (id, name, time_zone, first_year, last_year)
VALUES ('test-berlin', 'DST test', 'Europe/Berlin', 2026, 2026);
INSERT INTO business_calendar_hours (calendar_id, iso_weekday, start_time, end_time)
SELECT 'test-berlin', d, time '09:00', time '18:00' FROM generate_series(1, 5) d
UNION ALL SELECT 'test-berlin', 7, time '00:00', time '06:00';
"""

REFERENCE = os.path.join(harness.source_dir(), "db", "reference")


def lit(s):
    return "'" + s.replace("'", "''") + "'"


class WorkTimeTest(harness.FielddTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.db.sql(BERLIN_SQL)
        except BaseException:
            cls.tearDownClass()
            raise

    def check_add(self, cal, cases):
        rows = ",\n".join("(%d, %s::timestamptz, %s::interval, %s::timestamptz)" % (
            i, lit(s), lit(a), lit(e)) for i, (s, a, e) in enumerate(cases))
        out = self.db.rows(
            "SET timezone = 'UTC';\n"
            "SELECT i, r::text, (r = e)::text, "
            "       (acs_work_between(%s, s, r) = a::interval)::text"
            " FROM (SELECT i, s, a, e, acs_work_add(%s, s, a) AS r"
            "       FROM (VALUES %s) v (i, s, a, e)) x ORDER BY i;" % (lit(cal), lit(cal), rows))
        self.assertEqual(len(out), len(cases))
        for (i, got, ok, round_trip), (s, a, e) in zip(out, cases):
            self.assertEqual(ok, "true", "acs_work_add(%s, %s, %s) = %s, expected %s"
                             % (cal, s, a, got, e))
            self.assertEqual(round_trip, "true",
                             "acs_work_between(%s, %s, acs_work_add(..., %s)) != %s"
                             % (cal, s, a, a))

    def check_between(self, cal, cases):
        rows = ",\n".join("(%d, %s::timestamptz, %s::timestamptz, %s::interval)" % (
            i, lit(f), lit(t), lit(e)) for i, (f, t, e) in enumerate(cases))
        out = self.db.rows(
            "SELECT i, r::text, (r = e)::text FROM (SELECT i, e, acs_work_between(%s, f, t) AS r"
            " FROM (VALUES %s) v (i, f, t, e)) x ORDER BY i;" % (lit(cal), rows))
        self.assertEqual(len(out), len(cases))
        for (i, got, ok), (f, t, e) in zip(out, cases):
            self.assertEqual(ok, "true", "acs_work_between(%s, %s, %s) = %s, expected %s"
                             % (cal, f, t, got, e))

    def test_ru_business_add(self):
        self.check_add(RU, ADD_CASES)

    def test_ru_business_between(self):
        self.check_between(RU, BETWEEN_CASES)

    def test_dst(self):
        self.check_add(BERLIN, BERLIN_ADD)
        self.check_between(BERLIN, BERLIN_BETWEEN)

    def test_24x7(self):
        self.check_add("24x7", [
            ("2026-11-24 10:00Z", "15 minutes", "2026-11-24 10:15Z"),
            ("2026-12-31 23:50Z", "15 minutes", "2027-01-01 00:05Z"),
            ("2030-03-31 00:30+01", "2 hours", "2030-03-31 03:30+02"),  # real time
            ("2026-11-24 10:00Z", "0", "2026-11-24 10:00Z"),
        ])
        self.check_between("24x7", [
            ("2026-11-24 10:00Z", "2026-11-25 10:00Z", "24 hours"),
            ("2026-03-29 00:00+01", "2026-03-30 00:00+02", "23 hours"),
        ])

    def test_round_trip_many(self):
        """work_between(s, work_add(s, x)) = x for starts every 37 minutes over 2026."""
        bad = self.db.value(
            "SELECT count(*) FROM generate_series(timestamptz '2026-01-01 00:00+03',"
            " '2026-12-20 00:00+03', '37 minutes') s,"
            " (VALUES (interval '0'), ('1 minute'), ('4 hours'), ('24 hours'), ('40 hours')) a (x)"
            " WHERE acs_work_between('ru-business', s, acs_work_add('ru-business', s, x)) <> x;")
        self.assertEqual(bad, "0")

    def test_errors(self):
        for sql, msg in (
                ("SELECT acs_work_add('nope', now(), '1 hour');",
                 r'unknown business calendar "nope"'),
                ("SELECT acs_work_between('nope', now(), now() + '1 hour');",
                 r'unknown business calendar "nope"'),
                ("SELECT acs_work_between('nope', now(), now());",
                 r'unknown business calendar "nope"'),
                ("SELECT acs_work_add('ru-business', '2024-12-31 12:00+03', '1 hour');",
                 r'covers .* only'),
                ("SELECT acs_work_add('ru-business', '2026-12-30 17:00+03', '2 hours');",
                 r'covers its years up to .* only'),
                ("SELECT acs_work_add('ru-business', '2027-01-11 12:00+03', '0');",
                 r'covers .* only'),
                ("SELECT acs_work_between('ru-business', '2026-12-01', '2027-02-01');",
                 r'covers .* only'),
                ("SELECT acs_work_between('ru-business', '2024-12-01', '2025-02-01');",
                 r'covers .* only'),
                ("SELECT acs_work_add('ru-business', '2026-11-24 10:00+03', '-1 hour');",
                 r'must not be negative'),
        ):
            with self.assertRaisesRegex(AssertionError, msg, msg=sql):
                self.db.value(sql)
        # the SQLSTATE is invalid_parameter_value
        out = self.db.value(
            "DO $$ BEGIN PERFORM acs_work_add('nope', now(), '1 hour');"
            " EXCEPTION WHEN invalid_parameter_value THEN RAISE NOTICE 'ok'; END $$;"
            " SELECT 'caught';")
        self.assertEqual(out, "caught")

    def test_definition_changes_rebuild(self):
        """A new exception, changed hours and a bad definition, through plain SQL."""
        q = "SELECT acs_work_between('test-berlin', '2026-06-01 00:00+02', '2026-06-02 00:00+02');"
        self.assertEqual(self.db.value(q), "09:00:00")
        self.db.sql("INSERT INTO business_calendar_exception (calendar_id, day, kind)"
                    " VALUES ('test-berlin', '2026-06-01', 'holiday');")
        self.assertEqual(self.db.value(q), "00:00:00")
        self.db.sql("UPDATE business_calendar_exception SET kind = 'short', shorten_min = 90"
                    " WHERE calendar_id = 'test-berlin' AND day = '2026-06-01';")
        self.assertEqual(self.db.value(q), "07:30:00")
        self.db.sql("DELETE FROM business_calendar_exception WHERE calendar_id = 'test-berlin';")
        self.assertEqual(self.db.value(q), "09:00:00")
        with self.assertRaisesRegex(AssertionError, "overlap"):
            self.db.sql("INSERT INTO business_calendar_hours VALUES"
                        " ('test-berlin', 1, '17:00', '19:00');")
        with self.assertRaisesRegex(AssertionError, "outside"):
            self.db.sql("INSERT INTO business_calendar_exception (calendar_id, day, kind)"
                        " VALUES ('test-berlin', '2027-01-01', 'holiday');")
        with self.assertRaisesRegex(AssertionError, 'unknown time zone "Mars/Olympus"'):
            self.db.sql("UPDATE business_calendar SET time_zone = 'Mars/Olympus'"
                        " WHERE id = 'test-berlin';")
        self.assertEqual(self.db.value(q), "09:00:00")

    def test_sla_policies(self):
        rows = self.db.rows(
            "SELECT category, first_contact_target, first_contact_calendar, resolution_target,"
            " resolution_calendar, warn_ratio FROM sla_policy WHERE client_id IS NULL"
            " ORDER BY category;")
        self.assertEqual(rows, [
            ["consultation", "04:00:00", RU, "16:00:00", RU, "0.800"],
            ["emergency", "00:15:00", "24x7", "04:00:00", RU, "0.800"],
            ["standard", "02:00:00", RU, "24:00:00", RU, "0.800"],
        ])
        c = self.make_client()
        other = self.make_client()
        self.db.sql("INSERT INTO sla_policy (category, client_id, first_contact_target,"
                    " first_contact_calendar, resolution_target, resolution_calendar)"
                    " VALUES ('standard', :'c', '30 minutes', '24x7', '8 hours', 'ru-business');",
                    c=c["id"])
        self.assertEqual(self.db.value(
            "SELECT (acs_sla_policy_for('standard', :'c')).first_contact_target;", c=c["id"]),
            "00:30:00")
        self.assertEqual(self.db.value(
            "SELECT (acs_sla_policy_for('standard', :'c')).first_contact_target;",
            c=other["id"]), "02:00:00")
        self.assertEqual(self.db.value(
            "SELECT (acs_sla_policy_for('emergency', :'c')).first_contact_calendar;",
            c=c["id"]), "24x7")
        self.assertEqual(self.db.value(
            "SELECT (acs_sla_policy_for('consultation', NULL)).resolution_target;"), "16:00:00")
        with self.assertRaisesRegex(AssertionError, 'no SLA policy for category "urgent"'):
            self.db.value("SELECT acs_sla_policy_for('urgent', NULL);")


class CalendarImportTest(harness.FielddTestCase):
    """fieldd calendar import: the shipped Russian 2025/2026 files rebuild a calendar equal to
    the migration's ru-business; bad files are refused with file, line and reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.db.sql("INSERT INTO business_calendar (id, name, time_zone, first_year, last_year)"
                       " VALUES ('t-imp', 'import test', 'Europe/Moscow', 2026, 2026);"
                       "INSERT INTO business_calendar_hours SELECT 't-imp', d, t.s, t.e"
                       " FROM generate_series(1, 5) d, (VALUES (time '09:00', time '13:00'),"
                       " (time '14:00', time '18:00')) t (s, e);")
        except BaseException:
            cls.tearDownClass()
            raise
        cls.tmp = tempfile.mkdtemp(prefix="acs_it_ics_")

    def run_import(self, *args):
        return harness.run_fieldd(["calendar", "import"] + list(args), self.db)

    def ics(self, name, events):
        body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(
            "BEGIN:VEVENT\r\nUID:%d@t\r\nDTSTAMP:20260101T000000Z\r\n%sEND:VEVENT\r\n" % (i, e)
            for i, e in enumerate(events)) + "END:VCALENDAR\r\n"
        path = os.path.join(self.tmp, name)
        with open(path, "w", newline="") as f:
            f.write(body)
        return path

    def test_a_import_reference_years(self):
        p = self.run_import("--calendar", "t-imp", "--file",
                            os.path.join(REFERENCE, "ru-2026.ics"), "--replace-year", "2026")
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertIn("23 dates imported from ru-2026.ics", p.stdout)
        self.assertIn("1972:00:00", p.stdout)
        # 2025 is next to the covered 2026: the calendar grows to cover it
        p = self.run_import("--calendar", "t-imp", "--file",
                            os.path.join(REFERENCE, "ru-2025.ics"), "--replace-year=2025")
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertIn("covers 2025 to 2026", p.stdout)
        self.assertEqual(self.db.value(
            "SELECT count(*) FROM ((SELECT span_start, span_end, work_before FROM"
            " business_calendar_span WHERE calendar_id = 't-imp') EXCEPT ALL"
            " (SELECT span_start, span_end, work_before FROM business_calendar_span"
            " WHERE calendar_id = 'ru-business')) x;"), "0")
        self.assertEqual(self.db.value(
            "SELECT count(*) FROM business_calendar_span WHERE calendar_id = 't-imp';"),
            self.db.value("SELECT count(*) FROM business_calendar_span"
                          " WHERE calendar_id = 'ru-business';"))
        self.assertEqual(self.db.value(
            "SELECT kind || ' ' || shorten_min FROM business_calendar_exception"
            " WHERE calendar_id = 't-imp' AND day = '2025-11-01';"), "workday 60")
        self.assertEqual(self.db.value(
            "SELECT count(*) FROM audit_log WHERE action = 'import'"
            " AND detail->>'calendar' = 't-imp';"), "2")
        # merging the same file again replaces the same dates
        p = self.run_import("--calendar", "t-imp", "--file",
                            os.path.join(REFERENCE, "ru-2025.ics"))
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertIn("(0 new, 23 replaced", p.stdout)

    def test_b_bad_files(self):
        before = self.db.value("SELECT count(*) || '/' || (SELECT count(*) FROM audit_log)"
                               " FROM business_calendar_exception WHERE calendar_id = 't-imp';")
        timed = self.ics("timed.ics", ["DTSTART;VALUE=DATE:20260302\r\nSUMMARY:ok\r\n",
                                       "DTSTART:20260303T090000Z\r\nSUMMARY:meeting\r\n"])
        backwards = self.ics("back.ics", ["DTSTART;VALUE=DATE:20260305\r\n"
                                          "DTEND;VALUE=DATE:20260304\r\nSUMMARY:back\r\n"])
        rrule = self.ics("rrule.ics", ["DTSTART;VALUE=DATE:20260305\r\nRRULE:FREQ=YEARLY\r\n"
                                       "SUMMARY:every year\r\n"])
        dup = self.ics("dup.ics", ["DTSTART;VALUE=DATE:20260305\r\nSUMMARY:a\r\n",
                                   "DTSTART;VALUE=DATE:20260305\r\nSUMMARY:b\r\n"])
        other_year = self.ics("year.ics", ["DTSTART;VALUE=DATE:20270105\r\nSUMMARY:next\r\n"])
        bad_short = self.ics("short.ics", ["DTSTART;VALUE=DATE:20260305\r\nSUMMARY:s\r\n"
                                           "CATEGORIES:SHORTDAY\r\n"
                                           "X-ACS-SHORTEN-MINUTES:lots\r\n"])
        junk = os.path.join(self.tmp, "junk.ics")
        with open(junk, "w") as f:
            f.write("this is not a calendar\n")
        for args, pattern in (
                (["--file", timed], r"timed\.ics line 10 \(VEVENT \"meeting\"\): DTSTART "
                                    r"20260303T090000Z? has a time of day"),
                (["--file", backwards], r"back\.ics line 4 .*is not after DTSTART"),
                (["--file", rrule], r"rrule\.ics line 4 .*recurring events"),
                (["--file", dup], r"dup\.ics line 10 .*2026-03-05 is already given by the "
                                  r"VEVENT at line 4"),
                (["--file", other_year, "--replace-year", "2026"],
                 r"year\.ics line 4 .*2027-01-05 is not in 2026"),
                (["--file", other_year], r"2027-01-05 is outside the years calendar \"t-imp\" "
                                         r"covers"),
                (["--file", bad_short], r"X-ACS-SHORTEN-MINUTES \"lots\""),
                (["--file", junk], r"junk\.ics line 1: not an iCalendar file"),
                (["--file", os.path.join(self.tmp, "missing.ics")], r"cannot open"),
                (["--file", self.ics("y2028.ics", ["DTSTART;VALUE=DATE:20280105\r\n"]),
                  "--replace-year", "2028"], r"can grow by one year at a time"),
        ):
            p = self.run_import("--calendar", "t-imp", *args)
            self.assertEqual(p.returncode, 1, harness.describe(p))
            self.assertRegex(p.stderr, pattern)
        p = self.run_import("--calendar", "nope", "--file", os.path.join(REFERENCE, "ru-2026.ics"))
        self.assertEqual(p.returncode, 1)
        self.assertIn('no calendar "nope"', p.stderr)
        p = self.run_import("--calendar", "t-imp")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(self.db.value(
            "SELECT count(*) || '/' || (SELECT count(*) FROM audit_log)"
            " FROM business_calendar_exception WHERE calendar_id = 't-imp';"), before)


class CalendarApiTest(harness.FielddTestCase):

    def put(self, path, body, who="head", **kw):
        return self.call("PUT", path, who, body=body, **kw)

    def delete(self, path, who="head", **kw):
        return self.call("DELETE", path, who, **kw)

    def audit_count(self):
        return int(self.db.value("SELECT count(*) FROM audit_log;"))

    def test_a_read(self):
        for who in ("admin", "head", "dispatcher", "senior", "eng1"):
            b = self.expect(self.get("/api/v1/calendars", who), 200, "list as %s" % who)
            ids = [c["id"] for c in b["items"]]
            self.assertIn(RU, ids)
            self.assertIn("24x7", ids)
        b = self.expect(self.get("/api/v1/calendars/ru-business?year=2026", "eng1"), 200)
        self.assertEqual(b["time_zone"], "Europe/Moscow")
        self.assertEqual(b["working_time_hours"], 1972)
        self.assertEqual(len(b["hours"]), 10)
        self.assertEqual(b["hours"][0], {"weekday": 1, "start": "09:00", "end": "13:00"})
        self.assertEqual(len(b["exceptions"]), 22)
        self.assertTrue(all(e["date"].startswith("2026-") for e in b["exceptions"]))
        self.assertIn({"date": "2026-12-31", "kind": "holiday", "as_weekday": None,
                       "shorten_min": 0, "note": "Day off moved from Sunday 4 January",
                       "source": "Decree No. 1466 of 2025-09-24"}, b["exceptions"])
        b = self.expect(self.get("/api/v1/calendars/ru-business"), 200)
        self.assertEqual(len(b["exceptions"]), 45)
        self.assertProblem(self.get("/api/v1/calendars/nope"), 404, "/problems/not-found")
        self.assertProblem(self.get("/api/v1/calendars/ru-business?year=26"), 400,
                           "/problems/validation", "year")
        self.assertProblem(self.get("/api/v1/calendars/ru-business?colour=red"), 400,
                           "/problems/validation")
        b = self.expect(self.get("/api/v1/sla-policies", "eng1"), 200)
        defaults = {p["category"]: p for p in b["items"] if p["client_id"] is None}
        self.assertEqual(defaults["emergency"]["first_contact_target_minutes"], 15)
        self.assertEqual(defaults["emergency"]["first_contact_calendar"], "24x7")
        self.assertEqual(defaults["standard"]["resolution_target_minutes"], 1440)
        self.assertEqual(defaults["consultation"]["resolution_target_minutes"], 960)

    def test_hours_and_exceptions(self):
        self.db.sql("INSERT INTO business_calendar (id, name, time_zone, first_year, last_year)"
                    " VALUES ('api-cal', 'api test', 'Asia/Yekaterinburg', 2026, 2026);")
        hours = [{"weekday": d, "start": "08:00", "end": "12:00"} for d in range(1, 6)] + \
                [{"weekday": d, "start": "13:00", "end": "17:00"} for d in range(1, 6)]
        n = self.audit_count()
        for who in ("dispatcher", "senior", "eng1"):
            r = self.put("/api/v1/calendars/api-cal/hours", {"hours": hours}, who)
            self.assertProblem(r, 403, "/problems/forbidden", what="hours as %s" % who)
        self.assertEqual(self.audit_count(), n)
        b = self.expect(self.put("/api/v1/calendars/api-cal/hours", {"hours": hours}, "head"),
                        200, "put hours")
        self.assertEqual(len(b["hours"]), 10)
        q = ("SELECT acs_work_between('api-cal', '2026-06-01 00:00+05', '2026-06-02 00:00+05');")
        self.assertEqual(self.db.value(q), "08:00:00")
        self.assertEqual(self.audit_count(), n + 1)
        # bad bodies
        for body, field in (({"hours": [{"weekday": 8, "start": "08:00", "end": "12:00"}]},
                             "hours"),
                            ({"hours": [{"weekday": 1, "start": "12:00", "end": "08:00"}]},
                             "hours"),
                            ({"hours": [{"weekday": 1, "start": "8:00", "end": "12:00"}]},
                             "hours"),
                            ({"hours": "all day"}, "hours"),
                            ({}, "hours")):
            self.assertProblem(self.put("/api/v1/calendars/api-cal/hours", body), 400,
                               "/problems/validation", field, what=repr(body))
        # overlapping intervals are refused by the database, nothing changes
        r = self.put("/api/v1/calendars/api-cal/hours", {"hours": [
            {"weekday": 1, "start": "08:00", "end": "12:00"},
            {"weekday": 1, "start": "11:00", "end": "17:00"}]})
        b = self.assertProblem(r, 400, "/problems/validation")
        self.assertIn("overlap", b["detail"])
        self.assertEqual(self.db.value(q), "08:00:00")
        self.assertProblem(self.put("/api/v1/calendars/nope/hours", {"hours": hours}), 404,
                           "/problems/not-found")
        self.assertProblem(self.put("/api/v1/calendars/24x7/hours", {"hours": hours}, "admin"),
                           400, "/problems/validation")

        # exceptions
        r = self.post("/api/v1/calendars/api-cal/exceptions",
                      {"date": "2026-06-01", "kind": "short", "note": "test"}, "admin")
        b = self.expect(r, 201, "create exception")
        self.assertEqual(b["shorten_min"], 60)
        self.assertEqual(r.headers.get("Location"),
                         "/api/v1/calendars/api-cal/exceptions/2026-06-01")
        self.assertEqual(self.db.value(q), "07:00:00")
        b = self.expect(self.post("/api/v1/calendars/api-cal/exceptions",
                                  {"date": "2026-06-01", "kind": "holiday"}, "head"), 200)
        self.assertEqual(b["kind"], "holiday")
        self.assertEqual(self.db.value(q), "00:00:00")
        self.assertEqual(self.db.value(
            "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log"
            " WHERE detail->>'calendar' = 'api-cal';"),
            "update_hours,create_exception,update_exception")
        for body, field in (({"date": "2026-02-30", "kind": "holiday"}, "date"),
                            ({"date": "2026-06-02", "kind": "vacation"}, "kind"),
                            ({"date": "2026-06-02", "kind": "holiday", "as_weekday": 1},
                             "as_weekday"),
                            ({"date": "2026-06-02", "kind": "short", "shorten_min": 0},
                             "shorten_min"),
                            ({"kind": "holiday"}, "date")):
            self.assertProblem(self.post("/api/v1/calendars/api-cal/exceptions", body, "head"),
                               400, "/problems/validation", field, what=repr(body))
        r = self.post("/api/v1/calendars/api-cal/exceptions",
                      {"date": "2027-01-01", "kind": "holiday"}, "head")
        b = self.assertProblem(r, 400, "/problems/validation")
        self.assertIn("outside", b["detail"])
        self.assertProblem(self.post("/api/v1/calendars/api-cal/exceptions",
                                     {"date": "2026-06-02", "kind": "holiday"}, "dispatcher"),
                           403, "/problems/forbidden")
        # delete
        self.assertProblem(self.delete("/api/v1/calendars/api-cal/exceptions/2026-06-01",
                                       "eng1"), 403, "/problems/forbidden")
        b = self.expect(self.delete("/api/v1/calendars/api-cal/exceptions/2026-06-01"), 200)
        self.assertEqual(b["date"], "2026-06-01")
        self.assertEqual(self.db.value(q), "08:00:00")
        self.assertProblem(self.delete("/api/v1/calendars/api-cal/exceptions/2026-06-01"), 404,
                           "/problems/not-found")
        self.assertProblem(self.delete("/api/v1/calendars/api-cal/exceptions/june"), 404,
                           "/problems/not-found")
        self.assertEqual(self.db.value(
            "SELECT action FROM audit_log WHERE detail->>'calendar' = 'api-cal'"
            " ORDER BY id DESC LIMIT 1;"), "delete_exception")

    def test_policies(self):
        body = {"first_contact_target_minutes": 10, "first_contact_calendar": "24x7",
                "resolution_target_minutes": 180, "resolution_calendar": RU, "warn_ratio": 0.75}
        n = self.audit_count()
        for who in ("dispatcher", "senior", "eng1"):
            self.assertProblem(self.put("/api/v1/sla-policies/emergency", body, who), 403,
                               "/problems/forbidden")
        self.assertEqual(self.audit_count(), n)
        b = self.expect(self.put("/api/v1/sla-policies/emergency", body, "head"), 200)
        self.assertEqual(b["resolution_target_minutes"], 180)
        self.assertEqual(self.db.value(
            "SELECT (acs_sla_policy_for('emergency', NULL)).resolution_target;"), "03:00:00")
        self.assertEqual(self.db.value(
            "SELECT action || ' ' || (object_id = :'id')::text FROM audit_log"
            " WHERE object_type = 'sla_policy' ORDER BY id DESC LIMIT 1;", id=b["id"]),
            "update true")
        self.assertProblem(self.put("/api/v1/sla-policies/urgent", body), 404,
                           "/problems/not-found")
        bad = dict(body, resolution_calendar="nope")
        self.assertProblem(self.put("/api/v1/sla-policies/emergency", bad), 400,
                           "/problems/validation", "resolution_calendar")
        self.assertProblem(self.put("/api/v1/sla-policies/emergency",
                                    dict(body, warn_ratio=1.5)), 400, "/problems/validation",
                           "warn_ratio")
        self.assertProblem(self.put("/api/v1/sla-policies/emergency",
                                    {"first_contact_target_minutes": 5}), 400,
                           "/problems/validation")
        # a client's override
        c = self.make_client()
        path = "/api/v1/sla-policies/standard/clients/%s" % c["id"]
        r = self.put(path, dict(body, first_contact_target_minutes=30), "admin")
        b = self.expect(r, 201, "create override")
        self.assertEqual(r.headers.get("Location"), path)
        self.assertEqual(b["client_id"], c["id"])
        self.assertEqual(self.db.value(
            "SELECT (acs_sla_policy_for('standard', :'c')).first_contact_target;", c=c["id"]),
            "00:30:00")
        self.expect(self.put(path, dict(body, first_contact_target_minutes=20)), 200)
        b = self.expect(self.get("/api/v1/sla-policies?client_id=%s" % c["id"], "eng1"), 200)
        self.assertEqual([p["first_contact_target_minutes"] for p in b["items"]], [20])
        self.assertProblem(self.put("/api/v1/sla-policies/standard/clients/%s"
                                    % harness.new_id(), body), 404, "/problems/not-found")
        self.assertProblem(self.delete(path, "dispatcher"), 403, "/problems/forbidden")
        self.expect(self.delete(path), 200, "delete override")
        self.assertProblem(self.delete(path), 404, "/problems/not-found")
        self.assertEqual(self.db.value(
            "SELECT (acs_sla_policy_for('standard', :'c')).first_contact_target;", c=c["id"]),
            "02:00:00")
        self.assertEqual(self.db.value(
            "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log"
            " WHERE object_type = 'sla_policy' AND detail->>'client_id' = :'c';", c=c["id"]),
            "create,update,delete")


if __name__ == "__main__":
    harness.main()
