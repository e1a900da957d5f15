/* SPDX-License-Identifier: MIT */
/*
 * fwupdate.c - the firmware update engine of fwupdate.h.
 *
 * Each update gets a drivers/bus.h worker of its own for its port or endpoint (the port is
 * refused while a diagnostic session or another update uses it, so one master talks on a
 * line at a time). The worker runs fwflash_run once; the library's progress callback runs on
 * that worker and copies what it reports into the update under a mutex, so that the loop
 * thread can answer "how far is it" at any moment and write it to the update's row every
 * tick. When fwflash_run returns, the done callback (loop thread) decides the status, writes
 * the end in one statement (the row, the device's firmware_version and an audit row on
 * success) and frees the update.
 */
#include "fwupdate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "acs_error.h"
#include "bus.h"
#include "db.h"
#include "errbuf.h"
#include "fwflash.h"
#include "log.h"
#include "server.h"
#include "sse.h"

#define FWUPDATE_ERR_MAX  600
#define FWUPDATE_LOG_MAX  65536 /* bytes of progress lines kept per update */
#define FWUPDATE_KEYS_MAX 16

typedef struct fwupdate fwupdate_t;

struct fwupdate {
    char id[37];
    char device_id[37];
    char bus_name[DIAG_NAME_MAX];
    char host[DIAG_NAME_MAX];
    transport_config_t cfg;
    bus_t *bus;
    int unit;
    int allow_downgrade;
    uint8_t *img;
    size_t len;
    /* Written by the worker's progress callback, read on the loop; under mu. */
    uv_mutex_t mu;
    fwupdate_progress_t prog;
    char *log;
    size_t loglen;
    /* Written by the worker before the done callback (bus.h orders the two). */
    int rc;
    char err[FWUPDATE_ERR_MAX];
    fwflash_result_t res;
    int tick_busy; /* a progress statement is in flight: its callback still needs u */
    int ending;
    int end_stored; /* freed once the progress statement in flight has come back */
    sse_hub_t *hub; /* live streams of this update, made by the first fwupdate_attach */
    uint32_t published_done;
    char published_step[16];
    const char *status; /* set when fwflash_run returned */
    char result[FWUPDATE_ERR_MAX + 200];
    fwupdate_t *next;
};

static struct {
    server_t *srv;
    uint8_t keys[FWUPDATE_KEYS_MAX][FWIMAGE_PUBLIC_SIZE];
    fwimage_keyring_t ring;
    fwupdate_t *updates;
    uv_timer_t tick;
    int tick_on;
} g;

static const char sql_tick[] =
    "UPDATE firmware_update SET bytes_done = $2::bigint, bytes_total = $3::bigint,"
    " resumed_from = $4::bigint, log = $5 WHERE id = $1::uuid AND status = 'running'";

/* $1 id, $2 status, $3 result, $4 log, $5 bytes done, $6 total, $7 resumed from, $8 the
 * version the device ran before (as read), or NULL */
static const char sql_end[] =
    "WITH u AS (UPDATE firmware_update SET status = $2, ended_at = now(), result = $3,"
    "           log = $4, bytes_done = $5::bigint, bytes_total = $6::bigint,"
    "           resumed_from = $7::bigint, from_version = coalesce($8, from_version)"
    "           WHERE id = $1::uuid AND status = 'running' RETURNING *),"
    " old AS (SELECT d.id, d.firmware_version FROM device d JOIN u ON d.id = u.device_id),"
    " dev AS (UPDATE device d SET firmware_version = u.to_version FROM u"
    "         WHERE $2 = 'succeeded' AND d.id = u.device_id RETURNING d.id),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT u.engineer_id, 'firmware_updated', 'device', u.device_id,"
    "                  jsonb_build_object('update_id', u.id, 'job_id', u.job_id,"
    "                                     'from', (SELECT firmware_version FROM old),"
    "                                     'to', u.to_version)"
    "           FROM u WHERE $2 = 'succeeded')"
    " SELECT count(*) FROM u";

static const char *step_name(fwflash_step_t s)
{
    switch (s) {
    case FWFLASH_STEP_STATUS:
        return "status";
    case FWFLASH_STEP_ENTER:
        return "enter";
    case FWFLASH_STEP_TRANSFER:
        return "transfer";
    case FWFLASH_STEP_VERIFY:
        return "verify";
    case FWFLASH_STEP_RESET:
        return "reset";
    case FWFLASH_STEP_CONFIRM:
        return "confirm";
    case FWFLASH_STEP_DONE:
        return "done";
    }
    return "status";
}

