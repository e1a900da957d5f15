/* SPDX-License-Identifier: MIT */
/*
 * cli_user.c - `fieldd user`: create users and manage their bearer tokens from the command
 * line, the way the first admin gets in and the way an operator recovers access.
 *
 *   fieldd user add --name N --role R [--skills a,b,c] [--region R] [--email E] [--phone P]
 *   fieldd user token --id UUID [--label L]
 *   fieldd user revoke --id UUID
 *   fieldd user list
 *
 * A token is printed once (auth_token.h); only its SHA-256 is stored, in api_token. `add`
 * writes the user and the first token in one statement, so a failure leaves neither. Every
 * value from the command line reaches PostgreSQL as a query parameter.
 *
 * This is a command-line tool: it uses blocking libpq and prints to stdout/stderr.
 */
#include "cli.h"

#include "auth_token.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_NAME_MAX  200 /* app_user.name CHECK, in characters */
#define USER_FIELD_MAX 200 /* region, email, phone, label: generous bounds, in bytes */
#define USER_SKILL_MAX 50

static const char *const user_roles[] = {"admin", "head", "dispatcher", "engineer", "senior"};
#define USER_ROLES_TEXT "admin, head, dispatcher, engineer, senior"

/* The user and the first token in one statement: both or neither.
 * $1 name, $2 role, $3 skills (comma-separated, validated), $4 region, $5 email, $6 phone,
 * $7 token hash (bytea hex), $8 token label. */
static const char sql_add[] =
    "WITH u AS (INSERT INTO app_user (name, role, skills, region, email, phone)"
    "           VALUES ($1, $2, string_to_array($3, ','), $4, $5, $6) RETURNING id)"
    " INSERT INTO api_token (token_hash, user_id, label)"
    " SELECT $7::bytea, u.id, $8 FROM u RETURNING user_id";

/* $1 token hash, $2 user id, $3 label. No row when the user is missing or inactive. */
static const char sql_token[] =
    "INSERT INTO api_token (token_hash, user_id, label)"
    " SELECT $1::bytea, u.id, $3 FROM app_user u WHERE u.id = $2::uuid AND u.active"
    " RETURNING user_id";

/* $1 user id: whether the user exists and is active. */
static const char sql_user_state[] = "SELECT active FROM app_user WHERE id = $1::uuid";

/* $1 user id: (user exists, tokens revoked now). */
static const char sql_revoke[] =
    "WITH u AS (SELECT id FROM app_user WHERE id = $1::uuid),"
    " r AS (UPDATE api_token t SET revoked_at = now() FROM u"
    "       WHERE t.user_id = u.id AND t.revoked_at IS NULL RETURNING 1)"
    " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM r)";

static const char sql_list[] =
    "SELECT id, role, name, active FROM app_user ORDER BY role, name, id";

/* Options of the subcommands; NULL when not given. */
typedef struct {
    const char *name;
    const char *role;
    const char *skills;
    const char *region;
    const char *email;
    const char *phone;
    const char *id;
    const char *label;
} user_opts_t;

static void usage(FILE *out)
{
    fputs("usage: fieldd user add --name NAME --role ROLE [--skills a,b,c] [--region REGION]\n"
          "                       [--email EMAIL] [--phone PHONE]\n"
          "       fieldd user token --id UUID [--label LABEL]\n"
          "       fieldd user revoke --id UUID\n"
          "       fieldd user list\n"
          "\n"
          "  add     create a user and print its id and a bearer token (shown only once)\n"
          "  token   issue another token for an active user\n"
          "  revoke  revoke every token of a user\n"
          "  list    print id, role and name of every user\n"
          "\n"
          "roles: " USER_ROLES_TEXT "\n"
          "The database is $FIELDD_DB (a libpq conninfo string or URI).\n",
          out);
}

/* Return 1 when `word` is one of the space-separated words of `list`. */
static int word_in(const char *word, size_t len, const char *list)
{
    for (const char *p = list; (p = strstr(p, word)) != NULL; p++) {
        if (strncmp(p, word, len) == 0 && (p == list || p[-1] == ' ') &&
            (p[len] == ' ' || p[len] == '\0'))
            return 1;
    }
    return 0;
}

