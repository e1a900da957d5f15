/* SPDX-License-Identifier: MIT */
/*
 * db.c - the asynchronous PostgreSQL connection pool of db.h.
 *
 * Each connection is a small state machine driven by uv_poll on the libpq socket:
 *
 *        +--------------------- backoff timer ----------------------+
 *        v                                                          |
 *   CONNECTING --PQconnectPoll OK--> IDLE --conn_send--> BUSY       |
 *        |                            ^                    |        |
 *        |                            +--conn_finish_query-+        |
 *        +--failed / timeout--+       |                    |        |
 *                             v       v                    v        |
 *                            DOWN <---------conn_broken-------------+
 *
 *   transition                       function
 *   DOWN -> CONNECTING               conn_connect (from the backoff timer)
 *   CONNECTING -> CONNECTING         conn_continue_connect (PQconnectPoll READING/WRITING)
 *   CONNECTING -> IDLE               conn_continue_connect (PGRES_POLLING_OK)
 *   IDLE -> BUSY                     conn_send (from pool_dispatch)
 *   BUSY -> IDLE                     conn_finish_query
 *   any -> DOWN                      conn_broken (socket error, server gone, timeout)
 *
 * libpq may change the socket during a connection attempt (it tries each address in turn), so
 * the uv_poll handle is re-created whenever PQsocket() differs from the fd it watches.
 *
 * No callback is ever called from inside db_query(): a query that cannot be sent goes back
 * to the head of the queue, and failures are reported from poll or timer callbacks only.
 */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

typedef enum { CONN_DOWN, CONN_CONNECTING, CONN_IDLE, CONN_BUSY } conn_state_t;

struct db_query {
    db_query_t *next;
    db_result_cb cb;
    void *arg;
    uint64_t enqueued_ms;
    int abandoned;
    int nparams;
    char *sql;
    char **params;
};

typedef struct {
    db_pool_t *pool;
    unsigned index;
    conn_state_t state;
    PGconn *pg;
    uv_poll_t *poll;
    int poll_fd;
    uv_timer_t timer; /* backoff, connect timeout or query timeout, by state */
    uint64_t backoff_ms;
    int was_up;
    int listener; /* the LISTEN connection: never given queries */
    db_query_t *query;
    PGresult *result;
} db_conn_t;

struct db_pool {
    uv_loop_t *loop;
    db_pool_config_t cfg;
    char *conninfo;
    char options[128];
    db_conn_t *conns;
    unsigned nconns; /* cfg.size, plus one when listening */
    db_query_t *head;
    db_query_t *tail;
    size_t queued;
    uv_timer_t wait_timer;
    int closing;
    unsigned open_handles;
    void (*on_closed)(void *arg);
    void *closed_arg;
    db_pool_stats_t stats;
};

static void conn_connect(db_conn_t *c);
static void conn_broken(db_conn_t *c, int err, const char *why);
static void pool_dispatch(db_pool_t *pool);
static void conn_flush(db_conn_t *c);

/* ---------------------------------------------------------------------------------------- */
/* Handle bookkeeping: the pool is freed when its last libuv handle has closed.             */

static void pool_handle_closed(uv_handle_t *h)
{
    db_pool_t *pool = h->data;
    if (h->type == UV_POLL) {
        pool = ((db_conn_t *)h->data)->pool;
        free(h);
    }
    if (--pool->open_handles == 0 && pool->closing) {
        void (*cb)(void *) = pool->on_closed;
        void *arg = pool->closed_arg;
        free(pool->conns);
        free(pool->conninfo);
        free(pool);
        if (cb != NULL)
            cb(arg);
    }
}

