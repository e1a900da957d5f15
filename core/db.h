/* SPDX-License-Identifier: MIT */
/*
 * db.h - a pool of asynchronous libpq connections driven by the libuv loop.
 *
 * Nothing here blocks the loop: connections are opened with PQconnectStartParams and
 * PQconnectPoll, queries are sent with PQsendQueryParams, and results are read with
 * PQconsumeInput / PQisBusy / PQgetResult as the socket becomes readable (uv_poll).
 *
 * Queries wait in a FIFO queue for a free connection. When PostgreSQL is unreachable the pool
 * keeps reconnecting with exponential backoff (100 ms doubling to 5 s, with jitter), and a
 * query that has waited `wait_ms` for a connection fails with ACS_EDBDOWN, so that callers
 * can answer 503 within a bounded time. A query that is in flight when its connection breaks
 * fails with ACS_EDBDOWN too: its outcome is unknown to the caller, which is why writers
 * supply their own ids and retry idempotently.
 */
#ifndef ACS_DB_H
#define ACS_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct db_pool db_pool_t;
typedef struct db_query db_query_t;

typedef struct {
    const char *conninfo;      /* libpq conninfo string or URI; NULL = libpq defaults */
    unsigned size;             /* connections, 1..64 */
    uint64_t wait_ms;          /* max wait for a connection before ACS_EDBDOWN */
    uint64_t query_timeout_ms; /* max time in flight before ACS_ETIMEDOUT (connection reset) */
    uint64_t connect_timeout_ms;
    /* Optional: a further connection that LISTENs on this channel (an SQL identifier chosen
     * by the program, never user text) and reports notifications through on_notify, and its
     * own state through on_listen_state. NULL for none. */
    const char *listen_channel;
    void (*on_notify)(const char *channel, const char *payload, void *arg);
    /* up = 1 once LISTEN is in effect (after every reconnection), 0 when the connection is
     * lost: notifications may have been missed in between. */
    void (*on_listen_state)(int up, void *arg);
    void *listen_arg;
} db_pool_config_t;

typedef struct {
    unsigned size;
    unsigned idle;
    unsigned busy;
    unsigned connecting;
    unsigned down;
    size_t queued;
    uint64_t queries_ok;
    uint64_t queries_failed;      /* refused by the server (SQL errors) */
    uint64_t queries_unavailable; /* no connection, connection lost, timed out */
    uint64_t reconnects;
} db_pool_stats_t;

/*
 * Result callback, run on the loop thread:
 *   err == 0            res is PGRES_TUPLES_OK or PGRES_COMMAND_OK;
 *   err == ACS_EDBQUERY res holds the server's error (read SQLSTATE, constraint, message);
 *   err == ACS_EDBDOWN  no connection within wait_ms, or the connection broke (res NULL);
 *   err == ACS_ETIMEDOUT the query took longer than query_timeout_ms (res NULL);
 *   err == ACS_EBUSY    serialization failure or deadlock: safe to retry (res NULL);
 *   err == ACS_ECANCELED the pool is closing (res NULL).
 * The pool owns res and clears it when the callback returns.
 */
typedef void (*db_result_cb)(int err, PGresult *res, void *arg);

/* Create a pool and start connecting. Return 0 and set *out, or a negative ACS_E* code with
 * *out = NULL. Connection failures are not errors here: the pool retries in the background. */
int db_pool_new(uv_loop_t *loop, const db_pool_config_t *cfg, db_pool_t **out);

/* Fail every waiting and in-flight query with ACS_ECANCELED, close the connections, and call
 * on_closed(arg) (from the loop) once every libuv handle of the pool is closed; the pool is
 * freed just before on_closed runs. NULL is a no-op. */
void db_pool_close(db_pool_t *pool, void (*on_closed)(void *arg), void *arg);

/*
 * Queue a query. params are NUL-terminated text values (NULL for SQL NULL), copied, so the
 * caller may free them on return. Return 0 and, if handle is not NULL, set *handle (valid
 * until the callback runs or db_query_abandon is called); or a negative code, in which case
 * cb is never called.
 */
int db_query(db_pool_t *pool, const char *sql, int nparams, const char *const *params,
             db_result_cb cb, void *arg, db_query_t **handle);

/* The caller no longer wants the result (the HTTP client went away): cb will not be called.
 * A query already sent still runs to completion on its connection. */
void db_query_abandon(db_query_t *q);

void db_pool_stats(const db_pool_t *pool, db_pool_stats_t *out);

/* 1 if at least one connection is established, else 0. */
int db_pool_is_up(const db_pool_t *pool);

/* Helpers for results: the SQLSTATE ("23505") and constraint name of an error result, or "". */
const char *db_sqlstate(const PGresult *res);
const char *db_constraint(const PGresult *res);

#endif
