/* SPDX-License-Identifier: MIT */
/*
 * diag.c - the diagnostic session engine of diag.h.
 *
 * Each bus of a session (the RTU port, or each Modbus TCP endpoint) gets a drivers/bus.h
 * worker. The loop thread chains one work item at a time on it: a unit's scan read, or a
 * unit's whole reading (identify, profile, event log, health rules). Chaining rather than
 * queueing everything at once costs one loop wake-up per unit and gives exact progress ("unit
 * 7 is being read now"), lets a stop request take effect between units, and keeps at most one
 * item per bus alive. Work items own their results until their done callback, which runs on
 * the loop thread (bus.h orders the two), turns them into JSON and events and frees them.
 *
 * Per bus:
 *
 *   state      work item         done: next state
 *   SCAN       scan one unit     next unit to scan; READ after the range; FAILED when the
 *                                port cannot be opened (no unit read on this bus)
 *   READ       read one unit     next found unit; DONE after the last (a watch, repeat_s:
 *                                the first again until its time is up); LOST after two units
 *                                in a row failed (the bus stopped answering; in a watch, a
 *                                whole pass of its units without an answer)
 *   SCAN/READ  (stop, shutdown)  LOST once the current item is done
 *   DONE/LOST/FAILED             bus_free; the session ends when every bus is here
 *
 * A bus waits (stays idle) while DIAG_MAX_WRITES unit statements are in flight, so a bus
 * faster than the database cannot pile up queries; each landed write kicks the idle buses.
 *
 *   transition                           function
 *   start a bus, first item               diag_start -> bus_next
 *   run an item (worker thread)           work_scan, work_read, work_action
 *   result on the loop                    done_scan, done_read -> bus_next
 *   store a unit (one statement)          store_unit -> on_unit_stored -> session_kick
 *   end the session (one statement)       session_maybe_end -> on_end_stored -> session_free
 *
 * A heartbeat timer marks this process's sessions alive in the database and ends running
 * sessions whose process stopped marking them (acs_diag_reap, 0008_diagnostics.sql).
 *
 * Frames are recorded by the transport's frame callback into the work item (worker thread),
 * numbered on the loop in completion order and written with the next unit's statement (or
 * the end statement), so a session makes about one round trip per unit.
 */
#include "diag.h"
#include "fwupdate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acs_error.h"
#include "bus.h"
#include "db.h"
#include "device.h"
#include "errbuf.h"
#include "log.h"
#include "server.h"
#include "sse.h"

#define DIAG_ERR_MAX      600
#define DIAG_FRAMES_FLUSH 4000  /* pending frames written on their own above this */
#define DIAG_LOST_AFTER   2     /* units in a row that fail before a bus is given up */
#define DIAG_MAX_WRITES   4     /* unit statements in flight before the buses wait */
#define DIAG_LOG_MAX      20000 /* events kept for streams that join late */

typedef struct diag_session diag_session_t;
typedef struct diag_bus diag_bus_t;

typedef enum { BUS_SCAN, BUS_READ, BUS_DONE, BUS_LOST, BUS_FAILED } bus_state_t;

struct diag_bus {
    diag_session_t *s;
    char name[DIAG_NAME_MAX]; /* the port, or "host:port" */
    char host[DIAG_NAME_MAX];
    transport_config_t cfg;
    bus_t *bus;
    bus_state_t state;
    int busy; /* a work item of the session is on the worker */
    int *scan;
    size_t nscan, scan_pos;
    int *found;
    size_t nfound, read_pos;
    device_reading_t *prev; /* a watch: each found unit's previous pass, for rate rules */
    int fails_in_row;
    size_t units_read, units_failed;
    char error[DIAG_ERR_MAX];
};

struct diag_session {
    char id[37];
    char job_id[37];
    diag_settings_t set;
    /* One hub per subscriber, so that each new stream first gets the events it missed. */
    sse_hub_t **hubs;
    size_t nhubs, cap_hubs;
    json_t *log; /* every event so far: [name, data text] */
    diag_bus_t *buses;
    size_t nbuses;
    json_t *frames; /* numbered frames not yet written */
    int next_seq;
    unsigned writes;
    int starting; /* its buses are being set up or stopped: do not end it yet */
    int stopping;
    int ending;
    size_t units_read, units_failed;
    uint64_t repeat_until;     /* uv_now deadline of a watch (settings.repeat_s), 0 without */
    char reason[DIAG_ERR_MAX]; /* the first problem, for a partial session */
    diag_session_t *next;
};

/* A frame as recorded on the worker thread. */
typedef struct {
    double wall, elapsed_ms;
    uint8_t dir, status, exception;
    int unit;
    uint16_t len;
    uint8_t bytes[TRANSPORT_ADU_MAX];
} diag_frame_t;

typedef enum { WORK_SCAN, WORK_READ, WORK_ACTION } work_kind_t;

/* One item on a bus worker; see the ownership note at the top. */
typedef struct {
    work_kind_t kind;
    diag_bus_t *b; /* NULL for an action on a bus of its own */
    int unit;
    int rc;
    char err[DIAG_ERR_MAX];
    int tcp;
    int want_frames;
    diag_frame_t *frames;
    size_t nframes, cap;
    /* scan */
    int present;
    /* read */
    int events_max;
    device_ident_t id;
    int identified;
    int unknown_model; /* the unit answered but no profile matches its model */
    device_reading_t r;
    const device_reading_t *before; /* the unit's previous pass (a watch), or NULL */
    decode_event_t *ev;
    size_t nev;
    health_finding_t *f;
    size_t nf;
    /* action */
    const profile_t *profile;
    char action[64];
    bus_t *own_bus;
    diag_action_cb cb;
    void *cb_arg;
} diag_work_t;

static struct {
    server_t *srv;
    profile_set_t *profiles;
    diag_session_t *sessions;
    uv_timer_t heartbeat; /* marks this process's sessions alive, ends abandoned ones */
    int heartbeat_on;
    int heartbeat_busy;
    uint64_t heartbeat_ms;
} g;

static void bus_next(diag_bus_t *b);
static void session_maybe_end(diag_session_t *s);
static void session_kick(diag_session_t *s);

static void note_reason(diag_session_t *s, const char *text)
{
    if (s->reason[0] == '\0')
        errbuf_printf(s->reason, sizeof(s->reason), "%s", text);
}

/* --- worker side -------------------------------------------------------------------------- */

static void on_frame(const transport_frame_t *f, void *arg)
{
    diag_work_t *w = arg;
    if (!w->want_frames)
        return;
    if (w->nframes == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        diag_frame_t *p = realloc(w->frames, cap * sizeof(*p));
        if (p == NULL)
            return; /* the frame is lost, the reading is not */
        w->frames = p;
        w->cap = cap;
    }
    diag_frame_t *d = &w->frames[w->nframes++];
    d->wall = f->wall;
    d->elapsed_ms = f->elapsed_ms;
    d->dir = (uint8_t)f->dir;
    d->status = (uint8_t)f->status;
    d->exception = f->exception;
    d->unit = f->unit;
    d->len = (uint16_t)(f->len > TRANSPORT_ADU_MAX ? TRANSPORT_ADU_MAX : f->len);
    memcpy(d->bytes, f->bytes, d->len);
}

