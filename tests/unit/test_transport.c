/* SPDX-License-Identifier: MIT */
/*
 * test_transport.c - unit tests of the pure parts of the Modbus transports and the bus
 * (drivers/transport.h, drivers/bus.h): the derived RTU timeout, reply classification, FC 43/14
 * reply framing and parsing, the CRC; the FD_SETSIZE guard with more than 1024 descriptors
 * open (run under ASan: a clear error or a low descriptor, never an overflow); and the bus
 * worker delivering results to a libuv loop in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acs_error.h"
#include "bus.h"
#include "transport.h"

static void test_crc(void **state)
{
    (void)state;
    /* CRC-16/MODBUS check value, and a known RTU request: 01 04 00 00 00 01 -> 31 CA. */
    assert_int_equal(transport_crc16((const uint8_t *)"123456789", 9), 0x4B37);
    const uint8_t req[] = {0x01, 0x04, 0x00, 0x00, 0x00, 0x01};
    assert_int_equal(transport_crc16(req, sizeof(req)), 0xCA31);
}

static void test_timeout_formula(void **state)
{
    (void)state;
    /* 19200 8E1: 11 bits, 0.5729 ms a character. Scan read: 8 + 7 bytes = 8.59 ms, two gaps
     * of 3.5 characters = 4.01 ms, turnaround 50 -> 62.6 -> 63. */
    assert_int_equal(transport_rtu_timeout_ms(19200, 8, 'E', 1, 8, 7, 50), 63);
    /* 9600 8N1 (10 bits): 15 chars = 15.625 ms + 7.29 ms + 50 = 72.9 -> 73. */
    assert_int_equal(transport_rtu_timeout_ms(9600, 8, 'N', 1, 8, 7, 50), 73);
    /* 1200 8N2 (11 bits, 9.17 ms a char), a 125-register read: (8 + 255 + 7) characters
     * = 270 x 11 / 1200 s = 2475 ms, turnaround 0. */
    assert_int_equal(transport_rtu_timeout_ms(1200, 8, 'N', 2, 8, 255, 0), 2475);
    /* Above 19200 baud t3.5 is fixed at 1.75 ms: 115200 8E1, 15 chars = 1.43 ms + 3.5 -> 5. */
    assert_int_equal(transport_rtu_timeout_ms(115200, 8, 'E', 1, 8, 7, 0), 5);
    /* Expected reply lengths from requests. */
    const uint8_t r3[] = {3, 0, 0, 0, 10}, r1[] = {1, 0, 0, 0, 9}, r6[] = {6, 0, 1, 0, 5};
    assert_int_equal(transport_expected_reply_pdu(r3, 5), 22);
    assert_int_equal(transport_expected_reply_pdu(r1, 5), 4);
    assert_int_equal(transport_expected_reply_pdu(r6, 5), 5);
    const uint8_t r43[] = {0x2B, 0x0E, 1, 0};
    assert_int_equal(transport_expected_reply_pdu(r43, 4), 0);
}

static void test_classify(void **state)
{
    (void)state;
    uint8_t exc = 99;
    const uint8_t ok[] = {0x04, 0x02, 0x00, 0xC8};
    assert_int_equal(transport_classify(4, 1, 1, ok, 4, 4, &exc), TRANSPORT_FRAME_OK);
    assert_int_equal(exc, 0);
    const uint8_t ex[] = {0x84, 0x02};
    assert_int_equal(transport_classify(4, 1, 1, ex, 2, 4, &exc), TRANSPORT_FRAME_EXCEPTION);
    assert_int_equal(exc, 2);
    assert_int_equal(transport_classify(4, 2, 3, ok, 4, 4, &exc), TRANSPORT_FRAME_WRONG_UNIT);
    /* Unit 0 asks "whoever is there" (TCP): any unit id is accepted. */
    assert_int_equal(transport_classify(4, 0, 9, ok, 4, 4, &exc), TRANSPORT_FRAME_OK);
    assert_int_equal(transport_classify(3, 1, 1, ok, 4, 4, &exc), TRANSPORT_FRAME_MALFORMED);
    assert_int_equal(transport_classify(4, 1, 1, ok, 4, 6, &exc), TRANSPORT_FRAME_MALFORMED);
    const uint8_t exlong[] = {0x84, 0x02, 0x00};
    assert_int_equal(transport_classify(4, 1, 1, exlong, 3, 4, &exc), TRANSPORT_FRAME_MALFORMED);
    assert_string_equal(transport_frame_status_name(TRANSPORT_FRAME_CRC_ERROR), "crc_error");
    assert_string_equal(transport_exception_name(2), "illegal data address");
}