static void conn_poll_release(db_conn_t *c)
{
    if (c->poll == NULL)
        return;
    uv_poll_stop(c->poll);
    uv_close((uv_handle_t *)c->poll, pool_handle_closed);
    c->poll = NULL;
    c->poll_fd = -1;
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watch the connection's current socket for `events`. Return 0 or a negative code. */
static int conn_poll_update(db_conn_t *c, int events)
{
    int fd = PQsocket(c->pg);
    if (fd < 0)
        return ACS_EIO;
    if (c->poll != NULL && c->poll_fd != fd)
        conn_poll_release(c);
    if (c->poll == NULL) {
        uv_poll_t *p = malloc(sizeof(*p));
        if (p == NULL)
            return ACS_ENOMEM;
        if (uv_poll_init(c->pool->loop, p, fd) != 0) {
            free(p);
            return ACS_EIO;
        }
        p->data = c;
        c->pool->open_handles++;
        c->poll = p;
        c->poll_fd = fd;
    }
    return uv_poll_start(c->poll, events, on_poll) == 0 ? 0 : ACS_EIO;
}

/* ---------------------------------------------------------------------------------------- */
/* Queries.                                                                                 */

static void query_free(db_query_t *q)
{
    free(q);
}

static void query_deliver(db_pool_t *pool, db_query_t *q, int err, PGresult *res)
{
    if (err == 0)
        pool->stats.queries_ok++;
    else if (err == ACS_EDBQUERY)
        pool->stats.queries_failed++;
    else
        pool->stats.queries_unavailable++;
    if (!q->abandoned)
        q->cb(err, res, q->arg);
    query_free(q);
}

static db_query_t *queue_pop(db_pool_t *pool)
{
    db_query_t *q = pool->head;
    if (q != NULL) {
        pool->head = q->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        q->next = NULL;
        pool->queued--;
    }
    return q;
}

static void queue_push_front(db_pool_t *pool, db_query_t *q)
{
    q->next = pool->head;
    pool->head = q;
    if (pool->tail == NULL)
        pool->tail = q;
    pool->queued++;
}

/* Map a finished query's result to an ACS_E* code (see db_result_cb). */
static int classify_result(const PGconn *pg, const PGresult *res)
{
    if (res == NULL)
        return ACS_EDBDOWN;
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return 0;
    const char *state = db_sqlstate(res);
    if (PQstatus(pg) == CONNECTION_BAD || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0 || strncmp(state, "53", 2) == 0 || state[0] == '\0')
        return ACS_EDBDOWN;
    if (strcmp(state, "57014") == 0)
        return ACS_ETIMEDOUT;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return ACS_EBUSY;
    return ACS_EDBQUERY;
}

/* ---------------------------------------------------------------------------------------- */
/* Connection state machine.                                                                */

static void on_backoff(uv_timer_t *t)
{
    conn_connect(t->data);
}

static void on_connect_timeout(uv_timer_t *t)
{
    conn_broken(t->data, ACS_ETIMEDOUT, "connection attempt timed out");
}

static void on_query_timeout(uv_timer_t *t)
{
    conn_broken(t->data, ACS_ETIMEDOUT, "query timed out");
}

/* Close the connection, fail its query with err, and schedule a reconnect. */
static void conn_broken(db_conn_t *c, int err, const char *why)
{
    db_pool_t *pool = c->pool;
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", why != NULL ? why : "");
    /* libpq's messages span lines; a log record is one line. */
    for (char *p = msg; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    }
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == ' ')
        msg[--n] = '\0';

    if (pool->closing)
        ; /* closing on purpose: nothing to report */
    else if (c->was_up)
        log_warn("database connection %u lost: %s", c->index, msg);
    else if (c->backoff_ms <= BACKOFF_MIN_MS)
        log_warn("database connection %u failed: %s (retrying with backoff)", c->index, msg);
    c->was_up = 0;

    uv_timer_stop(&c->timer);
    conn_poll_release(c);
    if (c->pg != NULL) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    if (c->result != NULL) {
        PQclear(c->result);
        c->result = NULL;
    }
    db_query_t *q = c->query;
    c->query = NULL;
    if (c->listener && c->state == CONN_IDLE && !pool->closing && pool->cfg.on_listen_state != NULL)
        pool->cfg.on_listen_state(0, pool->cfg.listen_arg);
    c->state = CONN_DOWN;

    if (!pool->closing) {
        uint64_t delay = c->backoff_ms + (uint64_t)(rand() % (int)(c->backoff_ms / 2 + 1));
        c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
        pool->stats.reconnects++;
        uv_timer_start(&c->timer, on_backoff, delay, 0);
    }
    if (q != NULL)
        query_deliver(pool, q, pool->closing ? ACS_ECANCELED : err, NULL);
}

static void conn_connect(db_conn_t *c)
{
    db_pool_t *pool = c->pool;
    const char *keys[] = {
        "dbname",          "application_name",    "options",          "keepalives",
        "keepalives_idle", "keepalives_interval", "keepalives_count", NULL};
    const char *vals[] = {pool->conninfo, "fieldd", pool->options, "1", "10", "5", "3", NULL};

    c->pg = PQconnectStartParams(keys, vals, 1);
    if (c->pg == NULL) {
        conn_broken(c, ACS_ENOMEM, "out of memory starting a connection");
        return;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
        return;
    }
    c->state = CONN_CONNECTING;
    uv_timer_start(&c->timer, on_connect_timeout, pool->cfg.connect_timeout_ms, 0);
    /* As documented for PQconnectPoll: behave as if it had returned PGRES_POLLING_WRITING. */
    if (conn_poll_update(c, UV_WRITABLE) != 0)
        conn_broken(c, ACS_EIO, "cannot watch the connection's socket");
}

