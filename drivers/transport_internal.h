/* SPDX-License-Identifier: MIT */
/*
 * transport_internal.h - what transport.c (the generic Modbus master: framing records,
 * timeouts, error sentences) shares with its backends transport_rtu.c and transport_tcp.c.
 * Not a public header: nothing outside drivers/transport*.c includes it.
 */
#ifndef ACS_TRANSPORT_INTERNAL_H
#define ACS_TRANSPORT_INTERNAL_H

#include "transport.h"

#include <modbus.h>

struct transport {
    const transport_ops_t *ops;
    transport_config_t cfg; /* device / host point at the copies below */
    char *device;
    char *host;
    modbus_t *ctx; /* NULL while closed */
    int unit;
    unsigned response_ms;   /* 0 = derived */
    unsigned turnaround_ms; /* RTU allowance */
    transport_frame_cb cb;
    void *cb_arg;
    double opened_at; /* monotonic seconds */
    int last_exception;
    unsigned last_timeout_ms;
};

/* Generic implementations the backends put into their tables. */
void transport__close(transport_t *t);
int transport__read(transport_t *t, int fc, uint16_t addr, uint16_t count, void *out, char *err,
                    size_t errlen);
int transport__write(transport_t *t, int fc, uint16_t addr, uint16_t count, const void *values,
                     char *err, size_t errlen);
int transport__raw(transport_t *t, const uint8_t *pdu, size_t len, uint8_t *rsp, size_t cap,
                   size_t *rsp_len, char *err, size_t errlen);
int transport__set_unit(transport_t *t, int unit);
int transport__set_timeouts(transport_t *t, unsigned response_ms, unsigned turnaround_ms);

/* After modbus_connect: keep libmodbus's descriptor below FD_SETSIZE or fail (closing the
 * context). Before it: refuse when no descriptor below FD_SETSIZE is free. */
int transport__fd_guard_before(const char *what, char *err, size_t errlen);
int transport__fd_guard_after(transport_t *t, const char *what, char *err, size_t errlen);

/* Monotonic seconds. */
double transport__now(void);

#endif