/* 2B 0E 01 82 00 00 03 | 00 04 "ACME" | 01 06 "TC-200" | 02 05 "2.4.0" */
static const uint8_t devid[] = {0x2B, 0x0E, 0x01, 0x82, 0x00, 0x00, 0x03, 0x00, 0x04, 'A',
                                'C',  'M',  'E',  0x01, 0x06, 'T',  'C',  '-',  '2',  '0',
                                '0',  0x02, 0x05, '2',  '.',  '4',  '.',  '0'};

static void test_devid_parse(void **state)
{
    (void)state;
    transport_devid_t id;
    char err[256];
    assert_int_equal(transport_parse_device_id(devid, sizeof(devid), &id, err, sizeof(err)), 0);
    assert_string_equal(id.vendor_name, "ACME");
    assert_string_equal(id.product_code, "TC-200");
    assert_string_equal(id.revision, "2.4.0");
    assert_int_equal(id.conformity, 0x82);
    assert_false(id.more_follows);
    /* Framing: incomplete prefixes need more bytes, the whole reply has its length. */
    for (size_t n = 0; n < sizeof(devid); n++)
        assert_int_equal(transport_mei_reply_length(devid, n), 0);
    assert_int_equal(transport_mei_reply_length(devid, sizeof(devid)), (int)sizeof(devid));
    const uint8_t exc[] = {0xAB, 0x01};
    assert_int_equal(transport_mei_reply_length(exc, 1), 2);
    const uint8_t other[] = {0x03, 0x02};
    assert_int_equal(transport_mei_reply_length(other, 2), -1);
    /* Truncated object, trailing bytes, wrong function: refused with a sentence. */
    assert_int_equal(transport_parse_device_id(devid, sizeof(devid) - 1, &id, err, sizeof(err)),
                     ACS_EINVAL);
    assert_non_null(strstr(err, "object 3 of 3"));
    uint8_t longer[sizeof(devid) + 1];
    memcpy(longer, devid, sizeof(devid));
    longer[sizeof(devid)] = 0;
    assert_int_equal(transport_parse_device_id(longer, sizeof(longer), &id, err, sizeof(err)),
                     ACS_EINVAL);
    assert_int_equal(transport_parse_device_id(other, 2, &id, err, sizeof(err)), ACS_EINVAL);
    /* Non-printable bytes are shown as '?', more-follows is reported. */
    uint8_t odd[] = {0x2B, 0x0E, 0x01, 0x01, 0xFF, 0x01, 0x01, 0x00, 0x02, 'A', 0x07};
    assert_int_equal(transport_parse_device_id(odd, sizeof(odd), &id, err, sizeof(err)), 0);
    assert_string_equal(id.vendor_name, "A?");
    assert_true(id.more_follows);
    assert_int_equal(id.next_object, 1);
}

/* A listening socket on 127.0.0.1 that never answers: connects succeed (backlog). */
static int listener(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 16), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return s;
}

