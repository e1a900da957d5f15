/* SPDX-License-Identifier: MIT */
/*
 * bus_rtu.c - the Modbus RTU transport of acs-sim: an RS-485 line played by a
 * pseudo-terminal. acs-sim holds the master side; a client (mbpoll, the drivers) opens the
 * slave side, /dev/pts/N, as it would open /dev/ttyUSB0. Several units share the line and
 * each answers only its own unit id.
 *
 * Frames are told apart as on a real line: a frame ends when the line has been silent for
 * 3.5 character times (t3.5; 1.75 ms above 19200 baud). A frame with a bad CRC is dropped
 * without an answer, as a real device does.
 *
 * Pacing (the bus's "pacing": true): replies leave at the configured baud rate, one
 * character every (start + data + parity + stop bits) / baud seconds, and a reply starts only
 * after t3.5 of silence since the last byte in either direction. Without pacing a reply is
 * written at once. With "pace_requests": true a request, which the master writes into the pty
 * at once, is taken to end when its bytes would have arrived at the baud rate, so that a
 * benchmark sees the time both directions take on a real line.
 *
 *   IDLE --bytes in--> RECEIVING --t3.5 silence--> frame: check CRC, dispatch --> IDLE
 *   IDLE --reply queued--> (pacing) WAIT_GAP --t3.5 since last byte--> SENDING --all out--> IDLE
 *
 * acs-sim keeps the slave side open itself: otherwise the master side reports a hang-up
 * whenever no client has the port open, and the slave's termios would be reset to cooked
 * mode with echo between clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "acs_error.h"
#include "mbframe.h"
#include "simbus.h"

static speed_t baud_constant(uint32_t baud)
{
    static const struct {
        uint32_t baud;
        speed_t c;
    } table[] = {
        {1200, B1200},     {2400, B2400},     {4800, B4800},     {9600, B9600},
        {19200, B19200},   {38400, B38400},   {57600, B57600},   {115200, B115200},
        {230400, B230400}, {460800, B460800}, {921600, B921600},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].baud == baud)
            return table[i].c;
    }
    return B19200;
}

struct rtu_frame {
    struct rtu_frame *next;
    size_t len;
    size_t sent;
    uint64_t start_ns; /* pacing: when its first bit went on the line; 0 before */
    uint8_t data[MBFRAME_RTU_MAX];
};

static void on_poll(uv_poll_t *p, int status, int events);

static void update_poll(simbus_t *bus, int want_write)
{
    int events = UV_READABLE | (want_write ? UV_WRITABLE : 0);
    if (events != bus->poll_events && !bus->closing) {
        bus->poll_events = events;
        uv_poll_start(&bus->poll, events, on_poll);
    }
}

static void on_pace(uv_timer_t *t);

/* Writes what may leave now. Without pacing: every queued byte. With pacing: the bytes of the
 * frame at the head whose last bit is on the line by now; the next frame waits for t3.5 of
 * silence. */
static void tx_pump(simbus_t *bus)
{
    uint64_t now = uv_hrtime();
    int pacing = bus->cfg->pacing;
    int blocked = 0;
    while (bus->txq_head != NULL) {
        struct rtu_frame *f = bus->txq_head;
        size_t target = f->len;
        if (pacing) {
            if (f->start_ns == 0) {
                uint64_t quiet =
                    bus->last_tx_ns > bus->last_rx_ns ? bus->last_tx_ns : bus->last_rx_ns;
                if (now < quiet + bus->t35_ns)
                    break;
                f->start_ns = now;
            }
            uint64_t done = (now - f->start_ns) / bus->char_ns;
            if (done < target)
                target = (size_t)done;
        }
        while (f->sent < target) {
            ssize_t n = write(bus->master_fd, f->data + f->sent, target - f->sent);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                blocked = 1; /* EAGAIN: the pty buffer is full */
                break;
            }
            f->sent += (size_t)n;
        }
        if (blocked || f->sent < f->len)
            break;
        bus->last_tx_ns = pacing ? f->start_ns + f->len * bus->char_ns : now;
        bus->txq_head = f->next;
        if (bus->txq_head == NULL)
            bus->txq_tail = NULL;
        free(f);
    }
    update_poll(bus, blocked);
    if (pacing && bus->txq_head != NULL && !bus->pace_running && !bus->closing) {
        bus->pace_running = 1;
        uv_timer_start(&bus->pace_timer, on_pace, 1, 1);
    } else if (bus->pace_running && bus->txq_head == NULL) {
        bus->pace_running = 0;
        uv_timer_stop(&bus->pace_timer);
    }
}