static int work_scan(transport_t *t, void *arg)
{
    diag_work_t *w = arg;
    device_scan_result_t res;
    size_t found = 0;
    transport_set_frame_cb(t, on_frame, w);
    w->rc = transport_open(t, w->err, sizeof(w->err));
    if (w->rc == 0)
        w->rc = device_scan(t, w->unit, w->unit, NULL, NULL, &res, &found, w->err, sizeof(w->err));
    if (w->rc == 0)
        w->present = res.present;
    transport_set_frame_cb(t, NULL, NULL);
    return w->rc;
}

/* The health rules on a reading; with the unit's previous pass (a watch), the rate and
 * counter-decrease rules too, which device_findings cannot apply to a single reading. */
static int unit_findings(diag_work_t *w)
{
    const device_reading_t *r = &w->r, *b = w->before;
    if (b == NULL || b->profile != r->profile || b->values == NULL)
        return device_findings(r, w->ev, w->nev, &w->f, &w->nf);
    size_t cap = health_max_findings(r->profile);
    w->f = calloc(cap ? cap : 1, sizeof(*w->f));
    if (w->f == NULL)
        return ACS_ENOMEM;
    health_snapshot_t now = {.values = r->values, .nvalues = r->nvalues, .at = r->at};
    health_snapshot_t then = {.values = b->values, .nvalues = b->nvalues, .at = b->at};
    int rc = health_evaluate(r->profile, &now, &then, w->f, cap, &w->nf);
    if (rc == 0 && w->nev > 0)
        rc = health_check_events(r->profile, w->ev, w->nev, w->f, cap, &w->nf);
    return rc;
}

/* One attempt at a unit: identify, read the profile, the event log, the health rules. */
static int read_unit(transport_t *t, diag_work_t *w)
{
    w->rc = transport_open(t, w->err, sizeof(w->err));
    if (w->rc == 0) {
        w->rc = device_identify(t, g.profiles, w->unit, &w->id, w->err, sizeof(w->err));
        if (w->rc == ACS_ENOTFOUND)
            w->unknown_model = 1;
    }
    if (w->rc != 0)
        return w->rc;
    w->identified = 1;
    w->rc = device_read(t, w->id.profile, w->unit, &w->r, w->err, sizeof(w->err));
    if (w->rc != 0)
        return w->rc;
    if (w->events_max > 0) {
        w->rc = device_read_events(t, w->id.profile, w->unit, (size_t)w->events_max, &w->ev,
                                   &w->nev, w->err, sizeof(w->err));
        if (w->rc == ACS_ENOTFOUND) /* a model without an event log */
            w->rc = 0;
        if (w->rc != 0)
            return w->rc;
    }
    w->rc = unit_findings(w);
    if (w->rc != 0)
        errbuf_printf(w->err, sizeof(w->err), "unit %d: cannot evaluate the health rules", w->unit);
    return w->rc;
}

/* A unit that answered and then missed one reply (noise on the line, a busy controller) is
 * read once more from the start before it counts as failed; the frames of both attempts are
 * kept, so the missed reply stays visible. */
static int work_read(transport_t *t, void *arg)
{
    diag_work_t *w = arg;
    transport_set_frame_cb(t, on_frame, w);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (read_unit(t, w) != ACS_ETIMEDOUT || !w->identified)
            break;
        device_reading_free(&w->r);
        memset(&w->r, 0, sizeof(w->r));
        free(w->ev);
        w->ev = NULL;
        w->nev = 0;
        w->identified = 0;
    }
    transport_set_frame_cb(t, NULL, NULL);
    return w->rc;
}

static int work_action(transport_t *t, void *arg)
{
    diag_work_t *w = arg;
    transport_set_frame_cb(t, NULL, NULL);
    w->rc = transport_open(t, w->err, sizeof(w->err));
    if (w->rc == 0)
        w->rc = device_action(t, w->profile, w->unit, w->action, 1, w->err, sizeof(w->err));
    return w->rc;
}

static void work_free(diag_work_t *w)
{
    if (w == NULL)
        return;
    free(w->frames);
    free(w->ev);
    free(w->f);
    device_reading_free(&w->r);
    free(w);
}

/* --- loop side: JSON and events ----------------------------------------------------------- */

static const char *frame_status(uint8_t st)
{
    switch ((transport_frame_status_t)st) {
    case TRANSPORT_FRAME_OK:
        return "ok";
    case TRANSPORT_FRAME_TIMEOUT:
        return "timeout";
    case TRANSPORT_FRAME_CRC_ERROR:
        return "crc_error";
    case TRANSPORT_FRAME_EXCEPTION:
        return "exception";
    default:
        return "unexpected";
    }
}

static const char *table_name(int fc)
{
    switch (fc) {
    case 1:
        return "coils";
    case 2:
        return "discrete inputs";
    case 3:
        return "holding registers";
    default:
        return "input registers";
    }
}

/* A line a person reads beside the hex: what the frame asked or answered. */
static void frame_decode(const diag_frame_t *f, int tcp, char *buf, size_t len)
{
    size_t off = tcp ? 7 : 1;
    size_t tail = tcp ? 0 : 2;
    if (f->dir == TRANSPORT_RX && f->status == TRANSPORT_FRAME_TIMEOUT) {
        snprintf(buf, len, "no reply within %.0f ms", f->elapsed_ms);
        return;
    }
    if (f->len < off + tail + 1) {
        snprintf(buf, len, "%u bytes", (unsigned)f->len);
        return;
    }
    const uint8_t *p = f->bytes + off;
    size_t n = f->len - off - tail;
    int fc = p[0];
    unsigned a = n >= 3 ? (unsigned)(p[1] << 8 | p[2]) : 0;
    unsigned c = n >= 5 ? (unsigned)(p[3] << 8 | p[4]) : 0;
    if (f->dir == TRANSPORT_TX) {
        if (fc >= 1 && fc <= 4 && n >= 5)
            snprintf(buf, len, "FC%02d read %s %u..%u (%u)", fc, table_name(fc), a,
                     a + (c ? c - 1 : 0), c);
        else if (fc == 5 && n >= 5)
            snprintf(buf, len, "FC05 write coil %u = %s", a, c ? "ON" : "OFF");
        else if (fc == 6 && n >= 5)
            snprintf(buf, len, "FC06 write holding register %u = %u", a, c);
        else if ((fc == 15 || fc == 16) && n >= 5)
            snprintf(buf, len, "FC%02d write %s %u..%u (%u)", fc, fc == 15 ? "coils" : "registers",
                     a, a + (c ? c - 1 : 0), c);
        else if (fc == 43)
            snprintf(buf, len, "FC43/14 read device identification");
        else
            snprintf(buf, len, "FC%02d", fc);
        return;
    }
    if (f->status == TRANSPORT_FRAME_EXCEPTION) {
        snprintf(buf, len, "FC%02d exception %02u %s", fc & 0x7f, (unsigned)f->exception,
                 transport_exception_name(f->exception));
    } else if (f->status == TRANSPORT_FRAME_CRC_ERROR) {
        snprintf(buf, len, "bad CRC");
    } else if (f->status != TRANSPORT_FRAME_OK) {
        snprintf(buf, len, "%s reply (FC%02d)",
                 f->status == TRANSPORT_FRAME_WRONG_UNIT ? "wrong unit" : "malformed", fc);
    } else if ((fc == 3 || fc == 4) && n >= 2) {
        snprintf(buf, len, "FC%02d %u register%s", fc, (unsigned)p[1] / 2, p[1] == 2 ? "" : "s");
    } else if ((fc == 1 || fc == 2) && n >= 2) {
        snprintf(buf, len, "FC%02d %u byte%s of bits", fc, (unsigned)p[1], p[1] == 1 ? "" : "s");
    } else if (fc == 5 || fc == 6 || fc == 15 || fc == 16) {
        snprintf(buf, len, "FC%02d written", fc);
    } else if (fc == 43) {
        snprintf(buf, len, "FC43/14 device identification");
    } else {
        snprintf(buf, len, "FC%02d", fc);
    }
}

