/* SPDX-License-Identifier: MIT */
/*
 * profile.c - loading device profiles (profile.h) from JSON and checking them.
 *
 * The loader keeps the parsed jansson document for the life of the profile: every string of
 * the model points into it, and the document is never changed after loading, so readers on
 * several threads need no lock. Arrays of the model (registers, bits, values, faults, rules,
 * events, actions) are allocated separately and remembered in the profile's block list, so
 * that one profile_free() releases everything, also after a half-finished load.
 *
 * Checks run in a fixed order - unknown keys of an object first, then its keys in the order
 * docs/profiles.md lists them, then the cross-checks (overlaps, references) - so that a file
 * with several mistakes always gets the same sentence back. Every sentence starts with the
 * file and the JSON path of the offending value.
 */
#include "profile.h"

#include "acs_error.h"
#include "drivers_internal.h"
#include "errbuf.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef ACS_PROFILE_DIR
#define ACS_PROFILE_DIR "drivers/profiles"
#endif

/* Largest profile file read, in bytes: the shipped ones are about 30 KiB. */
#define PROFILE_FILE_MAX (1024 * 1024)
/* Longest JSON path in a message. */
#define PATH_MAX_LEN 160
/* Longest free-text value (descriptions, advice), in bytes. */
#define TEXT_MAX 2000
/* Longest FC 43 object / unit / kind string, in bytes. */
#define SHORT_MAX 64

typedef struct {
    profile_t pub; /* first, so that a profile_t * is also a profile_priv_t * */
    json_t *root;
    char *path;
    void **blocks;
    size_t nblocks, capblocks;
} profile_priv_t;

struct profile_set {
    profile_t **items;
    size_t n;
};

/* State of one load. */
typedef struct {
    profile_priv_t *pp;
    const char *origin;
    char *err;
    size_t errlen;
} ctx_t;

/* ---------------------------------------------------------------------------------------- */
/* Names, in the order the messages list them. */

static const char *const table_names[] = {"coil", "discrete_input", "input", "holding", NULL};
static const char *const table_words[] = {"coils", "discrete inputs", "input registers",
                                          "holding registers"};
/* Indexed by profile_type_t. */
static const char *const type_names[] = {"bool",    "u16",    "i16",      "u32", "i32",
                                         "float32", "string", "bitfield", NULL};
/* The list shown in "unknown type" messages, in the order people think of them. */
static const char *const type_list[] = {"u16",    "i16",      "u32",  "i32", "float32",
                                        "string", "bitfield", "bool", NULL};
static const char *const order_names[] = {"high_first", "low_first", NULL};
static const char *const access_names[] = {"r", "rw", NULL};
static const char *const severity_names[] = {"info", "warning", "critical", NULL};
static const char *const safety_names[] = {"safe", "access", "disruptive", NULL};
static const char *const rule_names[] = {"threshold", "rate", "decrease", "equals", NULL};
static const char *const kind_names[] = {"turnstile_controller", "reader_controller", NULL};

static const char *name_or_q(const char *const *names, size_t n, int i)
{
    return i >= 0 && (size_t)i < n ? names[i] : "?";
}

const char *profile_table_name(profile_table_t table)
{
    return name_or_q(table_names, 4, (int)table);
}

const char *profile_type_name(profile_type_t type)
{
    return name_or_q(type_names, 8, (int)type);
}

const char *profile_word_order_name(profile_word_order_t order)
{
    return name_or_q(order_names, 2, (int)order);
}

const char *profile_access_name(profile_access_t access)
{
    return name_or_q(access_names, 2, (int)access);
}

const char *profile_severity_name(profile_severity_t severity)
{
    return name_or_q(severity_names, 3, (int)severity);
}

const char *profile_safety_name(profile_safety_t safety)
{
    return name_or_q(safety_names, 3, (int)safety);
}

const char *profile_rule_kind_name(profile_rule_kind_t kind)
{
    return name_or_q(rule_names, 4, (int)kind);
}

/* ---------------------------------------------------------------------------------------- */
/* Messages. */

/*
 * Write text from the file into dst for a message: '"' and '\' escaped, anything outside
 * printable ASCII shown as '?', cut after 48 bytes with "...". dst holds 48 * 2 + 4 bytes.
 */
#define QUOTE_MAX 48
static void quote(char *dst, const char *s)
{
    size_t o = 0, i = 0;
    for (; i < QUOTE_MAX && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else {
            dst[o++] = c < 0x20 || c >= 0x7F ? '?' : (char)c;
        }
    }
    if (s[i] != '\0') {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

/* Write "<origin>: <path>: <reason>" (or "<origin>: <reason>" for an empty path) and return
 * ACS_EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(ctx_t *c, const char *path, const char *fmt,
                                                      ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (path != NULL && path[0] != '\0')
        errbuf_printf(c->err, c->errlen, "%s: %s: %s", c->origin, path, reason);
    else
        errbuf_printf(c->err, c->errlen, "%s: %s", c->origin, reason);
    return ACS_EINVAL;
}

static int fail_nomem(ctx_t *c)
{
    errbuf_printf(c->err, c->errlen, "%s: out of memory while loading the profile", c->origin);
    return ACS_ENOMEM;
}

/* "a, b, c" of a NULL-terminated list, into dst. */
static void join(char *dst, size_t len, const char *const *names)
{
    size_t o = 0;
    dst[0] = '\0';
    for (size_t i = 0; names[i] != NULL && o + 1 < len; i++) {
        int n = snprintf(dst + o, len - o, "%s%s", i > 0 ? ", " : "", names[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

/* path + "." + key (or key alone at the top), into dst of PATH_MAX_LEN bytes. */
static const char *sub(char *dst, const char *path, const char *key)
{
    int n = path[0] == '\0' ? snprintf(dst, PATH_MAX_LEN, "%s", key)
                            : snprintf(dst, PATH_MAX_LEN, "%s.%s", path, key);
    /* A path deeper than PATH_MAX_LEN is cut; the message still names the file and the
     * outer keys. */
    if (n < 0)
        dst[0] = '\0';
    return dst;
}

/* path + "[i]", into dst of PATH_MAX_LEN bytes. */
static const char *idx(char *dst, const char *path, size_t i)
{
    if (snprintf(dst, PATH_MAX_LEN, "%s[%zu]", path, i) < 0)
        dst[0] = '\0';
    return dst;
}

/* ---------------------------------------------------------------------------------------- */
/* Memory: every array of the model is a block of the profile. */

static void *alloc(ctx_t *c, size_t n, size_t size)
{
    profile_priv_t *pp = c->pp;
    if (n == 0)
        n = 1;
    if (pp->nblocks == pp->capblocks) {
        size_t cap = pp->capblocks ? pp->capblocks * 2 : 16;
        void **b = realloc(pp->blocks, cap * sizeof(*b));
        if (b == NULL)
            return NULL;
        pp->blocks = b;
        pp->capblocks = cap;
    }
    void *p = calloc(n, size);
    if (p != NULL)
        pp->blocks[pp->nblocks++] = p;
    return p;
}

/* ---------------------------------------------------------------------------------------- */
/* Typed access to keys. Each returns 0 or the failure code, and leaves *out alone when the
 * key is absent and not required. */

static int check_object(ctx_t *c, const json_t *v, const char *path)
{
    if (!json_is_object(v))
        return fail(c, path, "must be an object");
    return 0;
}

static int check_keys(ctx_t *c, const json_t *obj, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *val;
    char p[PATH_MAX_LEN];
    json_object_foreach((json_t *)obj, key, val)
    {
        size_t i = 0;
        while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i] == NULL) {
            char shown[QUOTE_MAX * 2 + 4], list[512];
            quote(shown, key);
            join(list, sizeof(list), allowed);
            return fail(c, sub(p, path, shown), "unknown key (%s)", list);
        }
    }
    return 0;
}

/* A string of 1..max bytes (printable ASCII only when ascii is set). */
static int get_string(ctx_t *c, const json_t *obj, const char *path, const char *key, int required,
                      size_t max, int ascii, const char **out)
{
    char p[PATH_MAX_LEN];
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required)
            return fail(c, sub(p, path, key), "required key is missing");
        return 0;
    }
    if (!json_is_string(v))
        return fail(c, sub(p, path, key), "must be a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0)
        return fail(c, sub(p, path, key), "must not be empty");
    if (n > max)
        return fail(c, sub(p, path, key), "must be at most %zu bytes long", max);
    if (ascii) {
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
                return fail(c, sub(p, path, key), "must be printable ASCII");
        }
    }
    *out = s;
    return 0;
}

static int get_int(ctx_t *c, const json_t *obj, const char *path, const char *key, int required,
                   long long lo, long long hi, long long *out, int *present)
{
    char p[PATH_MAX_LEN];
    json_t *v = json_object_get(obj, key);
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL) {
        if (required)
            return fail(c, sub(p, path, key), "required key is missing");
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail(c, sub(p, path, key), "must be an integer from %lld to %lld", lo, hi);
    *out = json_integer_value(v);
    return 0;
}

static int get_number(ctx_t *c, const json_t *obj, const char *path, const char *key, double *out,
                      int *present)
{
    json_t *v = json_object_get(obj, key);
    *present = v != NULL;
    if (v == NULL)
        return 0;
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        char p[PATH_MAX_LEN];
        return fail(c, sub(p, path, key), "must be a number");
    }
    *out = json_number_value(v);
    return 0;
}

/* A string naming one of `names`; *out is its index. `what` words the message:
 * unknown type "u17" (u16, i16, ...). `shown` lists the names in message order (NULL: the
 * same as names). */
static int get_enum(ctx_t *c, const json_t *obj, const char *path, const char *key, int required,
                    const char *what, const char *const *names, const char *const *shown, int *out)
{
    char p[PATH_MAX_LEN], list[256];
    join(list, sizeof(list), shown != NULL ? shown : names);
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required)
            return fail(c, sub(p, path, key), "required key is missing (%s)", list);
        return 0;
    }
    if (!json_is_string(v))
        return fail(c, sub(p, path, key), "must be a string (%s)", list);
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(names[i], json_string_value(v)) == 0) {
            *out = i;
            return 0;
        }
    }
    char q[QUOTE_MAX * 2 + 4];
    quote(q, json_string_value(v));
    return fail(c, sub(p, path, key), "unknown %s \"%s\" (%s)", what, q, list);
}

