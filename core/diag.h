/* SPDX-License-Identifier: MIT */
/*
 * diag.h - diagnostic sessions run by fieldd: discovery, identification, whole-profile reads,
 * event logs and health rules on the units of a bus, through drivers/ on worker threads (one
 * per RS-485 line, one per Modbus TCP endpoint; drivers/bus.h), with every result written to
 * PostgreSQL through the asynchronous pool (db.h) and live progress sent to the session's own
 * Server-Sent Events stream (sse.h). The loop thread never blocks: it only chains work items
 * and turns their results into SQL parameters and events.
 *
 * The settings (diag_settings_t) and their parser are pure and always built; the engine
 * (diag_init ... diag_action) exists only when fieldd is built with hardware support
 * (ACS_WITH_HARDWARE), since it links drivers/ and libmodbus.
 *
 * A session, per bus (diag.c has the full table):
 *
 *   [scan unit u] --next u--> ... --> [read unit f] --next f--> ... --> [bus done]
 *        |                                  |        (a watch: back to the first unit)
 *        +-- port cannot open --> [failed]  +-- two units in a row fail --> [bus lost]
 *
 * and once every bus is done and every write has landed: one statement ends it (complete,
 * partial or failed with a reason), fills a commissioning job's checklist, and the stream ends.
 */
#ifndef ACS_DIAG_H
#define ACS_DIAG_H

#include <h2o.h>
#include <jansson.h>
#include <stddef.h>

#define DIAG_MAX_ENDPOINTS 32
#define DIAG_MAX_UNITS     247
#define DIAG_NAME_MAX      256

typedef struct server server_t;

/* Transport settings of a session, as checked by diag_settings_parse. */
typedef struct {
    int tcp; /* 0: Modbus RTU on `port`; 1: Modbus TCP on `endpoints` */
    char port[DIAG_NAME_MAX];
    int baud;
    char parity; /* 'N', 'E', 'O' */
    int data_bits;
    int stop_bits;
    unsigned turnaround_ms;
    size_t nendpoints;
    char endpoints[DIAG_MAX_ENDPOINTS][DIAG_NAME_MAX]; /* "host:port" */
    int unit_from, unit_to;                            /* scan range, when nunits == 0 */
    int units[DIAG_MAX_UNITS]; /* explicit units: identified without a scan */
    size_t nunits;
    unsigned timeout_ms; /* 0: derived (RTU) / 1000 ms (TCP) */
    int events;          /* newest event-log records read per unit */
    int repeat_s;        /* watch: read the units found again and again for this long */
    int frames;          /* store raw frames */
} diag_settings_t;

/*
 * Check `settings` (a JSON object, may be NULL for {}) for `transport` ("rtu" or "tcp") and
 * fill *out with defaults applied. Returns 0 and, when normalized is not NULL, a new JSON
 * object of the settings as stored (caller decrefs); or ACS_EINVAL with the offending field
 * ("settings.baud") in field and a sentence in err.
 */
int diag_settings_parse(const char *transport, const json_t *settings, diag_settings_t *out,
                        json_t **normalized, char *field, size_t fieldlen, char *err,
                        size_t errlen);

/*
 * Load the device profiles (ACS_PROFILES or the built-in folder) and remember srv. Call once
 * at start-up, before the loop runs. Returns 0, or an ACS_E* code with a sentence (the
 * service then answers 503 to session starts).
 */
int diag_init(server_t *srv, char *err, size_t errlen);

/* Free what diag_init loaded. Call after the loop ended. */
void diag_free(void);

/*
 * Start the session whose diag_session row (status running) already exists. The session
 * counts as a request in flight (srv->inflight) until its end is stored, so a drain waits
 * for it. Returns 0, or ACS_ENOMEM / ACS_EBUSY (profiles not loaded) / ACS_ESHUTDOWN /
 * ACS_ECONFLICT (a bus is in use by another session, diag_bus_user) with a sentence; then
 * nothing was started and the caller ends the row itself.
 */
int diag_start(const char *session_id, const char *job_id, const diag_settings_t *s, char *err,
               size_t errlen);

/* The id of a session running in this process on one of the buses of s (the same RTU port or
 * TCP endpoint), or NULL: two masters on one RS-485 line garble each other's frames. */
const char *diag_bus_user(const diag_settings_t *s);

/* Reply to req with the live event stream of a running session. Returns 0, or ACS_ENOTFOUND
 * when the session is not running in this process (nothing was sent). */
int diag_attach(const char *session_id, h2o_req_t *req);

/* Stop one running session after its current Modbus transaction; it ends partial with `why`
 * as its reason (unless it already had one). Returns 0, or ACS_ENOTFOUND when it is not
 * running in this process. */
int diag_stop(const char *session_id, const char *why);

/* Stop every running session after its current Modbus transaction; each ends partial with
 * the reason "fieldd was stopped". */
void diag_shutdown(void);

/* Result of a device action: rc 0 or ACS_E*, err the driver's sentence ("" on success). */
typedef void (*diag_action_cb)(int rc, const char *err, void *arg);

/*
 * Run profile action `action` on unit `unit` (model `model`) of bus `bus` of a session: on
 * the bus of whichever running session uses that port or endpoint (queued behind its work),
 * else on a bus opened for it with the stored settings s. The action is sent confirmed: the caller
 * has checked the user's confirmation. A disruptive action (profile safety class: free passage,
 * lock, reboot) also needs a reason (has_reason), else ACS_EINVAL. cb runs later on the loop
 * thread, unless this returns an error (ACS_ENOTFOUND unknown model/action/bus, ACS_EINVAL,
 * ACS_ENOMEM, ACS_EBUSY) with a sentence.
 */
int diag_action(const char *session_id, const diag_settings_t *s, const char *bus, int unit,
                const char *model, const char *action, int has_reason, diag_action_cb cb, void *arg,
                char *err, size_t errlen);

#endif