/* Number the work item's frames and add them to the session's pending frames. */
static void take_frames(diag_session_t *s, diag_work_t *w)
{
    if (!s->set.frames)
        return;
    char hex[TRANSPORT_ADU_MAX * 2 + 1];
    char note[160];
    for (size_t i = 0; i < w->nframes; i++) {
        const diag_frame_t *f = &w->frames[i];
        for (size_t k = 0; k < f->len; k++)
            snprintf(hex + 2 * k, 3, "%02x", f->bytes[k]);
        hex[2 * f->len] = '\0';
        frame_decode(f, w->tcp, note, sizeof(note));
        json_array_append_new(
            s->frames, json_pack("{s:i, s:f, s:s, s:i, s:s, s:s, s:s, s:f}", "seq", s->next_seq++,
                                 "at", f->wall, "direction", f->dir == TRANSPORT_TX ? "tx" : "rx",
                                 "unit_id", f->unit < 0 || f->unit > 255 ? 0 : f->unit, "hex", hex,
                                 "status", frame_status(f->status), "note", note, "elapsed_ms",
                                 f->elapsed_ms < 0 ? 0.0 : f->elapsed_ms));
    }
}

static void publish(diag_session_t *s, const char *name, json_t *data)
{
    if (data == NULL)
        return;
    json_object_set_new(data, "session_id", json_string(s->id));
    char *text = json_dumps(data, JSON_COMPACT);
    if (text != NULL) {
        for (size_t i = 0; i < s->nhubs; i++)
            sse_hub_publish(s->hubs[i], name, text);
        if (json_array_size(s->log) < DIAG_LOG_MAX)
            json_array_append_new(s->log, json_pack("[s,s]", name, text));
    }
    free(text);
    json_decref(data);
}

static const char *severity_name(profile_severity_t sev)
{
    return sev == PROFILE_SEV_CRITICAL  ? "critical"
           : sev == PROFILE_SEV_WARNING ? "warning"
                                        : "info";
}

/* A decoded value as a diag_reading: raw words, value_num (as text, so that 12.05 stays
 * 12.05), value_text, unit. */
static json_t *reading_json(const decode_value_t *v)
{
    json_t *raw = json_array();
    size_t words = v->reg->words >= 2 ? 2 : 1;
    for (size_t i = 0; i < words; i++)
        json_array_append_new(raw, json_integer(v->raw[i]));
    json_t *o = json_pack("{s:s, s:o, s:s}", "name", v->reg->name, "raw", raw, "unit",
                          v->unit != NULL ? v->unit : "");
    char num[64], text[DECODE_FORMAT_MAX];
    switch (v->kind) {
    case DECODE_STRING:
        json_object_set_new(o, "value_text", json_string(v->text));
        break;
    case DECODE_ENUM:
    case DECODE_BITS:
        snprintf(num, sizeof(num), "%lld", (long long)v->i);
        json_object_set_new(o, "value_num", json_string(num));
        decode_format(v, text, sizeof(text));
        json_object_set_new(o, "value_text", json_string(text));
        break;
    case DECODE_REAL:
        if (isfinite(v->real)) {
            snprintf(num, sizeof(num), "%.9g", v->real);
            json_object_set_new(o, "value_num", json_string(num));
        } else {
            json_object_set_new(o, "value_text", json_string(isnan(v->real) ? "NaN" : "Infinity"));
        }
        break;
    default:
        snprintf(num, sizeof(num), "%lld", (long long)v->i);
        json_object_set_new(o, "value_num", json_string(num));
        break;
    }
    return o;
}

static json_t *event_json(const decode_event_t *e)
{
    char desc[1024], val[DECODE_FORMAT_MAX];
    size_t n = (size_t)snprintf(desc, sizeof(desc), "%s",
                                e->event != NULL ? e->event->name : "unknown event");
    for (size_t i = 0; i < e->nfields && n < sizeof(desc); i++) {
        const char *name = e->fields[i].reg != NULL ? e->fields[i].reg->name : NULL;
        if (name == NULL || strcmp(name, "seq") == 0 || strcmp(name, "timestamp") == 0 ||
            strcmp(name, "code") == 0 || strcmp(name, "checksum") == 0)
            continue;
        decode_format(&e->fields[i], val, sizeof(val));
        n += (size_t)snprintf(desc + n, sizeof(desc) - n, " %s=%s", name, val);
    }
    if (e->status == DECODE_EVENT_CORRUPT && n < sizeof(desc))
        snprintf(desc + n, sizeof(desc) - n, " [corrupt: checksum %04x, computed %04x]",
                 e->checksum_read, e->checksum_computed);
    return json_pack("{s:I, s:I, s:i, s:s}", "seq", (json_int_t)e->seq, "logged_at",
                     (json_int_t)e->timestamp, "code", (int)e->code, "description", desc);
}

/* --- loop side: storing ------------------------------------------------------------------- */

/* A unit's statement, kept until it has landed: a write whose connection broke or that timed
 * out is sent again (acs_diag_store_unit is idempotent: readings and findings are keyed by
 * their reading time, event records by seq, frames by their number). */
typedef struct {
    diag_session_t *s;
    char bus[DIAG_NAME_MAX];
    int unit;
    char *text;
    int attempts;
    double last_wire; /* wall time of the unit's last frame, for the lag in diag_unit_stored */
} store_ctx_t;

