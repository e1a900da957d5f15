/* SPDX-License-Identifier: MIT */
/*
 * bus_tcp.c - the Modbus TCP transport of acs-sim: a listening socket per endpoint, MBAP
 * framing on each accepted connection, replies written back on the connection the request
 * came in on (with its transaction id). A connection that sends a header no Modbus TCP
 * client would send (protocol id not 0, impossible length) is closed, as it cannot be
 * resynchronised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "mbframe.h"
#include "simbus.h"

struct simbus_conn {
    uv_tcp_t tcp;
    simbus_t *bus;
    uint8_t buf[2 * MBFRAME_TCP_MAX];
    size_t len;
    int closing;
    simbus_conn_t *prev, *next;
};

typedef struct write_req {
    uv_write_t req;
    uint8_t data[MBFRAME_TCP_MAX + 8];
} write_req_t;

static void conn_closed(uv_handle_t *h)
{
    simbus_conn_t *c = h->data;
    simbus_t *bus = c->bus;
    free(c);
    simbus__handle_done(bus);
}

static void conn_close(simbus_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    simbus_t *bus = c->bus;
    simbus__forget_conn(bus, c);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        bus->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    simbus_conn_t *c = h->data;
    (void)suggested;
    buf->base = (char *)c->buf + c->len;
    buf->len = sizeof(c->buf) - c->len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    simbus_conn_t *c = s->data;
    (void)buf;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    size_t at = 0;
    while (!c->closing) {
        mbframe_mbap_t hdr;
        long n = mbframe_mbap_parse(c->buf + at, c->len - at, &hdr);
        if (n == 0)
            break;
        if (n < 0) {
            conn_close(c);
            return;
        }
        simbus__dispatch(c->bus, c, &hdr, hdr.unit, c->buf + at + MBFRAME_MBAP_LEN,
                         (size_t)n - MBFRAME_MBAP_LEN);
        at += (size_t)n;
    }
    if (at > 0) {
        memmove(c->buf, c->buf + at, c->len - at);
        c->len -= at;
    }
}

static void on_connection(uv_stream_t *listener, int status)
{
    simbus_t *bus = listener->data;
    if (status != 0 || bus->closing)
        return;
    simbus_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->bus = bus;
    uv_tcp_init(bus->loop, &c->tcp);
    bus->open_handles++;
    c->tcp.data = c;
    c->next = bus->conns;
    if (bus->conns != NULL)
        bus->conns->prev = c;
    bus->conns = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
}

static void listener_closed(uv_handle_t *h)
{
    simbus__handle_done(h->data);
}

static int tcp_start(simbus_t *bus, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    const site_bus_t *cfg = bus->cfg;
    if (uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&addr) != 0) {
        snprintf(err, errlen, "bus %s: host \"%s\" is not an IPv4 or IPv6 address", cfg->name,
                 cfg->host);
        return ACS_EINVAL;
    }
    uv_tcp_init(bus->loop, &bus->listener);
    bus->open_handles++;
    bus->listener.data = bus;
    int rc = uv_tcp_bind(&bus->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&bus->listener, 64, on_connection);
    if (rc != 0) {
        snprintf(err, errlen,
                 "bus %s: cannot listen on %s:%d: %s (is another process using the port? "
                 "port 0 picks a free one)",
                 cfg->name, cfg->host, cfg->port, uv_strerror(rc));
        return ACS_EIO;
    }
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&bus->listener, (struct sockaddr *)&bound, &blen);
    char ip[64] = "?";
    int port = 0;
    if (bound.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&bound, ip, sizeof(ip));
        port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
        snprintf(bus->address, sizeof(bus->address), "tcp [%s]:%d", ip, port);
    } else {
        uv_ip4_name((struct sockaddr_in *)&bound, ip, sizeof(ip));
        port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
        snprintf(bus->address, sizeof(bus->address), "tcp %s:%d", ip, port);
    }
    return 0;
}

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req->data);
}

static void tcp_send(simbus_t *bus, void *conn, const uint8_t *adu, size_t len)
{
    simbus_conn_t *c = conn;
    (void)bus;
    if (c == NULL || c->closing || len > sizeof(((write_req_t *)0)->data))
        return;
    write_req_t *w = malloc(sizeof(*w));
    if (w == NULL)
        return;
    memcpy(w->data, adu, len);
    w->req.data = w;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
        free(w);
}

static size_t tcp_frame(const simbus_t *bus, const void *request_ctx, uint8_t unit,
                        const uint8_t *pdu, size_t pdu_len, int bad_crc, uint8_t *out, size_t cap)
{
    const mbframe_mbap_t *hdr = request_ctx;
    (void)bus;
    (void)bad_crc; /* TCP has no CRC; the fault is refused for TCP units */
    return mbframe_mbap_build(out, cap, hdr->transaction, unit, pdu, pdu_len);
}

static void tcp_close(simbus_t *bus)
{
    while (bus->conns != NULL)
        conn_close(bus->conns);
    if (bus->open_handles > 0 && !uv_is_closing((uv_handle_t *)&bus->listener) &&
        bus->listener.loop != NULL)
        uv_close((uv_handle_t *)&bus->listener, listener_closed);
}

const simbus_ops_t simbus_tcp_ops = {
    .kind = "tcp",
    .start = tcp_start,
    .send = tcp_send,
    .frame = tcp_frame,
    .close = tcp_close,
};
