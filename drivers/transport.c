/* SPDX-License-Identifier: MIT */
/*
 * transport.c - the generic part of the Modbus master behind transport.h: one transaction
 * (raw request out, confirmation in, every frame recorded with its status), the read and
 * write function codes built on it, FC 43/14 device identification, libmodbus error
 * translation into ACS_E* codes and sentences, the derived RTU timeout, and the FD_SETSIZE
 * guard. The backends (transport_rtu.c, transport_tcp.c) only create and connect contexts.
 *
 * Why every request is a raw request: modbus_read_registers and friends hide the bytes, and
 * modbus_set_debug only prints them. With modbus_send_raw_request the bytes sent are known
 * exactly (libmodbus 3.1.6 adds the RTU CRC, or an MBAP header whose transaction id it leaves
 * at 0), and modbus_receive_confirmation returns the whole reply ADU.
 *
 * Why FC 43 replies are read here: libmodbus 3.1.6 frames a confirmation by its function
 * code and takes an unknown function's reply to be one byte after the code, so it would stop
 * after the MEI type of a 43/14 reply. The reply is read from libmodbus's descriptor with
 * poll() until transport_mei_reply_length() says it is complete.
 */
#include "transport_internal.h"

#include "acs_error.h"
#include "errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

/* TCP response timeout when none is configured. */
#define TCP_DEFAULT_TIMEOUT_MS 1000
/* RTU turnaround allowance when none is configured. */
#define RTU_DEFAULT_TURNAROUND_MS 50

double transport__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- pure helpers ------------------------------------------------------------------------ */

