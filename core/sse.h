/* SPDX-License-Identifier: MIT */
/*
 * sse.h - live events to browsers as Server-Sent Events (text/event-stream).
 *
 * The hub keeps the open streams of this instance. Events come from PostgreSQL notifications
 * (so every instance's clients see every instance's events) and are written to each stream as
 * "event: <name>\ndata: <json>\n\n". A stream that cannot keep up (over 1 MiB waiting) is
 * ended; the browser's EventSource reconnects by itself. A comment line every 15 s keeps
 * proxies from closing an idle stream.
 */
#ifndef ACS_SSE_H
#define ACS_SSE_H

#include <h2o.h>
#include <stddef.h>
#include <uv.h>

typedef struct sse_hub sse_hub_t;

/* Return 0 and set *out, or ACS_ENOMEM with *out = NULL. */
int sse_hub_new(uv_loop_t *loop, sse_hub_t **out);

/* Reply to req with an event stream that stays open; the hub owns the response from now on. */
void sse_hub_attach(sse_hub_t *hub, h2o_req_t *req);

/* Send an event to every open stream. name: [a-z_]+; data: one line of JSON. */
void sse_hub_publish(sse_hub_t *hub, const char *name, const char *data);

/* End every stream (their requests then complete) and free the hub once the last one is gone.
 * NULL is a no-op. */
void sse_hub_close(sse_hub_t *hub);

size_t sse_hub_clients(const sse_hub_t *hub);

#endif
