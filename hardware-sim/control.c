/* SPDX-License-Identifier: MIT */
/*
 * control.c - the control channel (see control.h): one command per line, answered by zero or
 * more "- ..." lines and one final line "ok ..." or "error ...". Commands name a unit as
 * BUS/UNIT_ID (line1/2), BUS alone for a bus with one unit, or by serial number.
 *
 *   help                          the commands
 *   list                          one "- " line per unit: bus, id, model, serial, faults
 *   fault UNIT NAME [ARG...]      set a fault (names in simunit.h and docs/simulator.md)
 *   clear UNIT [NAME [ARG]|all]   clear one fault, or all of them
 *   power UNIT on|off             power loss and return
 *   card UNIT NUMBER              a card presented to a reader controller
 *   pass UNIT entry|exit          a person passes a turnstile
 *   set UNIT REGISTER VALUE       change a register (as the device itself would)
 *   get UNIT REGISTER             a register's value, decoded
 *   fw UNIT                       the bootloader's state (simboot_describe)
 *   stop                          shut acs-sim down as SIGTERM would
 */
#include "control.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "decode.h"

#define LINE_MAX_LEN 1024

typedef struct control_conn {
    uv_tcp_t tcp;
    control_t *ctl;
    char buf[LINE_MAX_LEN];
    size_t len;
    int closing;
    int discarding; /* a line longer than LINE_MAX_LEN is being skipped */
    struct control_conn *prev, *next;
} control_conn_t;

struct control {
    sim_t *sim;
    uv_tcp_t listener;
    control_conn_t *conns;
    unsigned open_handles;
    int closing;
    void (*done)(void *);
    void *done_arg;
    char address[96];
};

static void maybe_done(control_t *c)
{
    if (c->closing && c->open_handles == 0) {
        void (*done)(void *) = c->done;
        void *arg = c->done_arg;
        free(c);
        if (done != NULL)
            done(arg);
    }
}

static void conn_closed(uv_handle_t *h)
{
    control_conn_t *k = h->data;
    control_t *c = k->ctl;
    free(k);
    c->open_handles--;
    maybe_done(c);
}

static void conn_close(control_conn_t *k)
{
    if (k->closing)
        return;
    k->closing = 1;
    control_t *c = k->ctl;
    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        c->conns = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    uv_close((uv_handle_t *)&k->tcp, conn_closed);
}

typedef struct wreq {
    uv_write_t req;
    char data[];
} wreq_t;

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req->data);
}

static void send_text(control_conn_t *k, const char *text)
{
    if (k->closing)
        return;
    size_t n = strlen(text);
    wreq_t *w = malloc(sizeof(*w) + n);
    if (w == NULL)
        return;
    memcpy(w->data, text, n);
    w->req.data = w;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&k->tcp, &b, 1, on_written) != 0)
        free(w);
}

static void reply(control_conn_t *k, int ok, const char *text)
{
    char line[LINE_MAX_LEN + 16];
    snprintf(line, sizeof(line), "%s %s\n", ok ? "ok" : "error", text);
    send_text(k, line);
}

static const char help_text[] =
    "- list\n"
    "- fault UNIT NAME [ARG]   no-answer | late MS | bad-crc | wrong-unit [ID] | exception CODE"
    " | stuck-sensor REG [VALUE] | low-supply [VOLTS] | tamper | corrupt-event [SLOT]"
    " | power-loss | flash-cut N | lose-reply [N]\n"
    "- clear UNIT [NAME [ARG] | all]\n"
    "- power UNIT on|off\n"
    "- card UNIT NUMBER\n"
    "- pass UNIT entry|exit\n"
    "- set UNIT REGISTER VALUE\n"
    "- get UNIT REGISTER\n"
    "- fw UNIT                 the bootloader: state, slots, versions, transfer, flash writes\n"
    "- stop\n"
    "- UNIT is BUS/UNIT_ID, BUS (one unit), or a serial number\n";

/* Splits line into at most max words; the last word takes the rest of the line. */
static size_t split(char *line, char **words, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        words[n++] = p;
        if (n == max)
            break;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p == '\0')
            break;
        *p++ = '\0';
    }
    if (n > 0) {
        /* trim the last word's trailing blanks */
        char *e = words[n - 1] + strlen(words[n - 1]);
        while (e > words[n - 1] && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
    }
    return n;
}