uint16_t transport_crc16(const uint8_t *bytes, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= bytes[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

unsigned transport_rtu_timeout_ms(int baud, int data_bits, char parity, int stop_bits,
                                  size_t req_bytes, size_t rsp_bytes, unsigned turnaround_ms)
{
    if (baud <= 0)
        return turnaround_ms;
    double bits = 1.0 + data_bits + (parity == 'N' || parity == 'n' ? 0 : 1) + stop_bits;
    double char_ms = bits * 1000.0 / baud;
    /* Above 19200 baud the specification fixes t3.5 at 1.75 ms instead of 3.5 characters. */
    double gap_ms = baud > 19200 ? 1.75 : 3.5 * char_ms;
    double ms = (double)(req_bytes + rsp_bytes) * char_ms + 2 * gap_ms + turnaround_ms;
    return (unsigned)ceil(ms);
}

size_t transport_expected_reply_pdu(const uint8_t *pdu, size_t len)
{
    if (pdu == NULL || len < 5)
        return 0;
    unsigned count = (unsigned)pdu[3] << 8 | pdu[4];
    switch (pdu[0]) {
    case 1:
    case 2:
        return 2 + (count + 7) / 8;
    case 3:
    case 4:
        return 2 + 2 * (size_t)count;
    case 5:
    case 6:
    case 15:
    case 16:
        return 5;
    default:
        return 0;
    }
}

transport_frame_status_t transport_classify(uint8_t fc, int want_unit, int got_unit,
                                            const uint8_t *pdu, size_t len, size_t expected_len,
                                            uint8_t *exception)
{
    if (exception != NULL)
        *exception = 0;
    /* Unit 0 is a broadcast on RTU and "this device" on TCP: either way no unit to compare. */
    if (want_unit != 0 && got_unit != want_unit)
        return TRANSPORT_FRAME_WRONG_UNIT;
    if (pdu == NULL || len < 1)
        return TRANSPORT_FRAME_MALFORMED;
    if (pdu[0] == (uint8_t)(fc | 0x80)) {
        if (len != 2)
            return TRANSPORT_FRAME_MALFORMED;
        if (exception != NULL)
            *exception = pdu[1];
        return TRANSPORT_FRAME_EXCEPTION;
    }
    if (pdu[0] != fc)
        return TRANSPORT_FRAME_MALFORMED;
    if (expected_len != 0 && len != expected_len)
        return TRANSPORT_FRAME_MALFORMED;
    return TRANSPORT_FRAME_OK;
}

int transport_mei_reply_length(const uint8_t *pdu, size_t have)
{
    /* 2B 0E readcode conformity more next nobjects { id len value }* */
    if (have >= 1 && pdu[0] == (0x2B | 0x80))
        return 2;
    if (have >= 1 && pdu[0] != 0x2B)
        return -1;
    if (have >= 2 && pdu[1] != 0x0E)
        return -1;
    if (have < 7)
        return 0;
    size_t pos = 7;
    for (unsigned i = 0; i < pdu[6]; i++) {
        if (have < pos + 2)
            return 0;
        pos += 2 + (size_t)pdu[pos + 1];
        if (pos > TRANSPORT_PDU_MAX)
            return -1;
    }
    if (have < pos)
        return 0;
    return (int)pos;
}

int transport_parse_device_id(const uint8_t *pdu, size_t len, transport_devid_t *out, char *err,
                              size_t errlen)
{
    if (pdu == NULL || out == NULL) {
        errbuf_printf(err, errlen, "device identification: no reply to parse");
        return ACS_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    if (len < 7 || pdu[0] != 0x2B || pdu[1] != 0x0E) {
        errbuf_printf(err, errlen,
                      "device identification: the reply is not an FC 43/14 answer (%zu bytes)",
                      len);
        return ACS_EINVAL;
    }
    out->conformity = pdu[3];
    out->more_follows = pdu[4] == 0xFF;
    out->next_object = pdu[5];
    size_t pos = 7;
    for (unsigned i = 0; i < pdu[6]; i++) {
        if (pos + 2 > len || pos + 2 + pdu[pos + 1] > len) {
            errbuf_printf(err, errlen,
                          "device identification: object %u of %u runs past the end of the "
                          "reply (%zu bytes)",
                          i + 1, (unsigned)pdu[6], len);
            return ACS_EINVAL;
        }
        uint8_t id = pdu[pos];
        size_t n = pdu[pos + 1];
        char *dst = id == 0   ? out->vendor_name
                    : id == 1 ? out->product_code
                    : id == 2 ? out->revision
                              : NULL;
        if (dst != NULL) {
            size_t k = n < TRANSPORT_DEVID_MAX ? n : TRANSPORT_DEVID_MAX;
            for (size_t j = 0; j < k; j++) {
                uint8_t c = pdu[pos + 2 + j];
                dst[j] = (c >= 0x20 && c <= 0x7E) ? (char)c : '?';
            }
            dst[k] = '\0';
        }
        pos += 2 + n;
    }
    if (pos != len) {
        errbuf_printf(err, errlen,
                      "device identification: %zu bytes follow the last object of the reply",
                      len - pos);
        return ACS_EINVAL;
    }
    return 0;
}

const char *transport_frame_status_name(transport_frame_status_t s)
{
    switch (s) {
    case TRANSPORT_FRAME_OK:
        return "ok";
    case TRANSPORT_FRAME_TIMEOUT:
        return "timeout";
    case TRANSPORT_FRAME_CRC_ERROR:
        return "crc_error";
    case TRANSPORT_FRAME_EXCEPTION:
        return "exception";
    case TRANSPORT_FRAME_WRONG_UNIT:
        return "wrong_unit";
    case TRANSPORT_FRAME_MALFORMED:
        return "malformed";
    }
    return "?";
}

const char *transport_dir_name(transport_dir_t d)
{
    return d == TRANSPORT_TX ? "tx" : "rx";
}

const char *transport_exception_name(int code)
{
    switch (code) {
    case 1:
        return "illegal function";
    case 2:
        return "illegal data address";
    case 3:
        return "illegal data value";
    case 4:
        return "server device failure";
    case 5:
        return "acknowledge";
    case 6:
        return "server device busy";
    case 8:
        return "memory parity error";
    case 10:
        return "gateway path unavailable";
    case 11:
        return "gateway target device failed to respond";
    default:
        return "unknown exception";
    }
}

/* What a person should do about an exception. */
static const char *exception_advice(int code)
{
    switch (code) {
    case 1:
        return "the device does not support this function";
    case 2:
        return "the address does not exist on this model or firmware: check the profile";
    case 3:
        return "the value or quantity is not accepted: check the limits in the profile";
    case 4:
        return "the device reports an internal failure: power-cycle it and read its event log";
    case 5:
    case 6:
        return "the device is busy: retry in a moment";
    case 10:
    case 11:
        return "the gateway cannot reach the unit: check its serial side and the unit id";
    default:
        return "see the device's documentation";
    }
}

/* --- lifecycle --------------------------------------------------------------------------- */

int transport_new(const transport_config_t *cfg, transport_t **out, char *err, size_t errlen)
{
    transport_t *t = NULL;
    int rc = ACS_EINVAL;
    if (out != NULL)
        *out = NULL;
    if (cfg == NULL || out == NULL) {
        errbuf_printf(err, errlen, "transport: missing configuration");
        goto fail;
    }
    if (cfg->kind == TRANSPORT_RTU) {
        if (cfg->device == NULL || cfg->device[0] == '\0') {
            errbuf_printf(err, errlen, "RTU: no serial device given (--port /dev/ttyUSB0)");
            goto fail;
        }
        if (cfg->baud < 1200 || cfg->baud > 921600) {
            errbuf_printf(err, errlen, "RTU: baud rate %d is outside 1200..921600", cfg->baud);
            goto fail;
        }
        if (cfg->parity != 'N' && cfg->parity != 'E' && cfg->parity != 'O') {
            errbuf_printf(err, errlen, "RTU: parity must be N, E or O");
            goto fail;
        }
        if (cfg->data_bits != 7 && cfg->data_bits != 8) {
            errbuf_printf(err, errlen, "RTU: data bits must be 7 or 8, not %d", cfg->data_bits);
            goto fail;
        }
        if (cfg->stop_bits != 1 && cfg->stop_bits != 2) {
            errbuf_printf(err, errlen, "RTU: stop bits must be 1 or 2, not %d", cfg->stop_bits);
            goto fail;
        }
    } else if (cfg->kind == TRANSPORT_TCP) {
        if (cfg->host == NULL || cfg->host[0] == '\0') {
            errbuf_printf(err, errlen, "TCP: no host given (--tcp HOST:PORT)");
            goto fail;
        }
        if (cfg->port < 1 || cfg->port > 65535) {
            errbuf_printf(err, errlen, "TCP: port %d is outside 1..65535", cfg->port);
            goto fail;
        }
    } else {
        errbuf_printf(err, errlen, "transport: unknown kind %d", (int)cfg->kind);
        goto fail;
    }
    rc = ACS_ENOMEM;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto fail;
    t->cfg = *cfg;
    t->ops = cfg->kind == TRANSPORT_RTU ? &transport_rtu_ops : &transport_tcp_ops;
    t->device = cfg->device != NULL ? strdup(cfg->device) : NULL;
    t->host = cfg->host != NULL ? strdup(cfg->host) : NULL;
    if ((cfg->device != NULL && t->device == NULL) || (cfg->host != NULL && t->host == NULL))
        goto fail;
    t->cfg.device = t->device;
    t->cfg.host = t->host;
    t->unit = 1;
    t->response_ms = cfg->timeout_ms;
    t->turnaround_ms = cfg->turnaround_ms != 0 ? cfg->turnaround_ms : RTU_DEFAULT_TURNAROUND_MS;
    *out = t;
    return 0;
fail:
    if (rc == ACS_ENOMEM)
        errbuf_printf(err, errlen, "transport: out of memory");
    transport_free(t);
    return rc;
}

void transport_free(transport_t *t)
{
    if (t == NULL)
        return;
    transport_close(t);
    free(t->device);
    free(t->host);
    free(t);
}

const transport_ops_t *transport_ops(const transport_t *t)
{
    return t->ops;
}

const transport_config_t *transport_config(const transport_t *t)
{
    return &t->cfg;
}

int transport_open(transport_t *t, char *err, size_t errlen)
{
    if (t == NULL)
        return ACS_EINVAL;
    if (t->ctx != NULL)
        return 0;
    int rc = t->ops->open(t, err, errlen);
    if (rc == 0)
        t->opened_at = transport__now();
    return rc;
}

void transport_close(transport_t *t)
{
    if (t != NULL && t->ctx != NULL)
        t->ops->close(t);
}

void transport__close(transport_t *t)
{
    modbus_close(t->ctx);
    modbus_free(t->ctx);
    t->ctx = NULL;
}

int transport_fd(const transport_t *t)
{
    return t != NULL && t->ctx != NULL ? modbus_get_socket(t->ctx) : -1;
}

int transport_set_unit(transport_t *t, int unit)
{
    return t->ops->set_unit(t, unit);
}

int transport__set_unit(transport_t *t, int unit)
{
    int max = t->cfg.kind == TRANSPORT_RTU ? 247 : 255;
    if (unit < 0 || unit > max)
        return ACS_EINVAL;
    t->unit = unit;
    return 0;
}

int transport_unit(const transport_t *t)
{
    return t->unit;
}

int transport_set_timeouts(transport_t *t, unsigned response_ms, unsigned turnaround_ms)
{
    return t->ops->set_timeouts(t, response_ms, turnaround_ms);
}

int transport__set_timeouts(transport_t *t, unsigned response_ms, unsigned turnaround_ms)
{
    if (response_ms > 600000 || turnaround_ms > 600000)
        return ACS_EINVAL;
    t->response_ms = response_ms;
    t->turnaround_ms = turnaround_ms != 0 ? turnaround_ms : RTU_DEFAULT_TURNAROUND_MS;
    return 0;
}

void transport_set_frame_cb(transport_t *t, transport_frame_cb cb, void *arg)
{
    t->cb = cb;
    t->cb_arg = arg;
}

int transport_last_exception(const transport_t *t)
{
    return t->last_exception;
}

unsigned transport_last_timeout_ms(const transport_t *t)
{
    return t->last_timeout_ms;
}

/* --- FD_SETSIZE guard -------------------------------------------------------------------- */

int transport__fd_guard_before(const char *what, char *err, size_t errlen)
{
    /* The lowest free descriptor is what the next open()/socket() returns; if even that is
     * >= FD_SETSIZE, libmodbus's select() (already in modbus_connect for TCP) would overflow. */
    int probe = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    if (probe < 0 && errno != EBADF) {
        errbuf_printf(err, errlen, "cannot open %s: no file descriptor is free (%s)", what,
                      strerror(errno));
        return ACS_EBUSY;
    }
    if (probe < 0) {
        /* stdin is closed: it is itself the lowest free descriptor, 0. */
        return 0;
    }
    close(probe);
    if (probe >= FD_SETSIZE) {
        errbuf_printf(err, errlen,
                      "cannot open %s: every file descriptor below %d is in use, and libmodbus "
                      "cannot wait on a higher one (close other files or connections first)",
                      what, FD_SETSIZE);
        return ACS_EBUSY;
    }
    return 0;
}

int transport__fd_guard_after(transport_t *t, const char *what, char *err, size_t errlen)
{
    int fd = modbus_get_socket(t->ctx);
    if (fd >= 0 && fd < FD_SETSIZE)
        return 0;
    /* Another thread took the low descriptors between the probe and the connect: move it. */
    int low = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (low >= 0 && low < FD_SETSIZE) {
        close(fd);
        modbus_set_socket(t->ctx, low);
        return 0;
    }
    if (low >= 0)
        close(low);
    errbuf_printf(err, errlen,
                  "cannot use %s: its file descriptor %d is not below %d, which libmodbus "
                  "needs (close other files or connections first)",
                  what, fd, FD_SETSIZE);
    transport__close(t);
    return ACS_EBUSY;
}

/* --- one transaction --------------------------------------------------------------------- */

/* "unit 7 on /dev/ttyUSB0" / "unit 1 at 127.0.0.1:502" */
static void unit_name(const transport_t *t, char *buf, size_t len)
{
    int n;
    if (t->cfg.kind == TRANSPORT_RTU)
        n = snprintf(buf, len, "unit %d on %s", t->unit, t->cfg.device);
    else
        n = snprintf(buf, len, "unit %d at %s:%d", t->unit, t->cfg.host, t->cfg.port);
    if (n < 0 && len > 0)
        buf[0] = '\0';
}

/* "19200 8E1" */
static void line_name(const transport_t *t, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%d %d%c%d", t->cfg.baud, t->cfg.data_bits, t->cfg.parity,
                     t->cfg.stop_bits);
    if (n < 0 && len > 0)
        buf[0] = '\0';
}

static void emit(transport_t *t, transport_dir_t dir, transport_frame_status_t status,
                 const uint8_t *bytes, size_t len, double sent_at, uint8_t exception)
{
    if (t->cb == NULL)
        return;
    transport_frame_t f;
    memset(&f, 0, sizeof(f));
    double now = transport__now();
    f.t = now - t->opened_at;
    f.wall = wall_now();
    f.elapsed_ms = dir == TRANSPORT_RX ? (now - sent_at) * 1000.0 : 0;
    f.dir = dir;
    f.status = status;
    f.unit = t->unit;
    f.exception = exception;
    f.len = len < sizeof(f.bytes) ? len : sizeof(f.bytes);
    if (bytes != NULL && f.len > 0)
        memcpy(f.bytes, bytes, f.len);
    t->cb(&f, t->cb_arg);
}

/* Length of an RTU reply ADU in buf as libmodbus framed it (from its function code). */
static size_t rtu_adu_length(const uint8_t *buf)
{
    uint8_t fc = buf[1];
    if (fc & 0x80)
        return 5;
    if (fc <= 4)
        return 3 + (size_t)buf[2] + 2;
    return 8;
}

/* Read an FC 43 reply from the descriptor until complete or the deadline. Returns its length
 * in buf, or -1 with errno (ETIMEDOUT when incomplete; EMBBADDATA when it cannot be one). */
static int receive_mei(transport_t *t, uint8_t *buf, size_t cap, double deadline)
{
    int fd = modbus_get_socket(t->ctx);
    size_t have = 0;
    size_t hdr = t->cfg.kind == TRANSPORT_RTU ? 1 : 7;
    for (;;) {
        size_t want = 0;
        if (t->cfg.kind == TRANSPORT_TCP && have >= 7) {
            want = 6 + ((size_t)buf[4] << 8 | buf[5]);
            if (want < 8 || want > cap) {
                errno = EMBBADDATA;
                return -1;
            }
        } else if (t->cfg.kind == TRANSPORT_RTU && have > hdr) {
            int l = transport_mei_reply_length(buf + hdr, have - hdr);
            if (l < 0) {
                errno = EMBBADDATA;
                return -1;
            }
            want = l > 0 ? hdr + (size_t)l + 2 : 0;
        }
        if (want != 0 && have >= want)
            return (int)want;
        double left = deadline - transport__now();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)ceil(left * 1000.0));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0)
            continue;
        size_t room = (want != 0 ? want : cap) - have;
        if (room == 0) {
            errno = EMBMDATA;
            return -1;
        }
        ssize_t got = read(fd, buf + have, room);
        if (got == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        have += (size_t)got;
    }
}