#define DIAG_STORE_ATTEMPTS 15 /* each waits up to FIELDD_DB_WAIT_MS for a connection */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The failures after which the same statement may simply be sent again. */
static int retryable(int err)
{
    return err == ACS_EDBDOWN || err == ACS_ETIMEDOUT || err == ACS_EBUSY;
}

static int send_unit(store_ctx_t *c);

static void on_unit_stored(int err, PGresult *res, void *arg)
{
    store_ctx_t *c = arg;
    diag_session_t *s = c->s;
    if (retryable(err) && c->attempts < DIAG_STORE_ATTEMPTS && send_unit(c) == 0) {
        log_warn("diagnostic session %s: storing unit %d on %s again (%s)", s->id, c->unit, c->bus,
                 acs_strerror(err));
        return; /* still one write in flight */
    }
    s->writes--;
    if (err != 0) {
        char msg[DIAG_ERR_MAX];
        errbuf_printf(msg, sizeof(msg), "storing unit %d on %s failed: %s", c->unit, c->bus,
                      res != NULL ? PQresultErrorMessage(res) : acs_strerror(err));
        log_error("diagnostic session %s: %s", s->id, msg);
        note_reason(s, msg);
        s->units_failed++;
    } else if (PQntuples(res) == 1) {
        json_t *o = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        if (o != NULL) {
            json_object_set_new(o, "bus", json_string(c->bus));
            json_object_set_new(o, "unit_id", json_integer(c->unit));
            if (c->last_wire > 0)
                json_object_set_new(o, "lag_ms", json_real((wall_now() - c->last_wire) * 1000));
            publish(s, "diag_unit_stored", o);
        }
    }
    free(c->text);
    free(c);
    session_kick(s);
}

static void on_frames_stored(int err, PGresult *res, void *arg)
{
    diag_session_t *s = arg;
    s->writes--;
    if (err != 0) {
        log_error("diagnostic session %s: storing frames failed: %s", s->id,
                  res != NULL ? PQresultErrorMessage(res) : acs_strerror(err));
        char msg[DIAG_ERR_MAX];
        errbuf_printf(msg, sizeof(msg), "storing raw frames failed: %s",
                      res != NULL ? PQresultErrorMessage(res) : acs_strerror(err));
        note_reason(s, msg);
    }
    session_kick(s);
}

static int send_unit(store_ctx_t *c)
{
    const char *params[] = {c->s->id, c->text};
    c->attempts++;
    return db_query(g.srv->db, "SELECT acs_diag_store_unit($1::uuid, $2::jsonb)::text", 2, params,
                    on_unit_stored, c, NULL);
}

/* Write a unit (with the pending frames) in one statement. */
static void store_unit(diag_session_t *s, diag_bus_t *b, json_t *unit, double last_wire)
{
    int unit_id = (int)json_integer_value(json_object_get(unit, "unit_id"));
    json_object_set_new(unit, "frames", s->frames);
    s->frames = json_array();
    char *text = json_dumps(unit, JSON_COMPACT);
    json_decref(unit);
    store_ctx_t *c = calloc(1, sizeof(*c));
    if (text == NULL || c == NULL) {
        note_reason(s, "out of memory storing a unit");
        free(text);
        free(c);
        return;
    }
    c->s = s;
    snprintf(c->bus, sizeof(c->bus), "%s", b->name);
    c->unit = unit_id;
    c->text = text;
    c->last_wire = last_wire;
    s->writes++;
    if (send_unit(c) != 0) {
        s->writes--;
        note_reason(s, "the database queue refused a unit's results");
        free(c->text);
        free(c);
    }
}

static void flush_frames(diag_session_t *s)
{
    if (json_array_size(s->frames) < DIAG_FRAMES_FLUSH)
        return;
    char *text = json_dumps(s->frames, JSON_COMPACT);
    json_array_clear(s->frames);
    if (text == NULL)
        return;
    const char *params[] = {s->id, text};
    s->writes++;
    if (db_query(g.srv->db, "SELECT acs_diag_store_frames($1::uuid, $2::jsonb)", 2, params,
                 on_frames_stored, s, NULL) != 0)
        s->writes--;
    free(text);
}

/* --- loop side: the chain of work --------------------------------------------------------- */

static void bus_finish(diag_bus_t *b, bus_state_t st)
{
    b->state = st;
    bus_free(b->bus);
    b->bus = NULL;
}

static void done_scan(int status, void *arg)
{
    diag_work_t *w = arg;
    diag_bus_t *b = w->b;
    diag_session_t *s = b->s;
    b->busy = 0;
    take_frames(s, w);
    if (status == 0) {
        publish(s, "diag_scan",
                json_pack("{s:s, s:i, s:b}", "bus", b->name, "unit_id", w->unit, "present",
                          w->present));
        if (w->present)
            b->found[b->nfound++] = w->unit;
        b->scan_pos++;
    } else if (status == ACS_ECANCELED) {
        b->state = BUS_LOST; /* its bus was freed under it: nothing more to submit */
    } else {
        /* The link itself is unusable (the port cannot be opened). */
        snprintf(b->error, sizeof(b->error), "%s", w->err[0] ? w->err : acs_strerror(status));
        note_reason(s, b->error);
        bus_finish(b, BUS_FAILED);
    }
    work_free(w);
    flush_frames(s);
    bus_next(b);
}

/* How many units in a row must fail before the bus counts as lost. A watch keeps going
 * through one unit's bad moment (a reply lost on a long run): its bus is lost only after a
 * whole pass of its units without an answer. */
static int lost_after(const diag_bus_t *b)
{
    if (b->s->repeat_until != 0 && b->nfound > DIAG_LOST_AFTER)
        return (int)b->nfound;
    return DIAG_LOST_AFTER;
}

