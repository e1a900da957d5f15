/* SPDX-License-Identifier: MIT */
/*
 * bus.c - the worker thread behind bus.h: a mutex-protected FIFO of requests, one pthread
 * that runs them one by one against the bus's transport, and a list of finished requests
 * handed to the loop thread by uv_async_send (which coalesces, so on_async drains the list).
 */
#include "bus.h"

#include "acs_error.h"
#include "errbuf.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct bus_req {
    struct bus_req *next;
    bus_work_fn work;
    bus_done_fn done;
    void *arg;
    int status;
    int sync; /* bus_run: the caller waits on b->cond for finished */
    int finished;
} bus_req_t;

struct bus {
    uv_loop_t *loop;
    uv_async_t async;
    transport_t *transport;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;              /* work queued, stop asked, or a sync request finished */
    bus_req_t *head, *tail;           /* waiting */
    bus_req_t *done_head, *done_tail; /* finished, for the loop */
    int stop;
};

static void push(bus_req_t **head, bus_req_t **tail, bus_req_t *r)
{
    r->next = NULL;
    if (*tail != NULL)
        (*tail)->next = r;
    else
        *head = r;
    *tail = r;
}

static void *worker_main(void *arg)
{
    bus_t *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (b->head == NULL && !b->stop)
            pthread_cond_wait(&b->cond, &b->mu);
        if (b->stop)
            break;
        bus_req_t *r = b->head;
        b->head = r->next;
        if (b->head == NULL)
            b->tail = NULL;
        pthread_mutex_unlock(&b->mu);
        int status = r->work(b->transport, r->arg);
        pthread_mutex_lock(&b->mu);
        r->status = status;
        if (r->sync) {
            r->finished = 1;
            pthread_cond_broadcast(&b->cond);
        } else {
            push(&b->done_head, &b->done_tail, r);
            uv_async_send(&b->async);
        }
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* Run the done callbacks of finished requests; on the loop thread. */
static void drain_done(bus_t *b)
{
    pthread_mutex_lock(&b->mu);
    bus_req_t *r = b->done_head;
    b->done_head = b->done_tail = NULL;
    pthread_mutex_unlock(&b->mu);
    while (r != NULL) {
        bus_req_t *next = r->next;
        if (r->done != NULL)
            r->done(r->status, r->arg);
        free(r);
        r = next;
    }
}

static void on_async(uv_async_t *h)
{
    drain_done(h->data);
}

static void destroy(bus_t *b)
{
    transport_free(b->transport);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static void on_close(uv_handle_t *h)
{
    destroy(h->data);
}

int bus_new(uv_loop_t *loop, const transport_config_t *cfg, bus_t **out, char *err, size_t errlen)
{
    bus_t *b = NULL;
    int rc = ACS_EINVAL, have_sync = 0, have_async = 0;
    if (out == NULL)
        goto fail;
    *out = NULL;
    rc = ACS_ENOMEM;
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        errbuf_printf(err, errlen, "bus: out of memory");
        goto fail;
    }
    b->loop = loop;
    if (cfg != NULL && (rc = transport_new(cfg, &b->transport, err, errlen)) != 0)
        goto fail;
    rc = ACS_EIO;
    if (pthread_mutex_init(&b->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&b->cond, NULL) != 0) {
        pthread_mutex_destroy(&b->mu);
        goto fail;
    }
    have_sync = 1;
    if (loop != NULL) {
        if (uv_async_init(loop, &b->async, on_async) != 0) {
            errbuf_printf(err, errlen, "bus: cannot create the loop wake-up handle");
            goto fail;
        }
        b->async.data = b;
        have_async = 1;
    }
    if (pthread_create(&b->thread, NULL, worker_main, b) != 0) {
        errbuf_printf(err, errlen, "bus: cannot start the worker thread");
        goto fail;
    }
    *out = b;
    return 0;
fail:
    if (b != NULL) {
        if (have_async) {
            /* The handle's memory is b: released by the close callback. */
            uv_close((uv_handle_t *)&b->async, on_close);
        } else if (have_sync) {
            destroy(b);
        } else {
            transport_free(b->transport);
            free(b);
        }
    }
    return rc;
}

static int enqueue(bus_t *b, bus_req_t *r)
{
    pthread_mutex_lock(&b->mu);
    int stopping = b->stop;
    if (!stopping) {
        push(&b->head, &b->tail, r);
        pthread_cond_broadcast(&b->cond);
    }
    pthread_mutex_unlock(&b->mu);
    return stopping ? ACS_ESHUTDOWN : 0;
}

int bus_submit(bus_t *b, bus_work_fn work, bus_done_fn done, void *arg)
{
    if (b == NULL || b->loop == NULL || work == NULL)
        return ACS_EINVAL;
    bus_req_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ACS_ENOMEM;
    r->work = work;
    r->done = done;
    r->arg = arg;
    int rc = enqueue(b, r);
    if (rc != 0)
        free(r);
    return rc;
}

int bus_run(bus_t *b, bus_work_fn work, void *arg)
{
    if (b == NULL || work == NULL)
        return ACS_EINVAL;
    bus_req_t r = {.work = work, .arg = arg, .sync = 1};
    int rc = enqueue(b, &r);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&b->mu);
    while (!r.finished)
        pthread_cond_wait(&b->cond, &b->mu);
    pthread_mutex_unlock(&b->mu);
    return r.status;
}

void bus_free(bus_t *b)
{
    if (b == NULL)
        return;
    pthread_mutex_lock(&b->mu);
    b->stop = 1;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    /* The worker is gone: what is still queued was never started. */
    bus_req_t *r = b->head;
    b->head = b->tail = NULL;
    pthread_mutex_lock(&b->mu);
    while (r != NULL) {
        bus_req_t *next = r->next;
        r->status = ACS_ECANCELED;
        if (r->sync) {
            /* A bus_run caller on another thread owns it: wake it. */
            r->finished = 1;
            pthread_cond_broadcast(&b->cond);
        } else {
            push(&b->done_head, &b->done_tail, r);
        }
        r = next;
    }
    pthread_mutex_unlock(&b->mu);
    transport_close(b->transport);
    if (b->loop != NULL) {
        drain_done(b);
        uv_close((uv_handle_t *)&b->async, on_close);
    } else {
        destroy(b);
    }
}
