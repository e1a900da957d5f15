/* SPDX-License-Identifier: MIT */
/*
 * httpc.c - the HTTP client of httpc.h over h2o's http1client (h2o 2.2, libuv binding).
 *
 * A request goes through h2o's callbacks in order: on_connect (hand over the request bytes)
 * -> on_head (status and headers) -> on_body (called for each read, then once with
 * h2o_http1client_error_is_eos). h2o closes and frees its client after an error or the end of
 * the body; from then on the request must not touch it, so each path that ends a request
 * clears q->client before calling back.
 */
#include "httpc.h"

#include <h2o.h>
#include <h2o/http1client.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acs_error.h"

struct httpc {
    uv_loop_t *loop;
    h2o_timeout_t timeout;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t getaddr;
    h2o_http1client_ctx_t ctx;
    SSL_CTX *ssl;
    size_t max_body;
    httpc_req_t *pending; /* doubly linked, for httpc_free */
};

struct httpc_req {
    httpc_t *c;
    httpc_req_t *prev, *next;
    h2o_http1client_t *client; /* NULL once h2o has finished with it */
    h2o_iovec_t bufs[2];
    char *head;
    char *body;
    char *resp;
    size_t resp_len;
    size_t resp_cap;
    int status;
    char content_type[128];
    char where[300]; /* "host:port", for messages */
    httpc_done_fn done;
    void *arg;
    int connecting; /* inside h2o_http1client_connect: an error now is returned, not called back */
    int sync_err;
};

int httpc_new(uv_loop_t *loop, uint64_t timeout_ms, size_t max_body, httpc_t **out)
{
    *out = NULL;
    httpc_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ACS_ENOMEM;
    c->ssl = SSL_CTX_new(TLS_client_method());
    if (c->ssl == NULL) {
        free(c);
        return ACS_EIO;
    }
    SSL_CTX_set_default_verify_paths(c->ssl);
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    c->loop = loop;
    c->max_body = max_body;
    c->queue = h2o_multithread_create_queue(loop);
    h2o_multithread_register_receiver(c->queue, &c->getaddr, h2o_hostinfo_getaddr_receiver);
    h2o_timeout_init(loop, &c->timeout, timeout_ms);
    c->ctx.loop = loop;
    c->ctx.getaddr_receiver = &c->getaddr;
    c->ctx.io_timeout = &c->timeout;
    c->ctx.websocket_timeout = NULL;
    c->ctx.ssl_ctx = c->ssl;
    *out = c;
    return 0;
}

static void unlink_req(httpc_req_t *q)
{
    if (q->prev != NULL)
        q->prev->next = q->next;
    else
        q->c->pending = q->next;
    if (q->next != NULL)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static void req_free(httpc_req_t *q)
{
    free(q->head);
    free(q->body);
    free(q->resp);
    free(q);
}

/* End a request that h2o has already let go of (or that it is about to free). */
static void finish(httpc_req_t *q, int err, const char *why)
{
    q->client = NULL;
    if (q->connecting) {
        q->sync_err = err != 0 ? err : ACS_EIO;
        return;
    }
    unlink_req(q);
    if (err == 0) {
        httpc_response_t resp = {q->status, q->resp != NULL ? q->resp : "", q->resp_len,
                                 q->content_type};
        q->done(0, &resp, NULL, q->arg);
    } else {
        q->done(err, NULL, why, q->arg);
    }
    req_free(q);
}

static void fail(httpc_req_t *q, const char *errstr)
{
    char why[512];
    int err = strstr(errstr, "timeout") != NULL ? ACS_ETIMEDOUT : ACS_EIO;
    snprintf(why, sizeof(why), "%s (%s)", errstr, q->where);
    finish(q, err, why);
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
    httpc_req_t *q = client->data;
    if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
        fail(q, errstr);
        return -1;
    }
    h2o_buffer_t *in = client->sock->input;
    if (in->size > 0) {
        if (q->resp_len + in->size > q->c->max_body) {
            char why[400];
            snprintf(why, sizeof(why), "response body over %zu bytes (%s)", q->c->max_body,
                     q->where);
            /* Returning non-zero makes h2o close the connection and free its client. */
            finish(q, ACS_ETOOBIG, why);
            return -1;
        }
        if (q->resp_len + in->size + 1 > q->resp_cap) {
            size_t cap = q->resp_cap ? q->resp_cap : 4096;
            while (cap < q->resp_len + in->size + 1)
                cap *= 2;
            char *p = realloc(q->resp, cap);
            if (p == NULL) {
                finish(q, ACS_ENOMEM, "out of memory reading the response");
                return -1;
            }
            q->resp = p;
            q->resp_cap = cap;
        }
        memcpy(q->resp + q->resp_len, in->bytes, in->size);
        q->resp_len += in->size;
        q->resp[q->resp_len] = '\0';
        h2o_buffer_consume(&client->sock->input, in->size);
    }
    if (errstr == h2o_http1client_error_is_eos)
        finish(q, 0, NULL);
    return 0;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr,
                                       int minor_version, int status, h2o_iovec_t msg,
                                       h2o_header_t *headers, size_t num_headers, int rlen)
{
    httpc_req_t *q = client->data;
    (void)minor_version;
    (void)msg;
    (void)rlen;
    if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
        fail(q, errstr);
        return NULL;
    }
    q->status = status;
    for (size_t i = 0; i < num_headers; i++) {
        if (headers[i].name == &H2O_TOKEN_CONTENT_TYPE->buf) {
            size_t n = headers[i].value.len < sizeof(q->content_type) - 1
                           ? headers[i].value.len
                           : sizeof(q->content_type) - 1;
            memcpy(q->content_type, headers[i].value.base, n);
            q->content_type[n] = '\0';
        }
    }
    if (errstr == h2o_http1client_error_is_eos) {
        finish(q, 0, NULL);
        return NULL;
    }
    return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr,
                                          h2o_iovec_t **reqbufs, size_t *reqbufcnt,
                                          int *method_is_head)
{
    httpc_req_t *q = client->data;
    if (errstr != NULL) {
        fail(q, errstr);
        return NULL;
    }
    *reqbufs = q->bufs;
    *reqbufcnt = q->bufs[1].len > 0 ? 2 : 1;
    *method_is_head = strncmp(q->head, "HEAD ", 5) == 0;
    return on_head;
}