static int get_bool(ctx_t *c, const json_t *obj, const char *path, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v)) {
        char p[PATH_MAX_LEN];
        return fail(c, sub(p, path, key), "must be true or false");
    }
    *out = json_is_true(v);
    return 0;
}

static int get_array(ctx_t *c, const json_t *obj, const char *path, const char *key, int required,
                     size_t max, json_t **out)
{
    char p[PATH_MAX_LEN];
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL) {
        if (required)
            return fail(c, sub(p, path, key), "required key is missing");
        return 0;
    }
    if (!json_is_array(v))
        return fail(c, sub(p, path, key), "must be an array");
    if (json_array_size(v) == 0)
        return fail(c, sub(p, path, key), "must not be empty");
    if (json_array_size(v) > max)
        return fail(c, sub(p, path, key), "must have at most %zu items", max);
    *out = v;
    return 0;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PROFILE_NAME_MAX || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

/* ^[A-Z][A-Z0-9_]{1,63}$, the check of diag_finding.code. */
static int valid_code(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 64 || s[0] < 'A' || s[0] > 'Z')
        return 0;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

static int get_name(ctx_t *c, const json_t *obj, const char *path, const char *key,
                    const char **out)
{
    int rc = get_string(c, obj, path, key, 1, 255, 0, out);
    if (rc != 0)
        return rc;
    if (!valid_name(*out)) {
        char p[PATH_MAX_LEN], q[QUOTE_MAX * 2 + 4];
        quote(q, *out);
        return fail(c, sub(p, path, key),
                    "\"%s\" is not a valid name ([a-z][a-z0-9_]*, at most %d bytes)", q,
                    PROFILE_NAME_MAX);
    }
    return 0;
}

