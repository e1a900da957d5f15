/* SPDX-License-Identifier: MIT */
/*
 * sse.c - the Server-Sent Events hub of sse.h.
 *
 * Each stream is an h2o response that never sends its final part until the hub closes: h2o
 * calls proceed() when the bytes handed to h2o_send() have gone out, and only then may more be
 * sent, so each stream keeps two buffers: `out`, owned by h2o until proceed(), and `queue`,
 * where new events wait.
 *
 *   stream state   meaning                         next
 *   idle           nothing in flight               publish -> send -> writing
 *   writing        `out` handed to h2o             proceed -> send queue, or idle
 *   ending         the hub closes / slow reader    final part sent when not writing
 *   stopped        the client went away (stop())   nothing more is sent
 */
#include "sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "log.h"

#define SSE_MAX_QUEUE    (1024u * 1024u)
#define SSE_HEARTBEAT_MS 15000

typedef struct sse_stream {
    h2o_generator_t gen; /* first: h2o hands it back to proceed/stop */
    h2o_req_t *req;
    sse_hub_t *hub;
    struct sse_stream *prev;
    struct sse_stream *next;
    char *out;
    size_t out_len;
    char *queue;
    size_t queue_len;
    size_t queue_cap;
    int writing;
    int ending;
    int stopped;
    int finished;
} sse_stream_t;

struct sse_hub {
    uv_timer_t heartbeat;
    sse_stream_t *streams;
    size_t count;
    int closing;
    int timer_closed;
};

static void hub_maybe_free(sse_hub_t *hub)
{
    if (hub->closing && hub->count == 0 && hub->timer_closed)
        free(hub);
}

static void stream_finish(sse_stream_t *s)
{
    if (s->finished || s->stopped)
        return;
    s->finished = 1;
    h2o_send(s->req, NULL, 0, H2O_SEND_STATE_FINAL);
}

/* Hand the queue to h2o if nothing is in flight. */
static void stream_flush(sse_stream_t *s)
{
    if (s->writing || s->stopped || s->finished)
        return;
    if (s->queue_len == 0) {
        if (s->ending)
            stream_finish(s);
        return;
    }
    free(s->out);
    s->out = s->queue;
    s->out_len = s->queue_len;
    s->queue = NULL;
    s->queue_len = s->queue_cap = 0;
    s->writing = 1;
    h2o_iovec_t buf = h2o_iovec_init(s->out, s->out_len);
    h2o_send(s->req, &buf, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    sse_stream_t *s = (sse_stream_t *)gen;
    (void)req;
    s->writing = 0;
    stream_flush(s);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    sse_stream_t *s = (sse_stream_t *)gen;
    (void)req;
    s->stopped = 1;
}

static void stream_append(sse_stream_t *s, const char *text, size_t len)
{
    if (s->ending || s->stopped || s->finished)
        return;
    if (s->queue_len + len > SSE_MAX_QUEUE) {
        log_warn("event stream too slow (over %u bytes waiting): ending it", SSE_MAX_QUEUE);
        s->ending = 1;
        return;
    }
    if (s->queue_len + len > s->queue_cap) {
        size_t cap = s->queue_cap ? s->queue_cap * 2 : 1024;
        while (cap < s->queue_len + len)
            cap *= 2;
        char *p = realloc(s->queue, cap);
        if (p == NULL) {
            s->ending = 1;
            return;
        }
        s->queue = p;
        s->queue_cap = cap;
    }
    memcpy(s->queue + s->queue_len, text, len);
    s->queue_len += len;
}

/* The request's pool is being cleared: the stream is over. */
static void stream_dispose(void *p)
{
    sse_stream_t *s = p;
    sse_hub_t *hub = s->hub;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        hub->streams = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    hub->count--;
    free(s->out);
    free(s->queue);
    hub_maybe_free(hub);
}

static void on_heartbeat(uv_timer_t *t)
{
    sse_hub_t *hub = t->data;
    for (sse_stream_t *s = hub->streams; s != NULL; s = s->next) {
        stream_append(s, ": ping\n\n", 8);
        stream_flush(s);
    }
}

int sse_hub_new(uv_loop_t *loop, sse_hub_t **out)
{
    *out = NULL;
    sse_hub_t *hub = calloc(1, sizeof(*hub));
    if (hub == NULL)
        return ACS_ENOMEM;
    uv_timer_init(loop, &hub->heartbeat);
    hub->heartbeat.data = hub;
    uv_timer_start(&hub->heartbeat, on_heartbeat, SSE_HEARTBEAT_MS, SSE_HEARTBEAT_MS);
    *out = hub;
    return 0;
}

void sse_hub_attach(sse_hub_t *hub, h2o_req_t *req)
{
    sse_stream_t *s = h2o_mem_alloc_shared(&req->pool, sizeof(*s), stream_dispose);
    memset(s, 0, sizeof(*s));
    s->gen.proceed = on_proceed;
    s->gen.stop = on_stop;
    s->req = req;
    s->hub = hub;
    s->next = hub->streams;
    if (hub->streams != NULL)
        hub->streams->prev = s;
    hub->streams = s;
    hub->count++;

    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/event-stream"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_start_response(req, &s->gen);
    /* A first comment, so that the client sees the stream open at once. */
    static const char hello[] = ": acsfield live events\n\n";
    stream_append(s, hello, sizeof(hello) - 1);
    if (hub->closing)
        s->ending = 1;
    stream_flush(s);
}

void sse_hub_publish(sse_hub_t *hub, const char *name, const char *data)
{
    if (hub == NULL || hub->count == 0)
        return;
    size_t len = strlen(name) + strlen(data) + sizeof("event: \ndata: \n\n");
    char *msg = malloc(len);
    if (msg == NULL)
        return;
    int n = snprintf(msg, len, "event: %s\ndata: %s\n\n", name, data);
    if (n < 0 || (size_t)n >= len) {
        free(msg);
        return;
    }
    for (sse_stream_t *s = hub->streams; s != NULL; s = s->next) {
        stream_append(s, msg, (size_t)n);
        stream_flush(s);
    }
    free(msg);
}

static void on_timer_closed(uv_handle_t *h)
{
    sse_hub_t *hub = h->data;
    hub->timer_closed = 1;
    hub_maybe_free(hub);
}

void sse_hub_close(sse_hub_t *hub)
{
    if (hub == NULL || hub->closing)
        return;
    hub->closing = 1;
    uv_close((uv_handle_t *)&hub->heartbeat, on_timer_closed);
    /* stream_finish may end a request and so unlink its stream: walk a copy of the links. */
    sse_stream_t *s = hub->streams;
    while (s != NULL) {
        sse_stream_t *next = s->next;
        s->ending = 1;
        stream_flush(s);
        s = next;
    }
}

size_t sse_hub_clients(const sse_hub_t *hub)
{
    return hub != NULL ? hub->count : 0;
}