static void done_read(int status, void *arg)
{
    diag_work_t *w = arg;
    diag_bus_t *b = w->b;
    diag_session_t *s = b->s;
    b->busy = 0;
    b->read_pos++;
    take_frames(s, w);
    if (status == ACS_ECANCELED) {
        b->state = BUS_LOST; /* its bus was freed under it: nothing more to submit */
        work_free(w);
        bus_next(b);
        return;
    }
    json_t *unit = json_pack("{s:s, s:i}", "bus", b->name, "unit_id", w->unit);
    if (w->identified) {
        const profile_t *p = w->id.profile;
        json_object_set_new(unit, "kind", json_string(p->kind));
        json_object_set_new(unit, "vendor", json_string(w->id.vendor));
        json_object_set_new(unit, "model", json_string(p->model));
        json_object_set_new(unit, "serial", json_string(w->id.serial));
        json_object_set_new(unit, "firmware_version", json_string(w->id.revision));
        publish(s, "diag_unit_found",
                json_pack("{s:s, s:i, s:s, s:s, s:s}", "bus", b->name, "unit_id", w->unit, "model",
                          p->model, "serial", w->id.serial, "firmware_version", w->id.revision));
    } else if (w->id.model_code != 0) {
        char model[32];
        snprintf(model, sizeof(model), "model code %u", (unsigned)w->id.model_code);
        json_object_set_new(unit, "model", json_string(model));
    }
    if (w->r.nvalues > 0)
        json_object_set_new(unit, "read_at", json_real(w->r.at));
    json_t *readings = json_array();
    for (size_t i = 0; i < w->r.nvalues; i++)
        json_array_append_new(readings, reading_json(&w->r.values[i]));
    json_object_set_new(unit, "readings", readings);
    json_t *findings = json_array();
    for (size_t i = 0; i < w->nf; i++) {
        const health_finding_t *f = &w->f[i];
        json_t *data = json_pack("{s:s}", "title", f->title != NULL ? f->title : "");
        if (f->reg != NULL)
            json_object_set_new(data, "register", json_string(f->reg->name));
        if (isfinite(f->value))
            json_object_set_new(data, "value", json_real(f->value));
        json_array_append_new(findings,
                              json_pack("{s:s, s:s, s:s, s:s, s:o}", "code", f->code, "severity",
                                        severity_name(f->severity), "message", f->message, "advice",
                                        f->advice != NULL ? f->advice : "", "data", data));
        publish(s, "diag_finding",
                json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "bus", b->name, "unit_id", w->unit,
                          "code", f->code, "severity", severity_name(f->severity), "message",
                          f->message, "advice", f->advice != NULL ? f->advice : ""));
    }
    json_object_set_new(unit, "findings", findings);
    json_t *events = json_array();
    for (size_t i = 0; i < w->nev; i++)
        if (w->ev[i].status != DECODE_EVENT_EMPTY)
            json_array_append_new(events, event_json(&w->ev[i]));
    json_object_set_new(unit, "events", events);
    if (status != 0) {
        const char *why = w->err[0] ? w->err : acs_strerror(status);
        json_object_set_new(unit, "error", json_string(why));
        b->units_failed++;
        s->units_failed++;
        if (!w->unknown_model) { /* an unknown model is not the bus's fault */
            if (++b->fails_in_row >= lost_after(b)) {
                errbuf_printf(b->error, sizeof(b->error),
                              "the bus %s stopped answering: %s (%zu of %zu units read)", b->name,
                              why, b->units_read, b->nfound);
            }
            note_reason(s, why);
        }
    } else {
        b->fails_in_row = 0;
        b->units_read++;
        s->units_read++;
    }
    size_t nvalues = w->r.nvalues;
    if (status == 0 && s->repeat_until != 0 && b->prev != NULL) {
        /* the watch's next pass of this unit compares with this one */
        size_t idx = b->read_pos - 1;
        device_reading_free(&b->prev[idx]);
        b->prev[idx] = w->r;
        memset(&w->r, 0, sizeof(w->r));
    }
    publish(s, "diag_unit_done",
            json_pack("{s:s, s:i, s:b, s:i, s:i, s:i, s:s?}", "bus", b->name, "unit_id", w->unit,
                      "ok", status == 0, "readings", (int)nvalues, "findings", (int)w->nf, "events",
                      (int)json_array_size(events), "error",
                      status != 0 ? (w->err[0] ? w->err : acs_strerror(status)) : NULL));
    double last_wire = w->nframes > 0 ? w->frames[w->nframes - 1].wall : 0;
    work_free(w);
    store_unit(s, b, unit, last_wire);
    if (b->fails_in_row >= lost_after(b)) {
        /* Replace the first unit's sentence: the bus as a whole is the story. */
        snprintf(s->reason, sizeof(s->reason), "%s", b->error);
        bus_finish(b, BUS_LOST);
    }
    bus_next(b);
}

static diag_work_t *work_new(diag_bus_t *b, work_kind_t kind, int unit)
{
    diag_work_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->kind = kind;
    w->b = b;
    w->unit = unit;
    w->tcp = b->cfg.kind == TRANSPORT_TCP;
    w->want_frames = b->s->set.frames;
    w->events_max = b->s->set.events;
    return w;
}

/* Submit the bus's next item, or finish the bus; then see whether the session ended. */
static void bus_next(diag_bus_t *b)
{
    diag_session_t *s = b->s;
    if (b->busy)
        return;
    if (b->state == BUS_SCAN && b->scan_pos >= b->nscan)
        b->state = BUS_READ;
    /* A watch reads the units found again until its time is up. */
    if (b->state == BUS_READ && b->read_pos >= b->nfound && b->nfound > 0 && !s->stopping &&
        s->repeat_until != 0 && uv_now(g.srv->loop) < s->repeat_until)
        b->read_pos = 0;
    if (s->stopping &&
        (b->state == BUS_SCAN || (b->state == BUS_READ && b->read_pos < b->nfound))) {
        bus_finish(b, BUS_LOST); /* work was left: the reason was set by the stop */
    }
    if (b->state == BUS_SCAN || (b->state == BUS_READ && b->read_pos < b->nfound)) {
        /* Back-pressure: a bus faster than the database waits for its writes to land (a
         * watch on TCP can read a unit in a few milliseconds). on_unit_stored kicks it. */
        if (s->writes >= DIAG_MAX_WRITES)
            return;
        int reading = b->state == BUS_READ;
        int unit = reading ? b->found[b->read_pos] : b->scan[b->scan_pos];
        diag_work_t *w = work_new(b, reading ? WORK_READ : WORK_SCAN, unit);
        if (w != NULL && reading && b->prev != NULL && b->prev[b->read_pos].values != NULL)
            w->before = &b->prev[b->read_pos];
        if (w == NULL || bus_submit(b->bus, reading ? work_read : work_scan,
                                    reading ? done_read : done_scan, w) != 0) {
            work_free(w);
            note_reason(s, "out of memory queueing work on a bus");
            bus_finish(b, BUS_LOST);
        } else {
            b->busy = 1;
            if (reading)
                publish(s, "diag_unit_reading",
                        json_pack("{s:s, s:i}", "bus", b->name, "unit_id", unit));
            return;
        }
    }
    if (b->state == BUS_READ) {
        if (b->nfound == 0 && b->nscan > 0) {
            b->state = BUS_FAILED;
            errbuf_printf(b->error, sizeof(b->error),
                          "no unit answered on %s (units %d-%d tried; check wiring, termination, "
                          "baud and parity, and the unit ids)",
                          b->name, b->scan[0], b->scan[b->nscan - 1]);
            bus_free(b->bus);
            b->bus = NULL;
        } else {
            bus_finish(b, BUS_DONE);
        }
    }
    session_maybe_end(s);
}

/* --- session end -------------------------------------------------------------------------- */

