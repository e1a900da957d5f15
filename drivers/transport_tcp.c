/* SPDX-License-Identifier: MIT */
/*
 * transport_tcp.c - the Modbus TCP backend of transport.h: a libmodbus TCP context to one
 * endpoint (a controller with an Ethernet port, or a Modbus TCP-to-RTU gateway). The connect
 * timeout is the response timeout (libmodbus waits for a non-blocking connect with it).
 */
#include "transport_internal.h"

#include "acs_error.h"
#include "errbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int tcp_open(transport_t *t, char *err, size_t errlen)
{
    const transport_config_t *c = &t->cfg;
    char what[TRANSPORT_NAME_MAX];
    int n = snprintf(what, sizeof(what), "%s:%d", c->host, c->port);
    if (n < 0 || (size_t)n >= sizeof(what)) {
        errbuf_printf(err, errlen, "TCP: host name too long");
        return ACS_EINVAL;
    }
    int rc = transport__fd_guard_before(what, err, errlen);
    if (rc != 0)
        return rc;
    t->ctx = modbus_new_tcp(c->host, c->port);
    if (t->ctx == NULL) {
        errbuf_printf(err, errlen, "%s: cannot set up a Modbus TCP context: %s", what,
                      modbus_strerror(errno));
        return ACS_EINVAL;
    }
    unsigned ms = t->response_ms != 0 ? t->response_ms : 1000;
    modbus_set_response_timeout(t->ctx, ms / 1000, (ms % 1000) * 1000);
    if (modbus_connect(t->ctx) < 0) {
        int e = errno;
        rc = e == ETIMEDOUT ? ACS_ETIMEDOUT : ACS_EIO;
        errbuf_printf(err, errlen,
                      "cannot connect to %s: %s (check the address and port, the network, and "
                      "that the device's Modbus TCP server is enabled)",
                      what, modbus_strerror(e));
        modbus_free(t->ctx);
        t->ctx = NULL;
        return rc;
    }
    return transport__fd_guard_after(t, what, err, errlen);
}

static void tcp_describe(const transport_t *t, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s:%d", t->cfg.host, t->cfg.port);
    if (n < 0 && len > 0)
        buf[0] = '\0';
}

const transport_ops_t transport_tcp_ops = {
    .name = "tcp",
    .open = tcp_open,
    .close = transport__close,
    .read = transport__read,
    .write = transport__write,
    .raw = transport__raw,
    .set_unit = transport__set_unit,
    .set_timeouts = transport__set_timeouts,
    .describe = tcp_describe,
};