static void conn_continue_connect(db_conn_t *c)
{
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_READING:
        if (conn_poll_update(c, UV_READABLE) != 0)
            conn_broken(c, ACS_EIO, "cannot watch the connection's socket");
        return;
    case PGRES_POLLING_WRITING:
        if (conn_poll_update(c, UV_WRITABLE) != 0)
            conn_broken(c, ACS_EIO, "cannot watch the connection's socket");
        return;
    case PGRES_POLLING_OK:
        uv_timer_stop(&c->timer);
        if (PQsetnonblocking(c->pg, 1) != 0 || conn_poll_update(c, UV_READABLE) != 0) {
            conn_broken(c, ACS_EIO, "cannot make the connection non-blocking");
            return;
        }
        c->backoff_ms = BACKOFF_MIN_MS;
        c->was_up = 1;
        if (c->listener) {
            char sql[128];
            snprintf(sql, sizeof(sql), "LISTEN %s", c->pool->cfg.listen_channel);
            if (!PQsendQuery(c->pg, sql)) {
                conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
                return;
            }
            c->state = CONN_BUSY;
            uv_timer_start(&c->timer, on_query_timeout, c->pool->cfg.query_timeout_ms, 0);
            conn_flush(c);
            return;
        }
        c->state = CONN_IDLE;
        log_info("database connection %u up (server %d)", c->index, PQserverVersion(c->pg));
        pool_dispatch(c->pool);
        return;
    default:
        conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
        return;
    }
}

static void conn_flush(db_conn_t *c)
{
    int r = PQflush(c->pg);
    if (r < 0) {
        conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
        return;
    }
    if (conn_poll_update(c, r == 1 ? (UV_READABLE | UV_WRITABLE) : UV_READABLE) != 0)
        conn_broken(c, ACS_EIO, "cannot watch the connection's socket");
}

/* Send q on an idle connection. Return 0, or a negative code when nothing could be sent (the
 * connection is then DOWN and q untouched, for the caller to requeue). */
static int conn_send(db_conn_t *c, db_query_t *q)
{
    if (!PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, (const char *const *)q->params, NULL,
                           NULL, 0)) {
        conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
        return ACS_EDBDOWN;
    }
    c->state = CONN_BUSY;
    c->query = q;
    uv_timer_start(&c->timer, on_query_timeout, c->pool->cfg.query_timeout_ms, 0);
    conn_flush(c);
    return 0;
}

/* The LISTEN command of the listener connection has completed. */
static void listener_ready(db_conn_t *c)
{
    PGresult *res = c->result;
    c->result = NULL;
    uv_timer_stop(&c->timer);
    int ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
    char why[256];
    snprintf(why, sizeof(why), "LISTEN failed: %s", res ? PQresultErrorMessage(res) : "no result");
    PQclear(res);
    if (!ok) {
        conn_broken(c, ACS_EDBDOWN, why);
        return;
    }
    c->state = CONN_IDLE;
    if (c->pool->cfg.on_listen_state != NULL)
        c->pool->cfg.on_listen_state(1, c->pool->cfg.listen_arg);
}

static void conn_finish_query(db_conn_t *c)
{
    db_pool_t *pool = c->pool;
    db_query_t *q = c->query;
    PGresult *res = c->result;
    if (c->listener) {
        listener_ready(c);
        return;
    }
    c->query = NULL;
    c->result = NULL;
    uv_timer_stop(&c->timer);

    int err = classify_result(c->pg, res);
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
        if (err == 0 || err == ACS_EDBQUERY)
            err = ACS_EDBDOWN;
    } else {
        c->state = CONN_IDLE;
    }
    if (err != 0 && err != ACS_EDBQUERY && res != NULL) {
        PQclear(res);
        res = NULL;
    }
    query_deliver(pool, q, err, res);
    if (res != NULL)
        PQclear(res);
    pool_dispatch(pool);
}

