/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - `fieldd migrate`: brings the database schema up to date from the ordered SQL
 * files of db/migrations.
 *
 * A migration is a file named NNNN_name.sql (four digits, then a name); files apply in name
 * order, each once, each in its own transaction together with its row in schema_migration
 * (version, file name, SHA-256 of the file bytes, time applied). An applied migration is
 * history: before applying anything the recorded checksums are compared with the files, and a
 * changed, renamed or missing file stops the run with nothing applied. A session-level
 * advisory lock on a fixed key makes concurrent migrators (several fieldd instances started
 * together) take turns; the second one then finds nothing to do.
 *
 * `--status` lists each file as applied (with its time), pending or changed, and each recorded
 * migration whose file is gone; it takes no lock, changes nothing, and exits 1 when `migrate`
 * would refuse to run.
 *
 * This is a command-line tool: it uses blocking libpq and prints to stdout/stderr.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef ACS_DB_DIR
#error "ACS_DB_DIR must name the folder holding migrations/ (set by core/CMakeLists.txt)"
#endif

/* Key of the session-level advisory lock that serialises migrators ("acsmig" in ASCII). */
#define MIGRATE_LOCK_KEY "107083028818279"

/* A migration larger than this is surely a mistake (a data dump dropped in the folder). */
#define MIGRATE_MAX_FILE_SIZE (64u * 1024u * 1024u)

#define MIGRATE_VERSION_LEN 4

typedef struct {
    char *name;                            /* "0002_diagnostics.sql" */
    char version[MIGRATE_VERSION_LEN + 1]; /* "0002" */
    char *sql;                             /* file contents, NUL-terminated */
    size_t len;
    char checksum[crypto_hash_sha256_BYTES * 2 + 1]; /* lower-case hex */
} migration_file_t;

typedef struct {
    migration_file_t *items;
    size_t count;
    size_t cap;
} migration_list_t;

static const char sql_create_table[] = "CREATE TABLE IF NOT EXISTS schema_migration ("
                                       " version text PRIMARY KEY,"
                                       " name text NOT NULL,"
                                       " checksum text NOT NULL,"
                                       " applied_at timestamptz NOT NULL DEFAULT now())";

static const char sql_recorded[] =
    "SELECT version, name, checksum, date_trunc('second', applied_at)::text"
    " FROM schema_migration ORDER BY version";

static const char sql_record[] =
    "INSERT INTO schema_migration (version, name, checksum) VALUES ($1, $2, $3)";

static void usage(FILE *out)
{
    fputs("usage: fieldd migrate [--dir DIR] [--status]\n"
          "\n"
          "Applies the pending NNNN_name.sql files of DIR in name order, each in its own\n"
          "transaction, and refuses when an applied file was changed or is missing.\n"
          "\n"
          "  --dir DIR   migration folder (default: $FIELDD_MIGRATIONS, else " ACS_DB_DIR
          "/migrations)\n"
          "  --status    list each migration as applied, pending or changed; apply nothing\n"
          "\n"
          "The database is $FIELDD_DB (a libpq conninfo string or URI; libpq defaults when "
          "unset).\n",
          out);
}

