/* SPDX-License-Identifier: MIT */
/*
 * simbus.c - what the two transports share: choosing the unit a request is for, applying
 * the unit's frame-level faults (silence, late answer, wrong unit id, bad CRC) and keeping
 * late answers on their own timers so that one slow unit never holds up another.
 *
 * Who answers what:
 *   RTU  the unit whose id is in the frame; unit 0 is a broadcast (every unit executes it,
 *        none answers); any other id is silence, as on a real line.
 *   TCP  the endpoint's unit, also when addressed as 0 or 255 (the ids a client uses for "the
 *        device at this address"); any other id gets exception 0x0B (gateway target device
 *        failed to respond), or nothing when the bus says "foreign_units": "silent".
 */
#include "simbus.h"

#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "mbframe.h"

struct simbus_reply {
    uv_timer_t timer;
    simbus_t *bus;
    void *conn;
    size_t len;
    uint8_t adu[MBFRAME_TCP_MAX + 8];
    simbus_reply_t *prev, *next;
};

int simbus_new(uv_loop_t *loop, const site_bus_t *cfg, simunit_t **units, size_t nunits,
               simbus_t **out)
{
    *out = NULL;
    simbus_t *bus = calloc(1, sizeof(*bus));
    if (bus == NULL)
        return ACS_ENOMEM;
    bus->units = calloc(nunits, sizeof(*bus->units));
    if (bus->units == NULL) {
        free(bus);
        return ACS_ENOMEM;
    }
    memcpy(bus->units, units, nunits * sizeof(*units));
    bus->nunits = nunits;
    bus->loop = loop;
    bus->cfg = cfg;
    bus->ops = cfg->kind == SITE_BUS_TCP ? &simbus_tcp_ops : &simbus_rtu_ops;
    bus->master_fd = -1;
    bus->slave_fd = -1;
    *out = bus;
    return 0;
}

int simbus_start(simbus_t *bus, char *err, size_t errlen)
{
    return bus->ops->start(bus, err, errlen);
}

const char *simbus_address(const simbus_t *bus)
{
    return bus->address;
}

static void reply_closed(uv_handle_t *h)
{
    simbus_reply_t *r = h->data;
    simbus_t *bus = r->bus;
    free(r);
    simbus__handle_done(bus);
}

static void reply_unlink(simbus_reply_t *r)
{
    simbus_t *bus = r->bus;
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        bus->pending = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    uv_close((uv_handle_t *)&r->timer, reply_closed);
}

static void on_late_reply(uv_timer_t *t)
{
    simbus_reply_t *r = t->data;
    r->bus->ops->send(r->bus, r->conn, r->adu, r->len);
    r->bus->frames_out++;
    reply_unlink(r);
}

void simbus__forget_conn(simbus_t *bus, void *conn)
{
    simbus_reply_t *r = bus->pending;
    while (r != NULL) {
        simbus_reply_t *next = r->next;
        if (r->conn == conn)
            reply_unlink(r);
        r = next;
    }
}

static void send_or_delay(simbus_t *bus, void *conn, const uint8_t *adu, size_t len,
                          uint32_t late_ms)
{
    if (late_ms == 0) {
        bus->ops->send(bus, conn, adu, len);
        bus->frames_out++;
        return;
    }
    simbus_reply_t *r = calloc(1, sizeof(*r));
    if (r == NULL || len > sizeof(r->adu)) {
        free(r);
        return;
    }
    r->bus = bus;
    r->conn = conn;
    r->len = len;
    memcpy(r->adu, adu, len);
    uv_timer_init(bus->loop, &r->timer);
    bus->open_handles++;
    r->timer.data = r;
    r->next = bus->pending;
    if (bus->pending != NULL)
        bus->pending->prev = r;
    bus->pending = r;
    uv_timer_start(&r->timer, on_late_reply, late_ms, 0);
}

void simbus__dispatch(simbus_t *bus, void *conn, const void *request_ctx, uint8_t unit,
                      const uint8_t *pdu, size_t len)
{
    uint8_t resp[MBFRAME_PDU_MAX];
    uint8_t adu[MBFRAME_TCP_MAX + 8];
    bus->frames_in++;
    if (bus->closing || len == 0)
        return;

    if (bus->cfg->kind == SITE_BUS_RTU) {
        if (unit == 0) {
            for (size_t i = 0; i < bus->nunits; i++)
                simunit_request(bus->units[i], pdu, len, 1, resp);
            return;
        }
        for (size_t i = 0; i < bus->nunits; i++) {
            simunit_t *u = bus->units[i];
            if (simunit_id(u) != unit)
                continue;
            size_t n = simunit_request(u, pdu, len, 0, resp);
            if (n == 0)
                return;
            const simunit_faults_t *f = simunit_faults(u);
            uint8_t from = f->wrong_unit ? f->wrong_unit_id : unit;
            size_t alen =
                bus->ops->frame(bus, request_ctx, from, resp, n, f->bad_crc, adu, sizeof(adu));
            if (alen > 0)
                send_or_delay(bus, conn, adu, alen, f->late_ms);
            return;
        }
        return; /* nobody with that id on this line */
    }

    simunit_t *u = bus->units[0];
    if (unit != simunit_id(u) && unit != 0 && unit != 255) {
        if (bus->cfg->foreign_silent)
            return;
        size_t n = simpdu_exception(pdu[0], SIMPDU_EX_GATEWAY_NO_RESPONSE, resp);
        size_t alen = bus->ops->frame(bus, request_ctx, unit, resp, n, 0, adu, sizeof(adu));
        if (alen > 0)
            send_or_delay(bus, conn, adu, alen, 0);
        return;
    }
    size_t n = simunit_request(u, pdu, len, 0, resp);
    if (n == 0)
        return;
    const simunit_faults_t *f = simunit_faults(u);
    uint8_t from = f->wrong_unit ? f->wrong_unit_id : unit;
    size_t alen = bus->ops->frame(bus, request_ctx, from, resp, n, 0, adu, sizeof(adu));
    if (alen > 0)
        send_or_delay(bus, conn, adu, alen, f->late_ms);
}

static void closed_async(uv_handle_t *h)
{
    simbus_t *bus = h->data;
    free(h);
    simbus__handle_done(bus);
}

void simbus__handle_done(simbus_t *bus)
{
    if (bus->open_handles > 0)
        bus->open_handles--;
    if (bus->closing && bus->open_handles == 0 && bus->on_closed != NULL) {
        void (*cb)(simbus_t *, void *) = bus->on_closed;
        bus->on_closed = NULL;
        cb(bus, bus->on_closed_arg);
    }
}

void simbus_close(simbus_t *bus, void (*on_closed)(simbus_t *, void *), void *arg)
{
    if (bus->closing)
        return;
    bus->closing = 1;
    bus->on_closed = on_closed;
    bus->on_closed_arg = arg;
    while (bus->pending != NULL)
        reply_unlink(bus->pending);
    bus->ops->close(bus);
    /* A bus with nothing open still reports from the loop, through a short-lived handle. */
    uv_idle_t *idle = malloc(sizeof(*idle));
    if (idle != NULL) {
        uv_idle_init(bus->loop, idle);
        idle->data = bus;
        bus->open_handles++;
        uv_close((uv_handle_t *)idle, closed_async);
    } else if (bus->open_handles == 0) {
        bus->on_closed = NULL;
        on_closed(bus, arg);
    }
}

void simbus_free(simbus_t *bus)
{
    if (bus == NULL)
        return;
    free(bus->units);
    free(bus);
}