static void conn_read(db_conn_t *c)
{
    if (!PQconsumeInput(c->pg)) {
        conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
        return;
    }
    if (c->state == CONN_IDLE) {
        /* Nothing was asked: a notice, a notification or the server closing the session. */
        PGnotify *n;
        while ((n = PQnotifies(c->pg)) != NULL) {
            if (c->listener && c->pool->cfg.on_notify != NULL)
                c->pool->cfg.on_notify(n->relname, n->extra, c->pool->cfg.listen_arg);
            PQfreemem(n);
        }
        if (PQstatus(c->pg) == CONNECTION_BAD)
            conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
        else if (!PQisBusy(c->pg)) {
            PGresult *stray = PQgetResult(c->pg);
            if (stray != NULL) {
                /* e.g. FATAL terminating connection due to administrator command */
                char why[256];
                snprintf(why, sizeof(why), "%s", PQresultErrorMessage(stray));
                PQclear(stray);
                conn_broken(c, ACS_EDBDOWN, why);
            }
        }
        return;
    }
    while (!PQisBusy(c->pg)) {
        PGresult *res = PQgetResult(c->pg);
        if (res == NULL) {
            conn_finish_query(c);
            return;
        }
        if (c->result == NULL) {
            c->result = res;
        } else if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
                   PQresultStatus(c->result) != PGRES_FATAL_ERROR) {
            PQclear(c->result);
            c->result = res;
        } else {
            PQclear(res);
        }
    }
    if (PQstatus(c->pg) == CONNECTION_BAD)
        conn_broken(c, ACS_EDBDOWN, PQerrorMessage(c->pg));
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    db_conn_t *c = h->data;
    if (status < 0) {
        conn_broken(c, ACS_EDBDOWN, uv_strerror(status));
        return;
    }
    switch (c->state) {
    case CONN_CONNECTING:
        conn_continue_connect(c);
        return;
    case CONN_BUSY:
        if (events & UV_WRITABLE) {
            conn_flush(c);
            if (c->state != CONN_BUSY)
                return;
        }
        if (events & UV_READABLE)
            conn_read(c);
        return;
    case CONN_IDLE:
        if (events & UV_READABLE)
            conn_read(c);
        return;
    case CONN_DOWN:
        return;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The wait queue.                                                                          */

static void on_wait_timer(uv_timer_t *t);

static void wait_timer_arm(db_pool_t *pool)
{
    if (pool->head == NULL || pool->closing) {
        uv_timer_stop(&pool->wait_timer);
        return;
    }
    uint64_t now = uv_now(pool->loop);
    uint64_t due = pool->head->enqueued_ms + pool->cfg.wait_ms;
    uv_timer_start(&pool->wait_timer, on_wait_timer, due > now ? due - now : 0, 0);
}

static void on_wait_timer(uv_timer_t *t)
{
    db_pool_t *pool = t->data;
    uint64_t now = uv_now(pool->loop);
    while (pool->head != NULL && pool->head->enqueued_ms + pool->cfg.wait_ms <= now) {
        db_query_t *q = queue_pop(pool);
        query_deliver(pool, q, ACS_EDBDOWN, NULL);
    }
    wait_timer_arm(pool);
}

static void pool_dispatch(db_pool_t *pool)
{
    while (pool->head != NULL && !pool->closing) {
        db_conn_t *idle = NULL;
        for (unsigned i = 0; i < pool->cfg.size; i++) {
            if (pool->conns[i].state == CONN_IDLE) {
                idle = &pool->conns[i];
                break;
            }
        }
        if (idle == NULL)
            break;
        db_query_t *q = queue_pop(pool);
        if (q->abandoned) {
            query_free(q);
            continue;
        }
        if (conn_send(idle, q) != 0)
            queue_push_front(pool, q);
    }
    wait_timer_arm(pool);
}

/* ---------------------------------------------------------------------------------------- */
/* Public functions.                                                                        */

int db_pool_new(uv_loop_t *loop, const db_pool_config_t *cfg, db_pool_t **out)
{
    *out = NULL;
    if (cfg->size == 0 || cfg->size > 64)
        return ACS_EINVAL;
    db_pool_t *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return ACS_ENOMEM;
    pool->loop = loop;
    pool->cfg = *cfg;
    if (pool->cfg.connect_timeout_ms == 0)
        pool->cfg.connect_timeout_ms = 5000;
    if (pool->cfg.query_timeout_ms == 0)
        pool->cfg.query_timeout_ms = 15000;
    pool->conninfo = strdup(cfg->conninfo != NULL ? cfg->conninfo : "");
    pool->nconns = cfg->size + (cfg->listen_channel != NULL ? 1 : 0);
    pool->conns = calloc(pool->nconns, sizeof(*pool->conns));
    if (pool->conninfo == NULL || pool->conns == NULL)
        goto fail;
    /* The server gives up on a statement a little before we give up on the connection. */
    uint64_t stmt_ms = pool->cfg.query_timeout_ms > 1000 ? pool->cfg.query_timeout_ms - 500
                                                         : pool->cfg.query_timeout_ms;
    snprintf(pool->options, sizeof(pool->options), "-c TimeZone=UTC -c statement_timeout=%llu",
             (unsigned long long)stmt_ms);
    pool->cfg.conninfo = NULL;

    uv_timer_init(loop, &pool->wait_timer);
    pool->wait_timer.data = pool;
    pool->open_handles++;
    for (unsigned i = 0; i < pool->nconns; i++) {
        db_conn_t *c = &pool->conns[i];
        c->pool = pool;
        c->index = i;
        c->listener = i == cfg->size;
        c->poll_fd = -1;
        c->backoff_ms = BACKOFF_MIN_MS;
        uv_timer_init(loop, &c->timer);
        c->timer.data = c;
        pool->open_handles++;
    }
    for (unsigned i = 0; i < pool->nconns; i++)
        conn_connect(&pool->conns[i]);
    *out = pool;
    return 0;

fail:
    free(pool->conns);
    free(pool->conninfo);
    free(pool);
    return ACS_ENOMEM;
}

static void timer_close_cb(uv_handle_t *h)
{
    db_conn_t *c = h->data;
    h->data = c->pool;
    pool_handle_closed(h);
}

void db_pool_close(db_pool_t *pool, void (*on_closed)(void *arg), void *arg)
{
    if (pool == NULL || pool->closing)
        return;
    pool->closing = 1;
    pool->on_closed = on_closed;
    pool->closed_arg = arg;
    db_query_t *q;
    while ((q = queue_pop(pool)) != NULL)
        query_deliver(pool, q, ACS_ECANCELED, NULL);
    for (unsigned i = 0; i < pool->nconns; i++) {
        db_conn_t *c = &pool->conns[i];
        conn_broken(c, ACS_ECANCELED, "closing");
        uv_close((uv_handle_t *)&c->timer, timer_close_cb);
    }
    uv_close((uv_handle_t *)&pool->wait_timer, pool_handle_closed);
}

int db_query(db_pool_t *pool, const char *sql, int nparams, const char *const *params,
             db_result_cb cb, void *arg, db_query_t **handle)
{
    if (handle != NULL)
        *handle = NULL;
    if (pool->closing)
        return ACS_ESHUTDOWN;
    if (nparams < 0 || nparams > 64 || sql == NULL || cb == NULL)
        return ACS_EINVAL;

    size_t sql_len = strlen(sql) + 1;
    size_t size = sizeof(db_query_t) + sizeof(char *) * (size_t)nparams + sql_len;
    size_t lens[64];
    for (int i = 0; i < nparams; i++) {
        lens[i] = params[i] != NULL ? strlen(params[i]) + 1 : 0;
        size += lens[i];
    }
    db_query_t *q = calloc(1, size);
    if (q == NULL)
        return ACS_ENOMEM;
    q->cb = cb;
    q->arg = arg;
    q->nparams = nparams;
    q->params = (char **)(q + 1);
    char *p = (char *)(q->params + nparams);
    q->sql = p;
    memcpy(p, sql, sql_len);
    p += sql_len;
    for (int i = 0; i < nparams; i++) {
        if (params[i] == NULL) {
            q->params[i] = NULL;
            continue;
        }
        memcpy(p, params[i], lens[i]);
        q->params[i] = p;
        p += lens[i];
    }
    q->enqueued_ms = uv_now(pool->loop);

    if (pool->tail != NULL)
        pool->tail->next = q;
    else
        pool->head = q;
    pool->tail = q;
    pool->queued++;
    if (handle != NULL)
        *handle = q;
    pool_dispatch(pool);
    return 0;
}

void db_query_abandon(db_query_t *q)
{
    if (q != NULL)
        q->abandoned = 1;
}

void db_pool_stats(const db_pool_t *pool, db_pool_stats_t *out)
{
    *out = pool->stats;
    out->size = pool->cfg.size;
    out->queued = pool->queued;
    out->idle = out->busy = out->connecting = out->down = 0;
    for (unsigned i = 0; i < pool->cfg.size; i++) {
        switch (pool->conns[i].state) {
        case CONN_IDLE:
            out->idle++;
            break;
        case CONN_BUSY:
            out->busy++;
            break;
        case CONN_CONNECTING:
            out->connecting++;
            break;
        case CONN_DOWN:
            out->down++;
            break;
        }
    }
}

int db_pool_is_up(const db_pool_t *pool)
{
    for (unsigned i = 0; i < pool->cfg.size; i++) {
        if (pool->conns[i].state == CONN_IDLE || pool->conns[i].state == CONN_BUSY)
            return 1;
    }
    return 0;
}

const char *db_sqlstate(const PGresult *res)
{
    const char *s = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s != NULL ? s : "";
}

const char *db_constraint(const PGresult *res)
{
    const char *s = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    return s != NULL ? s : "";
}
