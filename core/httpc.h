/* SPDX-License-Identifier: MIT */
/*
 * httpc.h - a small HTTP/1.1 client on the libuv loop, built on h2o's http1client: one
 * request, a complete buffered response. fieldd uses it to call webhooks; fieldctl uses it to
 * talk to fieldd's API (running a loop until the answer is in).
 *
 * Names are resolved by h2o's resolver threads (getaddrinfo off the loop); connect, send and
 * every read are bounded by the client's timeout. https URLs are verified against the system's
 * certificate store (OpenSSL defaults) and the URL's host name.
 *
 * Lifecycle: httpc_new -> httpc_request ... -> httpc_free. A request's done callback runs
 * exactly once on the loop thread, unless the request was cancelled (httpc_cancel, or
 * httpc_free with it still pending): then it never runs.
 */
#ifndef ACS_HTTPC_H
#define ACS_HTTPC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct httpc httpc_t;
typedef struct httpc_req httpc_req_t;

typedef struct {
    int status;               /* HTTP status code */
    const char *body;         /* the whole body, NUL-terminated; valid during the callback */
    size_t len;               /* its length without the NUL */
    const char *content_type; /* the Content-Type value, "" when absent; valid as body */
} httpc_response_t;

/* err is 0 with resp set, or ACS_EIO / ACS_ETIMEDOUT / ACS_ETOOBIG with resp NULL and why a
 * sentence fragment ("connection refused by 127.0.0.1:9"); why is valid during the call. */
typedef void (*httpc_done_fn)(int err, const httpc_response_t *resp, const char *why, void *arg);

/* Make a client on loop. timeout_ms bounds each phase (connect, a read, a write); max_body
 * bounds a response body (a larger one fails with ACS_ETOOBIG). Returns 0 and *out, or
 * ACS_ENOMEM / ACS_EIO (TLS context) with *out = NULL. */
int httpc_new(uv_loop_t *loop, uint64_t timeout_ms, size_t max_body, httpc_t **out);

/* Cancel every pending request (their callbacks never run) and release the client. The loop
 * must run afterwards so that its handles close; the memory goes with the last of them. NULL
 * is a no-op. */
void httpc_free(httpc_t *c);

/*
 * Start a request. url: "http://host[:port]/path?query" or https. headers: extra request
 * header lines, each ending in "\r\n" (NULL for none); Host, Content-Length and Connection are
 * added here. body/len: the request body (copied; NULL/0 for none). On success returns 0 and,
 * if out is not NULL, a handle for httpc_cancel valid until done runs. Returns ACS_EINVAL
 * (not an http/https URL, or a header line without its CRLF), ACS_ENOMEM, or ACS_EIO (no
 * socket could be created); then done never runs.
 */
int httpc_request(httpc_t *c, const char *method, const char *url, const char *headers,
                  const char *body, size_t len, httpc_done_fn done, void *arg, httpc_req_t **out);

/* Abandon a pending request: its done callback never runs. */
void httpc_cancel(httpc_req_t *q);

#endif
