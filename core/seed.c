/* SPDX-License-Identifier: MIT */
/*
 * seed.c - `fieldd seed-demo`: loads the demo data set into a migrated, empty database and
 * prints a bearer token for each demo user.
 *
 * Everything happens in one transaction: the demo users and their tokens are made here (the
 * tokens come from libsodium, which SQL cannot reach), listed in the temporary table
 * demo_user, and then db/demo/seed.sql generates clients, sites, devices, tickets, jobs and
 * projects around them. A failure anywhere leaves the database as it was. The tokens are
 * printed only after COMMIT, as `<role> <name>: <token>`, and written with mode 0600 to
 * --tokens-file when one is given (through a temporary file renamed into place, so an
 * existing file is replaced only by a complete one).
 *
 * A database that already has clients is refused: the demo is not meant to mix with real
 * data, and a second run would duplicate it. An advisory lock makes two concurrent seeders
 * take turns, so the second one sees the first one's clients and is refused too.
 *
 * This is a command-line tool: it uses blocking libpq and prints to stdout/stderr.
 */
#include "cli.h"

#include "auth_token.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef ACS_DB_DIR
#error "ACS_DB_DIR must name the folder holding demo/seed.sql (set by core/CMakeLists.txt)"
#endif

/* Transaction-level advisory lock key of the seeder ("acsseed" in ASCII). */
#define SEED_LOCK_KEY "27422113719551332"

#define SEED_MAX_SQL_SIZE (16u * 1024u * 1024u)

typedef struct {
    const char *role;
    const char *name;
    const char *skills; /* comma-separated, "" for none */
    const char *region; /* NULL for none */
    const char *email;
    const char *phone;
} demo_user_t;

/* The demo team: skills cover every kind of job the demo creates, regions every site region. */
static const demo_user_t demo_users[] = {
    {"admin", "Irina Sokolova", "", NULL, "i.sokolova@acsfield-demo.example", "+7 916 201-11-01"},
    {"dispatcher", "Olga Kuznetsova", "", NULL, "o.kuznetsova@acsfield-demo.example",
     "+7 916 201-11-02"},
    {"head", "Sergey Volkov", "", NULL, "s.volkov@acsfield-demo.example", "+7 916 201-11-03"},
    {"senior", "Andrey Morozov", "turnstiles,readers,installation,commissioning,firmware", "centre",
     "a.morozov@acsfield-demo.example", "+7 916 201-11-04"},
    {"engineer", "Dmitry Ivanov", "turnstiles,readers,firmware", "north",
     "d.ivanov@acsfield-demo.example", "+7 916 201-11-05"},
    {"engineer", "Pavel Smirnov", "turnstiles,readers,installation", "south",
     "p.smirnov@acsfield-demo.example", "+7 916 201-11-06"},
    {"engineer", "Alexey Popov", "readers,firmware,commissioning", "centre",
     "a.popov@acsfield-demo.example", "+7 916 201-11-07"},
    {"engineer", "Nikolai Fedorov", "turnstiles,readers,firmware", "ural",
     "n.fedorov@acsfield-demo.example", "+7 912 201-11-08"},
    {"engineer", "Maxim Lebedev", "turnstiles,installation,commissioning", "west",
     "m.lebedev@acsfield-demo.example", "+7 916 201-11-09"},
    {"engineer", "Artem Kozlov", "turnstiles,readers,installation,commissioning", "east",
     "a.kozlov@acsfield-demo.example", "+7 916 201-11-10"},
};
#define DEMO_USER_COUNT (sizeof(demo_users) / sizeof(demo_users[0]))

/* The tables the demo writes; their absence means the database is not migrated. */
static const char sql_migrated[] =
    "SELECT t FROM unnest(ARRAY['schema_migration', 'app_user', 'api_token', 'client', 'site',"
    " 'device', 'ticket', 'ticket_event', 'job', 'job_event', 'job_assignment', 'outcome',"
    " 'project', 'csat_response', 'firmware_image']) t WHERE to_regclass(t) IS NULL";