static unsigned request_timeout(const transport_t *t, size_t pdu_len, size_t expected_pdu)
{
    if (t->response_ms != 0)
        return t->response_ms;
    if (t->cfg.kind == TRANSPORT_TCP)
        return TCP_DEFAULT_TIMEOUT_MS;
    /* address + PDU + CRC each way; an unknown reply length is taken at the RTU maximum. */
    size_t rsp = expected_pdu != 0 ? expected_pdu + 3 : 256;
    return transport_rtu_timeout_ms(t->cfg.baud, t->cfg.data_bits, t->cfg.parity, t->cfg.stop_bits,
                                    pdu_len + 3, rsp, t->turnaround_ms);
}

int transport__raw(transport_t *t, const uint8_t *pdu, size_t len, uint8_t *rsp, size_t cap,
                   size_t *rsp_len, char *err, size_t errlen)
{
    uint8_t req[TRANSPORT_ADU_MAX], buf[TRANSPORT_ADU_MAX];
    char who[TRANSPORT_NAME_MAX], line[32];
    int rc = ACS_EINVAL;
    if (rsp_len != NULL)
        *rsp_len = 0;
    t->last_exception = 0;
    if (pdu == NULL || len < 1 || len > TRANSPORT_PDU_MAX || rsp == NULL || rsp_len == NULL) {
        errbuf_printf(err, errlen, "transport: bad request");
        goto done;
    }
    if (t->ctx == NULL && (rc = transport_open(t, err, errlen)) != 0)
        goto done;
    unit_name(t, who, sizeof(who));
    line_name(t, line, sizeof(line));
    size_t expected = transport_expected_reply_pdu(pdu, len);
    unsigned ms = request_timeout(t, len, expected);
    t->last_timeout_ms = ms;
    modbus_set_response_timeout(t->ctx, ms / 1000, (ms % 1000) * 1000);
    if (t->cfg.kind == TRANSPORT_RTU) {
        /* Between two bytes of one reply: a few character times plus the adapter's latency. */
        unsigned byte_ms = transport_rtu_timeout_ms(t->cfg.baud, t->cfg.data_bits, t->cfg.parity,
                                                    t->cfg.stop_bits, 4, 0, 20);
        modbus_set_byte_timeout(t->ctx, byte_ms / 1000, (byte_ms % 1000) * 1000);
    }
    modbus_set_slave(t->ctx, t->unit);
    /* A late reply to an earlier request must not be taken for this one's. */
    modbus_flush(t->ctx);

    req[0] = (uint8_t)t->unit;
    memcpy(req + 1, pdu, len);
    uint8_t wire[TRANSPORT_ADU_MAX];
    size_t wire_len;
    if (t->cfg.kind == TRANSPORT_RTU) {
        memcpy(wire, req, len + 1);
        uint16_t crc = transport_crc16(req, len + 1);
        wire[len + 1] = (uint8_t)(crc & 0xFF);
        wire[len + 2] = (uint8_t)(crc >> 8);
        wire_len = len + 3;
    } else {
        /* libmodbus 3.1.6 sends raw requests with transaction id 0. */
        wire[0] = wire[1] = wire[2] = wire[3] = 0;
        wire[4] = (uint8_t)((len + 1) >> 8);
        wire[5] = (uint8_t)((len + 1) & 0xFF);
        memcpy(wire + 6, req, len + 1);
        wire_len = len + 7;
    }
    double sent_at = transport__now();
    if (modbus_send_raw_request(t->ctx, req, (int)(len + 1)) < 0) {
        int e = errno;
        errbuf_printf(err, errlen, "cannot send to %s: %s (%s)", who, modbus_strerror(e),
                      t->cfg.kind == TRANSPORT_RTU
                          ? "is the adapter still plugged in?"
                          : "the connection was closed; check the device and the network");
        transport_close(t);
        rc = ACS_EIO;
        goto done;
    }
    emit(t, TRANSPORT_TX, TRANSPORT_FRAME_OK, wire, wire_len, sent_at, 0);

    int n;
    if (pdu[0] == 0x2B)
        n = receive_mei(t, buf, sizeof(buf), sent_at + ms / 1000.0);
    else
        n = modbus_receive_confirmation(t->ctx, buf);
    int e = errno;
    size_t hdr = t->cfg.kind == TRANSPORT_RTU ? 1 : 7;
    size_t tail = t->cfg.kind == TRANSPORT_RTU ? 2 : 0;

    if (n < 0 && e == ETIMEDOUT) {
        emit(t, TRANSPORT_RX, TRANSPORT_FRAME_TIMEOUT, NULL, 0, sent_at, 0);
        if (t->cfg.kind == TRANSPORT_RTU)
            errbuf_printf(err, errlen,
                          "%s did not answer within %u ms at %s (check wiring, termination, "
                          "baud and parity)",
                          who, ms, line);
        else
            errbuf_printf(err, errlen,
                          "%s did not answer within %u ms (check that the device is powered and "
                          "its unit id; behind a gateway, the gateway's serial side)",
                          who, ms);
        rc = ACS_ETIMEDOUT;
        goto done;
    }
    if (n < 0 && e == EMBBADCRC) {
        /* Our own FC 43 receive never sets EMBBADCRC, so buf was framed by libmodbus. */
        emit(t, TRANSPORT_RX, TRANSPORT_FRAME_CRC_ERROR, buf, rtu_adu_length(buf), sent_at, 0);
        errbuf_printf(err, errlen,
                      "%s answered with a bad CRC at %s (check termination and shield grounding, "
                      "a second master on the line, or a baud/parity mismatch)",
                      who, line);
        rc = ACS_EIO;
        goto done;
    }
    if (n == 0 && t->cfg.kind == TRANSPORT_RTU) {
        /* libmodbus 3.1.6 returns 0 for an RTU reply that carries another unit id. */
        emit(t, TRANSPORT_RX, TRANSPORT_FRAME_WRONG_UNIT, buf, rtu_adu_length(buf), sent_at, 0);
        errbuf_printf(err, errlen,
                      "the reply to %s came from unit %d (two devices share an id on this line, "
                      "or a device is set to the wrong id)",
                      who, buf[0]);
        rc = ACS_EIO;
        goto done;
    }
    if (n < 0 && (e == EMBBADDATA || e == EMBMDATA)) {
        emit(t, TRANSPORT_RX, TRANSPORT_FRAME_MALFORMED, NULL, 0, sent_at, 0);
        errbuf_printf(err, errlen, "%s sent a reply that is not Modbus (%s)", who,
                      modbus_strerror(e));
        rc = ACS_EIO;
        goto done;
    }
    if (n < 0) {
        emit(t, TRANSPORT_RX, TRANSPORT_FRAME_MALFORMED, NULL, 0, sent_at, 0);
        errbuf_printf(err, errlen, "lost the link to %s: %s (%s)", who, modbus_strerror(e),
                      t->cfg.kind == TRANSPORT_RTU ? "is the adapter still plugged in?"
                                                   : "check the device and the network");
        transport_close(t);
        rc = ACS_EIO;
        goto done;
    }
    if ((size_t)n < hdr + 1 + tail) {
        emit(t, TRANSPORT_RX, TRANSPORT_FRAME_MALFORMED, buf, (size_t)n, sent_at, 0);
        errbuf_printf(err, errlen, "%s sent a reply of only %d bytes", who, n);
        rc = ACS_EIO;
        goto done;
    }
    if (t->cfg.kind == TRANSPORT_RTU && pdu[0] == 0x2B) {
        uint16_t crc = transport_crc16(buf, (size_t)n - 2);
        if (buf[n - 2] != (crc & 0xFF) || buf[n - 1] != (crc >> 8)) {
            emit(t, TRANSPORT_RX, TRANSPORT_FRAME_CRC_ERROR, buf, (size_t)n, sent_at, 0);
            errbuf_printf(err, errlen,
                          "%s answered with a bad CRC at %s (check termination and shield "
                          "grounding, a second master on the line, or a baud/parity mismatch)",
                          who, line);
            rc = ACS_EIO;
            goto done;
        }
    }
    const uint8_t *rpdu = buf + hdr;
    size_t rlen = (size_t)n - hdr - tail;
    uint8_t exc = 0;
    transport_frame_status_t st =
        transport_classify(pdu[0], t->unit, buf[hdr - 1], rpdu, rlen, expected, &exc);
    emit(t, TRANSPORT_RX, st, buf, (size_t)n, sent_at, exc);
    switch (st) {
    case TRANSPORT_FRAME_OK:
        break;
    case TRANSPORT_FRAME_WRONG_UNIT:
        errbuf_printf(err, errlen,
                      "the reply to %s came from unit %d (two devices share an id, or a "
                      "gateway maps the unit wrongly)",
                      who, buf[hdr - 1]);
        rc = ACS_EIO;
        goto done;
    case TRANSPORT_FRAME_EXCEPTION:
        t->last_exception = exc;
        errbuf_printf(err, errlen, "%s refused FC %02u: exception %02u %s (%s)", who,
                      (unsigned)pdu[0], (unsigned)exc, transport_exception_name(exc),
                      exception_advice(exc));
        rc = (exc == 5 || exc == 6) ? ACS_EBUSY : ACS_EIO;
        goto done;
    default:
        errbuf_printf(err, errlen,
                      "%s answered FC %02u with a malformed reply (function %02u, %zu bytes)", who,
                      (unsigned)pdu[0], (unsigned)rpdu[0], rlen);
        rc = ACS_EIO;
        goto done;
    }
    if (rlen > cap) {
        errbuf_printf(err, errlen, "%s: reply of %zu bytes does not fit", who, rlen);
        rc = ACS_ETOOBIG;
        goto done;
    }
    memcpy(rsp, rpdu, rlen);
    *rsp_len = rlen;
    rc = 0;
done:
    return rc;
}