static int get_code(ctx_t *c, const json_t *obj, const char *path, const char *key,
                    const char **out)
{
    int rc = get_string(c, obj, path, key, 1, 255, 0, out);
    if (rc != 0)
        return rc;
    if (!valid_code(*out)) {
        char p[PATH_MAX_LEN], q[QUOTE_MAX * 2 + 4];
        quote(q, *out);
        return fail(c, sub(p, path, key),
                    "\"%s\" is not a valid finding code ([A-Z][A-Z0-9_]*, 2 to 64 bytes)", q);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Registers and record fields. */

static int is_integer_type(profile_type_t t)
{
    return t == PROFILE_T_U16 || t == PROFILE_T_I16 || t == PROFILE_T_U32 || t == PROFILE_T_I32;
}

static int is_numeric_type(profile_type_t t)
{
    return is_integer_type(t) || t == PROFILE_T_FLOAT32;
}

static int is_32bit(profile_type_t t)
{
    return t == PROFILE_T_U32 || t == PROFILE_T_I32 || t == PROFILE_T_FLOAT32;
}

static const char *const reg_keys[] = {
    "name",        "table",  "address", "type",   "word_order", "scale", "unit",    "access",
    "description", "length", "bits",    "values", "min",        "max",   "default", NULL};
static const char *const field_keys[] = {"name",   "offset",      "type",   "word_order",
                                         "scale",  "unit",        "length", "bits",
                                         "values", "description", NULL};
static const char *const bit_keys[] = {"bit", "name", "description", NULL};
static const char *const value_keys[] = {"value", "name", "description", NULL};

static int parse_bits(ctx_t *c, const json_t *obj, const char *path, profile_reg_t *r)
{
    char p[PATH_MAX_LEN], pi[PATH_MAX_LEN], pk[PATH_MAX_LEN];
    json_t *arr;
    int rc = get_array(c, obj, path, "bits", 1, 16, &arr);
    if (rc != 0)
        return rc;
    sub(p, path, "bits");
    size_t n = json_array_size(arr);
    profile_bit_t *bits = alloc(c, n, sizeof(*bits));
    if (bits == NULL)
        return fail_nomem(c);
    for (size_t i = 0; i < n; i++) {
        json_t *b = json_array_get(arr, i);
        idx(pi, p, i);
        long long bit = 0;
        if ((rc = check_object(c, b, pi)) != 0 || (rc = check_keys(c, b, pi, bit_keys)) != 0 ||
            (rc = get_int(c, b, pi, "bit", 1, 0, 15, &bit, NULL)) != 0 ||
            (rc = get_name(c, b, pi, "name", &bits[i].name)) != 0)
            return rc;
        bits[i].description = "";
        if ((rc = get_string(c, b, pi, "description", 0, TEXT_MAX, 0, &bits[i].description)) != 0)
            return rc;
        bits[i].bit = (unsigned)bit;
        for (size_t j = 0; j < i; j++) {
            if (bits[j].bit == bits[i].bit)
                return fail(c, sub(pk, pi, "bit"), "bit %u is already named by %s[%zu]",
                            bits[i].bit, p, j);
            if (strcmp(bits[j].name, bits[i].name) == 0)
                return fail(c, sub(pk, pi, "name"), "\"%s\" is already used by %s[%zu]",
                            bits[i].name, p, j);
        }
    }
    /* By ascending bit, as profile.h promises (insertion sort: at most 16). */
    for (size_t i = 1; i < n; i++) {
        profile_bit_t t = bits[i];
        size_t j = i;
        while (j > 0 && bits[j - 1].bit > t.bit) {
            bits[j] = bits[j - 1];
            j--;
        }
        bits[j] = t;
    }
    r->bits = bits;
    r->nbits = n;
    return 0;
}

static int parse_values(ctx_t *c, const json_t *arr, const char *path, profile_reg_t *r)
{
    char p[PATH_MAX_LEN], pi[PATH_MAX_LEN], pk[PATH_MAX_LEN];
    int64_t lo, hi;
    sub(p, path, "values");
    decode__raw_range(r->type, &lo, &hi);
    size_t n = json_array_size(arr);
    profile_enum_t *vals = alloc(c, n, sizeof(*vals));
    if (vals == NULL)
        return fail_nomem(c);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        idx(pi, p, i);
        long long value = 0;
        int rc;
        if ((rc = check_object(c, v, pi)) != 0 || (rc = check_keys(c, v, pi, value_keys)) != 0 ||
            (rc = get_int(c, v, pi, "value", 1, lo, hi, &value, NULL)) != 0 ||
            (rc = get_name(c, v, pi, "name", &vals[i].name)) != 0)
            return rc;
        vals[i].description = "";
        if ((rc = get_string(c, v, pi, "description", 0, TEXT_MAX, 0, &vals[i].description)) != 0)
            return rc;
        vals[i].value = value;
        for (size_t j = 0; j < i; j++) {
            if (vals[j].value == vals[i].value)
                return fail(c, sub(pk, pi, "value"), "%lld is already named by %s[%zu]", value, p,
                            j);
            if (strcmp(vals[j].name, vals[i].name) == 0)
                return fail(c, sub(pk, pi, "name"), "\"%s\" is already used by %s[%zu]",
                            vals[i].name, p, j);
        }
    }
    r->values = vals;
    r->nvalues = n;
    return 0;
}

/* Convert a limit or default in engineering units to raw, reporting at path. */
static int to_raw(ctx_t *c, const profile_reg_t *r, double v, int check_limits, const char *path,
                  int64_t *raw)
{
    char why[256];
    if (decode__raw_from_number(r, v, check_limits, raw, why, sizeof(why)) != 0)
        return fail(c, path, "%s", why);
    return 0;
}

static int parse_default(ctx_t *c, const json_t *obj, const char *path, profile_reg_t *r)
{
    char p[PATH_MAX_LEN];
    json_t *v = json_object_get(obj, "default");
    r->default_text = "";
    if (v == NULL)
        return 0;
    sub(p, path, "default");
    switch (r->type) {
    case PROFILE_T_BOOL:
        if (!json_is_boolean(v))
            return fail(c, p, "must be true or false");
        r->default_raw = json_is_true(v);
        return 0;
    case PROFILE_T_STRING: {
        if (!json_is_string(v))
            return fail(c, p, "must be a string");
        const char *s = json_string_value(v);
        if (json_string_length(v) > r->length)
            return fail(c, p, "must be at most %zu bytes long (length)", r->length);
        for (; *s != '\0'; s++) {
            if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
                return fail(c, p, "must be printable ASCII");
        }
        r->default_text = json_string_value(v);
        return 0;
    }
    case PROFILE_T_BITFIELD:
        if (json_is_array(v)) {
            size_t i;
            json_t *item;
            int64_t bits = 0;
            json_array_foreach(v, i, item)
            {
                const profile_bit_t *b =
                    json_is_string(item) ? profile_bit(r, json_string_value(item)) : NULL;
                if (b == NULL) {
                    char pi[PATH_MAX_LEN];
                    return fail(c, idx(pi, p, i), "must name a bit of this bitfield");
                }
                bits |= (int64_t)1 << b->bit;
            }
            r->default_raw = bits;
            return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
            return fail(c, p, "must be an integer from 0 to 65535 or an array of bit names");
        r->default_raw = json_integer_value(v);
        return 0;
    default:
        break;
    }
    if (r->nvalues > 0) {
        const profile_enum_t *e = NULL;
        if (json_is_string(v))
            e = profile_enum_by_name(r, json_string_value(v));
        else if (json_is_integer(v))
            e = profile_enum_by_value(r, json_integer_value(v));
        if (e == NULL)
            return fail(c, p, "must be one of the names or values under \"values\"");
        r->default_raw = e->value;
        return 0;
    }
    if (!json_is_number(v))
        return fail(c, p, "must be a number");
    return to_raw(c, r, json_number_value(v), 1, p, &r->default_raw);
}

/*
 * One register (is_field = 0) or one event record field (is_field = 1) at `path`. Fields have
 * "offset" instead of table / address, no access (read-only), no limits and no default.
 */
static int parse_reg(ctx_t *c, const json_t *obj, const char *path, int is_field, profile_reg_t *r)
{
    char p[PATH_MAX_LEN];
    int rc, ival = 0, present;
    long long addr = 0;

    if ((rc = check_object(c, obj, path)) != 0 ||
        (rc = check_keys(c, obj, path, is_field ? field_keys : reg_keys)) != 0 ||
        (rc = get_name(c, obj, path, "name", &r->name)) != 0)
        return rc;
    if (is_field) {
        r->table = PROFILE_INPUT_REGISTER;
        if ((rc = get_int(c, obj, path, "offset", 1, 0, PROFILE_EVENT_WORDS_MAX - 2, &addr,
                          NULL)) != 0)
            return rc;
    } else {
        if ((rc = get_enum(c, obj, path, "table", 1, "table", table_names, NULL, &ival)) != 0)
            return rc;
        r->table = (profile_table_t)ival;
        if ((rc = get_int(c, obj, path, "address", 1, 0, 65535, &addr, NULL)) != 0)
            return rc;
    }
    r->address = (uint16_t)addr;
    if ((rc = get_enum(c, obj, path, "type", 1, "type", type_names, type_list, &ival)) != 0)
        return rc;
    r->type = (profile_type_t)ival;
    int bit_table = r->table == PROFILE_COIL || r->table == PROFILE_DISCRETE_INPUT;
    if (bit_table && r->type != PROFILE_T_BOOL)
        return fail(c, sub(p, path, "type"), "%s hold only bool, not %s", table_words[r->table],
                    type_names[r->type]);
    if (!bit_table && r->type == PROFILE_T_BOOL)
        return fail(c, sub(p, path, "type"), "bool is only for coils and discrete inputs");

    /* Word order: required exactly for the 32-bit types. */
    r->word_order = PROFILE_HIGH_FIRST;
    if (json_object_get(obj, "word_order") != NULL) {
        if (!is_32bit(r->type))
            return fail(c, sub(p, path, "word_order"),
                        "only u32, i32 and float32 have a word order");
        if ((rc = get_enum(c, obj, path, "word_order", 1, "word order", order_names, NULL,
                           &ival)) != 0)
            return rc;
        r->word_order = (profile_word_order_t)ival;
    } else if (is_32bit(r->type)) {
        return fail(c, sub(p, path, "word_order"), "required for %s (high_first, low_first)",
                    type_names[r->type]);
    }

    /* Width. */
    long long length = 0;
    if ((rc = get_int(c, obj, path, "length", 0, 1, PROFILE_STRING_MAX, &length, &present)) != 0)
        return rc;
    if (present && r->type != PROFILE_T_STRING)
        return fail(c, sub(p, path, "length"), "only strings have a length");
    if (!present && r->type == PROFILE_T_STRING)
        return fail(c, sub(p, path, "length"), "required for a string (1 to %d bytes)",
                    PROFILE_STRING_MAX);
    r->length = (size_t)length;
    r->words = r->type == PROFILE_T_STRING ? (uint16_t)((length + 1) / 2)
               : is_32bit(r->type)         ? 2
                                           : 1;
    if (addr + r->words - 1 > 65535)
        return fail(c, sub(p, path, is_field ? "offset" : "address"),
                    "%s at %lld needs %u registers and runs past address 65535",
                    type_names[r->type], addr, r->words);

    /* Scale and unit: numbers only. */
    r->scale = 1.0;
    if ((rc = get_number(c, obj, path, "scale", &r->scale, &present)) != 0)
        return rc;
    if (present && !is_numeric_type(r->type))
        return fail(c, sub(p, path, "scale"), "only numeric types have a scale, not %s",
                    type_names[r->type]);
    if (present && !(r->scale > 0 && r->scale <= 1e9 && r->scale >= 1e-9))
        return fail(c, sub(p, path, "scale"), "must be a positive number from 1e-9 to 1e9");
    r->unit = "";
    if ((rc = get_string(c, obj, path, "unit", 0, 16, 0, &r->unit)) != 0)
        return rc;
    if (r->unit[0] != '\0' && !is_numeric_type(r->type))
        return fail(c, sub(p, path, "unit"), "only numeric types have a unit, not %s",
                    type_names[r->type]);

    /* Access. */
    r->access = PROFILE_ACCESS_R;
    if (!is_field) {
        if ((rc = get_enum(c, obj, path, "access", 1, "access", access_names, NULL, &ival)) != 0)
            return rc;
        r->access = (profile_access_t)ival;
        if (r->access == PROFILE_ACCESS_RW &&
            (r->table == PROFILE_DISCRETE_INPUT || r->table == PROFILE_INPUT_REGISTER))
            return fail(c, sub(p, path, "access"), "%s are read-only (\"r\")",
                        table_words[r->table]);
    }

    r->description = "";
    if ((rc = get_string(c, obj, path, "description", !is_field, TEXT_MAX, 0, &r->description)) !=
        0)
        return rc;

    /* Bits, values. */
    if (r->type == PROFILE_T_BITFIELD) {
        if ((rc = parse_bits(c, obj, path, r)) != 0)
            return rc;
    } else if (json_object_get(obj, "bits") != NULL) {
        return fail(c, sub(p, path, "bits"), "only bitfields have bits, not %s",
                    type_names[r->type]);
    }
    json_t *vals = json_object_get(obj, "values");
    if (vals != NULL) {
        if (!is_integer_type(r->type))
            return fail(c, sub(p, path, "values"),
                        "only u16, i16, u32 and i32 can be enumerations, not %s",
                        type_names[r->type]);
        if ((rc = get_array(c, obj, path, "values", 1, 1024, &vals)) != 0)
            return rc;
        if (json_object_get(obj, "scale") != NULL)
            return fail(c, sub(p, path, "scale"), "an enumeration has no scale");
        if (r->unit[0] != '\0')
            return fail(c, sub(p, path, "unit"), "an enumeration has no unit");
        if ((rc = parse_values(c, vals, path, r)) != 0)
            return rc;
    }

    if (is_field)
        return 0;

    /* Limits, in engineering units. */
    int has_min = 0, has_max = 0;
    if ((rc = get_number(c, obj, path, "min", &r->min, &has_min)) != 0 ||
        (rc = get_number(c, obj, path, "max", &r->max, &has_max)) != 0)
        return rc;
    if ((has_min || has_max) && (!is_numeric_type(r->type) || r->nvalues > 0)) {
        return fail(c, sub(p, path, has_min ? "min" : "max"), "only numbers have limits, not %s",
                    r->nvalues > 0 ? "an enumeration" : type_names[r->type]);
    }
    int64_t raw;
    if (has_min && (rc = to_raw(c, r, r->min, 0, sub(p, path, "min"), &raw)) != 0)
        return rc;
    if (has_max && (rc = to_raw(c, r, r->max, 0, sub(p, path, "max"), &raw)) != 0)
        return rc;
    if (has_min && has_max && r->max < r->min)
        return fail(c, sub(p, path, "max"), "must not be below min");
    r->has_min = has_min;
    r->has_max = has_max;
    return parse_default(c, obj, path, r);
}

/* Sort key for registers: table, then address, then file position. */
typedef struct {
    profile_reg_t *reg;
    size_t file_index;
} reg_slot_t;

static int cmp_slot(const void *a, const void *b)
{
    const reg_slot_t *x = a, *y = b;
    if (x->reg->table != y->reg->table)
        return x->reg->table < y->reg->table ? -1 : 1;
    if (x->reg->address != y->reg->address)
        return x->reg->address < y->reg->address ? -1 : 1;
    return x->file_index < y->file_index ? -1 : x->file_index > y->file_index;
}

/* "input registers 16-17" / "coil 3" */
static void span_text(char *dst, size_t len, profile_table_t t, unsigned a, unsigned words)
{
    static const char *const one[] = {"coil", "discrete input", "input register",
                                      "holding register"};
    if (words == 1)
        snprintf(dst, len, "%s %u", one[t], a);
    else
        snprintf(dst, len, "%s %u-%u", table_words[t], a, a + words - 1);
}

static int parse_registers(ctx_t *c, const json_t *root)
{
    char pi[PATH_MAX_LEN], pk[PATH_MAX_LEN];
    json_t *arr;
    int rc = get_array(c, root, "", "registers", 1, 4096, &arr);
    if (rc != 0)
        return rc;
    size_t n = json_array_size(arr);
    profile_reg_t *file = alloc(c, n, sizeof(*file));
    reg_slot_t *slots = alloc(c, n, sizeof(*slots));
    profile_reg_t *regs = alloc(c, n, sizeof(*regs));
    if (file == NULL || slots == NULL || regs == NULL)
        return fail_nomem(c);
    for (size_t i = 0; i < n; i++) {
        idx(pi, "registers", i);
        if ((rc = parse_reg(c, json_array_get(arr, i), pi, 0, &file[i])) != 0)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(file[j].name, file[i].name) == 0)
                return fail(c, sub(pk, pi, "name"), "\"%s\" is already used by registers[%zu]",
                            file[i].name, j);
        }
        slots[i].reg = &file[i];
        slots[i].file_index = i;
    }
    qsort(slots, n, sizeof(*slots), cmp_slot);
    /* Overlaps: after sorting, a register can only overlap the one before it, or one further
     * back that is wider; the furthest-reaching earlier register of the table is enough. */
    size_t reach = SIZE_MAX; /* slot with the highest end so far in this table */
    for (size_t i = 0; i < n; i++) {
        const profile_reg_t *r = slots[i].reg;
        if (i == 0 || slots[i - 1].reg->table != r->table) {
            reach = i;
            continue;
        }
        const profile_reg_t *q = slots[reach].reg;
        unsigned q_end = (unsigned)q->address + q->words - 1;
        if (r->address <= q_end) {
            /* Report at the register that comes later in the file. */
            size_t later = slots[i].file_index > slots[reach].file_index ? i : reach;
            size_t earlier = later == i ? reach : i;
            const profile_reg_t *l = slots[later].reg, *e = slots[earlier].reg;
            char a[64], b[64];
            span_text(a, sizeof(a), l->table, l->address, l->words);
            span_text(b, sizeof(b), e->table, e->address, e->words);
            return fail(c, sub(pk, idx(pi, "registers", slots[later].file_index), "address"),
                        "\"%s\" (%s) overlaps \"%s\" (%s, registers[%zu])", l->name, a, e->name, b,
                        slots[earlier].file_index);
        }
        if ((unsigned)r->address + r->words - 1 > q_end)
            reach = i;
    }
    profile_t *p = &c->pp->pub;
    for (size_t i = 0; i < n; i++) {
        regs[i] = *slots[i].reg;
        regs[i].index = i;
        if (p->table_regs[regs[i].table] == NULL)
            p->table_regs[regs[i].table] = &regs[i];
        p->table_nregs[regs[i].table]++;
    }
    p->regs = regs;
    p->nregs = n;
    return 0;
}