static void test_fd_setsize_guard(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < FD_SETSIZE + 200) {
        skip();
        return;
    }
    struct rlimit saved = rl;
    rl.rlim_cur = FD_SETSIZE + 200;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    int port = 0, ls = listener(&port);
    /* Fill every descriptor up to ~1100. */
    static int fds[FD_SETSIZE + 100];
    size_t nfds = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        fds[nfds++] = fd;
        if (fd >= FD_SETSIZE + 75)
            break;
    }
    assert_true(nfds > FD_SETSIZE - 10);

    transport_config_t cfg = {
        .kind = TRANSPORT_TCP, .host = "127.0.0.1", .port = port, .timeout_ms = 100};
    transport_t *t = NULL;
    char err[512] = "";
    assert_int_equal(transport_new(&cfg, &t, err, sizeof(err)), 0);
    /* No descriptor below 1024 is free: a clear refusal, no connect, no select. */
    assert_int_equal(transport_open(t, err, sizeof(err)), ACS_EBUSY);
    assert_non_null(strstr(err, "below 1024"));
    assert_int_equal(transport_fd(t), -1);

    /* Free one low descriptor: the link works on it, and a request times out cleanly. */
    int freed = fds[500];
    close(freed);
    fds[500] = -1;
    assert_int_equal(transport_open(t, err, sizeof(err)), 0);
    assert_int_equal(transport_fd(t), freed);
    uint16_t w;
    assert_int_equal(transport_read(t, 4, 0, 1, &w, err, sizeof(err)), ACS_ETIMEDOUT);
    assert_non_null(strstr(err, "did not answer within 100 ms"));
    transport_free(t);

    for (size_t i = 0; i < nfds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    close(ls);
    setrlimit(RLIMIT_NOFILE, &saved);
}

/* --- bus --------------------------------------------------------------------------------- */

typedef struct {
    int index;
    pthread_t loop_thread;
    int *order;
    int *ndone;
} job_t;

static int job_work(transport_t *t, void *arg)
{
    job_t *j = arg;
    assert_null(t);
    /* Work runs on the worker, not on the loop thread. */
    assert_false(pthread_equal(pthread_self(), j->loop_thread));
    return j->index % 3 == 0 ? ACS_EIO : 0;
}

static void job_done(int status, void *arg)
{
    job_t *j = arg;
    assert_true(pthread_equal(pthread_self(), j->loop_thread));
    assert_int_equal(status, j->index % 3 == 0 ? ACS_EIO : 0);
    j->order[(*j->ndone)++] = j->index;
}

static int sync_work(transport_t *t, void *arg)
{
    (void)t;
    *(int *)arg = 42;
    return ACS_ETIMEDOUT;
}

static void test_bus_delivers_on_loop(void **state)
{
    (void)state;
    uv_loop_t loop;
    bus_t *b = NULL;
    char err[256];
    enum { N = 50 };
    job_t jobs[N];
    int order[N], ndone = 0;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(bus_new(&loop, NULL, &b, err, sizeof(err)), 0);
    for (int i = 0; i < N; i++) {
        jobs[i] =
            (job_t){.index = i, .loop_thread = pthread_self(), .order = order, .ndone = &ndone};
        assert_int_equal(bus_submit(b, job_work, job_done, &jobs[i]), 0);
    }
    while (ndone < N)
        uv_run(&loop, UV_RUN_ONCE);
    for (int i = 0; i < N; i++)
        assert_int_equal(order[i], i); /* one worker: in submission order */
    bus_free(b);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    /* Without a loop: only the blocking form. */
    int v = 0;
    assert_int_equal(bus_new(NULL, NULL, &b, err, sizeof(err)), 0);
    assert_int_equal(bus_submit(b, job_work, job_done, &jobs[0]), ACS_EINVAL);
    assert_int_equal(bus_run(b, sync_work, &v), ACS_ETIMEDOUT);
    assert_int_equal(v, 42);
    bus_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc),
        cmocka_unit_test(test_timeout_formula),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_devid_parse),
        cmocka_unit_test(test_fd_setsize_guard),
        cmocka_unit_test(test_bus_delivers_on_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