/* Append one line to the update's log; call with mu held. Lines past the cap are dropped. */
static void log_line_locked(fwupdate_t *u, const char *text)
{
    size_t n = strlen(text);
    if (n == 0 || u->loglen + n + 2 > FWUPDATE_LOG_MAX)
        return;
    char *p = realloc(u->log, u->loglen + n + 2);
    if (p == NULL)
        return;
    u->log = p;
    if (u->loglen > 0)
        u->log[u->loglen++] = '\n';
    memcpy(u->log + u->loglen, text, n);
    u->loglen += n;
    u->log[u->loglen] = '\0';
}

static void log_line(fwupdate_t *u, const char *text)
{
    uv_mutex_lock(&u->mu);
    log_line_locked(u, text);
    uv_mutex_unlock(&u->mu);
}

/* Worker thread: fwflash's progress. */
static void on_progress(const fwflash_progress_t *p, void *arg)
{
    fwupdate_t *u = arg;
    uv_mutex_lock(&u->mu);
    snprintf(u->prog.step, sizeof(u->prog.step), "%s", step_name(p->step));
    if (p->total > 0) {
        u->prog.done = p->done;
        u->prog.total = p->total;
    }
    u->prog.resumed_from = p->resumed_from;
    u->prog.retries = p->retries;
    if (p->text != NULL)
        log_line_locked(u, p->text);
    uv_mutex_unlock(&u->mu);
}

/* Worker thread: the whole update. */
static int work_flash(transport_t *t, void *arg)
{
    fwupdate_t *u = arg;
    transport_set_unit(t, u->unit);
    fwflash_options_t o;
    memset(&o, 0, sizeof(o));
    o.keys = &g.ring;
    o.allow_downgrade = u->allow_downgrade;
    o.progress = on_progress;
    o.progress_arg = u;
    u->rc = fwflash_run(t, u->img, u->len, &o, &u->res, u->err, sizeof(u->err));
    return u->rc;
}

static void update_unlink(fwupdate_t *u)
{
    for (fwupdate_t **p = &g.updates; *p != NULL; p = &(*p)->next)
        if (*p == u) {
            *p = u->next;
            break;
        }
}

static void update_free(fwupdate_t *u)
{
    update_unlink(u);
    uv_mutex_destroy(&u->mu);
    free(u->log);
    free(u->img);
    free(u);
}

static void on_end_stored(int err, PGresult *res, void *arg)
{
    fwupdate_t *u = arg;
    if (err != 0)
        log_error("firmware update %s: its end could not be stored (%s); it is ended as "
                  "interrupted at the next update of device %s",
                  u->id, acs_strerror(err), u->device_id);
    else if (atoi(PQgetvalue(res, 0, 0)) != 1)
        log_warn("firmware update %s was no longer running when its end was stored", u->id);
    if (u->hub != NULL) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "id", u->id, "status", u->status,
                              "result", u->result, "bytes_done", (json_int_t)u->prog.done,
                              "bytes_total", (json_int_t)u->prog.total);
        char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        if (text != NULL)
            sse_hub_publish(u->hub, "update_end", text);
        free(text);
        json_decref(o);
        sse_hub_close(u->hub);
        u->hub = NULL;
    }
    server_request_done(g.srv);
    update_unlink(u);
    u->end_stored = 1;
    if (!u->tick_busy)
        update_free(u);
}

