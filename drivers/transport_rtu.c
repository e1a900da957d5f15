/* SPDX-License-Identifier: MIT */
/*
 * transport_rtu.c - the Modbus RTU backend of transport.h: a libmodbus RTU context on a serial
 * device (a USB-RS485 adapter, or acs-sim's pseudo-terminal) with its baud rate, parity, data
 * and stop bits. Opening it translates the open() failures a field engineer meets (no such
 * device, permission, device busy) into sentences that say what to do.
 */
#include "transport_internal.h"

#include "acs_error.h"
#include "errbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int rtu_open(transport_t *t, char *err, size_t errlen)
{
    const transport_config_t *c = &t->cfg;
    int rc = transport__fd_guard_before(c->device, err, errlen);
    if (rc != 0)
        return rc;
    t->ctx = modbus_new_rtu(c->device, c->baud, c->parity, c->data_bits, c->stop_bits);
    if (t->ctx == NULL) {
        errbuf_printf(err, errlen, "%s: cannot set up %d %d%c%d: %s", c->device, c->baud,
                      c->data_bits, c->parity, c->stop_bits, modbus_strerror(errno));
        return ACS_EINVAL;
    }
    if (modbus_connect(t->ctx) < 0) {
        int e = errno;
        const char *advice = "check the adapter";
        rc = ACS_EIO;
        if (e == ENOENT || e == ENODEV || e == ENXIO) {
            advice = "is the USB-RS485 adapter plugged in? fieldctl ports lists the serial ports";
            rc = ACS_ENOTFOUND;
        } else if (e == EACCES || e == EPERM) {
            advice = "add your user to the dialout group and log in again";
            rc = ACS_EFORBIDDEN;
        } else if (e == EBUSY) {
            advice = "another program holds the port; close it";
            rc = ACS_EBUSY;
        }
        errbuf_printf(err, errlen, "cannot open %s: %s (%s)", c->device, modbus_strerror(e),
                      advice);
        modbus_free(t->ctx);
        t->ctx = NULL;
        return rc;
    }
    return transport__fd_guard_after(t, c->device, err, errlen);
}

static void rtu_describe(const transport_t *t, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s at %d %d%c%d", t->cfg.device, t->cfg.baud, t->cfg.data_bits,
                     t->cfg.parity, t->cfg.stop_bits);
    if (n < 0 && len > 0)
        buf[0] = '\0';
}

const transport_ops_t transport_rtu_ops = {
    .name = "rtu",
    .open = rtu_open,
    .close = transport__close,
    .read = transport__read,
    .write = transport__write,
    .raw = transport__raw,
    .set_unit = transport__set_unit,
    .set_timeouts = transport__set_timeouts,
    .describe = rtu_describe,
};