static void run_command(control_conn_t *k, char *line)
{
    sim_t *sim = k->ctl->sim;
    char *w[4] = {0};
    size_t n = split(line, w, 4);
    char msg[DECODE_FORMAT_MAX + 128];
    if (n == 0)
        return;
    const char *cmd = w[0];
    if (strcmp(cmd, "help") == 0) {
        send_text(k, help_text);
        reply(k, 1, "help");
        return;
    }
    if (strcmp(cmd, "list") == 0) {
        for (size_t i = 0; i < sim->nunits; i++) {
            char d[512];
            simunit_describe(sim->units[i], d, sizeof(d));
            snprintf(msg, sizeof(msg), "- %s\n", d);
            send_text(k, msg);
        }
        for (size_t i = 0; i < sim->nbuses; i++) {
            snprintf(msg, sizeof(msg),
                     "- bus %s %s frames_in=%llu frames_out=%llu "
                     "crc_errors=%llu\n",
                     sim->buses[i]->cfg->name, simbus_address(sim->buses[i]),
                     (unsigned long long)sim->buses[i]->frames_in,
                     (unsigned long long)sim->buses[i]->frames_out,
                     (unsigned long long)sim->buses[i]->crc_errors);
            send_text(k, msg);
        }
        snprintf(msg, sizeof(msg), "%zu units", sim->nunits);
        reply(k, 1, msg);
        return;
    }
    if (strcmp(cmd, "stop") == 0) {
        reply(k, 1, "stopping");
        sim_stop(sim);
        return;
    }
    static const char *const unit_cmds[] = {"fault", "clear", "power", "card", "pass",
                                            "set",   "get",   "fw",    NULL};
    int known = 0;
    for (size_t i = 0; unit_cmds[i] != NULL; i++)
        known |= strcmp(cmd, unit_cmds[i]) == 0;
    if (!known) {
        snprintf(msg, sizeof(msg), "unknown command \"%.64s\" (try help)", cmd);
        reply(k, 0, msg);
        return;
    }
    if (n < 2) {
        snprintf(msg, sizeof(msg), "%s needs a unit (BUS/UNIT_ID)", cmd);
        reply(k, 0, msg);
        return;
    }
    simunit_t *u = sim_find_unit(sim, w[1]);
    if (u == NULL) {
        snprintf(msg, sizeof(msg), "no unit \"%.64s\" (list shows them)", w[1]);
        reply(k, 0, msg);
        return;
    }
    uint64_t now = sim_now_ms(sim);
    simunit_tick(u, now);
    int rc = ACS_EINVAL;
    msg[0] = '\0';
    if (strcmp(cmd, "fault") == 0 || strcmp(cmd, "clear") == 0) {
        int on = cmd[0] == 'f';
        if (n < 3 && on) {
            snprintf(msg, sizeof(msg), "fault needs a fault name (help lists them)");
        } else if (!on && (n < 3 || strcmp(w[2], "all") == 0)) {
            simunit_clear_faults(u);
            snprintf(msg, sizeof(msg), "all faults cleared");
            rc = 0;
        } else {
            /* w[2] may still hold "NAME ARG" as one word: split it once more. */
            char *name = w[2], *arg = n > 3 ? w[3] : NULL;
            rc = simunit_fault(u, name, arg, on, msg, sizeof(msg));
        }
    } else if (strcmp(cmd, "power") == 0) {
        if (n == 3 && (strcmp(w[2], "on") == 0 || strcmp(w[2], "off") == 0)) {
            simunit_power(u, w[2][1] == 'n');
            snprintf(msg, sizeof(msg), "power %s", w[2]);
            rc = 0;
        } else {
            snprintf(msg, sizeof(msg), "power takes on or off");
        }
    } else if (strcmp(cmd, "card") == 0) {
        char *end = NULL;
        unsigned long card = n == 3 ? strtoul(w[2], &end, 0) : 0;
        if (n != 3 || *end != '\0' || card > 0xFFFFFFFFul || !isdigit((unsigned char)w[2][0]))
            snprintf(msg, sizeof(msg), "card takes a card number 0..4294967295");
        else
            rc = simunit_card(u, (uint32_t)card, msg, sizeof(msg));
    } else if (strcmp(cmd, "pass") == 0) {
        if (n == 3 && (strcmp(w[2], "entry") == 0 || strcmp(w[2], "exit") == 0))
            rc = simunit_passage(u, w[2][1] == 'x', msg, sizeof(msg));
        else
            snprintf(msg, sizeof(msg), "pass takes entry or exit");
    } else if (strcmp(cmd, "set") == 0) {
        if (n == 4)
            rc = simunit_set(u, w[2], w[3], msg, sizeof(msg));
        else
            snprintf(msg, sizeof(msg), "set takes a register name and a value");
    } else if (strcmp(cmd, "fw") == 0) {
        simunit_firmware(u, msg, sizeof(msg));
        rc = 0;
    } else if (strcmp(cmd, "get") == 0) {
        if (n == 3)
            rc = simunit_get(u, w[2], msg, sizeof(msg));
        else
            snprintf(msg, sizeof(msg), "get takes a register name");
    }
    reply(k, rc == 0, msg);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    control_conn_t *k = h->data;
    (void)suggested;
    buf->base = k->buf + k->len;
    buf->len = sizeof(k->buf) - k->len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    control_conn_t *k = s->data;
    (void)buf;
    if (nread < 0) {
        conn_close(k);
        return;
    }
    k->len += (size_t)nread;
    size_t start = 0;
    for (size_t i = 0; i < k->len && !k->closing; i++) {
        if (k->buf[i] != '\n')
            continue;
        k->buf[i] = '\0';
        if (i > start && k->buf[i - 1] == '\r')
            k->buf[i - 1] = '\0';
        if (k->discarding) {
            k->discarding = 0;
            reply(k, 0, "line too long");
        } else {
            run_command(k, k->buf + start);
        }
        start = i + 1;
    }
    memmove(k->buf, k->buf + start, k->len - start);
    k->len -= start;
    if (k->len == sizeof(k->buf)) {
        k->discarding = 1;
        k->len = 0;
    }
}