static void done_flash(int status, void *arg)
{
    fwupdate_t *u = arg;
    bus_free(u->bus);
    u->bus = NULL;
    u->ending = 1;
    const fwflash_result_t *r = &u->res;
    const char *st;
    char *result = u->result;
    size_t resultlen = sizeof(u->result);
    char ver[32];
    uv_mutex_lock(&u->mu);
    uint32_t done = u->prog.done, total = u->prog.total;
    uv_mutex_unlock(&u->mu);
    if (status == 0) {
        st = "succeeded";
        fwimage_version_format(&r->after.running, ver, sizeof(ver));
        if (r->already)
            snprintf(result, resultlen, "unit %d on %s already ran %s: nothing was sent", u->unit,
                     u->bus_name, ver);
        else
            snprintf(result, resultlen, "unit %d on %s runs %s%s; %u bytes sent%s", u->unit,
                     u->bus_name, ver, r->confirmed ? " (confirmed)" : " (on trial)",
                     (unsigned)r->bytes_sent, r->resumed_from > 0 ? ", resumed" : "");
        if (r->resumed_from > 0) {
            size_t n = strlen(result);
            snprintf(result + n, resultlen - n, " from byte %u", (unsigned)r->resumed_from);
        }
        if (total > 0)
            done = total;
    } else {
        const char *why = u->err[0] ? u->err : acs_strerror(status);
        /* A link lost after the device acknowledged bytes leaves a transfer the same image
         * resumes; a refusal, or a port that never opened, is a failure. */
        int resumable =
            status == FWFLASH_ELINK || (status > -100 && (r->bytes_sent > 0 || done > 0));
        if (status == ACS_ECANCELED)
            why = "fieldd was stopped before the update ran";
        st = resumable ? "interrupted" : "failed";
        if (resumable)
            snprintf(result, resultlen,
                     "%s; the device kept %u of %u bytes: start the update again with the same "
                     "image to resume",
                     why, (unsigned)done, (unsigned)total);
        else
            snprintf(result, resultlen, "%s", why);
    }
    u->status = st;
    log_line(u, result);
    char from[32] = "";
    if (r->before.model[0] != '\0')
        fwimage_version_format(&r->before.running, from, sizeof(from));
    char sdone[24], stotal[24], sres[24];
    snprintf(sdone, sizeof(sdone), "%u", (unsigned)done);
    snprintf(stotal, sizeof(stotal), "%u", (unsigned)total);
    snprintf(sres, sizeof(sres), "%u", (unsigned)r->resumed_from);
    uv_mutex_lock(&u->mu);
    const char *params[] = {u->id, st,     result, u->log != NULL ? u->log : "",
                            sdone, stotal, sres,   from[0] ? from : NULL};
    int rc = db_query(g.srv->db, sql_end, 8, params, on_end_stored, u, NULL);
    uv_mutex_unlock(&u->mu);
    log_info("firmware update %s of device %s: %s: %s", u->id, u->device_id, st, result);
    if (rc != 0)
        on_end_stored(rc, NULL, u);
}

/* Send the live progress to the update's streams when it moved (or always, when forced). */
static void publish_progress(fwupdate_t *u, int force)
{
    if (u->hub == NULL)
        return;
    fwupdate_progress_t p;
    uv_mutex_lock(&u->mu);
    p = u->prog;
    uv_mutex_unlock(&u->mu);
    if (!force && p.done == u->published_done && strcmp(p.step, u->published_step) == 0)
        return;
    u->published_done = p.done;
    snprintf(u->published_step, sizeof(u->published_step), "%s", p.step);
    json_t *o =
        json_pack("{s:s, s:s, s:i, s:i, s:i, s:i}", "id", u->id, "step", p.step, "bytes_done",
                  (json_int_t)p.done, "bytes_total", (json_int_t)p.total, "resumed_from",
                  (json_int_t)p.resumed_from, "retries", (json_int_t)p.retries);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text != NULL)
        sse_hub_publish(u->hub, "update_progress", text);
    free(text);
    json_decref(o);
}

static void on_tick_stored(int err, PGresult *res, void *arg)
{
    (void)res;
    fwupdate_t *u = arg;
    u->tick_busy = 0;
    if (err != 0 && !u->ending)
        log_warn("firmware update %s: progress not stored (%s)", u->id, acs_strerror(err));
    if (u->end_stored)
        update_free(u);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    if (g.srv->db == NULL)
        return;
    for (fwupdate_t *u = g.updates; u != NULL; u = u->next) {
        if (u->ending)
            continue;
        publish_progress(u, 0);
        if (u->tick_busy)
            continue;
        char sdone[24], stotal[24], sres[24];
        uv_mutex_lock(&u->mu);
        snprintf(sdone, sizeof(sdone), "%u", (unsigned)u->prog.done);
        snprintf(stotal, sizeof(stotal), "%u", (unsigned)u->prog.total);
        snprintf(sres, sizeof(sres), "%u", (unsigned)u->prog.resumed_from);
        const char *params[] = {u->id, sdone, stotal, sres, u->log != NULL ? u->log : ""};
        int rc = db_query(g.srv->db, sql_tick, 5, params, on_tick_stored, u, NULL);
        uv_mutex_unlock(&u->mu);
        if (rc == 0)
            u->tick_busy = 1;
    }
}