static void session_free(diag_session_t *s)
{
    for (diag_session_t **pp = &g.sessions; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    for (size_t i = 0; i < s->nbuses; i++) {
        diag_bus_t *b = &s->buses[i];
        bus_free(b->bus);
        for (size_t k = 0; b->prev != NULL && k < b->nfound; k++)
            device_reading_free(&b->prev[k]);
        free(b->prev);
        free(b->scan);
        free(b->found);
    }
    free(s->buses);
    json_decref(s->frames);
    for (size_t i = 0; i < s->nhubs; i++)
        sse_hub_close(s->hubs[i]);
    free(s->hubs);
    json_decref(s->log);
    free(s);
}

typedef struct {
    diag_session_t *s;
    char status[16];
    char *frames;
    int attempts;
} end_ctx_t;

static int send_end(end_ctx_t *c);

static void on_end_stored(int err, PGresult *res, void *arg)
{
    end_ctx_t *c = arg;
    diag_session_t *s = c->s;
    /* acs_diag_end is idempotent (it ends only a running session; frames are keyed) */
    if (retryable(err) && c->attempts < DIAG_STORE_ATTEMPTS && send_end(c) == 0)
        return;
    free(c->frames);
    if (err != 0)
        log_error("diagnostic session %s: storing its end failed: %s", s->id,
                  res != NULL ? PQresultErrorMessage(res) : acs_strerror(err));
    json_t *end = json_pack("{s:s, s:s?, s:i, s:i}", "status", c->status, "reason",
                            s->reason[0] ? s->reason : NULL, "units_read", (int)s->units_read,
                            "units_failed", (int)s->units_failed);
    publish(s, "diag_end", end);
    log_info("diagnostic session %s ended %s: %zu units read, %zu failed%s%s", s->id, c->status,
             s->units_read, s->units_failed, s->reason[0] ? ": " : "", s->reason);
    free(c);
    session_free(s);
    server_request_done(g.srv);
}

static void session_maybe_end(diag_session_t *s)
{
    if (s->starting || s->ending || s->writes > 0)
        return;
    size_t failed_buses = 0;
    for (size_t i = 0; i < s->nbuses; i++) {
        bus_state_t st = s->buses[i].state;
        if (st == BUS_SCAN || st == BUS_READ)
            return;
        failed_buses += st == BUS_FAILED;
    }
    s->ending = 1;
    end_ctx_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        log_error("diagnostic session %s: out of memory ending it", s->id);
        session_free(s);
        server_request_done(g.srv);
        return;
    }
    c->s = s;
    const char *status;
    if (s->units_read == 0) {
        status = "failed";
        if (s->reason[0] == '\0') {
            for (size_t i = 0; i < s->nbuses && s->reason[0] == '\0'; i++)
                if (s->buses[i].error[0])
                    snprintf(s->reason, sizeof(s->reason), "%s", s->buses[i].error);
            if (s->reason[0] == '\0')
                snprintf(s->reason, sizeof(s->reason), "no unit could be read");
        }
    } else if (s->units_failed > 0 || failed_buses > 0 || s->reason[0] != '\0') {
        status = "partial";
        if (s->reason[0] == '\0')
            for (size_t i = 0; i < s->nbuses && s->reason[0] == '\0'; i++)
                if (s->buses[i].error[0])
                    snprintf(s->reason, sizeof(s->reason), "%s", s->buses[i].error);
        if (s->reason[0] == '\0')
            snprintf(s->reason, sizeof(s->reason), "%zu units could not be read", s->units_failed);
    } else {
        status = "complete";
    }
    snprintf(c->status, sizeof(c->status), "%s", status);
    c->frames = json_dumps(s->frames, JSON_COMPACT);
    if (send_end(c) != 0)
        on_end_stored(ACS_ENOMEM, NULL, c);
}

static int send_end(end_ctx_t *c)
{
    diag_session_t *s = c->s;
    const char *params[] = {s->id, c->status, strcmp(c->status, "complete") == 0 ? NULL : s->reason,
                            c->frames != NULL ? c->frames : "[]"};
    c->attempts++;
    return db_query(g.srv->db, "SELECT acs_diag_end($1::uuid, $2, $3, $4::jsonb)", 4, params,
                    on_end_stored, c, NULL);
}

/* --- public ------------------------------------------------------------------------------- */

/* --- heartbeat ---------------------------------------------------------------------------- */

static void on_heartbeat_done(int err, PGresult *res, void *arg)
{
    (void)arg;
    g.heartbeat_busy = 0;
    if (err != 0 && err != ACS_ECANCELED)
        log_warn("diagnostic sessions heartbeat failed: %s",
                 res != NULL ? PQresultErrorMessage(res) : acs_strerror(err));
    else if (err == 0 && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "0") != 0)
        log_warn("ended %s diagnostic session(s) whose fieldd process had stopped",
                 PQgetvalue(res, 0, 0));
}

/* Every heartbeat_ms: mark this process's sessions alive, and end the running sessions whose
 * process stopped marking them (acs_diag_reap) after four missed beats. */
static void on_heartbeat(uv_timer_t *t)
{
    (void)t;
    if (g.heartbeat_busy || g.srv->db == NULL)
        return;
    size_t n = 0;
    for (diag_session_t *s = g.sessions; s != NULL; s = s->next)
        n++;
    char *ids = malloc(n * 38 + 3);
    if (ids == NULL)
        return;
    size_t at = 0;
    ids[at++] = '{';
    for (diag_session_t *s = g.sessions; s != NULL; s = s->next) {
        memcpy(ids + at, s->id, 36);
        at += 36;
        if (s->next != NULL)
            ids[at++] = ',';
    }
    ids[at++] = '}';
    ids[at] = '\0';
    char stale[48];
    snprintf(stale, sizeof(stale), "%llu milliseconds",
             (unsigned long long)(g.heartbeat_ms * 4 < 2000 ? 2000 : g.heartbeat_ms * 4));
    const char *params[] = {ids, stale};
    g.heartbeat_busy = 1;
    if (db_query(g.srv->db,
                 "WITH hb AS (UPDATE diag_session SET heartbeat_at = now()"
                 "            WHERE id = ANY ($1::uuid[]) AND status = 'running')"
                 " SELECT acs_diag_reap($2::interval, $1::uuid[])",
                 2, params, on_heartbeat_done, NULL, NULL) != 0)
        g.heartbeat_busy = 0;
    free(ids);
}

int diag_init(server_t *srv, char *err, size_t errlen)
{
    g.srv = srv;
    if (!g.heartbeat_on) {
        const char *v = getenv("FIELDD_DIAG_HEARTBEAT_MS");
        char *end = NULL;
        unsigned long long ms = v != NULL && *v ? strtoull(v, &end, 10) : 15000;
        if (v != NULL && *v && (*end != '\0' || ms < 100 || ms > 3600000)) {
            log_warn("FIELDD_DIAG_HEARTBEAT_MS=\"%s\" is not a number of ms from 100 to 3600000; "
                     "using 15000",
                     v);
            ms = 15000;
        }
        g.heartbeat_ms = ms;
        uv_timer_init(srv->loop, &g.heartbeat);
        uv_timer_start(&g.heartbeat, on_heartbeat, 1000, ms);
        g.heartbeat_on = 1;
    }
    if (g.profiles != NULL)
        return 0;
    return profile_set_load_default(&g.profiles, err, errlen);
}

