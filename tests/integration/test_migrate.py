# SPDX-License-Identifier: MIT
"""`fieldd migrate` against fresh databases: applies every file once and in order, is a no-op
the second time (schema dump and schema_migration rows unchanged), applies a new file alone,
and refuses, changing nothing, when a file it has applied was edited afterwards."""

import sys

sys.dont_write_bytecode = True

import difflib  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import unittest  # noqa: E402

import harness  # noqa: E402

APPLIED = re.compile(r"^applied (\d{4}_[^ ]+\.sql) \((\d+(?:\.\d+)?) ms\)$")
UP_TO_DATE = re.compile(r"^database is up to date \((\d+) migrations?\)$")


def migration_files(folder):
    return sorted(f for f in os.listdir(folder) if re.match(r"^\d{4}_.*\.sql$", f))


class MigrateTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.cluster = harness.Cluster()
        self.dbs = []
        self.tmp = tempfile.mkdtemp(prefix="acs_it_migrate_")

    def tearDown(self):
        for db in self.dbs:
            db.drop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fresh_db(self):
        db = self.cluster.create_database()
        self.dbs.append(db)
        return db

    def migrate(self, db, folder=None, expect_rc=0):
        env = {"FIELDD_MIGRATIONS": folder} if folder else None
        p = harness.run_fieldd(["migrate"], db, env)
        if expect_rc is not None:
            self.assertEqual(p.returncode, expect_rc, harness.describe(p))
        return p

    def lines(self, p):
        return [line.strip() for line in p.stdout.splitlines() if line.strip()]

    def state(self, db):
        """What must not change: the schema and the bookkeeping rows."""
        return db.schema_dump(), db.sql("SELECT * FROM schema_migration ORDER BY 1;")

    def assertSameState(self, got, want, msg):
        if got[1] != want[1]:
            self.fail("%s: schema_migration rows differ:\n%r\n%r" % (msg, want[1], got[1]))
        if got[0] != want[0]:
            diff = difflib.unified_diff(want[0].splitlines(), got[0].splitlines(), "before",
                                        "after", lineterm="", n=2)
            self.fail("%s: the schema changed:\n%s" % (msg, "\n".join(list(diff)[:80])))

    def assert_applied(self, p, names):
        got = []
        for line in self.lines(p):
            m = APPLIED.match(line)
            self.assertIsNotNone(m, "unexpected line %r in\n%s" % (line, harness.describe(p)))
            got.append(m.group(1))
        self.assertEqual(got, names, "applied files, in order")

    def assert_up_to_date(self, p, n):
        lines = self.lines(p)
        self.assertEqual(len(lines), 1, harness.describe(p))
        m = UP_TO_DATE.match(lines[0])
        self.assertIsNotNone(m, harness.describe(p))
        self.assertEqual(int(m.group(1)), n)

    def test_apply_then_up_to_date(self):
        db = self.fresh_db()
        files = migration_files(harness.migrations_dir())
        self.assertIn("0001_core.sql", files)
        p = self.migrate(db)
        self.assert_applied(p, files)
        # the schema is there
        tables = set(db.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public';")
                     .split())
        for t in ("app_user", "api_token", "client", "site", "device", "ticket",
                  "ticket_event", "job", "job_event", "job_assignment", "outcome", "project",
                  "audit_log", "schema_migration"):
            self.assertIn(t, tables)
        self.assertEqual(db.count("schema_migration"), len(files))
        text = db.sql("SELECT * FROM schema_migration;")
        for f in files:
            self.assertTrue(f in text or f[:4] in text,
                            "schema_migration records %s: %r" % (f, text))

        before = self.state(db)
        p = self.migrate(db)
        self.assert_up_to_date(p, len(files))
        self.assertSameState(self.state(db), before, "a second run changes nothing")
        p = self.migrate(db)
        self.assert_up_to_date(p, len(files))

    def test_new_file_and_edited_file(self):
        src = harness.migrations_dir()
        folder = os.path.join(self.tmp, "migrations")
        shutil.copytree(src, folder)
        files = migration_files(folder)
        db = self.fresh_db()
        self.assert_applied(self.migrate(db, folder), files)
        self.assert_up_to_date(self.migrate(db, folder), len(files))

        # a new file is applied alone
        extra = "9001_it_extra.sql"
        with open(os.path.join(folder, extra), "w") as f:
            f.write("CREATE TABLE it_extra (x integer PRIMARY KEY);\n")
        self.assert_applied(self.migrate(db, folder), [extra])
        self.assertEqual(db.value("SELECT to_regclass('public.it_extra') IS NOT NULL;"), "t")
        self.assert_up_to_date(self.migrate(db, folder), len(files) + 1)
        before = self.state(db)

        # an applied file edited afterwards: refused, naming the file; a pending file beside
        # it is not applied either
        victim = files[0]
        with open(os.path.join(folder, victim), "a") as f:
            f.write("\nCREATE TABLE it_tampered (x integer);\n")
        with open(os.path.join(folder, "9002_it_pending.sql"), "w") as f:
            f.write("CREATE TABLE it_pending (x integer);\n")
        p = self.migrate(db, folder, expect_rc=None)
        self.assertNotEqual(p.returncode, 0, harness.describe(p))
        self.assertEqual(p.returncode, 1, harness.describe(p))
        self.assertIn(victim, p.stdout + p.stderr, "the message names the edited file")
        self.assertEqual(db.value("SELECT to_regclass('public.it_tampered') IS NULL AND "
                                  "to_regclass('public.it_pending') IS NULL;"), "t")
        self.assertSameState(self.state(db), before, "a refused run changes nothing")

        # and it stays refused: the edited file is not taken as the new truth
        p = self.migrate(db, folder, expect_rc=None)
        self.assertEqual(p.returncode, 1, harness.describe(p))

    def test_bad_database(self):
        env = {"FIELDD_DB": "host=127.0.0.1 port=%s user=postgres dbname=acs_it_does_not_exist"
               " connect_timeout=5" % self.cluster.port}
        p = harness.run_fieldd(["migrate"], None, env)
        self.assertNotEqual(p.returncode, 0, harness.describe(p))
        self.assertIn("acs_it_does_not_exist", p.stderr, "the error names the database")


if __name__ == "__main__":
    harness.main()