/* A reference by name to a register of the (sorted) map. */
static int get_reg_ref(ctx_t *c, const json_t *obj, const char *path, const char *key,
                       const profile_reg_t **out)
{
    const char *name;
    int rc = get_string(c, obj, path, key, 1, 255, 0, &name);
    if (rc != 0)
        return rc;
    const profile_reg_t *r = profile_reg(&c->pp->pub, name);
    if (r == NULL) {
        char p[PATH_MAX_LEN], q[QUOTE_MAX * 2 + 4];
        quote(q, name);
        return fail(c, sub(p, path, key), "no register is named \"%s\"", q);
    }
    *out = r;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Identification. */

static const char *const ident_keys[] = {
    "vendor_name", "product_code",        "major_minor_revision",
    "model_code",  "model_code_register", "serial_register",
    NULL};

static int parse_ident(ctx_t *c, const json_t *root)
{
    const char *path = "identification";
    char p[PATH_MAX_LEN];
    profile_ident_t *id = &c->pp->pub.ident;
    json_t *obj = json_object_get(root, path);
    long long code = 0;
    int rc;
    if (obj == NULL)
        return fail(c, path, "required key is missing");
    if ((rc = check_object(c, obj, path)) != 0 || (rc = check_keys(c, obj, path, ident_keys)) ||
        (rc = get_string(c, obj, path, "vendor_name", 1, SHORT_MAX, 1, &id->vendor_name)) != 0 ||
        (rc = get_string(c, obj, path, "product_code", 1, SHORT_MAX, 1, &id->product_code)) != 0 ||
        (rc = get_string(c, obj, path, "major_minor_revision", 1, SHORT_MAX, 1,
                         &id->major_minor_revision)) != 0 ||
        (rc = get_int(c, obj, path, "model_code", 1, 1, 65535, &code, NULL)) != 0 ||
        (rc = get_reg_ref(c, obj, path, "model_code_register", &id->model_code_reg)) != 0 ||
        (rc = get_reg_ref(c, obj, path, "serial_register", &id->serial_reg)) != 0)
        return rc;
    id->model_code = (uint16_t)code;
    const profile_reg_t *m = id->model_code_reg;
    if (m->table != PROFILE_INPUT_REGISTER || m->address != PROFILE_MODEL_CODE_ADDRESS ||
        m->type != PROFILE_T_U16 || m->nvalues > 0 || m->scale != 1.0)
        return fail(c, sub(p, path, "model_code_register"),
                    "\"%s\" must be the plain u16 input register at address %d", m->name,
                    PROFILE_MODEL_CODE_ADDRESS);
    const profile_reg_t *s = id->serial_reg;
    if (s->table != PROFILE_INPUT_REGISTER ||
        !(s->type == PROFILE_T_STRING || (s->type == PROFILE_T_U32 && s->nvalues == 0)))
        return fail(c, sub(p, path, "serial_register"),
                    "\"%s\" must be an input register of type string or u32", s->name);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Faults and rules. */

static const char *const fault_keys[] = {"code",     "register", "bit",    "active",
                                         "severity", "title",    "advice", NULL};

static int parse_common_finding(ctx_t *c, const json_t *obj, const char *path, const char **code,
                                profile_severity_t *sev, const char **title, const char **advice)
{
    int rc, ival = 0;
    if ((rc = get_code(c, obj, path, "code", code)) != 0)
        return rc;
    if ((rc = get_enum(c, obj, path, "severity", 1, "severity", severity_names, NULL, &ival)) != 0)
        return rc;
    *sev = (profile_severity_t)ival;
    if ((rc = get_string(c, obj, path, "title", 1, 200, 0, title)) != 0 ||
        (rc = get_string(c, obj, path, "advice", 1, TEXT_MAX, 0, advice)) != 0)
        return rc;
    return 0;
}

/* Finding codes are unique across faults, rules and the corrupt-log finding. */
static int check_code_unique(ctx_t *c, const char *path, const char *code)
{
    const profile_t *p = &c->pp->pub;
    char pk[PATH_MAX_LEN];
    for (size_t i = 0; i < p->nfaults; i++) {
        if (strcmp(p->faults[i].code, code) == 0)
            return fail(c, sub(pk, path, "code"), "\"%s\" is already used by faults[%zu]", code, i);
    }
    for (size_t i = 0; i < p->nrules; i++) {
        if (strcmp(p->rules[i].code, code) == 0)
            return fail(c, sub(pk, path, "code"), "\"%s\" is already used by rules[%zu]", code, i);
    }
    return 0;
}

static int parse_faults(ctx_t *c, const json_t *root)
{
    char pi[PATH_MAX_LEN], pk[PATH_MAX_LEN];
    json_t *arr;
    profile_t *p = &c->pp->pub;
    int rc = get_array(c, root, "", "faults", 0, 1024, &arr);
    if (rc != 0 || arr == NULL)
        return rc;
    size_t n = json_array_size(arr);
    profile_fault_t *faults = alloc(c, n, sizeof(*faults));
    if (faults == NULL)
        return fail_nomem(c);
    p->faults = faults;
    for (size_t i = 0; i < n; i++) {
        json_t *obj = json_array_get(arr, i);
        profile_fault_t *f = &faults[i];
        idx(pi, "faults", i);
        if ((rc = check_object(c, obj, pi)) != 0 || (rc = check_keys(c, obj, pi, fault_keys)) ||
            (rc = parse_common_finding(c, obj, pi, &f->code, &f->severity, &f->title,
                                       &f->advice)) != 0 ||
            (rc = check_code_unique(c, pi, f->code)) != 0 ||
            (rc = get_reg_ref(c, obj, pi, "register", &f->reg)) != 0)
            return rc;
        json_t *bit = json_object_get(obj, "bit");
        if (f->reg->type == PROFILE_T_BITFIELD) {
            if (bit == NULL)
                return fail(c, sub(pk, pi, "bit"), "required for a bitfield register");
            if (!json_is_string(bit) ||
                (f->bit = profile_bit(f->reg, json_string_value(bit))) == NULL)
                return fail(c, sub(pk, pi, "bit"), "must name a bit of \"%s\"", f->reg->name);
        } else if (f->reg->type == PROFILE_T_BOOL) {
            if (bit != NULL)
                return fail(c, sub(pk, pi, "bit"), "only for a bitfield register");
        } else {
            return fail(c, sub(pk, pi, "register"),
                        "\"%s\" must be a bitfield register or a bool coil / discrete input",
                        f->reg->name);
        }
        f->active_value = 1;
        if ((rc = get_bool(c, obj, pi, "active", &f->active_value)) != 0)
            return rc;
        p->nfaults = i + 1;
    }
    return 0;
}

static const char *const rule_keys[] = {"code",   "kind",     "register", "min",    "max",
                                        "equals", "severity", "title",    "advice", NULL};

static int parse_rules(ctx_t *c, const json_t *root)
{
    char pi[PATH_MAX_LEN], pk[PATH_MAX_LEN];
    json_t *arr;
    profile_t *p = &c->pp->pub;
    int rc = get_array(c, root, "", "rules", 0, 1024, &arr);
    if (rc != 0 || arr == NULL)
        return rc;
    size_t n = json_array_size(arr);
    profile_rule_t *rules = alloc(c, n, sizeof(*rules));
    if (rules == NULL)
        return fail_nomem(c);
    p->rules = rules;
    for (size_t i = 0; i < n; i++) {
        json_t *obj = json_array_get(arr, i);
        profile_rule_t *r = &rules[i];
        int kind = PROFILE_RULE_THRESHOLD;
        idx(pi, "rules", i);
        if ((rc = check_object(c, obj, pi)) != 0 || (rc = check_keys(c, obj, pi, rule_keys)) ||
            (rc = parse_common_finding(c, obj, pi, &r->code, &r->severity, &r->title,
                                       &r->advice)) != 0 ||
            (rc = check_code_unique(c, pi, r->code)) != 0 ||
            (rc = get_enum(c, obj, pi, "kind", 0, "rule kind", rule_names, NULL, &kind)) != 0 ||
            (rc = get_reg_ref(c, obj, pi, "register", &r->reg)) != 0)
            return rc;
        r->kind = (profile_rule_kind_t)kind;
        const profile_reg_t *reg = r->reg;
        int plain_number = is_numeric_type(reg->type) && reg->nvalues == 0;
        if (r->kind == PROFILE_RULE_EQUALS) {
            if (!(is_integer_type(reg->type) || reg->type == PROFILE_T_BITFIELD ||
                  reg->type == PROFILE_T_BOOL))
                return fail(c, sub(pk, pi, "register"),
                            "\"%s\" is %s; an equals rule needs an integer, enumeration, "
                            "bitfield or bool register",
                            reg->name, type_names[reg->type]);
        } else if (!plain_number) {
            return fail(c, sub(pk, pi, "register"),
                        "\"%s\" is %s; a %s rule needs a numeric register that is not an "
                        "enumeration",
                        reg->name, reg->nvalues > 0 ? "an enumeration" : type_names[reg->type],
                        rule_names[r->kind]);
        }
        if ((rc = get_number(c, obj, pi, "min", &r->min, &r->has_min)) != 0 ||
            (rc = get_number(c, obj, pi, "max", &r->max, &r->has_max)) != 0)
            return rc;
        json_t *eq = json_object_get(obj, "equals");
        switch (r->kind) {
        case PROFILE_RULE_THRESHOLD:
        case PROFILE_RULE_RATE:
            if (!r->has_min && !r->has_max)
                return fail(c, pi, "a %s rule needs \"min\", \"max\" or both", rule_names[r->kind]);
            if (r->has_min && r->has_max && r->max < r->min)
                return fail(c, sub(pk, pi, "max"), "must not be below min");
            if (eq != NULL)
                return fail(c, sub(pk, pi, "equals"), "only for an equals rule");
            break;
        case PROFILE_RULE_DECREASE:
            if (r->has_min || r->has_max || eq != NULL)
                return fail(c, pi, "a decrease rule takes no \"min\", \"max\" or \"equals\"");
            break;
        case PROFILE_RULE_EQUALS:
            if (r->has_min || r->has_max)
                return fail(c, sub(pk, pi, r->has_min ? "min" : "max"),
                            "an equals rule takes only \"equals\"");
            if (eq == NULL)
                return fail(c, sub(pk, pi, "equals"), "required for an equals rule");
            if (json_is_string(eq) && reg->nvalues > 0) {
                const profile_enum_t *e = profile_enum_by_name(reg, json_string_value(eq));
                if (e == NULL)
                    return fail(c, sub(pk, pi, "equals"), "must name a value of \"%s\"", reg->name);
                r->equals = e->value;
            } else if (json_is_boolean(eq) && reg->type == PROFILE_T_BOOL) {
                r->equals = json_is_true(eq);
            } else if (json_is_integer(eq) && reg->type != PROFILE_T_BOOL) {
                int64_t lo, hi;
                decode__raw_range(reg->type, &lo, &hi);
                if (json_integer_value(eq) < lo || json_integer_value(eq) > hi)
                    return fail(c, sub(pk, pi, "equals"), "must be a raw value from %lld to %lld",
                                (long long)lo, (long long)hi);
                r->equals = json_integer_value(eq);
            } else {
                return fail(c, sub(pk, pi, "equals"),
                            "must be a value name of an enumeration, true/false for bool, or "
                            "an integer");
            }
            break;
        }
        p->nrules = i + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Event log. */

static const char *const log_keys[] = {
    "capacity",     "count_register", "head_register", "select_register", "window_address",
    "record_words", "fields",         "events",        "corrupt",         NULL};
static const char *const event_keys[] = {"code", "name", "severity", "description", NULL};
static const char *const corrupt_keys[] = {"code", "severity", "title", "advice", NULL};

/* A register the event log names must be a plain u16 of the given table. */
static int check_log_reg(ctx_t *c, const char *path, const char *key, const profile_reg_t *r,
                         profile_table_t table)
{
    if (r->table != table || r->type != PROFILE_T_U16 || r->nvalues > 0 || r->scale != 1.0 ||
        (table == PROFILE_HOLDING_REGISTER && r->access != PROFILE_ACCESS_RW)) {
        char p[PATH_MAX_LEN];
        return fail(c, sub(p, path, key), "\"%s\" must be a plain u16 %s", r->name,
                    table == PROFILE_HOLDING_REGISTER ? "holding register with access rw"
                                                      : "input register");
    }
    return 0;
}

static int parse_fields(ctx_t *c, const json_t *log, const char *path, profile_event_log_t *el)
{
    char p[PATH_MAX_LEN], pi[PATH_MAX_LEN], pk[PATH_MAX_LEN];
    json_t *arr;
    int rc = get_array(c, log, path, "fields", 1, PROFILE_EVENT_FIELDS_MAX, &arr);
    if (rc != 0)
        return rc;
    sub(p, path, "fields");
    size_t n = json_array_size(arr);
    profile_reg_t *fields = alloc(c, n, sizeof(*fields));
    if (fields == NULL)
        return fail_nomem(c);
    unsigned last = el->record_words - 2u; /* the last word is the checksum */
    for (size_t i = 0; i < n; i++) {
        profile_reg_t *f = &fields[i];
        idx(pi, p, i);
        if ((rc = parse_reg(c, json_array_get(arr, i), pi, 1, f)) != 0)
            return rc;
        if ((unsigned)f->address + f->words - 1 > last)
            return fail(c, sub(pk, pi, "offset"),
                        "\"%s\" ends at word %u, but word %u is the checksum (the last of %u "
                        "record_words)",
                        f->name, f->address + f->words - 1u, last + 1u, el->record_words);
        for (size_t j = 0; j < i; j++) {
            const profile_reg_t *g = &fields[j];
            if (strcmp(g->name, f->name) == 0)
                return fail(c, sub(pk, pi, "name"), "\"%s\" is already used by %s[%zu]", f->name, p,
                            j);
            if (f->address <= g->address + g->words - 1 && g->address <= f->address + f->words - 1)
                return fail(c, sub(pk, pi, "offset"),
                            "words %u-%u of \"%s\" overlap words %u-%u of \"%s\" (%s[%zu])",
                            f->address, f->address + f->words - 1, f->name, g->address,
                            g->address + g->words - 1, g->name, p, j);
        }
    }
    /* By ascending offset (insertion sort: at most PROFILE_EVENT_FIELDS_MAX). */
    for (size_t i = 1; i < n; i++) {
        profile_reg_t t = fields[i];
        size_t j = i;
        while (j > 0 && fields[j - 1].address > t.address) {
            fields[j] = fields[j - 1];
            j--;
        }
        fields[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        fields[i].index = i;
    el->fields = fields;
    el->nfields = n;
    static const struct {
        const char *name;
        profile_type_t type;
    } required[] = {{"seq", PROFILE_T_U32}, {"timestamp", PROFILE_T_U32}, {"code", PROFILE_T_U16}};
    const profile_reg_t **slot[] = {&el->seq, &el->timestamp, &el->code};
    for (size_t k = 0; k < 3; k++) {
        const profile_reg_t *f = NULL;
        for (size_t i = 0; i < n && f == NULL; i++) {
            if (strcmp(fields[i].name, required[k].name) == 0)
                f = &fields[i];
        }
        if (f == NULL)
            return fail(c, p, "required field \"%s\" (%s) is missing", required[k].name,
                        type_names[required[k].type]);
        if (f->type != required[k].type || f->nvalues > 0 || f->scale != 1.0)
            return fail(c, p, "field \"%s\" must be a plain %s", required[k].name,
                        type_names[required[k].type]);
        *slot[k] = f;
    }
    return 0;
}

static int parse_events(ctx_t *c, const json_t *log, const char *path, profile_event_log_t *el)
{
    char p[PATH_MAX_LEN], pi[PATH_MAX_LEN], pk[PATH_MAX_LEN];
    json_t *arr;
    int rc = get_array(c, log, path, "events", 1, 65535, &arr);
    if (rc != 0)
        return rc;
    sub(p, path, "events");
    size_t n = json_array_size(arr);
    profile_event_t *ev = alloc(c, n, sizeof(*ev));
    if (ev == NULL)
        return fail_nomem(c);
    for (size_t i = 0; i < n; i++) {
        json_t *obj = json_array_get(arr, i);
        long long code = 0;
        int sev = PROFILE_SEV_INFO;
        idx(pi, p, i);
        if ((rc = check_object(c, obj, pi)) != 0 || (rc = check_keys(c, obj, pi, event_keys)) ||
            (rc = get_int(c, obj, pi, "code", 1, 1, 65535, &code, NULL)) != 0 ||
            (rc = get_name(c, obj, pi, "name", &ev[i].name)) != 0 ||
            (rc = get_enum(c, obj, pi, "severity", 0, "severity", severity_names, NULL, &sev)) != 0)
            return rc;
        ev[i].code = (uint16_t)code;
        ev[i].severity = (profile_severity_t)sev;
        ev[i].description = "";
        if ((rc = get_string(c, obj, pi, "description", 0, TEXT_MAX, 0, &ev[i].description)) != 0)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (ev[j].code == ev[i].code)
                return fail(c, sub(pk, pi, "code"), "%u is already used by %s[%zu]", ev[i].code, p,
                            j);
            if (strcmp(ev[j].name, ev[i].name) == 0)
                return fail(c, sub(pk, pi, "name"), "\"%s\" is already used by %s[%zu]", ev[i].name,
                            p, j);
        }
    }
    for (size_t i = 1; i < n; i++) {
        profile_event_t t = ev[i];
        size_t j = i;
        while (j > 0 && ev[j - 1].code > t.code) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = t;
    }
    el->events = ev;
    el->nevents = n;
    return 0;
}

static int parse_event_log(ctx_t *c, const json_t *root)
{
    const char *path = "event_log";
    char pk[PATH_MAX_LEN];
    profile_t *p = &c->pp->pub;
    profile_event_log_t *el = &p->event_log;
    json_t *obj = json_object_get(root, path);
    long long capacity = 0, window = 0, words = 0;
    int rc;
    if (obj == NULL)
        return 0;
    if ((rc = check_object(c, obj, path)) != 0 || (rc = check_keys(c, obj, path, log_keys)) ||
        (rc = get_int(c, obj, path, "capacity", 1, 1, 65535, &capacity, NULL)) != 0 ||
        (rc = get_reg_ref(c, obj, path, "count_register", &el->count)) != 0 ||
        (rc = check_log_reg(c, path, "count_register", el->count, PROFILE_INPUT_REGISTER)) ||
        (rc = get_reg_ref(c, obj, path, "head_register", &el->head)) != 0 ||
        (rc = check_log_reg(c, path, "head_register", el->head, PROFILE_INPUT_REGISTER)) ||
        (rc = get_reg_ref(c, obj, path, "select_register", &el->select)) != 0 ||
        (rc = check_log_reg(c, path, "select_register", el->select, PROFILE_HOLDING_REGISTER)) !=
            0 ||
        (rc = get_int(c, obj, path, "window_address", 1, 0, 65535, &window, NULL)) != 0 ||
        (rc = get_int(c, obj, path, "record_words", 1, 6, PROFILE_EVENT_WORDS_MAX, &words, NULL)) !=
            0)
        return rc;
    el->capacity = (uint16_t)capacity;
    el->window_address = (uint16_t)window;
    el->record_words = (uint16_t)words;
    if (window + words - 1 > 65535)
        return fail(c, sub(pk, path, "window_address"),
                    "a window of %lld registers at %lld runs past address 65535", words, window);
    for (size_t i = 0; i < p->table_nregs[PROFILE_INPUT_REGISTER]; i++) {
        const profile_reg_t *r = &p->table_regs[PROFILE_INPUT_REGISTER][i];
        if (r->address <= window + words - 1 && window <= r->address + r->words - 1)
            return fail(c, sub(pk, path, "window_address"),
                        "the record window (input registers %lld-%lld) overlaps \"%s\"", window,
                        window + words - 1, r->name);
    }
    if ((rc = parse_fields(c, obj, path, el)) != 0 || (rc = parse_events(c, obj, path, el)) != 0)
        return rc;

    char pc[PATH_MAX_LEN];
    json_t *cor = json_object_get(obj, "corrupt");
    sub(pc, path, "corrupt");
    if (cor == NULL)
        return fail(c, pc, "required key is missing");
    if ((rc = check_object(c, cor, pc)) != 0 || (rc = check_keys(c, cor, pc, corrupt_keys)) ||
        (rc = parse_common_finding(c, cor, pc, &el->corrupt_code, &el->corrupt_severity,
                                   &el->corrupt_title, &el->corrupt_advice)) != 0 ||
        (rc = check_code_unique(c, pc, el->corrupt_code)) != 0)
        return rc;
    el->present = 1;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Actions. */

static const char *const action_keys[] = {"name",  "title",       "safety", "register",
                                          "value", "description", NULL};

static int parse_actions(ctx_t *c, const json_t *root)
{
    char pi[PATH_MAX_LEN], pk[PATH_MAX_LEN];
    json_t *arr;
    profile_t *p = &c->pp->pub;
    int rc = get_array(c, root, "", "actions", 0, 1024, &arr);
    if (rc != 0 || arr == NULL)
        return rc;
    size_t n = json_array_size(arr);
    profile_action_t *acts = alloc(c, n, sizeof(*acts));
    if (acts == NULL)
        return fail_nomem(c);
    for (size_t i = 0; i < n; i++) {
        json_t *obj = json_array_get(arr, i);
        profile_action_t *a = &acts[i];
        int safety = 0;
        idx(pi, "actions", i);
        if ((rc = check_object(c, obj, pi)) != 0 || (rc = check_keys(c, obj, pi, action_keys)) ||
            (rc = get_name(c, obj, pi, "name", &a->name)) != 0 ||
            (rc = get_string(c, obj, pi, "title", 1, 200, 0, &a->title)) != 0 ||
            (rc = get_enum(c, obj, pi, "safety", 1, "safety class", safety_names, NULL, &safety)) !=
                0 ||
            (rc = get_reg_ref(c, obj, pi, "register", &a->reg)) != 0)
            return rc;
        a->safety = (profile_safety_t)safety;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(acts[j].name, a->name) == 0)
                return fail(c, sub(pk, pi, "name"), "\"%s\" is already used by actions[%zu]",
                            a->name, j);
        }
        const profile_reg_t *r = a->reg;
        if (r->access != PROFILE_ACCESS_RW)
            return fail(c, sub(pk, pi, "register"), "\"%s\" is not writable (access \"r\")",
                        r->name);
        if (r->type == PROFILE_T_STRING || r->type == PROFILE_T_FLOAT32)
            return fail(c, sub(pk, pi, "register"),
                        "\"%s\" is %s; an action writes a bool, integer, enumeration or bitfield",
                        r->name, type_names[r->type]);
        json_t *v = json_object_get(obj, "value");
        sub(pk, pi, "value");
        if (v == NULL)
            return fail(c, pk, "required key is missing");
        if (r->type == PROFILE_T_BOOL) {
            if (!json_is_boolean(v))
                return fail(c, pk, "must be true or false for the coil \"%s\"", r->name);
            a->value = json_is_true(v);
        } else if (json_is_string(v)) {
            const profile_enum_t *e = profile_enum_by_name(r, json_string_value(v));
            if (e == NULL)
                return fail(c, pk, "must name a value of \"%s\"", r->name);
            a->value = e->value;
        } else if (json_is_integer(v)) {
            int64_t lo, hi;
            decode__raw_range(r->type, &lo, &hi);
            if (json_integer_value(v) < lo || json_integer_value(v) > hi)
                return fail(c, pk, "must be a raw value from %lld to %lld", (long long)lo,
                            (long long)hi);
            a->value = json_integer_value(v);
        } else {
            return fail(c, pk, "must be an integer or the name of an enumeration value");
        }
        a->description = "";
        if ((rc = get_string(c, obj, pi, "description", 0, TEXT_MAX, 0, &a->description)) != 0)
            return rc;
    }
    p->actions = acts;
    p->nactions = n;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The whole file. */

static const char *const top_keys[] = {"format",         "kind",      "title",  "description",
                                       "identification", "registers", "faults", "rules",
                                       "event_log",      "actions",   NULL};

static int parse_root(ctx_t *c, const json_t *root)
{
    profile_t *p = &c->pp->pub;
    long long format = 0;
    int kind = 0, rc;
    if (!json_is_object(root))
        return fail(c, "", "a profile must be a JSON object");
    if ((rc = check_keys(c, root, "", top_keys)) != 0 ||
        (rc = get_int(c, root, "", "format", 1, 1, 1, &format, NULL)) != 0 ||
        (rc = get_enum(c, root, "", "kind", 1, "kind", kind_names, NULL, &kind)) != 0 ||
        (rc = get_string(c, root, "", "title", 1, 200, 0, &p->title)) != 0)
        return rc;
    p->kind = kind_names[kind];
    p->description = "";
    if ((rc = get_string(c, root, "", "description", 0, TEXT_MAX, 0, &p->description)) != 0 ||
        (rc = parse_registers(c, root)) != 0 || (rc = parse_ident(c, root)) != 0 ||
        (rc = parse_faults(c, root)) != 0 || (rc = parse_rules(c, root)) != 0 ||
        (rc = parse_event_log(c, root)) != 0 || (rc = parse_actions(c, root)) != 0)
        return rc;
    p->model = p->ident.product_code;

    /* The model code register always reads the model code: a "default" may only repeat it.
     * The model is built, so the file's register array is known to be well-formed. */
    profile_reg_t *m = (profile_reg_t *)p->ident.model_code_reg;
    json_t *arr = json_object_get(root, "registers");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *r = json_array_get(arr, i);
        if (strcmp(json_string_value(json_object_get(r, "name")), m->name) == 0 &&
            json_object_get(r, "default") != NULL && m->default_raw != p->ident.model_code) {
            char pa[PATH_MAX_LEN], pk[PATH_MAX_LEN];
            return fail(c, sub(pk, idx(pa, "registers", i), "default"),
                        "the model code register reads identification.model_code (%u)",
                        p->ident.model_code);
        }
    }
    m->default_raw = p->ident.model_code;
    return 0;
}

int profile_parse(const char *json, size_t len, const char *origin, profile_t **out, char *err,
                  size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out == NULL) {
        errbuf_printf(err, errlen, "no place to put the profile");
        return ACS_EINVAL;
    }
    *out = NULL;
    if (origin == NULL)
        origin = "(profile)";
    if (json == NULL) {
        errbuf_printf(err, errlen, "%s: no JSON text", origin);
        return ACS_EINVAL;
    }
    profile_priv_t *pp = calloc(1, sizeof(*pp));
    if (pp == NULL) {
        errbuf_printf(err, errlen, "%s: out of memory while loading the profile", origin);
        return ACS_ENOMEM;
    }
    pp->path = strdup(origin);
    if (pp->path == NULL) {
        free(pp);
        errbuf_printf(err, errlen, "%s: out of memory while loading the profile", origin);
        return ACS_ENOMEM;
    }
    pp->pub.path = pp->path;
    ctx_t c = {.pp = pp, .origin = pp->path, .err = err, .errlen = errlen};
    int rc;
    json_error_t je;
    pp->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (pp->root == NULL) {
        for (char *s = je.text; *s != '\0'; s++) {
            if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
                *s = '?';
        }
        rc = fail(&c, "", "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
        goto fail;
    }
    rc = parse_root(&c, pp->root);
    if (rc != 0)
        goto fail;
    *out = &pp->pub;
    return 0;
fail:
    profile_free(&pp->pub);
    return rc;
}

int profile_load(const char *path, profile_t **out, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL) {
        errbuf_printf(err, errlen, "profile_load needs a path and a place for the profile");
        return ACS_EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        errbuf_printf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? ACS_ENOTFOUND : ACS_EIO;
    }
    char *buf = malloc(PROFILE_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        errbuf_printf(err, errlen, "%s: out of memory while loading the profile", path);
        return ACS_ENOMEM;
    }
    size_t n = fread(buf, 1, PROFILE_FILE_MAX + 1, f);
    int rc = 0;
    if (ferror(f)) {
        errbuf_printf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        rc = ACS_EIO;
    } else if (n > PROFILE_FILE_MAX) {
        errbuf_printf(err, errlen, "%s: larger than %d bytes, not a profile", path,
                      PROFILE_FILE_MAX);
        rc = ACS_ETOOBIG;
    }
    fclose(f);
    if (rc == 0)
        rc = profile_parse(buf, n, path, out, err, errlen);
    free(buf);
    return rc;
}

void profile_free(profile_t *p)
{
    if (p == NULL)
        return;
    profile_priv_t *pp = (profile_priv_t *)p;
    for (size_t i = 0; i < pp->nblocks; i++)
        free(pp->blocks[i]);
    free(pp->blocks);
    json_decref(pp->root);
    free(pp->path);
    free(pp);
}

/* ---------------------------------------------------------------------------------------- */
/* Sets. */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_profile_file(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

int profile_set_load_dir(const char *dir, profile_set_t **out, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out != NULL)
        *out = NULL;
    if (dir == NULL || out == NULL) {
        errbuf_printf(err, errlen, "profile_set_load_dir needs a folder and a place for the set");
        return ACS_EINVAL;
    }
    int rc = 0;
    char **names = NULL;
    size_t nnames = 0, cap = 0;
    char *path = NULL;
    profile_set_t *set = calloc(1, sizeof(*set));
    DIR *d = opendir(dir);
    if (set == NULL) {
        rc = ACS_ENOMEM;
        errbuf_printf(err, errlen, "%s: out of memory while loading profiles", dir);
        goto done;
    }
    if (d == NULL) {
        int e = errno;
        errbuf_printf(err, errlen, "%s: cannot open the profile folder: %s", dir, strerror(e));
        rc = e == ENOENT || e == ENOTDIR ? ACS_ENOTFOUND : ACS_EIO;
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_profile_file(de->d_name))
            continue;
        if (nnames == cap) {
            cap = cap ? cap * 2 : 8;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (nn == NULL)
                goto nomem;
            names = nn;
        }
        if ((names[nnames] = strdup(de->d_name)) == NULL)
            goto nomem;
        nnames++;
    }
    if (nnames == 0) {
        errbuf_printf(err, errlen, "%s: no profile (*.json) in the folder", dir);
        rc = ACS_ENOTFOUND;
        goto done;
    }
    qsort(names, nnames, sizeof(*names), cmp_str);
    set->items = calloc(nnames, sizeof(*set->items));
    if (set->items == NULL)
        goto nomem;
    for (size_t i = 0; i < nnames; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        free(path);
        if ((path = malloc(len)) == NULL)
            goto nomem;
        size_t dl = strlen(dir);
        snprintf(path, len, "%s%s%s", dir, dl > 0 && dir[dl - 1] == '/' ? "" : "/", names[i]);
        profile_t *p;
        if ((rc = profile_load(path, &p, err, errlen)) != 0)
            goto done;
        set->items[set->n++] = p;
        for (size_t j = 0; j + 1 < set->n; j++) {
            const profile_t *q = set->items[j];
            if (q->ident.model_code == p->ident.model_code) {
                errbuf_printf(err, errlen,
                              "%s: identification.model_code: %u is already used by %s", p->path,
                              p->ident.model_code, q->path);
                rc = ACS_EINVAL;
                goto done;
            }
            if (strcasecmp(q->model, p->model) == 0) {
                errbuf_printf(err, errlen,
                              "%s: identification.product_code: \"%s\" is already used by %s",
                              p->path, p->model, q->path);
                rc = ACS_EINVAL;
                goto done;
            }
        }
    }
    *out = set;
    set = NULL;
    goto done;
nomem:
    errbuf_printf(err, errlen, "%s: out of memory while loading profiles", dir);
    rc = ACS_ENOMEM;
done:
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(path);
    profile_set_free(set);
    return rc;
}

const char *profile_default_dir(void)
{
    const char *env = getenv(PROFILE_ENV);
    return env != NULL && env[0] != '\0' ? env : ACS_PROFILE_DIR;
}

int profile_set_load_default(profile_set_t **out, char *err, size_t errlen)
{
    return profile_set_load_dir(profile_default_dir(), out, err, errlen);
}

void profile_set_free(profile_set_t *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        profile_free(set->items[i]);
    free(set->items);
    free(set);
}

size_t profile_set_count(const profile_set_t *set)
{
    return set != NULL ? set->n : 0;
}

const profile_t *profile_set_at(const profile_set_t *set, size_t i)
{
    return set != NULL && i < set->n ? set->items[i] : NULL;
}

const profile_t *profile_set_by_model_code(const profile_set_t *set, uint16_t code)
{
    for (size_t i = 0; set != NULL && i < set->n; i++) {
        if (set->items[i]->ident.model_code == code)
            return set->items[i];
    }
    return NULL;
}

const profile_t *profile_set_by_product_code(const profile_set_t *set, const char *product_code)
{
    for (size_t i = 0; set != NULL && product_code != NULL && i < set->n; i++) {
        if (strcasecmp(set->items[i]->model, product_code) == 0)
            return set->items[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Lookups. */

const profile_reg_t *profile_reg(const profile_t *p, const char *name)
{
    for (size_t i = 0; p != NULL && name != NULL && i < p->nregs; i++) {
        if (strcmp(p->regs[i].name, name) == 0)
            return &p->regs[i];
    }
    return NULL;
}

size_t profile_table_count(const profile_t *p, profile_table_t table)
{
    if (p == NULL || (unsigned)table >= PROFILE_NTABLES)
        return 0;
    return p->table_nregs[table];
}

const profile_reg_t *profile_table_at(const profile_t *p, profile_table_t table, size_t i)
{
    if (i >= profile_table_count(p, table))
        return NULL;
    return &p->table_regs[table][i];
}

const profile_reg_t *profile_reg_at_address(const profile_t *p, profile_table_t table,
                                            uint16_t address)
{
    size_t n = profile_table_count(p, table);
    for (size_t i = 0; i < n; i++) {
        const profile_reg_t *r = &p->table_regs[table][i];
        if (address >= r->address && (unsigned)address <= (unsigned)r->address + r->words - 1)
            return r;
    }
    return NULL;
}

const profile_bit_t *profile_bit(const profile_reg_t *reg, const char *name)
{
    for (size_t i = 0; reg != NULL && name != NULL && i < reg->nbits; i++) {
        if (strcmp(reg->bits[i].name, name) == 0)
            return &reg->bits[i];
    }
    return NULL;
}

const profile_enum_t *profile_enum_by_name(const profile_reg_t *reg, const char *name)
{
    for (size_t i = 0; reg != NULL && name != NULL && i < reg->nvalues; i++) {
        if (strcmp(reg->values[i].name, name) == 0)
            return &reg->values[i];
    }
    return NULL;
}

const profile_enum_t *profile_enum_by_value(const profile_reg_t *reg, int64_t value)
{
    for (size_t i = 0; reg != NULL && i < reg->nvalues; i++) {
        if (reg->values[i].value == value)
            return &reg->values[i];
    }
    return NULL;
}

const profile_reg_t *profile_event_field(const profile_t *p, const char *name)
{
    for (size_t i = 0; p != NULL && name != NULL && i < p->event_log.nfields; i++) {
        if (strcmp(p->event_log.fields[i].name, name) == 0)
            return &p->event_log.fields[i];
    }
    return NULL;
}

const profile_event_t *profile_event(const profile_t *p, uint16_t code)
{
    for (size_t i = 0; p != NULL && i < p->event_log.nevents; i++) {
        if (p->event_log.events[i].code == code)
            return &p->event_log.events[i];
    }
    return NULL;
}

const profile_action_t *profile_action(const profile_t *p, const char *name)
{
    for (size_t i = 0; p != NULL && name != NULL && i < p->nactions; i++) {
        if (strcmp(p->actions[i].name, name) == 0)
            return &p->actions[i];
    }
    return NULL;
}

const profile_fault_t *profile_fault(const profile_t *p, const char *code)
{
    for (size_t i = 0; p != NULL && code != NULL && i < p->nfaults; i++) {
        if (strcmp(p->faults[i].code, code) == 0)
            return &p->faults[i];
    }
    return NULL;
}