static const char sql_demo_user_table[] =
    "CREATE TEMP TABLE demo_user (id uuid PRIMARY KEY, role text NOT NULL, name text NOT NULL,"
    " skills text[] NOT NULL, region text) ON COMMIT DROP";

/* One demo user with its token, listed in demo_user for seed.sql.
 * $1 name, $2 role, $3 skills, $4 region, $5 email, $6 phone, $7 token hash (bytea hex). */
static const char sql_user[] =
    "WITH u AS (INSERT INTO app_user (name, role, skills, region, email, phone)"
    "           VALUES ($1, $2, string_to_array($3, ','), $4, $5, $6)"
    "           RETURNING id, role, name, skills, region),"
    " t AS (INSERT INTO api_token (token_hash, user_id, label)"
    "       SELECT $7::bytea, u.id, 'demo' FROM u)"
    " INSERT INTO demo_user SELECT id, role, name, skills, region FROM u RETURNING id";

static const char sql_summary[] =
    "SELECT (SELECT count(*) FROM client), (SELECT count(*) FROM site),"
    " (SELECT count(*) FROM device), (SELECT count(*) FROM ticket),"
    " (SELECT count(*) FROM job), (SELECT count(*) FROM project)";

static void usage(FILE *out)
{
    fputs("usage: fieldd seed-demo [--tokens-file PATH]\n"
          "\n"
          "Loads the demo data set (demo users, clients, sites, devices, tickets, jobs,\n"
          "projects) into a migrated database that has no clients yet, and prints one line\n"
          "per demo user: \"<role> <name>: <token>\".\n"
          "\n"
          "  --tokens-file PATH   also write those lines to PATH (mode 0600)\n"
          "\n"
          "environment:\n"
          "  FIELDD_DB        libpq connection string or URI\n"
          "  FIELDD_DEMO_SQL  the SQL script (default " ACS_DB_DIR "/demo/seed.sql)\n",
          out);
}

/* Read the whole file at path into a NUL-terminated buffer (*out, to free). Return 0 or -1
 * after saying why. */
static int read_script(const char *path, char **out)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    struct stat st;

    *out = NULL;
    if (fp == NULL || fstat(fileno(fp), &st) != 0) {
        fprintf(stderr,
                "fieldd seed-demo: cannot read the demo script %s: %s (set FIELDD_DEMO_SQL to "
                "its path)\n",
                path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > SEED_MAX_SQL_SIZE) {
        fprintf(stderr, "fieldd seed-demo: %s is not a regular file of at most %u bytes\n", path,
                SEED_MAX_SQL_SIZE);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        fprintf(stderr, "fieldd seed-demo: out of memory reading %s\n", path);
        goto fail;
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, fp);
    if (ferror(fp) || n != (size_t)st.st_size) {
        fprintf(stderr, "fieldd seed-demo: cannot read %s: short read\n", path);
        goto fail;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n) != NULL) {
        fprintf(stderr, "fieldd seed-demo: %s contains a NUL byte: it is not an SQL script\n",
                path);
        goto fail;
    }
    fclose(fp);
    *out = buf;
    return 0;

fail:
    if (fp != NULL)
        fclose(fp);
    free(buf);
    return -1;
}

/* Connect to FIELDD_DB; NULL after saying why (never printing the conninfo: it may hold a
 * password). */