int transport_raw(transport_t *t, const uint8_t *pdu, size_t len, uint8_t *rsp, size_t cap,
                  size_t *rsp_len, char *err, size_t errlen)
{
    return t->ops->raw(t, pdu, len, rsp, cap, rsp_len, err, errlen);
}

/* --- function codes ---------------------------------------------------------------------- */

int transport__read(transport_t *t, int fc, uint16_t addr, uint16_t count, void *out, char *err,
                    size_t errlen)
{
    uint8_t pdu[5], rsp[TRANSPORT_PDU_MAX];
    size_t n = 0;
    unsigned max = (fc == 1 || fc == 2) ? 2000 : 125;
    if (fc < 1 || fc > 4 || out == NULL || count == 0 || count > max) {
        errbuf_printf(err, errlen, "read: FC %d of %u items is not a valid request", fc,
                      (unsigned)count);
        return ACS_EINVAL;
    }
    pdu[0] = (uint8_t)fc;
    pdu[1] = (uint8_t)(addr >> 8);
    pdu[2] = (uint8_t)(addr & 0xFF);
    pdu[3] = (uint8_t)(count >> 8);
    pdu[4] = (uint8_t)(count & 0xFF);
    int rc = transport__raw(t, pdu, sizeof(pdu), rsp, sizeof(rsp), &n, err, errlen);
    if (rc != 0)
        return rc;
    /* transport__raw checked the length against the request; check the byte count too. */
    if (rsp[1] != n - 2) {
        errbuf_printf(err, errlen, "unit %d: byte count %u does not match the reply", t->unit,
                      (unsigned)rsp[1]);
        return ACS_EIO;
    }
    if (fc <= 2) {
        uint8_t *bits = out;
        for (unsigned i = 0; i < count; i++)
            bits[i] = (uint8_t)((rsp[2 + i / 8] >> (i % 8)) & 1);
    } else {
        uint16_t *words = out;
        for (unsigned i = 0; i < count; i++)
            words[i] = (uint16_t)(rsp[2 + 2 * i] << 8 | rsp[3 + 2 * i]);
    }
    return 0;
}