static double elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) * 1e3 +
           (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

/* Return 1 when `name` is NNNN_<letters, digits, '_' or '-'>.sql. */
static int is_migration_name(const char *name)
{
    size_t len = strlen(name);
    if (len < MIGRATE_VERSION_LEN + 1 + 1 + 4 || strcmp(name + len - 4, ".sql") != 0)
        return 0;
    for (size_t i = 0; i < MIGRATE_VERSION_LEN; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
    }
    if (name[MIGRATE_VERSION_LEN] != '_')
        return 0;
    for (size_t i = MIGRATE_VERSION_LEN + 1; i < len - 4; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int compare_files(const void *a, const void *b)
{
    const migration_file_t *x = a;
    const migration_file_t *y = b;
    return strcmp(x->name, y->name);
}

static void list_free(migration_list_t *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        free(list->items[i].sql);
    }
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}

/* Read dir/name into f (name, sql, len, version, checksum). Return 0, or -1 after saying why
 * on stderr. */
static int read_migration(const char *dir, const char *name, migration_file_t *f)
{
    char *path = NULL;
    FILE *fp = NULL;
    size_t path_len = strlen(dir) + 1 + strlen(name) + 1;
    struct stat st;

    memset(f, 0, sizeof(*f));
    path = malloc(path_len);
    f->name = strdup(name);
    if (path == NULL || f->name == NULL) {
        fprintf(stderr, "fieldd migrate: out of memory reading %s\n", name);
        goto fail;
    }
    snprintf(path, path_len, "%s/%s", dir, name);
    fp = fopen(path, "rb");
    if (fp == NULL || fstat(fileno(fp), &st) != 0) {
        fprintf(stderr, "fieldd migrate: cannot read %s: %s\n", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "fieldd migrate: %s is not a regular file: move it out of %s\n", path, dir);
        goto fail;
    }
    if ((unsigned long long)st.st_size > MIGRATE_MAX_FILE_SIZE) {
        fprintf(stderr, "fieldd migrate: %s is %lld bytes, more than a migration may be (%u)\n",
                path, (long long)st.st_size, MIGRATE_MAX_FILE_SIZE);
        goto fail;
    }
    f->sql = malloc((size_t)st.st_size + 1);
    if (f->sql == NULL) {
        fprintf(stderr, "fieldd migrate: out of memory reading %s\n", path);
        goto fail;
    }
    f->len = fread(f->sql, 1, (size_t)st.st_size, fp);
    if (ferror(fp) || f->len != (size_t)st.st_size) {
        fprintf(stderr, "fieldd migrate: cannot read %s: short read (%zu of %lld bytes)\n", path,
                f->len, (long long)st.st_size);
        goto fail;
    }
    f->sql[f->len] = '\0';
    /* PQexec takes a C string: a NUL would silently cut the migration short. */
    if (memchr(f->sql, '\0', f->len) != NULL) {
        fprintf(stderr, "fieldd migrate: %s contains a NUL byte: it is not an SQL text file\n",
                path);
        goto fail;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)f->sql, f->len);
    sodium_bin2hex(f->checksum, sizeof(f->checksum), digest, sizeof(digest));
    memcpy(f->version, name, MIGRATE_VERSION_LEN);
    f->version[MIGRATE_VERSION_LEN] = '\0';
    fclose(fp);
    free(path);
    return 0;

fail:
    if (fp != NULL)
        fclose(fp);
    free(path);
    free(f->name);
    free(f->sql);
    memset(f, 0, sizeof(*f));
    return -1;
}

/* Load every NNNN_name.sql of dir, sorted by name. Other .sql names and duplicate versions
 * are refused; files not ending in .sql (README, editor backups) are ignored. Return 0, or -1
 * after saying why on stderr (list is then empty). */
static int load_migrations(const char *dir, migration_list_t *list)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL) {
        fprintf(stderr,
                "fieldd migrate: cannot open the migration folder %s: %s (give the folder with "
                "--dir or FIELDD_MIGRATIONS)\n",
                dir, strerror(errno));
        goto fail;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        size_t len = strlen(name);
        if (name[0] == '.' || len < 4 || strcmp(name + len - 4, ".sql") != 0)
            continue;
        if (!is_migration_name(name)) {
            fprintf(stderr,
                    "fieldd migrate: %s/%s is not named NNNN_name.sql (four digits, '_', then "
                    "letters, digits, '_' or '-'): rename it or move it out of the folder\n",
                    dir, name);
            goto fail;
        }
        if (list->count == list->cap) {
            size_t cap = list->cap ? list->cap * 2 : 16;
            migration_file_t *items = realloc(list->items, cap * sizeof(*items));
            if (items == NULL) {
                fprintf(stderr, "fieldd migrate: out of memory listing %s\n", dir);
                goto fail;
            }
            list->items = items;
            list->cap = cap;
        }
        if (read_migration(dir, name, &list->items[list->count]) != 0)
            goto fail;
        list->count++;
    }
    if (errno != 0) {
        fprintf(stderr, "fieldd migrate: cannot list %s: %s\n", dir, strerror(errno));
        goto fail;
    }
    closedir(d);
    d = NULL;
    if (list->count == 0) {
        fprintf(stderr,
                "fieldd migrate: no NNNN_name.sql files in %s (give the folder with --dir or "
                "FIELDD_MIGRATIONS)\n",
                dir);
        goto fail;
    }
    qsort(list->items, list->count, sizeof(*list->items), compare_files);
    for (size_t i = 1; i < list->count; i++) {
        if (strcmp(list->items[i - 1].version, list->items[i].version) == 0) {
            fprintf(stderr,
                    "fieldd migrate: %s and %s in %s share the version %s: give the newer one "
                    "the next free number\n",
                    list->items[i - 1].name, list->items[i].name, dir, list->items[i].version);
            goto fail;
        }
    }
    return 0;

