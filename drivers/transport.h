/* SPDX-License-Identifier: MIT */
/*
 * transport.h - one interface to a Modbus master link, whatever carries it: Modbus RTU on a
 * serial device or pseudo-terminal (transport_rtu.c) and Modbus TCP (transport_tcp.c), both
 * over libmodbus, each behind a const table of function pointers (transport_ops_t) as
 * libmodbus's own backends are. A recorded trace or OSDP would be one more table.
 *
 * Every request leaves through modbus_send_raw_request and every reply is taken with
 * modbus_receive_confirmation (FC 43 replies, whose length libmodbus 3.1.6 cannot frame, are
 * read from the descriptor here), so the exact bytes of each frame are known and handed to
 * a frame callback with a timestamp and a status (ok, timeout, crc_error, exception,
 * wrong_unit, malformed): the raw frames a diagnostic session keeps.
 *
 * Errors follow core/acs_error.h: 0 or a negative ACS_E* code, and a sentence a person can act
 * on in the caller's buffer, naming unit, port and line settings:
 *   unit 7 on /dev/ttyUSB0 did not answer within 120 ms at 19200 8E1 (check wiring,
 *   termination, baud and parity)
 *
 * A transport is NOT thread-safe and its calls block (libmodbus): use one from one thread at a
 * time - bus.h gives each bus its own worker thread. Never call it on an event loop thread.
 *
 * File descriptors: libmodbus 3.1.6 waits with select(), which cannot watch a descriptor
 * >= FD_SETSIZE (1024) without overflowing its fd_set. transport_open makes that impossible:
 * it refuses to connect when no descriptor below FD_SETSIZE is free, and after connecting
 * moves a high descriptor below FD_SETSIZE or closes it and fails (ACS_EBUSY).
 */
#ifndef ACS_TRANSPORT_H
#define ACS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/* Largest Modbus ADU (TCP: 7-byte MBAP header + 253-byte PDU; RTU: 256 bytes). */
#define TRANSPORT_ADU_MAX 260
/* Largest PDU (function code + data). */
#define TRANSPORT_PDU_MAX 253
/* Longest text a transport puts in an error sentence for its endpoint. */
#define TRANSPORT_NAME_MAX 300
/* Longest FC 43/14 object value kept (the profile limit for identification strings). */
#define TRANSPORT_DEVID_MAX 64

typedef enum { TRANSPORT_RTU = 0, TRANSPORT_TCP = 1 } transport_kind_t;

/* Where and how to connect. Strings are copied by transport_new. */
typedef struct {
    transport_kind_t kind;
    const char *device;     /* RTU: "/dev/ttyUSB0", "/dev/pts/7" */
    int baud;               /* RTU: 1200..921600 */
    char parity;            /* RTU: 'N', 'E' or 'O' */
    int data_bits;          /* RTU: 7 or 8 */
    int stop_bits;          /* RTU: 1 or 2 */
    const char *host;       /* TCP: "127.0.0.1" */
    int port;               /* TCP: 1..65535 */
    unsigned timeout_ms;    /* response timeout; 0 = derived per request (RTU: from the baud
                               rate, transport_rtu_timeout_ms; TCP: 1000 ms) */
    unsigned turnaround_ms; /* RTU: the device's allowance in the derived timeout; 0 = 50 */
} transport_config_t;

typedef enum { TRANSPORT_TX = 0, TRANSPORT_RX = 1 } transport_dir_t;

/* What became of one frame. A request (TX) is always OK; a timeout has an RX record with no
 * bytes. */
typedef enum {
    TRANSPORT_FRAME_OK = 0,
    TRANSPORT_FRAME_TIMEOUT,    /* no (complete) reply within the response timeout */
    TRANSPORT_FRAME_CRC_ERROR,  /* RTU: the reply's CRC does not match */
    TRANSPORT_FRAME_EXCEPTION,  /* the device answered with an exception code */
    TRANSPORT_FRAME_WRONG_UNIT, /* the reply carries another unit id */
    TRANSPORT_FRAME_MALFORMED   /* another function code, or a length that does not fit */
} transport_frame_status_t;