void diag_free(void)
{
    profile_set_free(g.profiles);
    g.profiles = NULL;
}

static int bus_setup(diag_bus_t *b, const diag_settings_t *set, const char *endpoint, char *err,
                     size_t errlen)
{
    memset(&b->cfg, 0, sizeof(b->cfg));
    b->cfg.timeout_ms = set->timeout_ms;
    if (!set->tcp) {
        snprintf(b->name, sizeof(b->name), "%s", set->port);
        b->cfg.kind = TRANSPORT_RTU;
        b->cfg.device = set->port;
        b->cfg.baud = set->baud;
        b->cfg.parity = set->parity;
        b->cfg.data_bits = set->data_bits;
        b->cfg.stop_bits = set->stop_bits;
        b->cfg.turnaround_ms = set->turnaround_ms;
    } else {
        snprintf(b->name, sizeof(b->name), "%s", endpoint);
        snprintf(b->host, sizeof(b->host), "%s", endpoint);
        char *colon = strrchr(b->host, ':');
        if (colon == NULL) {
            errbuf_printf(err, errlen, "endpoint \"%s\" is not host:port", endpoint);
            return ACS_EINVAL;
        }
        *colon = '\0';
        b->cfg.kind = TRANSPORT_TCP;
        b->cfg.host = b->host;
        b->cfg.port = atoi(colon + 1);
    }
    return bus_new(g.srv->loop, &b->cfg, &b->bus, err, errlen);
}

/* A running session with a live bus named `name`, or NULL. */
static diag_bus_t *find_live_bus(const char *name)
{
    for (diag_session_t *s = g.sessions; s != NULL; s = s->next)
        for (size_t i = 0; i < s->nbuses; i++)
            if (s->buses[i].bus != NULL && strcmp(s->buses[i].name, name) == 0)
                return &s->buses[i];
    return NULL;
}

const char *diag_bus_user(const diag_settings_t *set)
{
    diag_bus_t *b = NULL;
    if (!set->tcp)
        b = find_live_bus(set->port);
    for (size_t i = 0; set->tcp && i < set->nendpoints && b == NULL; i++)
        b = find_live_bus(set->endpoints[i]);
    return b != NULL ? b->s->id : NULL;
}

int diag_start(const char *session_id, const char *job_id, const diag_settings_t *set, char *err,
               size_t errlen)
{
    if (g.profiles == NULL) {
        errbuf_printf(err, errlen,
                      "the device profiles could not be loaded at start-up (see "
                      "fieldd's log; set ACS_PROFILES to the profile folder)");
        return ACS_EBUSY;
    }
    if (g.srv->shutting_down) {
        errbuf_printf(err, errlen, "fieldd is shutting down");
        return ACS_ESHUTDOWN;
    }
    const char *user = diag_bus_user(set);
    if (user != NULL) {
        errbuf_printf(err, errlen,
                      "%s is in use by diagnostic session %s (one master per line: wait for it "
                      "to end)",
                      set->tcp ? "an endpoint of the session" : set->port, user);
        return ACS_ECONFLICT;
    }
    const char *upd = NULL;
    if (set->tcp) {
        for (size_t i = 0; i < set->nendpoints && upd == NULL; i++)
            upd = fwupdate_bus_user(set->endpoints[i]);
    } else {
        upd = fwupdate_bus_user(set->port);
    }
    if (upd != NULL) {
        errbuf_printf(err, errlen,
                      "%s is in use by firmware update %s (one master per line: wait for it to "
                      "end, GET /api/v1/firmware/updates/%s)",
                      set->tcp ? "an endpoint of the session" : set->port, upd, upd);
        return ACS_ECONFLICT;
    }
    diag_session_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto nomem;
    snprintf(s->id, sizeof(s->id), "%s", session_id);
    snprintf(s->job_id, sizeof(s->job_id), "%s", job_id != NULL ? job_id : "");
    s->set = *set;
    if (set->repeat_s > 0)
        s->repeat_until = uv_now(g.srv->loop) + (uint64_t)set->repeat_s * 1000;
    s->frames = json_array();
    s->log = json_array();
    s->nbuses = set->tcp ? set->nendpoints : 1;
    s->buses = calloc(s->nbuses, sizeof(*s->buses));
    if (s->frames == NULL || s->log == NULL || s->buses == NULL)
        goto nomem_s;
    for (size_t i = 0; i < s->nbuses; i++) {
        diag_bus_t *b = &s->buses[i];
        b->s = s;
        size_t n = set->nunits > 0 ? set->nunits : (size_t)(set->unit_to - set->unit_from + 1);
        b->found = calloc(n, sizeof(int));
        if (b->found == NULL)
            goto nomem_s;
        if (set->repeat_s > 0 && (b->prev = calloc(n, sizeof(*b->prev))) == NULL)
            goto nomem_s;
        if (set->nunits > 0) {
            memcpy(b->found, set->units, n * sizeof(int));
            b->nfound = n;
            b->state = BUS_READ;
        } else {
            b->scan = calloc(n, sizeof(int));
            if (b->scan == NULL)
                goto nomem_s;
            for (size_t k = 0; k < n; k++)
                b->scan[k] = set->unit_from + (int)k;
            b->nscan = n;
            b->state = BUS_SCAN;
        }
        char berr[DIAG_ERR_MAX];
        if (bus_setup(b, set, set->tcp ? set->endpoints[i] : NULL, berr, sizeof(berr)) != 0) {
            /* A bus that cannot start fails alone, with its sentence. */
            errbuf_printf(b->error, sizeof(b->error), "%s: %s", b->name, berr);
            note_reason(s, b->error);
            b->state = BUS_FAILED;
        }
    }
    s->next = g.sessions;
    g.sessions = s;
    g.srv->inflight++;
    json_t *names = json_array();
    for (size_t i = 0; i < s->nbuses; i++)
        json_array_append_new(names, json_string(s->buses[i].name));
    publish(s, "diag_started",
            json_pack("{s:s, s:o}", "transport", set->tcp ? "tcp" : "rtu", "buses", names));
    log_info("diagnostic session %s of job %s started on %zu bus(es)", s->id,
             s->job_id[0] ? s->job_id : "(none)", s->nbuses);
    s->starting = 1;
    for (size_t i = 0; i < s->nbuses; i++)
        bus_next(&s->buses[i]);
    s->starting = 0;
    session_maybe_end(s);
    return 0;
nomem_s:
    if (s->buses != NULL) {
        for (size_t i = 0; i < s->nbuses; i++) {
            bus_free(s->buses[i].bus);
            free(s->buses[i].prev);
            free(s->buses[i].scan);
            free(s->buses[i].found);
        }
    }
    free(s->buses);
    json_decref(s->frames);
    json_decref(s->log);
    free(s);
nomem:
    errbuf_printf(err, errlen, "out of memory starting the session");
    return ACS_ENOMEM;
}