fail:
    if (d != NULL)
        closedir(d);
    list_free(list);
    return -1;
}

static migration_file_t *find_version(migration_list_t *list, const char *version)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i].version, version) == 0)
            return &list->items[i];
    }
    return NULL;
}

static int is_recorded(PGresult *recorded, const char *version)
{
    for (int r = 0; r < PQntuples(recorded); r++) {
        if (strcmp(PQgetvalue(recorded, r, 0), version) == 0)
            return 1;
    }
    return 0;
}

/* Warnings and notices from the server (a migration's RAISE WARNING) go to stderr, marked. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    fprintf(stderr, "fieldd migrate: server says: %s", message);
}

/* Connect to FIELDD_DB. Return the connection, or NULL after saying why on stderr. The
 * conninfo itself is never printed: it may hold a password. */
static PGconn *connect_db(void)
{
    const char *conninfo = getenv("FIELDD_DB");
    PGconn *conn = PQconnectdb(conninfo ? conninfo : "");

    if (conn == NULL) {
        fputs("fieldd migrate: out of memory connecting to the database\n", stderr);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *db = PQdb(conn), *host = PQhost(conn), *port = PQport(conn);
        fprintf(stderr,
                "fieldd migrate: cannot connect to database \"%s\" on %s port %s: %s"
                "(set FIELDD_DB to a libpq conninfo string or URI)\n",
                db ? db : "?", host && *host ? host : "the default socket",
                port && *port ? port : "default", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, on_notice, NULL);
    return conn;
}

/* Run a statement without parameters that returns no rows or rows; return its result, or NULL
 * after saying on stderr what `what` failed with. */
static PGresult *exec_checked(PGconn *conn, const char *sql, const char *what)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "fieldd migrate: %s failed: %s", what,
                res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Compare the recorded migrations with the files. Print each problem on stderr; return the
 * number of problems (0 when every recorded migration has its unchanged file). */
static int verify_recorded(PGresult *recorded, migration_list_t *files, const char *dir)
{
    int problems = 0;
    for (int i = 0; i < PQntuples(recorded); i++) {
        const char *version = PQgetvalue(recorded, i, 0);
        const char *name = PQgetvalue(recorded, i, 1);
        const char *checksum = PQgetvalue(recorded, i, 2);
        const migration_file_t *f = find_version(files, version);
        if (f == NULL) {
            fprintf(stderr,
                    "fieldd migrate: database has migration %s that is not in %s: this fieldd "
                    "is older than the database (run the fieldd that applied it, or point "
                    "--dir at its migrations)\n",
                    name, dir);
            problems++;
        } else if (strcmp(f->name, name) != 0) {
            fprintf(stderr,
                    "fieldd migrate: database has migration %s but %s holds %s under that "
                    "version: an applied migration must not be renamed; restore its name and "
                    "add a new migration instead\n",
                    name, dir, f->name);
            problems++;
        } else if (strcmp(f->checksum, checksum) != 0) {
            fprintf(stderr,
                    "fieldd migrate: %s/%s was changed after it was applied (applied sha256 "
                    "%s, file sha256 %s): an applied migration must not change; add a new "
                    "migration instead (restore the file from version control)\n",
                    dir, name, checksum, f->checksum);
            problems++;
        }
    }
    return problems;
}

/* fieldd migrate --status: one line per file and per recorded migration without a file.
 * Return 0, or 1 when something is changed or missing (what `migrate` would refuse). */
static int print_status(PGconn *conn, migration_list_t *files, const char *dir)
{
    PGresult *exists = NULL, *recorded = NULL;
    int rc = 1, bad = 0, width = 0;

    exists = exec_checked(conn, "SELECT to_regclass('schema_migration') IS NOT NULL",
                          "looking for table schema_migration");
    if (exists == NULL)
        goto fail;
    if (strcmp(PQgetvalue(exists, 0, 0), "t") == 0) {
        recorded = exec_checked(conn, sql_recorded, "reading schema_migration");
        if (recorded == NULL)
            goto fail;
    }
    for (size_t i = 0; i < files->count; i++) {
        int len = (int)strlen(files->items[i].name);
        width = len > width ? len : width;
    }
    int nrec = recorded ? PQntuples(recorded) : 0;
    for (int r = 0; r < nrec; r++) {
        int len = (int)strlen(PQgetvalue(recorded, r, 1));
        width = len > width ? len : width;
    }
    /* Files and recorded rows are both sorted by version: walk them side by side. */
    size_t i = 0;
    int r = 0;
    while (i < files->count || r < nrec) {
        const migration_file_t *f = i < files->count ? &files->items[i] : NULL;
        int cmp = f == NULL ? 1 : r >= nrec ? -1 : strcmp(f->version, PQgetvalue(recorded, r, 0));
        if (cmp < 0) {
            /* A pending file below the last applied one is refused by `migrate`. */
            if (nrec > 0 && strcmp(f->version, PQgetvalue(recorded, nrec - 1, 0)) < 0) {
                printf("%-*s  pending, out of order (%s is applied): renumber it\n", width, f->name,
                       PQgetvalue(recorded, nrec - 1, 1));
                bad++;
            } else {
                printf("%-*s  pending\n", width, f->name);
            }
            i++;
        } else if (cmp > 0) {
            printf("%-*s  missing from %s (applied %s)\n", width, PQgetvalue(recorded, r, 1), dir,
                   PQgetvalue(recorded, r, 3));
            bad++;
            r++;
        } else {
            const char *name = PQgetvalue(recorded, r, 1);
            const char *checksum = PQgetvalue(recorded, r, 2);
            if (strcmp(f->name, name) != 0) {
                printf("%-*s  renamed (applied as %s at %s)\n", width, f->name, name,
                       PQgetvalue(recorded, r, 3));
                bad++;
            } else if (strcmp(f->checksum, checksum) != 0) {
                printf("%-*s  changed (applied %s with sha256 %s, file sha256 %s)\n", width,
                       f->name, PQgetvalue(recorded, r, 3), checksum, f->checksum);
                bad++;
            } else {
                printf("%-*s  applied %s\n", width, f->name, PQgetvalue(recorded, r, 3));
            }
            i++;
            r++;
        }
    }
    rc = bad ? 1 : 0;

fail:
    PQclear(exists);
    PQclear(recorded);
    return rc;
}

/* Line number (1-based) of the character at 1-based `position` of sql, for error messages. */
static unsigned long line_of(const char *sql, size_t len, const char *position)
{
    char *end = NULL;
    unsigned long pos = position ? strtoul(position, &end, 10) : 0;
    unsigned long line = 1;
    if (pos == 0 || end == position)
        return 0;
    /* PostgreSQL counts characters, not bytes: skip UTF-8 continuation bytes. */
    unsigned long chars = 0;
    for (size_t i = 0; i < len && chars < pos - 1; i++) {
        unsigned char c = (unsigned char)sql[i];
        if ((c & 0xC0) != 0x80)
            chars++;
        if (c == '\n')
            line++;
    }
    return line;
}

/* Apply one migration in its own transaction. Return 0, or -1 after saying why (the
 * transaction is then rolled back). */
static int apply_one(PGconn *conn, const migration_file_t *f)
{
    PGresult *res = NULL;
    struct timespec start;
    int began = 0;

    clock_gettime(CLOCK_MONOTONIC, &start);
    res = exec_checked(conn, "BEGIN", "starting a transaction");
    if (res == NULL)
        goto fail;
    began = 1;
    PQclear(res);

    res = PQexec(conn, f->sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
        unsigned long line =
            res ? line_of(f->sql, f->len, PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION)) : 0;
        fprintf(stderr, "migration %s failed: %s", f->name, msg);
        if (line > 0)
            fprintf(stderr, "(at line %lu of %s; nothing of it was applied)\n", line, f->name);
        else
            fprintf(stderr, "(nothing of %s was applied)\n", f->name);
        goto fail;
    }
    PQclear(res);
    res = NULL;
    /* A file with its own COMMIT would leave its work committed without its record. */
    if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
        fprintf(stderr,
                "migration %s failed: it ended the transaction itself (remove BEGIN/COMMIT "
                "from the file; fieldd migrate wraps each file in a transaction). What it did "
                "before that is committed but not recorded in schema_migration: check the "
                "database by hand\n",
                f->name);
        began = 0;
        goto fail;
    }

    const char *params[3] = {f->version, f->name, f->checksum};
    res = PQexecParams(conn, sql_record, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "migration %s failed: recording it in schema_migration: %s", f->name,
                res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        goto fail;
    }
    PQclear(res);
    res = exec_checked(conn, "COMMIT", "committing");
    if (res == NULL) {
        fprintf(stderr, "migration %s failed: it was not committed\n", f->name);
        began = 0;
        goto fail;
    }
    PQclear(res);
    printf("applied %s (%.0f ms)\n", f->name, elapsed_ms(&start));
    fflush(stdout);
    return 0;