/* One frame, exactly as on the wire (RTU: address, PDU, CRC; TCP: MBAP header and PDU). */
typedef struct {
    double t;          /* seconds since the transport was opened (monotonic clock) */
    double wall;       /* seconds since 1970 UTC (realtime clock) */
    double elapsed_ms; /* RX: time since its request left; TX: 0 */
    transport_dir_t dir;
    transport_frame_status_t status;
    int unit;          /* the unit addressed (TX) or asked (RX) */
    uint8_t exception; /* TRANSPORT_FRAME_EXCEPTION: the exception code */
    size_t len;
    uint8_t bytes[TRANSPORT_ADU_MAX];
} transport_frame_t;

/* Called on the transport's thread for every frame, before the call that caused it returns.
 * The frame is only valid during the call. */
typedef void (*transport_frame_cb)(const transport_frame_t *frame, void *arg);

/* FC 43/14 basic identification (objects 0x00..0x02); "" for an object not answered. */
typedef struct {
    char vendor_name[TRANSPORT_DEVID_MAX + 1];
    char product_code[TRANSPORT_DEVID_MAX + 1];
    char revision[TRANSPORT_DEVID_MAX + 1];
    uint8_t conformity;  /* conformity level byte of the reply */
    int more_follows;    /* the reply said more objects follow */
    uint8_t next_object; /* where the next request starts when more_follows */
} transport_devid_t;

typedef struct transport transport_t;

/*
 * One backend. Every function gets the transport it belongs to; errors as described above.
 * read: fc 1/2 fill `out` as uint8_t bits (0/1), fc 3/4 as uint16_t words, count items.
 * write: fc 5 (count 1, uint8_t), 6 (count 1, uint16_t), 15 (uint8_t bits), 16 (uint16_t).
 * raw: send `pdu` (function code first) to the current unit; the reply's PDU is written to
 *      rsp (cap bytes) and its length to *rsp_len; an exception reply is ACS_EIO with the
 *      exception in the sentence and in transport_last_exception().
 */
typedef struct transport_ops {
    const char *name; /* "rtu", "tcp" */
    int (*open)(transport_t *t, char *err, size_t errlen);
    void (*close)(transport_t *t);
    int (*read)(transport_t *t, int fc, uint16_t addr, uint16_t count, void *out, char *err,
                size_t errlen);
    int (*write)(transport_t *t, int fc, uint16_t addr, uint16_t count, const void *values,
                 char *err, size_t errlen);
    int (*raw)(transport_t *t, const uint8_t *pdu, size_t len, uint8_t *rsp, size_t cap,
               size_t *rsp_len, char *err, size_t errlen);
    int (*set_unit)(transport_t *t, int unit);
    int (*set_timeouts)(transport_t *t, unsigned response_ms, unsigned turnaround_ms);
    /* "/dev/ttyUSB0 at 19200 8E1" or "127.0.0.1:502", for sentences */
    void (*describe)(const transport_t *t, char *buf, size_t len);
} transport_ops_t;

extern const transport_ops_t transport_rtu_ops;
extern const transport_ops_t transport_tcp_ops;

/*
 * Create a transport for cfg (not yet connected). Returns 0 and *out (free with
 * transport_free), or ACS_EINVAL with a sentence (bad baud, parity, port ...) and *out = NULL,
 * or ACS_ENOMEM.
 */
int transport_new(const transport_config_t *cfg, transport_t **out, char *err, size_t errlen);

/* Close (if open) and free. NULL is a no-op. */
void transport_free(transport_t *t);

/* The backend and the configuration (strings owned by the transport). */
const transport_ops_t *transport_ops(const transport_t *t);
const transport_config_t *transport_config(const transport_t *t);

/*
 * Connect (TCP) or open and configure the serial device (RTU). Returns 0, or ACS_ENOTFOUND (no
 * such device), ACS_EFORBIDDEN (permission), ACS_EIO (refused, unreachable, cannot set the line),
 * ACS_EBUSY (no file descriptor below FD_SETSIZE), ACS_ETIMEDOUT (connect timed out), each with a
 * sentence. Opening an open transport is a no-op.
 */
int transport_open(transport_t *t, char *err, size_t errlen);

/* Close the link; the transport may be opened again. */
void transport_close(transport_t *t);

/* The descriptor libmodbus uses, or -1 when closed (for tests of the FD_SETSIZE guard). */
int transport_fd(const transport_t *t);