static PGconn *connect_db(void)
{
    const char *conninfo = getenv("FIELDD_DB");
    PGconn *conn = PQconnectdb(conninfo ? conninfo : "");
    if (conn == NULL) {
        fputs("fieldd seed-demo: out of memory connecting to the database\n", stderr);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *db = PQdb(conn), *host = PQhost(conn), *port = PQport(conn);
        fprintf(stderr,
                "fieldd seed-demo: cannot connect to database \"%s\" on %s port %s: %s"
                "(set FIELDD_DB to a libpq conninfo string or URI)\n",
                db ? db : "?", host && *host ? host : "the default socket",
                port && *port ? port : "default", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Run a statement without parameters; return its result or NULL after saying what failed. */
static PGresult *exec_checked(PGconn *conn, const char *sql, const char *what)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "fieldd seed-demo: %s failed: %s", what,
                res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Create a temporary file beside path (mode 0600) for the tokens; the caller renames it into
 * place once they are committed. Return the descriptor, or -1 after saying why; *tmp_path is
 * then NULL. */
static int open_tokens_file(const char *path, char **tmp_path)
{
    size_t len = strlen(path) + sizeof(".XXXXXX");
    char *tmp = malloc(len);
    int fd = -1;

    *tmp_path = NULL;
    if (tmp == NULL) {
        fputs("fieldd seed-demo: out of memory\n", stderr);
        goto fail;
    }
    snprintf(tmp, len, "%s.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        fprintf(stderr,
                "fieldd seed-demo: cannot create a file beside %s: %s (check the folder "
                "exists and is writable)\n",
                path, strerror(errno));
        goto fail;
    }
    *tmp_path = tmp;
    return fd;

fail:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return -1;
}

/* Write all of buf to fd. Return 0 or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int cli_seed_demo(int argc, char **argv)
{
    const char *tokens_path = NULL;
    const char *script_path = getenv("FIELDD_DEMO_SQL");
    char *script = NULL, *tmp_path = NULL, *lines = NULL;
    char tokens[DEMO_USER_COUNT][AUTH_TOKEN_STRLEN + 1];
    size_t lines_len = 0, lines_cap = 0;
    int tokens_fd = -1, in_tx = 0, rc = 1;
    PGconn *conn = NULL;
    PGresult *res = NULL;

    memset(tokens, 0, sizeof(tokens));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tokens-file") == 0 && i + 1 < argc) {
            tokens_path = argv[++i];
        } else if (strncmp(argv[i], "--tokens-file=", 14) == 0) {
            tokens_path = argv[i] + 14;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "fieldd seed-demo: unexpected argument \"%s\"\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (tokens_path != NULL && *tokens_path == '\0') {
        fputs("fieldd seed-demo: --tokens-file needs a path\n", stderr);
        return 2;
    }
    if (script_path == NULL || *script_path == '\0')
        script_path = ACS_DB_DIR "/demo/seed.sql";

    if (auth_token_init() != 0) {
        fputs("fieldd seed-demo: libsodium failed to initialise (tokens need it)\n", stderr);
        goto done;
    }
    if (read_script(script_path, &script) != 0)
        goto done;
    /* Fail on an unwritable tokens file before touching the database. */
    if (tokens_path != NULL && (tokens_fd = open_tokens_file(tokens_path, &tmp_path)) < 0)
        goto done;
    conn = connect_db();
    if (conn == NULL)
        goto done;

    res = exec_checked(conn, sql_migrated, "checking the schema");
    if (res == NULL)
        goto done;
    if (PQntuples(res) > 0) {
        fprintf(stderr,
                "fieldd seed-demo: the database is not migrated (table %s is missing): run "
                "`fieldd migrate` first\n",
                PQgetvalue(res, 0, 0));
        goto done;
    }
    PQclear(res);

    res = exec_checked(conn, "BEGIN", "starting the transaction");
    if (res == NULL)
        goto done;
    in_tx = 1;
    PQclear(res);
    res = exec_checked(conn, "SELECT pg_advisory_xact_lock(" SEED_LOCK_KEY ")",
                       "taking the seed lock");
    if (res == NULL)
        goto done;
    PQclear(res);
    res = exec_checked(conn, "SELECT count(*) FROM client", "counting clients");
    if (res == NULL)
        goto done;
    if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
        fprintf(stderr,
                "fieldd seed-demo: the database already has %s clients: the demo loads only "
                "into an empty database (create a new database, `fieldd migrate` it, then "
                "seed it)\n",
                PQgetvalue(res, 0, 0));
        goto done;
    }
    PQclear(res);
    res = exec_checked(conn, sql_demo_user_table, "creating table demo_user");
    if (res == NULL)
        goto done;
    PQclear(res);
    res = NULL;

    for (size_t i = 0; i < DEMO_USER_COUNT; i++) {
        const demo_user_t *u = &demo_users[i];
        uint8_t hash[AUTH_TOKEN_HASHLEN];
        char hex[67];
        auth_token_new(tokens[i]);
        if (auth_token_hash(tokens[i], strlen(tokens[i]), hash) != 0) {
            fputs("fieldd seed-demo: a new token failed its own shape check (a bug in "
                  "auth_token.c)\n",
                  stderr);
            goto done;
        }
        auth_token_hash_hex(hash, hex);
        const char *params[7] = {u->name, u->role, u->skills, u->region, u->email, u->phone, hex};
        res = PQexecParams(conn, sql_user, 7, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            fprintf(stderr, "fieldd seed-demo: creating demo user %s failed: %s", u->name,
                    res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
            goto done;
        }
        PQclear(res);
        res = NULL;
    }

    /* The script: several statements in one PQexec, inside our transaction. */
    res = PQexec(conn, script);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "fieldd seed-demo: %s failed: %s(nothing was loaded)\n", script_path,
                res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        goto done;
    }
    PQclear(res);
    if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
        fprintf(stderr,
                "fieldd seed-demo: %s ended the transaction itself: remove its "
                "BEGIN/COMMIT (what it did is committed; drop the database and start "
                "again)\n",
                script_path);
        in_tx = 0;
        res = NULL;
        goto done;
    }
    res = exec_checked(conn, sql_summary, "counting what was loaded");
    if (res == NULL)
        goto done;
    char summary[256];
    snprintf(summary, sizeof(summary),
             "%s clients, %s sites, %s devices, %s tickets, %s jobs, %s projects",
             PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
             PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
    PQclear(res);
    res = exec_checked(conn, "COMMIT", "committing the demo data");
    in_tx = 0;
    if (res == NULL)
        goto done;

    /* Committed: the tokens are now valid; show them (once) and keep them if asked to. */
    for (size_t i = 0; i < DEMO_USER_COUNT; i++) {
        const demo_user_t *u = &demo_users[i];
        size_t need = strlen(u->role) + 1 + strlen(u->name) + 2 + AUTH_TOKEN_STRLEN + 2;
        if (lines_len + need > lines_cap) {
            size_t cap = (lines_cap + need) * 2;
            char *grown = realloc(lines, cap);
            if (grown == NULL) {
                fputs("fieldd seed-demo: out of memory (the demo is loaded; issue tokens with "
                      "`fieldd user token`)\n",
                      stderr);
                goto done;
            }
            lines = grown;
            lines_cap = cap;
        }
        lines_len += (size_t)snprintf(lines + lines_len, lines_cap - lines_len, "%s %s: %s\n",
                                      u->role, u->name, tokens[i]);
    }
    fwrite(lines, 1, lines_len, stdout);
    fflush(stdout);
    fprintf(stderr, "fieldd seed-demo: loaded %s\n", summary);
    if (tokens_fd >= 0) {
        if (write_all(tokens_fd, lines, lines_len) != 0 || fsync(tokens_fd) != 0 ||
            close(tokens_fd) != 0 || rename(tmp_path, tokens_path) != 0) {
            fprintf(stderr,
                    "fieldd seed-demo: the demo is loaded but writing %s failed: %s (the tokens "
                    "are printed above)\n",
                    tokens_path, strerror(errno));
            tokens_fd = -1;
            goto done;
        }
        tokens_fd = -1;
        free(tmp_path);
        tmp_path = NULL;
        fprintf(stderr, "fieldd seed-demo: tokens written to %s (mode 0600)\n", tokens_path);
    } else {
        fputs("fieldd seed-demo: the tokens are shown only this once (use --tokens-file to keep "
              "them)\n",
              stderr);
    }
    rc = 0;

done:
    PQclear(res);
    if (in_tx)
        PQclear(PQexec(conn, "ROLLBACK"));
    PQfinish(conn);
    if (tokens_fd >= 0)
        close(tokens_fd);
    if (tmp_path != NULL)
        unlink(tmp_path);
    free(tmp_path);
    if (lines != NULL)
        sodium_memzero(lines, lines_cap);
    free(lines);
    sodium_memzero(tokens, sizeof(tokens));
    free(script);
    return rc;
}