int transport__write(transport_t *t, int fc, uint16_t addr, uint16_t count, const void *values,
                     char *err, size_t errlen)
{
    uint8_t pdu[TRANSPORT_PDU_MAX], rsp[TRANSPORT_PDU_MAX];
    size_t len = 0, n = 0;
    if (values == NULL)
        goto bad;
    pdu[1] = (uint8_t)(addr >> 8);
    pdu[2] = (uint8_t)(addr & 0xFF);
    if (fc == 5 || fc == 6) {
        if (count != 1)
            goto bad;
        uint16_t v =
            fc == 5 ? (*(const uint8_t *)values ? 0xFF00 : 0x0000) : *(const uint16_t *)values;
        pdu[3] = (uint8_t)(v >> 8);
        pdu[4] = (uint8_t)(v & 0xFF);
        len = 5;
    } else if (fc == 15 || fc == 16) {
        size_t bytes = fc == 15 ? ((size_t)count + 7) / 8 : 2 * (size_t)count;
        if (count == 0 || (fc == 15 && count > 1968) || (fc == 16 && count > 123))
            goto bad;
        pdu[3] = (uint8_t)(count >> 8);
        pdu[4] = (uint8_t)(count & 0xFF);
        pdu[5] = (uint8_t)bytes;
        memset(pdu + 6, 0, bytes);
        for (unsigned i = 0; i < count; i++) {
            if (fc == 15) {
                if (((const uint8_t *)values)[i])
                    pdu[6 + i / 8] |= (uint8_t)(1u << (i % 8));
            } else {
                uint16_t v = ((const uint16_t *)values)[i];
                pdu[6 + 2 * i] = (uint8_t)(v >> 8);
                pdu[7 + 2 * i] = (uint8_t)(v & 0xFF);
            }
        }
        len = 6 + bytes;
    } else {
        goto bad;
    }
    pdu[0] = (uint8_t)fc;
    int rc = transport__raw(t, pdu, len, rsp, sizeof(rsp), &n, err, errlen);
    if (rc != 0)
        return rc;
    /* FC 5/6 echo the request; FC 15/16 echo address and quantity. */
    if (memcmp(rsp, pdu, 5) != 0) {
        errbuf_printf(err, errlen, "unit %d: the write reply does not echo the request", t->unit);
        return ACS_EIO;
    }
    return 0;
bad:
    errbuf_printf(err, errlen, "write: FC %d of %u items is not a valid request", fc,
                  (unsigned)count);
    return ACS_EINVAL;
}

