/* SPDX-License-Identifier: MIT */
/*
 * bus.h - one worker thread per bus, so that blocking libmodbus calls never run on the event
 * loop. An RS-485 line is half-duplex: one transaction at a time, so every unit on it shares
 * one worker and one queue; each Modbus TCP endpoint gets a bus (and a worker) of its own, so
 * TCP devices are served in parallel.
 *
 * Work is a function run on the worker with the bus's transport (transport.h), which only
 * that thread ever touches. Its status comes back to the libuv loop through a uv_async_t: the
 * done callback runs on the loop thread, in submission order. bus_run is the blocking form
 * for command-line tools (fieldctl), which have no loop.
 *
 * Worker states (bus.c):
 *
 *     bus_new --> [waiting] --bus_submit/bus_run--> [working] --work returns--> [waiting]
 *                     |                                                        (done queued,
 *                     +--bus_free--> [stopping] --queue drained--> [joined]     uv_async_send)
 *
 *   transition                  function
 *   start the thread            bus_new
 *   queue a request             bus_submit, bus_run
 *   run one request             worker_main (static)
 *   deliver results on loop     on_async (static) -> done callbacks
 *   cancel queued, join, close  bus_free (queued requests complete with ACS_ECANCELED)
 */
#ifndef ACS_BUS_H
#define ACS_BUS_H

#include "transport.h"

#include <uv.h>

typedef struct bus bus_t;

/* Runs on the worker thread. t is the bus's transport (NULL for a bus made without one). It
 * returns a status (0 or ACS_E*) handed to the done callback. */
typedef int (*bus_work_fn)(transport_t *t, void *arg);

/* Runs on the loop thread with the work's status (ACS_ECANCELED when bus_free cancelled it). */
typedef void (*bus_done_fn)(int status, void *arg);

/*
 * Create a bus and start its worker. loop may be NULL (then only bus_run may be used); cfg
 * may be NULL (a bus without transport, for tests). Returns 0 and *out (free with bus_free),
 * or ACS_EINVAL / ACS_ENOMEM / ACS_EIO (thread or uv_async could not start) with *out = NULL.
 * The transport is opened by its first request.
 */
int bus_new(uv_loop_t *loop, const transport_config_t *cfg, bus_t **out, char *err, size_t errlen);

/* Queue work; done (may be NULL) runs later on the loop thread. Call from the loop thread.
 * Returns 0, or ACS_EINVAL (no loop / NULL work), ACS_ESHUTDOWN, ACS_ENOMEM; on error done is
 * never called. */
int bus_submit(bus_t *b, bus_work_fn work, bus_done_fn done, void *arg);

/* Queue work and wait for it; returns its status. Never call it on the loop thread. */
int bus_run(bus_t *b, bus_work_fn work, void *arg);

/* Stop the worker after the running request, complete queued requests with ACS_ECANCELED
 * (their done callbacks run now, on the calling loop thread), join, close the transport.
 * With a loop the memory is released in the uv_async close callback, so the loop must run
 * once more. NULL is a no-op. */
void bus_free(bus_t *b);

#endif