int httpc_request(httpc_t *c, const char *method, const char *url, const char *headers,
                  const char *body, size_t len, httpc_done_fn done, void *arg, httpc_req_t **out)
{
    if (out != NULL)
        *out = NULL;
    h2o_url_t u;
    if (url == NULL || h2o_url_parse(url, strlen(url), &u) != 0 ||
        (u.scheme != &H2O_URL_SCHEME_HTTP && u.scheme != &H2O_URL_SCHEME_HTTPS) ||
        u.host.len == 0 || u.host.len > 255)
        return ACS_EINVAL;
    if (headers != NULL && *headers != '\0') {
        size_t hl = strlen(headers);
        if (hl < 2 || strcmp(headers + hl - 2, "\r\n") != 0)
            return ACS_EINVAL;
    }
    httpc_req_t *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return ACS_ENOMEM;
    uint16_t port = h2o_url_get_port(&u);
    snprintf(q->where, sizeof(q->where), "%.*s:%u", (int)u.host.len, u.host.base, port);
    size_t hlen =
        strlen(method) + u.path.len + u.authority.len + (headers ? strlen(headers) : 0) + 128;
    q->head = malloc(hlen);
    if (q->head == NULL)
        goto nomem;
    int n = snprintf(q->head, hlen,
                     "%s %.*s HTTP/1.1\r\nHost: %.*s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n",
                     method, (int)u.path.len, u.path.base, (int)u.authority.len, u.authority.base,
                     len, headers ? headers : "");
    if (n < 0 || (size_t)n >= hlen)
        goto nomem;
    q->bufs[0] = h2o_iovec_init(q->head, (size_t)n);
    if (len > 0) {
        q->body = malloc(len);
        if (q->body == NULL)
            goto nomem;
        memcpy(q->body, body, len);
        q->bufs[1] = h2o_iovec_init(q->body, len);
    }
    q->c = c;
    q->done = done;
    q->arg = arg;
    q->next = c->pending;
    if (c->pending != NULL)
        c->pending->prev = q;
    c->pending = q;
    /* h2o fails at once, inside the call, when it cannot even create a socket: that error is
     * returned here instead of calling back. */
    q->connecting = 1;
    h2o_http1client_connect(&q->client, q, &c->ctx, u.host, port, u.scheme == &H2O_URL_SCHEME_HTTPS,
                            on_connect);
    q->connecting = 0;
    if (q->sync_err != 0) {
        int err = q->sync_err;
        unlink_req(q);
        req_free(q);
        return err;
    }
    if (out != NULL)
        *out = q;
    return 0;
nomem:
    req_free(q);
    return ACS_ENOMEM;
}

void httpc_cancel(httpc_req_t *q)
{
    if (q == NULL)
        return;
    if (q->client != NULL)
        h2o_http1client_cancel(q->client);
    unlink_req(q);
    req_free(q);
}

static void on_timer_closed(uv_handle_t *h)
{
    httpc_t *c = h->data;
    SSL_CTX_free(c->ssl);
    free(c);
}

void httpc_free(httpc_t *c)
{
    if (c == NULL)
        return;
    while (c->pending != NULL)
        httpc_cancel(c->pending);
    h2o_multithread_unregister_receiver(c->queue, &c->getaddr);
    h2o_multithread_destroy_queue(c->queue);
    /* h2o_timeout_dispose closes the timeout's uv_timer without a close callback; closing it
     * here with one tells when the memory around it may go. */
    uv_timer_t *timer = &c->timeout._backend.timer;
    timer->data = c;
    uv_close((uv_handle_t *)timer, on_timer_closed);
}