fail:
    PQclear(res);
    if (began)
        PQclear(PQexec(conn, "ROLLBACK"));
    return -1;
}

/* Take the migrators' advisory lock, waiting (and saying so) while another migrator has it. */
static int take_lock(PGconn *conn)
{
    PGresult *res = exec_checked(conn, "SELECT pg_try_advisory_lock(" MIGRATE_LOCK_KEY ")",
                                 "taking the migration lock");
    if (res == NULL)
        return -1;
    int got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (got)
        return 0;
    fprintf(stderr, "fieldd migrate: another migrator is running on this database; waiting for "
                    "it to finish\n");
    res = exec_checked(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
                       "waiting for the migration lock");
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

int cli_migrate(int argc, char **argv)
{
    migration_list_t files = {0};
    PGconn *conn = NULL;
    PGresult *res = NULL, *recorded = NULL;
    const char *dir = NULL;
    int status = 0, rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strncmp(argv[i], "--dir=", 6) == 0) {
            dir = argv[i] + 6;
        } else if (strcmp(argv[i], "--status") == 0) {
            status = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "fieldd migrate: unexpected argument \"%s\"\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (dir == NULL || *dir == '\0')
        dir = getenv("FIELDD_MIGRATIONS");
    if (dir == NULL || *dir == '\0')
        dir = ACS_DB_DIR "/migrations";

    if (sodium_init() < 0) {
        fputs("fieldd migrate: libsodium failed to initialise (checksums need it)\n", stderr);
        goto fail;
    }
    if (load_migrations(dir, &files) != 0)
        goto fail;
    conn = connect_db();
    if (conn == NULL)
        goto fail;
    /* CREATE TABLE IF NOT EXISTS and the like would otherwise chatter on every run. */
    res = exec_checked(conn, "SET client_min_messages = warning", "configuring the session");
    if (res == NULL)
        goto fail;
    PQclear(res);
    res = NULL;

    if (status) {
        rc = print_status(conn, &files, dir);
        goto done;
    }

    if (take_lock(conn) != 0)
        goto fail;
    res = exec_checked(conn, sql_create_table, "creating table schema_migration");
    if (res == NULL)
        goto fail;
    PQclear(res);
    res = NULL;
    recorded = exec_checked(conn, sql_recorded, "reading schema_migration");
    if (recorded == NULL)
        goto fail;
    if (verify_recorded(recorded, &files, dir) > 0) {
        fputs("fieldd migrate: nothing was applied\n", stderr);
        goto fail;
    }

    /* Files apply in name order: a pending file numbered below an applied one (two branches
     * that both added a migration) would run out of order, so it must be renumbered. */
    int nrec = PQntuples(recorded);
    const char *last = nrec > 0 ? PQgetvalue(recorded, nrec - 1, 0) : "";
    const char *last_name = nrec > 0 ? PQgetvalue(recorded, nrec - 1, 1) : "";
    for (size_t i = 0; i < files.count; i++) {
        const migration_file_t *f = &files.items[i];
        if (strcmp(f->version, last) < 0 && !is_recorded(recorded, f->version)) {
            fprintf(stderr,
                    "fieldd migrate: %s is pending but %s, which comes after it, is already "
                    "applied: renumber it after %s (migrations apply in name order). Nothing "
                    "was applied\n",
                    f->name, last_name, last_name);
            goto fail;
        }
    }

    int count = 0;
    for (size_t i = 0; i < files.count; i++) {
        if (strcmp(files.items[i].version, last) <= 0)
            continue; /* applied (checked above) */
        if (apply_one(conn, &files.items[i]) != 0)
            goto fail;
        count++;
    }
    if (count == 0)
        printf("database is up to date (%d migration%s)\n", nrec, nrec == 1 ? "" : "s");
    rc = 0;
    goto done;

fail:
    rc = 1;
done:
    PQclear(res);
    PQclear(recorded);
    PQfinish(conn); /* also releases the advisory lock */
    list_free(&files);
    return rc;
}
