/* SPDX-License-Identifier: MIT */
/*
 * mbframe.h - the Modbus frame layer of acs-sim: CRC-16 and RTU framing (serial line), MBAP
 * framing (Modbus TCP). Pure functions on byte buffers, no I/O, so that they are unit-tested
 * on their own (tests/unit/test_sim_frame.c).
 *
 * Why the simulator frames by itself instead of using libmodbus's server side: it must serve
 * several unit ids with different register maps on one RS-485 line, misbehave on purpose at
 * the frame level (bad CRC, reply from another unit id, late reply while other units keep
 * answering) and answer FC 43/14, none of which libmodbus 3.1.6's modbus_receive/modbus_reply
 * can do. The frame layer is small: a table-driven CRC, a length rule per function code and
 * the seven bytes of the MBAP header. See docs/simulator.md.
 */
#ifndef ACS_SIM_MBFRAME_H
#define ACS_SIM_MBFRAME_H

#include <stddef.h>
#include <stdint.h>

/* Largest PDU (function code + data) and ADUs, from the Modbus specification. */
#define MBFRAME_PDU_MAX  253
#define MBFRAME_RTU_MAX  256 /* unit + PDU + CRC */
#define MBFRAME_MBAP_LEN 7
#define MBFRAME_TCP_MAX  260 /* MBAP + PDU */

/* CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) of len bytes. On the wire the low byte
 * goes first. */
uint16_t mbframe_crc16(const uint8_t *buf, size_t len);

/* Checks one received RTU ADU (unit, PDU, CRC low, CRC high).
 * Returns 0 when it is at least 4 bytes long and its CRC matches, ACS_EINVAL when it is too
 * short or too long, ACS_EIO when the CRC does not match. */
int mbframe_rtu_check(const uint8_t *adu, size_t len);

/* Writes unit + pdu + CRC into out (capacity cap). Returns the ADU length, or 0 when it does
 * not fit or the PDU is empty or too long. */
size_t mbframe_rtu_build(uint8_t *out, size_t cap, uint8_t unit, const uint8_t *pdu,
                         size_t pdu_len);

/* The length of the RTU request ADU that starts at buf, judged from its function code (the
 * rule a server uses when it cannot rely on line silence alone).
 * Returns the full length (> 0) when known, 0 when more bytes are needed to tell, or -1 for
 * a function code whose request length this table does not know. */
long mbframe_rtu_request_length(const uint8_t *buf, size_t len);

/* The MBAP header of a Modbus TCP ADU. `length` counts the unit id and the PDU. */
typedef struct mbframe_mbap {
    uint16_t transaction;
    uint16_t protocol;
    uint16_t length;
    uint8_t unit;
} mbframe_mbap_t;

/* Parses the MBAP header at the start of a TCP stream buffer.
 * Returns the length of the whole ADU (MBAP + PDU) when it is all in buf, 0 when more bytes
 * are needed, ACS_EINVAL when the header cannot start a valid ADU (protocol id not 0, length
 * 0-1 or above 254): the connection should then be closed, as it cannot be resynchronised. */
long mbframe_mbap_parse(const uint8_t *buf, size_t len, mbframe_mbap_t *hdr);

/* Writes the MBAP header (transaction, protocol 0, length = pdu_len + 1, unit) and the PDU
 * into out. Returns the ADU length, or 0 when it does not fit or the PDU is empty/too long. */
size_t mbframe_mbap_build(uint8_t *out, size_t cap, uint16_t transaction, uint8_t unit,
                          const uint8_t *pdu, size_t pdu_len);

/* The 3.5-character silence that ends an RTU frame, in microseconds, for a line of `baud`
 * with bits_per_char bits per character (start + data + parity + stop). Above 19200 baud the
 * specification fixes it at 1750 us. */
uint32_t mbframe_t35_us(uint32_t baud, unsigned bits_per_char);

#endif