static void on_pace(uv_timer_t *t)
{
    tx_pump(t->data);
}

static void rtu_send(simbus_t *bus, void *conn, const uint8_t *adu, size_t len)
{
    (void)conn;
    if (bus->closing || len > MBFRAME_RTU_MAX)
        return;
    struct rtu_frame *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return;
    memcpy(f->data, adu, len);
    f->len = len;
    if (bus->txq_tail != NULL)
        bus->txq_tail->next = f;
    else
        bus->txq_head = f;
    bus->txq_tail = f;
    tx_pump(bus);
}

static size_t rtu_frame(const simbus_t *bus, const void *request_ctx, uint8_t unit,
                        const uint8_t *pdu, size_t pdu_len, int bad_crc, uint8_t *out, size_t cap)
{
    (void)bus;
    (void)request_ctx;
    size_t n = mbframe_rtu_build(out, cap, unit, pdu, pdu_len);
    if (n > 0 && bad_crc) {
        out[n - 2] ^= 0xFF;
        out[n - 1] ^= 0xFF;
    }
    return n;
}

/* The line has been silent for t3.5: what came in is one frame. */
static void end_of_frame(simbus_t *bus)
{
    size_t len = bus->rx_len;
    int overflow = bus->rx_overflow;
    bus->rx_len = 0;
    bus->rx_overflow = 0;
    if (overflow || len < 4)
        return; /* noise or a frame too long for Modbus: dropped */
    if (mbframe_rtu_check(bus->rx, len) != 0) {
        bus->crc_errors++;
        return;
    }
    uint8_t frame[sizeof(bus->rx)];
    memcpy(frame, bus->rx, len);
    simbus__dispatch(bus, NULL, NULL, frame[0], frame + 1, len - 3);
}

static void arm_gap(simbus_t *bus);

static void on_gap(uv_timer_t *t)
{
    simbus_t *bus = t->data;
    uint64_t now = uv_hrtime();
    if (now < bus->last_rx_ns + bus->t35_ns) {
        arm_gap(bus);
        return;
    }
    end_of_frame(bus);
    tx_pump(bus);
}