int diag_attach(const char *session_id, h2o_req_t *req)
{
    for (diag_session_t *s = g.sessions; s != NULL; s = s->next) {
        /* While its end is being stored a session still takes streams: they get diag_end. */
        if (strcmp(s->id, session_id) != 0)
            continue;
        if (s->nhubs == s->cap_hubs) {
            size_t cap = s->cap_hubs ? 2 * s->cap_hubs : 4;
            sse_hub_t **p = realloc(s->hubs, cap * sizeof(*p));
            if (p == NULL)
                return ACS_ENOMEM;
            s->hubs = p;
            s->cap_hubs = cap;
        }
        sse_hub_t *hub;
        if (sse_hub_new(g.srv->loop, &hub) != 0)
            return ACS_ENOMEM;
        sse_hub_attach(hub, req);
        size_t i;
        const json_t *ev;
        json_array_foreach(s->log, i, ev)
        {
            sse_hub_publish(hub, json_string_value(json_array_get(ev, 0)),
                            json_string_value(json_array_get(ev, 1)));
        }
        s->hubs[s->nhubs++] = hub;
        return 0;
    }
    return ACS_ENOTFOUND;
}

/* Let every idle bus of s take its next step (after a stop, or when writes landed); the
 * session may end (and be freed) here. */
static void session_kick(diag_session_t *s)
{
    s->starting = 1; /* hold the end until every bus has been looked at */
    for (size_t i = 0; i < s->nbuses; i++)
        if (!s->buses[i].busy)
            bus_next(&s->buses[i]);
    s->starting = 0;
    session_maybe_end(s);
}

int diag_stop(const char *session_id, const char *why)
{
    for (diag_session_t *s = g.sessions; s != NULL; s = s->next) {
        if (strcmp(s->id, session_id) != 0 || s->ending)
            continue;
        snprintf(s->reason, sizeof(s->reason), "%s", why); /* the stop is the story now */
        s->stopping = 1;
        session_kick(s);
        return 0;
    }
    return ACS_ENOTFOUND;
}

void diag_shutdown(void)
{
    if (g.heartbeat_on) {
        uv_timer_stop(&g.heartbeat);
        if (!uv_is_closing((uv_handle_t *)&g.heartbeat))
            uv_close((uv_handle_t *)&g.heartbeat, NULL);
        g.heartbeat_on = 0;
    }
    for (diag_session_t *s = g.sessions; s != NULL; s = s->next) {
        if (!s->ending)
            snprintf(s->reason, sizeof(s->reason), "fieldd was stopped while the session ran");
        s->stopping = 1;
    }
    /* Buses with no item on their worker stop now; the others after their current item. */
    for (diag_session_t *s = g.sessions, *next; s != NULL; s = next) {
        next = s->next;
        session_kick(s);
    }
}

/* --- actions ------------------------------------------------------------------------------ */

static void done_action(int status, void *arg)
{
    diag_work_t *w = arg;
    if (w->own_bus != NULL) {
        bus_free(w->own_bus);
        w->own_bus = NULL;
    }
    if (status != 0 && w->err[0] == '\0')
        snprintf(w->err, sizeof(w->err), "%s", acs_strerror(status));
    w->cb(status, status == 0 ? "" : w->err, w->cb_arg);
    work_free(w);
}

int diag_action(const char *session_id, const diag_settings_t *set, const char *bus, int unit,
                const char *model, const char *action, int has_reason, diag_action_cb cb, void *arg,
                char *err, size_t errlen)
{
    if (g.profiles == NULL) {
        errbuf_printf(err, errlen, "the device profiles could not be loaded at start-up");
        return ACS_EBUSY;
    }
    const profile_t *p = model != NULL ? profile_set_by_product_code(g.profiles, model) : NULL;
    if (p == NULL) {
        errbuf_printf(err, errlen, "unit %d on %s has no known model (%s): no actions", unit, bus,
                      model != NULL ? model : "not identified");
        return ACS_ENOTFOUND;
    }
    if (profile_action(p, action) == NULL) {
        char names[512] = "";
        size_t n = 0;
        for (size_t i = 0; i < p->nactions && n < sizeof(names); i++)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
                                  p->actions[i].name);
        errbuf_printf(err, errlen, "%s has no action \"%s\" (actions: %s)", p->model, action,
                      names);
        return ACS_ENOTFOUND;
    }
    const profile_action_t *pa = profile_action(p, action);
    if (pa->safety == PROFILE_SAFETY_DISRUPTIVE && !has_reason) {
        errbuf_printf(err, errlen,
                      "action %s of %s %s (%s): give a \"reason\" for it, which is recorded",
                      action, p->model, "changes how the unit controls access or interrupts it",
                      pa->title != NULL ? pa->title : action);
        return ACS_EINVAL;
    }
    diag_work_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        goto nomem;
    w->kind = WORK_ACTION;
    w->unit = unit;
    w->profile = p;
    w->cb = cb;
    w->cb_arg = arg;
    snprintf(w->action, sizeof(w->action), "%s", action);
    (void)session_id;
    diag_bus_t *live = find_live_bus(bus);
    bus_t *target = live != NULL ? live->bus : NULL;
    if (target == NULL) {
        diag_bus_t tmp;
        memset(&tmp, 0, sizeof(tmp));
        if (set->tcp) {
            int known = 0;
            for (size_t i = 0; i < set->nendpoints; i++)
                known |= strcmp(set->endpoints[i], bus) == 0;
            if (!known) {
                errbuf_printf(err, errlen, "bus %s is not one of the session's endpoints", bus);
                free(w);
                return ACS_ENOTFOUND;
            }
        } else if (strcmp(set->port, bus) != 0) {
            errbuf_printf(err, errlen, "bus %s is not the session's port %s", bus, set->port);
            free(w);
            return ACS_ENOTFOUND;
        }
        /* A firmware update holds the line: a second master would garble its transfer. */
        const char *upd = fwupdate_bus_user(bus);
        if (upd != NULL) {
            errbuf_printf(err, errlen,
                          "%s is in use by firmware update %s (one master per line: wait for it "
                          "to end)",
                          bus, upd);
            free(w);
            return ACS_ECONFLICT;
        }
        int rc = bus_setup(&tmp, set, bus, err, errlen);
        if (rc != 0) {
            free(w);
            return rc;
        }
        /* bus_setup's config points into tmp: the bus copied what it needs (transport_new
         * copies strings). */
        w->own_bus = tmp.bus;
        target = tmp.bus;
    }
    if (bus_submit(target, work_action, done_action, w) != 0) {
        bus_free(w->own_bus);
        free(w);
        goto nomem;
    }
    return 0;
nomem:
    errbuf_printf(err, errlen, "out of memory queueing the action");
    return ACS_ENOMEM;
}