/* --- keys ---------------------------------------------------------------------------------- */

static int load_key(const char *path, char *err, size_t errlen)
{
    if (g.ring.nkeys == FWUPDATE_KEYS_MAX) {
        errbuf_printf(err, errlen, "FIELDD_FIRMWARE_KEYS: more than %d keys", FWUPDATE_KEYS_MAX);
        return ACS_EINVAL;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        errbuf_printf(err, errlen, "FIELDD_FIRMWARE_KEYS: cannot read %s", path);
        return ACS_EINVAL;
    }
    char text[512];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    int secret = 0;
    char why[256];
    uint8_t key[FWIMAGE_SECRET_SIZE];
    if (fwimage_key_parse(text, key, sizeof(key), &secret, why, sizeof(why)) != 0) {
        errbuf_printf(err, errlen, "FIELDD_FIRMWARE_KEYS: %s: %s", path, why);
        return ACS_EINVAL;
    }
    if (secret) {
        errbuf_printf(err, errlen,
                      "FIELDD_FIRMWARE_KEYS: %s is a secret key; give fieldd the .pub file", path);
        return ACS_EINVAL;
    }
    memcpy(g.keys[g.ring.nkeys++], key, FWIMAGE_PUBLIC_SIZE);
    return 0;
}

int fwupdate_init(server_t *srv, char *err, size_t errlen)
{
    g.srv = srv;
    g.ring.keys = (const uint8_t(*)[FWIMAGE_PUBLIC_SIZE])g.keys;
    g.ring.nkeys = 0;
    if (fwimage_init() != 0) {
        errbuf_printf(err, errlen, "libsodium could not be initialised");
        return ACS_EINVAL;
    }
    if (!g.tick_on) {
        const char *v = getenv("FIELDD_FWUPDATE_TICK_MS");
        long ms = v != NULL && *v ? atol(v) : 2000;
        if (ms < 100 || ms > 600000)
            ms = 2000;
        uv_timer_init(srv->loop, &g.tick);
        uv_timer_start(&g.tick, on_tick, (uint64_t)ms, (uint64_t)ms);
        g.tick_on = 1;
    }
    const char *list = getenv("FIELDD_FIRMWARE_KEYS");
    if (list == NULL || *list == '\0')
        return 0;
    char *copy = strdup(list);
    if (copy == NULL) {
        errbuf_printf(err, errlen, "out of memory");
        return ACS_ENOMEM;
    }
    int rc = 0;
    char *save = NULL;
    for (char *p = strtok_r(copy, ":,", &save); p != NULL && rc == 0;
         p = strtok_r(NULL, ":,", &save))
        rc = load_key(p, err, errlen);
    free(copy);
    return rc;
}

const fwimage_keyring_t *fwupdate_keys(void)
{
    return &g.ring;
}

void fwupdate_free(void)
{
    g.ring.nkeys = 0;
}

void fwupdate_shutdown(void)
{
    if (g.tick_on) {
        uv_timer_stop(&g.tick);
        if (!uv_is_closing((uv_handle_t *)&g.tick))
            uv_close((uv_handle_t *)&g.tick, NULL);
        g.tick_on = 0;
    }
}

/* --- start and live state ------------------------------------------------------------------ */

const char *fwupdate_bus_user(const char *name)
{
    for (fwupdate_t *u = g.updates; u != NULL; u = u->next)
        if (!u->ending && strcmp(u->bus_name, name) == 0) /* an ending one freed its bus */
            return u->id;
    return NULL;
}

int fwupdate_progress(const char *id, fwupdate_progress_t *out)
{
    for (fwupdate_t *u = g.updates; u != NULL; u = u->next) {
        if (strcmp(u->id, id) != 0)
            continue;
        uv_mutex_lock(&u->mu);
        *out = u->prog;
        uv_mutex_unlock(&u->mu);
        return 0;
    }
    return ACS_ENOTFOUND;
}