/* Parse `--opt VALUE` / `--opt=VALUE` pairs after the subcommand into o, accepting only the
 * options named in `allowed` (space-separated). Return 0, or 2 after saying why. */
static int parse_opts(int argc, char **argv, const char *sub, const char *allowed, user_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    const struct {
        const char *opt;
        const char **slot;
    } table[] = {
        {"name", &o->name},   {"role", &o->role},   {"skills", &o->skills}, {"region", &o->region},
        {"email", &o->email}, {"phone", &o->phone}, {"id", &o->id},         {"label", &o->label},
    };
    const size_t nopts = sizeof(table) / sizeof(table[0]);

    for (int i = 2; i < argc; i++) {
        const char *key = argv[i] + 2;
        const char *eq = strchr(key, '=');
        size_t key_len = eq ? (size_t)(eq - key) : strlen(key);
        size_t k = nopts;
        if (strncmp(argv[i], "--", 2) == 0) {
            for (k = 0; k < nopts; k++) {
                if (strlen(table[k].opt) == key_len && strncmp(table[k].opt, key, key_len) == 0)
                    break;
            }
        }
        if (k == nopts || !word_in(table[k].opt, key_len, allowed)) {
            fprintf(stderr, "fieldd user %s: unexpected argument \"%s\" (options: %s)\n\n", sub,
                    argv[i], *allowed ? allowed : "none");
            usage(stderr);
            return 2;
        }
        if (eq == NULL && i + 1 >= argc) {
            fprintf(stderr, "fieldd user %s: option --%s needs a value\n", sub, table[k].opt);
            return 2;
        }
        if (*table[k].slot != NULL) {
            fprintf(stderr, "fieldd user %s: option --%s given twice\n", sub, table[k].opt);
            return 2;
        }
        *table[k].slot = eq ? eq + 1 : argv[++i];
    }
    return 0;
}

/* Return the number of characters of UTF-8 text s (bytes that do not continue a sequence). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

static int has_control_chars(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    }
    return 0;
}

/* Return 1 when s is a UUID in its canonical text form (8-4-4-4-12 hex digits). */
static int is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

/* Check a free-text option: present when required, bounded, no control characters. Return 0
 * or 2 after saying why. */
static int check_text(const char *sub, const char *opt, const char *value, size_t max_chars)
{
    if (value == NULL)
        return 0;
    if (*value == '\0' || utf8_chars(value) > max_chars || has_control_chars(value)) {
        fprintf(stderr,
                "fieldd user %s: --%s must be 1 to %zu characters without control characters\n",
                sub, opt, max_chars);
        return 2;
    }
    return 0;
}

/* Normalise "turnstiles, readers,firmware" into "turnstiles,readers,firmware" in out (size
 * >= strlen(in) + 1), dropping empty items and repeats. Each skill must be lower-case letters,
 * digits, '_' or '-'. Return 0 or 2 after saying why. */
static int normalise_skills(const char *in, char *out)
{
    size_t n = 0;
    out[0] = '\0';
    while (*in) {
        while (*in == ' ' || *in == ',')
            in++;
        const char *start = in;
        while (*in && *in != ',')
            in++;
        const char *end = in;
        while (end > start && end[-1] == ' ')
            end--;
        size_t len = (size_t)(end - start);
        if (len == 0)
            continue;
        int ok = len <= USER_SKILL_MAX;
        for (size_t i = 0; ok && i < len; i++) {
            char c = start[i];
            ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        }
        if (!ok) {
            fprintf(stderr,
                    "fieldd user add: skill \"%.*s\" must be 1 to %d lower-case letters, "
                    "digits, '_' or '-' (e.g. --skills turnstiles,readers,firmware)\n",
                    (int)len, start, USER_SKILL_MAX);
            return 2;
        }
        /* Skip a repeat of a skill already in out. */
        int dup = 0;
        for (const char *p = out; *p && !dup;) {
            const char *q = strchr(p, ',');
            size_t plen = q ? (size_t)(q - p) : strlen(p);
            dup = plen == len && strncmp(p, start, len) == 0;
            p += plen + (q != NULL);
        }
        if (dup)
            continue;
        if (n > 0)
            out[n++] = ',';
        memcpy(out + n, start, len);
        n += len;
        out[n] = '\0';
    }
    return 0;
}