static void on_connection(uv_stream_t *listener, int status)
{
    control_t *c = listener->data;
    if (status != 0 || c->closing)
        return;
    control_conn_t *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return;
    k->ctl = c;
    uv_tcp_init(listener->loop, &k->tcp);
    c->open_handles++;
    k->tcp.data = k;
    k->next = c->conns;
    if (c->conns != NULL)
        c->conns->prev = k;
    c->conns = k;
    if (uv_accept(listener, (uv_stream_t *)&k->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read) != 0)
        conn_close(k);
}

static void listener_closed(uv_handle_t *h)
{
    control_t *c = h->data;
    c->open_handles--;
    maybe_done(c);
}

int control_start(sim_t *sim, const char *host, int port, control_t **out, char *err, size_t errlen)
{
    *out = NULL;
    struct sockaddr_in addr;
    if (uv_ip4_addr(host, port, &addr) != 0) {
        snprintf(err, errlen, "control.host \"%s\" is not an IPv4 address", host);
        return ACS_EINVAL;
    }
    control_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return ACS_ENOMEM;
    }
    c->sim = sim;
    uv_tcp_init(sim->loop, &c->listener);
    c->open_handles = 1;
    c->listener.data = c;
    int rc = uv_tcp_bind(&c->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->listener, 16, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "control channel: cannot listen on %s:%d: %s", host, port,
                 uv_strerror(rc));
        c->closing = 1;
        uv_close((uv_handle_t *)&c->listener, listener_closed);
        return ACS_EIO;
    }
    struct sockaddr_in bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&c->listener, (struct sockaddr *)&bound, &blen);
    char ip[32];
    uv_ip4_name(&bound, ip, sizeof(ip));
    snprintf(c->address, sizeof(c->address), "tcp %s:%d", ip, ntohs(bound.sin_port));
    *out = c;
    return 0;
}

const char *control_address(const control_t *c)
{
    return c->address;
}

void control_close(control_t *c, void (*done)(void *), void *arg)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->done = done;
    c->done_arg = arg;
    while (c->conns != NULL)
        conn_close(c->conns);
    uv_close((uv_handle_t *)&c->listener, listener_closed);
}