int fwupdate_attach(const char *id, h2o_req_t *req)
{
    for (fwupdate_t *u = g.updates; u != NULL; u = u->next) {
        /* An ending update still takes streams: they get update_end once it is stored. */
        if (strcmp(u->id, id) != 0)
            continue;
        if (u->hub == NULL && sse_hub_new(g.srv->loop, &u->hub) != 0)
            return ACS_ENOMEM;
        sse_hub_attach(u->hub, req);
        publish_progress(u, 1);
        return 0;
    }
    return ACS_ENOTFOUND;
}

int fwupdate_running_ids(char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "{");
    for (fwupdate_t *u = g.updates; u != NULL && n < len; u = u->next)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", n > 1 ? "," : "", u->id);
    if (n < len)
        n += (size_t)snprintf(buf + n, len - n, "}");
    return n < len ? 0 : ACS_ENOMEM;
}

int fwupdate_start(const char *update_id, const char *device_id, const diag_settings_t *s, int unit,
                   int allow_downgrade, uint8_t *img, size_t len, char *err, size_t errlen)
{
    if (g.srv == NULL || g.srv->shutting_down) {
        errbuf_printf(err, errlen, "fieldd is shutting down");
        return ACS_ESHUTDOWN;
    }
    const char *name = s->tcp ? s->endpoints[0] : s->port;
    const char *user = diag_bus_user(s);
    if (user != NULL) {
        errbuf_printf(err, errlen,
                      "%s is in use by diagnostic session %s (one master per line: wait for it "
                      "to end, or stop it)",
                      name, user);
        return ACS_ECONFLICT;
    }
    if ((user = fwupdate_bus_user(name)) != NULL) {
        errbuf_printf(err, errlen,
                      "%s is in use by firmware update %s (one master per line: wait for it to "
                      "end)",
                      name, user);
        return ACS_ECONFLICT;
    }
    fwupdate_t *u = calloc(1, sizeof(*u));
    if (u == NULL || uv_mutex_init(&u->mu) != 0) {
        free(u);
        errbuf_printf(err, errlen, "out of memory starting the update");
        return ACS_ENOMEM;
    }
    snprintf(u->id, sizeof(u->id), "%s", update_id);
    snprintf(u->device_id, sizeof(u->device_id), "%s", device_id);
    snprintf(u->bus_name, sizeof(u->bus_name), "%s", name);
    snprintf(u->prog.step, sizeof(u->prog.step), "status");
    u->prog.total = (uint32_t)len;
    u->unit = unit;
    u->allow_downgrade = allow_downgrade;
    u->cfg.timeout_ms = s->timeout_ms;
    if (!s->tcp) {
        u->cfg.kind = TRANSPORT_RTU;
        u->cfg.device = s->port;
        u->cfg.baud = s->baud;
        u->cfg.parity = s->parity;
        u->cfg.data_bits = s->data_bits;
        u->cfg.stop_bits = s->stop_bits;
        u->cfg.turnaround_ms = s->turnaround_ms;
    } else {
        snprintf(u->host, sizeof(u->host), "%s", name);
        char *colon = strrchr(u->host, ':');
        if (colon == NULL) {
            errbuf_printf(err, errlen, "endpoint \"%s\" is not host:port", name);
            goto fail;
        }
        *colon = '\0';
        u->cfg.kind = TRANSPORT_TCP;
        u->cfg.host = u->host;
        u->cfg.port = atoi(colon + 1);
    }
    char berr[FWUPDATE_ERR_MAX];
    if (bus_new(g.srv->loop, &u->cfg, &u->bus, berr, sizeof(berr)) != 0) {
        errbuf_printf(err, errlen, "%s: %s", name, berr);
        goto fail;
    }
    /* bus_new's transport copied the strings of cfg. */
    u->img = img;
    u->len = len;
    char line[DIAG_NAME_MAX + 100];
    snprintf(line, sizeof(line), "unit %d on %s: update with an image of %zu bytes", unit, name,
             len);
    log_line(u, line);
    if (bus_submit(u->bus, work_flash, done_flash, u) != 0) {
        u->img = NULL;
        bus_free(u->bus);
        errbuf_printf(err, errlen, "out of memory queueing the update");
        goto fail;
    }
    u->next = g.updates;
    g.updates = u;
    g.srv->inflight++;
    log_info("firmware update %s of device %s started on %s unit %d", u->id, u->device_id, name,
             unit);
    return 0;
fail:
    uv_mutex_destroy(&u->mu);
    free(u->log);
    free(u);
    return ACS_EIO;
}