static void arm_gap(simbus_t *bus)
{
    /* libuv timers count whole milliseconds from a clock that may lag by up to 1 ms; on_gap
     * checks the real silence and re-arms when the timer came early. */
    uint64_t left_ns = bus->last_rx_ns + bus->t35_ns - uv_hrtime();
    uint64_t ms = (left_ns + 999999) / 1000000 + 1;
    uv_update_time(bus->loop);
    uv_timer_start(&bus->gap_timer, on_gap, ms, 0);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    simbus_t *bus = p->data;
    if (status < 0)
        return;
    if (events & UV_WRITABLE)
        tx_pump(bus);
    if (!(events & UV_READABLE))
        return;
    uint8_t buf[256];
    for (;;) {
        ssize_t n = read(bus->master_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        bus->last_rx_ns = uv_hrtime();
        if (bus->rx_len == 0)
            bus->rx_first_ns = bus->last_rx_ns;
        size_t room = sizeof(bus->rx) - bus->rx_len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(bus->rx + bus->rx_len, buf, take);
        bus->rx_len += take;
        if (take < (size_t)n || bus->rx_len > MBFRAME_RTU_MAX)
            bus->rx_overflow = 1;
    }
    if (bus->cfg->pace_requests && bus->rx_len > 0) {
        /* A master on a pty writes a frame at once; on a line its last byte arrives one
         * character time per byte after the first. The frame ends t3.5 after that. */
        uint64_t line_end = bus->rx_first_ns + bus->rx_len * bus->char_ns;
        if (line_end > bus->last_rx_ns)
            bus->last_rx_ns = line_end;
    }
    if (bus->rx_len > 0 || bus->rx_overflow)
        arm_gap(bus);
}

static int rtu_start(simbus_t *bus, char *err, size_t errlen)
{
    const site_bus_t *cfg = bus->cfg;
    const char *what = "posix_openpt";
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        goto fail;
    bus->master_fd = fd;
    what = "grantpt";
    if (grantpt(fd) != 0)
        goto fail;
    what = "unlockpt";
    if (unlockpt(fd) != 0)
        goto fail;
    what = "ptsname";
    char name[64];
    if (ptsname_r(fd, name, sizeof(name)) != 0)
        goto fail;
    what = "open of the slave side";
    bus->slave_fd = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (bus->slave_fd < 0)
        goto fail;
    struct termios tio;
    what = "tcgetattr";
    if (tcgetattr(bus->slave_fd, &tio) != 0)
        goto fail;
    cfmakeraw(&tio);
    cfsetispeed(&tio, baud_constant(cfg->baud));
    cfsetospeed(&tio, baud_constant(cfg->baud));
    tio.c_cflag &= (tcflag_t) ~(CSIZE | PARENB | PARODD | CSTOPB);
    tio.c_cflag |= (tcflag_t)((cfg->data_bits == 7 ? CS7 : CS8) | CLOCAL | CREAD);
    if (cfg->parity != 'N')
        tio.c_cflag |= PARENB | (cfg->parity == 'O' ? PARODD : 0);
    if (cfg->stop_bits == 2)
        tio.c_cflag |= CSTOPB;
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    what = "tcsetattr (raw mode)";
    if (tcsetattr(bus->slave_fd, TCSANOW, &tio) != 0)
        goto fail;

    bus->bits_per_char =
        1u + (unsigned)cfg->data_bits + (cfg->parity != 'N') + (unsigned)cfg->stop_bits;
    bus->char_ns = (uint64_t)bus->bits_per_char * 1000000000u / cfg->baud;
    bus->t35_ns = (uint64_t)mbframe_t35_us(cfg->baud, bus->bits_per_char) * 1000u;

    uv_timer_init(bus->loop, &bus->gap_timer);
    uv_timer_init(bus->loop, &bus->pace_timer);
    bus->gap_timer.data = bus->pace_timer.data = bus;
    bus->open_handles += 2;
    int rc = uv_poll_init(bus->loop, &bus->poll, fd);
    if (rc != 0) {
        snprintf(err, errlen, "bus %s: cannot watch the pseudo-terminal: %s", cfg->name,
                 uv_strerror(rc));
        return ACS_EIO;
    }
    bus->open_handles++;
    bus->poll.data = bus;
    bus->poll_events = UV_READABLE;
    uv_poll_start(&bus->poll, UV_READABLE, on_poll);
    snprintf(bus->address, sizeof(bus->address), "rtu %s", name);
    return 0;

fail:
    snprintf(err, errlen, "bus %s: cannot create its pseudo-terminal: %s failed: %s", cfg->name,
             what, strerror(errno));
    return ACS_EIO;
}

static void handle_closed(uv_handle_t *h)
{
    simbus__handle_done(h->data);
}

static void rtu_close(simbus_t *bus)
{
    while (bus->txq_head != NULL) {
        struct rtu_frame *f = bus->txq_head;
        bus->txq_head = f->next;
        free(f);
    }
    bus->txq_tail = NULL;
    uv_handle_t *handles[] = {(uv_handle_t *)&bus->gap_timer, (uv_handle_t *)&bus->pace_timer,
                              (uv_handle_t *)&bus->poll};
    for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++) {
        if (handles[i]->loop != NULL && !uv_is_closing(handles[i]))
            uv_close(handles[i], handle_closed);
    }
    /* The descriptors outlive the poll handle's close request; libuv no longer watches them
     * once uv_close returned. */
    if (bus->slave_fd >= 0)
        close(bus->slave_fd);
    if (bus->master_fd >= 0)
        close(bus->master_fd);
    bus->slave_fd = bus->master_fd = -1;
}

const simbus_ops_t simbus_rtu_ops = {
    .kind = "rtu",
    .start = rtu_start,
    .send = rtu_send,
    .frame = rtu_frame,
    .close = rtu_close,
};