/* Unit id for the following requests: 0..247 (RTU, 0 = broadcast), 0..255 (TCP). */
int transport_set_unit(transport_t *t, int unit);
int transport_unit(const transport_t *t);

/* Response timeout (0 = derived per request) and the RTU turnaround allowance (0 = 50 ms). */
int transport_set_timeouts(transport_t *t, unsigned response_ms, unsigned turnaround_ms);

/* Frame callback (NULL to stop). */
void transport_set_frame_cb(transport_t *t, transport_frame_cb cb, void *arg);

/* Reads and writes: see transport_ops_t. The transport must be open. */
int transport_read(transport_t *t, int fc, uint16_t addr, uint16_t count, void *out, char *err,
                   size_t errlen);
int transport_write(transport_t *t, int fc, uint16_t addr, uint16_t count, const void *values,
                    char *err, size_t errlen);
int transport_raw(transport_t *t, const uint8_t *pdu, size_t len, uint8_t *rsp, size_t cap,
                  size_t *rsp_len, char *err, size_t errlen);

/*
 * FC 43/14 read device identification, basic category (VendorName, ProductCode,
 * MajorMinorRevision), following "more follows" up to 8 requests. Returns 0 and *out, or an
 * error as transport_raw (a unit without FC 43 answers exception 01: ACS_EIO).
 */
int transport_read_device_id(transport_t *t, transport_devid_t *out, char *err, size_t errlen);

/* The exception code of the last reply, or 0 when it was not an exception. */
int transport_last_exception(const transport_t *t);

/* Timeout of the last request, in ms (after derivation). */
unsigned transport_last_timeout_ms(const transport_t *t);

/* --- pure helpers (no I/O), unit-tested ------------------------------------------------ */

/*
 * The derived RTU response timeout in ms, rounded up:
 *   bits = 1 start + data_bits + (parity != 'N') + stop_bits   (11 for 8E1, 8N2, 8O1)
 *   char = bits / baud seconds
 *   timeout = (req_bytes + rsp_bytes) * char      both frames on the wire
 *           + 2 * 3.5 * char                      the silent gap that ends each frame
 *           + turnaround_ms                       the device's processing and the adapter's
 *                                                 latency (USB-serial latency timers: 1-16 ms)
 * Above 19200 baud the Modbus specification fixes t3.5 at 1.75 ms; so does this formula.
 */
unsigned transport_rtu_timeout_ms(int baud, int data_bits, char parity, int stop_bits,
                                  size_t req_bytes, size_t rsp_bytes, unsigned turnaround_ms);

/* Expected reply PDU length for a request PDU (fc 1-6, 15, 16), or 0 when not known (FC 43). */
size_t transport_expected_reply_pdu(const uint8_t *pdu, size_t len);

/*
 * Classify a reply PDU to request function `fc` from unit `want_unit`, received from unit
 * `got_unit`: OK, EXCEPTION (then *exception holds the code), WRONG_UNIT, or MALFORMED (another
 * function, or a length that does not match expected_len when that is not 0).
 */
transport_frame_status_t transport_classify(uint8_t fc, int want_unit, int got_unit,
                                            const uint8_t *pdu, size_t len, size_t expected_len,
                                            uint8_t *exception);

/*
 * Length of a complete FC 43/14 reply PDU from its first `have` bytes: the length when known,
 * 0 when more bytes are needed to tell, or -1 when the bytes cannot be such a reply.
 */
int transport_mei_reply_length(const uint8_t *pdu, size_t have);

/* Parse an FC 43/14 reply PDU (0x2B 0x0E ...) into out (objects 0-2 kept, others skipped).
 * Returns 0, or ACS_EINVAL with a sentence for a malformed reply. */
int transport_parse_device_id(const uint8_t *pdu, size_t len, transport_devid_t *out, char *err,
                              size_t errlen);

/* Names: "ok", "timeout", "crc_error", "exception", "wrong_unit", "malformed"; "tx", "rx". */
const char *transport_frame_status_name(transport_frame_status_t s);
const char *transport_dir_name(transport_dir_t d);

/* The Modbus exception name: 2 -> "illegal data address"; "unknown exception" otherwise. */
const char *transport_exception_name(int code);

/* CRC-16/MODBUS of n bytes (the RTU frame check; low byte first on the wire). */
uint16_t transport_crc16(const uint8_t *bytes, size_t n);

#endif