/* Connect to FIELDD_DB. Return the connection, or NULL after saying why; the conninfo is never
 * printed (it may hold a password). */
static PGconn *connect_db(const char *sub)
{
    const char *conninfo = getenv("FIELDD_DB");
    PGconn *conn = PQconnectdb(conninfo ? conninfo : "");
    if (conn == NULL) {
        fprintf(stderr, "fieldd user %s: out of memory connecting to the database\n", sub);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *db = PQdb(conn), *host = PQhost(conn), *port = PQport(conn);
        fprintf(stderr,
                "fieldd user %s: cannot connect to database \"%s\" on %s port %s: %s"
                "(set FIELDD_DB to a libpq conninfo string or URI)\n",
                sub, db ? db : "?", host && *host ? host : "the default socket",
                port && *port ? port : "default", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Print a failed statement's error with what was being done; a missing table means the
 * database was not migrated, which deserves its own hint. */
static void report_db_error(const char *sub, const char *what, PGconn *conn, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    fprintf(stderr, "fieldd user %s: %s failed: %s", sub, what,
            res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    if (state != NULL && strcmp(state, "42P01") == 0)
        fprintf(stderr, "(the database is not migrated: run `fieldd migrate` first)\n");
}

/* Make a token: text in tok, bytea hex of its hash in hex. Return 0 or 1 after saying why. */
static int make_token(const char *sub, char tok[AUTH_TOKEN_STRLEN + 1], char hex[67])
{
    uint8_t hash[AUTH_TOKEN_HASHLEN];
    if (auth_token_init() != 0) {
        fprintf(stderr, "fieldd user %s: libsodium failed to initialise\n", sub);
        return 1;
    }
    auth_token_new(tok);
    if (auth_token_hash(tok, strlen(tok), hash) != 0) {
        fprintf(stderr,
                "fieldd user %s: a new token failed its own shape check (a bug in "
                "auth_token.c)\n",
                sub);
        return 1;
    }
    auth_token_hash_hex(hash, hex);
    return 0;
}

static int user_add(int argc, char **argv)
{
    user_opts_t o;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    char *skills = NULL;
    char tok[AUTH_TOKEN_STRLEN + 1] = "";
    char hex[67];
    int rc = parse_opts(argc, argv, "add", "name role skills region email phone", &o);

    if (rc != 0)
        goto done;
    rc = 2;
    if (o.name == NULL || o.role == NULL) {
        fputs("fieldd user add: --name and --role are required\n\n", stderr);
        usage(stderr);
        goto done;
    }
    size_t r;
    for (r = 0; r < sizeof(user_roles) / sizeof(user_roles[0]); r++) {
        if (strcmp(o.role, user_roles[r]) == 0)
            break;
    }
    if (r == sizeof(user_roles) / sizeof(user_roles[0])) {
        fprintf(stderr, "fieldd user add: role \"%s\" is not one of: " USER_ROLES_TEXT "\n",
                o.role);
        goto done;
    }
    if (check_text("add", "name", o.name, USER_NAME_MAX) ||
        check_text("add", "region", o.region, USER_FIELD_MAX) ||
        check_text("add", "email", o.email, USER_FIELD_MAX) ||
        check_text("add", "phone", o.phone, USER_FIELD_MAX))
        goto done;
    if (o.email != NULL && (strchr(o.email, '@') == NULL || strchr(o.email, ' ') != NULL)) {
        fprintf(stderr, "fieldd user add: --email \"%s\" is not an e-mail address\n", o.email);
        goto done;
    }
    skills = malloc(o.skills ? strlen(o.skills) + 1 : 1);
    if (skills == NULL) {
        fputs("fieldd user add: out of memory\n", stderr);
        rc = 1;
        goto done;
    }
    skills[0] = '\0';
    if (o.skills != NULL && normalise_skills(o.skills, skills) != 0)
        goto done;

    rc = 1;
    if (make_token("add", tok, hex) != 0)
        goto done;
    conn = connect_db("add");
    if (conn == NULL)
        goto done;
    const char *params[8] = {o.name, o.role, skills, o.region, o.email, o.phone, hex, "initial"};
    res = PQexecParams(conn, sql_add, 8, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        report_db_error("add", "creating the user", conn, res);
        goto done;
    }
    printf("user_id: %s\ntoken: %s\n", PQgetvalue(res, 0, 0), tok);
    fflush(stdout);
    fputs("fieldd user add: the token is shown only this once and cannot be recovered (only "
          "its SHA-256 is stored); keep it now, or issue another with `fieldd user token`\n",
          stderr);
    rc = 0;

done:
    sodium_memzero(tok, sizeof(tok));
    free(skills);
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static int user_token(int argc, char **argv)
{
    user_opts_t o;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    char tok[AUTH_TOKEN_STRLEN + 1] = "";
    char hex[67];
    int rc = parse_opts(argc, argv, "token", "id label", &o);

    if (rc != 0)
        goto done;
    rc = 2;
    if (o.id == NULL || !is_uuid(o.id)) {
        fprintf(stderr, "fieldd user token: --id must give the user's UUID (see `fieldd user "
                        "list`)\n");
        goto done;
    }
    if (check_text("token", "label", o.label, USER_FIELD_MAX))
        goto done;

    rc = 1;
    if (make_token("token", tok, hex) != 0)
        goto done;
    conn = connect_db("token");
    if (conn == NULL)
        goto done;
    const char *params[3] = {hex, o.id, o.label};
    res = PQexecParams(conn, sql_token, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        report_db_error("token", "issuing the token", conn, res);
        goto done;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = PQexecParams(conn, sql_user_state, 1, NULL, params + 1, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            report_db_error("token", "looking up the user", conn, res);
        else if (PQntuples(res) == 0)
            fprintf(stderr, "fieldd user token: no user has id %s (see `fieldd user list`)\n",
                    o.id);
        else
            fprintf(stderr, "fieldd user token: user %s is deactivated: it may not have tokens\n",
                    o.id);
        goto done;
    }
    printf("token: %s\n", tok);
    fflush(stdout);
    fputs("fieldd user token: the token is shown only this once and cannot be recovered\n", stderr);
    rc = 0;

done:
    sodium_memzero(tok, sizeof(tok));
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static int user_revoke(int argc, char **argv)
{
    user_opts_t o;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    int rc = parse_opts(argc, argv, "revoke", "id", &o);

    if (rc != 0)
        goto done;
    rc = 2;
    if (o.id == NULL || !is_uuid(o.id)) {
        fprintf(stderr, "fieldd user revoke: --id must give the user's UUID (see `fieldd user "
                        "list`)\n");
        goto done;
    }
    rc = 1;
    conn = connect_db("revoke");
    if (conn == NULL)
        goto done;
    const char *params[1] = {o.id};
    res = PQexecParams(conn, sql_revoke, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        report_db_error("revoke", "revoking the tokens", conn, res);
        goto done;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
        fprintf(stderr, "fieldd user revoke: no user has id %s (see `fieldd user list`)\n", o.id);
        goto done;
    }
    printf("revoked: %s\n", PQgetvalue(res, 0, 1));
    if (strcmp(PQgetvalue(res, 0, 1), "0") == 0)
        fprintf(stderr, "fieldd user revoke: user %s had no active tokens\n", o.id);
    rc = 0;

done:
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static int user_list(int argc, char **argv)
{
    user_opts_t o;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    int rc = parse_opts(argc, argv, "list", "", &o);

    if (rc != 0)
        goto done;
    rc = 1;
    conn = connect_db("list");
    if (conn == NULL)
        goto done;
    res = PQexec(conn, sql_list);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        report_db_error("list", "listing users", conn, res);
        goto done;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        printf("%s  %-10s  %s%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2),
               strcmp(PQgetvalue(res, i, 3), "t") == 0 ? "" : "  (inactive)");
    }
    rc = 0;

done:
    PQclear(res);
    PQfinish(conn);
    return rc;
}

int cli_user(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0)
        return user_add(argc, argv);
    if (strcmp(sub, "token") == 0)
        return user_token(argc, argv);
    if (strcmp(sub, "revoke") == 0)
        return user_revoke(argc, argv);
    if (strcmp(sub, "list") == 0)
        return user_list(argc, argv);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "fieldd user: unknown subcommand \"%s\"\n\n", sub);
    usage(stderr);
    return 2;
}