int transport_read(transport_t *t, int fc, uint16_t addr, uint16_t count, void *out, char *err,
                   size_t errlen)
{
    return t->ops->read(t, fc, addr, count, out, err, errlen);
}

int transport_write(transport_t *t, int fc, uint16_t addr, uint16_t count, const void *values,
                    char *err, size_t errlen)
{
    return t->ops->write(t, fc, addr, count, values, err, errlen);
}

int transport_read_device_id(transport_t *t, transport_devid_t *out, char *err, size_t errlen)
{
    uint8_t rsp[TRANSPORT_PDU_MAX];
    transport_devid_t part;
    uint8_t next = 0;
    if (out == NULL)
        return ACS_EINVAL;
    memset(out, 0, sizeof(*out));
    for (int round = 0; round < 8; round++) {
        uint8_t pdu[4] = {0x2B, 0x0E, 0x01, next};
        size_t n = 0;
        int rc = transport_raw(t, pdu, sizeof(pdu), rsp, sizeof(rsp), &n, err, errlen);
        if (rc != 0)
            return rc;
        rc = transport_parse_device_id(rsp, n, &part, err, errlen);
        if (rc != 0)
            return rc;
        if (part.vendor_name[0] != '\0')
            memcpy(out->vendor_name, part.vendor_name, sizeof(out->vendor_name));
        if (part.product_code[0] != '\0')
            memcpy(out->product_code, part.product_code, sizeof(out->product_code));
        if (part.revision[0] != '\0')
            memcpy(out->revision, part.revision, sizeof(out->revision));
        out->conformity = part.conformity;
        if (!part.more_follows || part.next_object <= next || part.next_object > 2)
            return 0;
        next = part.next_object;
    }
    return 0;
}
