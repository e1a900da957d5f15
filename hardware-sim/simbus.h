/* SPDX-License-Identifier: MIT */
/*
 * simbus.h - the buses acs-sim serves: a Modbus TCP endpoint (one unit behind a listening
 * socket) or a Modbus RTU line (several units on one pseudo-terminal, as on RS-485). Each
 * transport plugs in through one const table of operations (simbus_ops_t), the way
 * libmodbus's backends do; what the transports share - finding the addressed unit, applying
 * its frame-level faults, holding late replies on timers - is in simbus.c.
 *
 * Lifecycle: simbus_new (allocates, nothing open) -> simbus_start (opens the pty or listens;
 * the address is then in simbus_address) -> serving -> simbus_close (closes every handle;
 * on_closed runs from the loop once they are all closed) -> simbus_free.
 */
#ifndef ACS_SIM_SIMBUS_H
#define ACS_SIM_SIMBUS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "site.h"
#include "simunit.h"

typedef struct simbus simbus_t;
typedef struct simbus_reply simbus_reply_t;

typedef struct simbus_ops {
    const char *kind; /* "tcp", "rtu" */
    int (*start)(simbus_t *bus, char *err, size_t errlen);
    /* Sends one ADU to the peer `conn` (TCP: the connection; RTU: unused). */
    void (*send)(simbus_t *bus, void *conn, const uint8_t *adu, size_t len);
    /* Builds the reply ADU for a PDU; returns its length (0: does not fit). */
    size_t (*frame)(const simbus_t *bus, const void *request_ctx, uint8_t unit, const uint8_t *pdu,
                    size_t pdu_len, int bad_crc, uint8_t *out, size_t cap);
    /* Closes the transport's handles; each close callback calls simbus__handle_done. */
    void (*close)(simbus_t *bus);
} simbus_ops_t;

/* Transport state; only the transport's own file touches its part. */
typedef struct simbus_conn simbus_conn_t;

struct simbus {
    uv_loop_t *loop;
    const site_bus_t *cfg;
    const simbus_ops_t *ops;
    simunit_t **units; /* borrowed: owned by the caller */
    size_t nunits;
    char address[160]; /* "tcp 127.0.0.1:5020", "rtu /dev/pts/4" */
    simbus_reply_t *pending;
    unsigned open_handles;
    int closing;
    void (*on_closed)(simbus_t *bus, void *arg);
    void *on_closed_arg;
    uint64_t frames_in, frames_out, crc_errors;

    /* tcp */
    uv_tcp_t listener;
    simbus_conn_t *conns;

    /* rtu */
    int master_fd;
    int slave_fd;
    uv_poll_t poll;
    uv_timer_t gap_timer;
    uv_timer_t pace_timer;
    unsigned bits_per_char;
    uint64_t t35_ns;
    uint64_t char_ns;
    uint64_t last_rx_ns;
    uint64_t last_tx_ns;
    uint64_t rx_first_ns; /* pace_requests: when the frame being received began */
    uint8_t rx[512];
    size_t rx_len;
    int rx_overflow;
    struct rtu_frame *txq_head; /* replies waiting to leave, oldest first */
    struct rtu_frame *txq_tail;
    int pace_running;
    int poll_events;
};

/*
 * Allocates a bus for cfg with its units (the array is copied, the units are borrowed).
 * Returns 0 and *out, or ACS_ENOMEM.
 */
int simbus_new(uv_loop_t *loop, const site_bus_t *cfg, simunit_t **units, size_t nunits,
               simbus_t **out);

/* Opens the transport. Returns 0, or a negative code with a sentence in err (which bus, what
 * failed, what to do). */
int simbus_start(simbus_t *bus, char *err, size_t errlen);

/* "tcp 127.0.0.1:5020" / "rtu /dev/pts/4", valid after simbus_start. */
const char *simbus_address(const simbus_t *bus);

/* Closes everything; on_closed(bus, arg) runs from the loop when the last handle is closed
 * (also when nothing was open). Pending late replies are dropped. */
void simbus_close(simbus_t *bus, void (*on_closed)(simbus_t *, void *), void *arg);

/* Frees a closed bus. NULL is a no-op. */
void simbus_free(simbus_t *bus);

/* Internal, shared by the transports. */

/* A request PDU for `unit` arrived; answer it (now, late, or not at all) through ops->send.
 * request_ctx is what ops->frame needs to build the reply (TCP: the MBAP header). */
void simbus__dispatch(simbus_t *bus, void *conn, const void *request_ctx, uint8_t unit,
                      const uint8_t *pdu, size_t len);
/* Drops the late replies addressed to conn (the connection is closing). */
void simbus__forget_conn(simbus_t *bus, void *conn);
/* One handle of the bus finished closing (transports call it from their close callbacks,
 * after freeing what the handle lived in). */
void simbus__handle_done(simbus_t *bus);

extern const simbus_ops_t simbus_tcp_ops;
extern const simbus_ops_t simbus_rtu_ops;

#endif
