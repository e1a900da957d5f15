/* SPDX-License-Identifier: MIT */
/*
 * mbframe.c - CRC-16, RTU and MBAP framing for acs-sim (see mbframe.h for why the simulator
 * frames by itself). The CRC table below is the reflected polynomial 0xA001 evaluated for
 * every byte value; tests/unit/test_sim_frame.c checks it against the bitwise definition.
 */
#include "mbframe.h"

#include <string.h>

#include "acs_error.h"

static const uint16_t crc_table[256] = {
    0x0000, 0xC0C1, 0xC181, 0x0140, 0xC301, 0x03C0, 0x0280, 0xC241, 0xC601, 0x06C0, 0x0780, 0xC741,
    0x0500, 0xC5C1, 0xC481, 0x0440, 0xCC01, 0x0CC0, 0x0D80, 0xCD41, 0x0F00, 0xCFC1, 0xCE81, 0x0E40,
    0x0A00, 0xCAC1, 0xCB81, 0x0B40, 0xC901, 0x09C0, 0x0880, 0xC841, 0xD801, 0x18C0, 0x1980, 0xD941,
    0x1B00, 0xDBC1, 0xDA81, 0x1A40, 0x1E00, 0xDEC1, 0xDF81, 0x1F40, 0xDD01, 0x1DC0, 0x1C80, 0xDC41,
    0x1400, 0xD4C1, 0xD581, 0x1540, 0xD701, 0x17C0, 0x1680, 0xD641, 0xD201, 0x12C0, 0x1380, 0xD341,
    0x1100, 0xD1C1, 0xD081, 0x1040, 0xF001, 0x30C0, 0x3180, 0xF141, 0x3300, 0xF3C1, 0xF281, 0x3240,
    0x3600, 0xF6C1, 0xF781, 0x3740, 0xF501, 0x35C0, 0x3480, 0xF441, 0x3C00, 0xFCC1, 0xFD81, 0x3D40,
    0xFF01, 0x3FC0, 0x3E80, 0xFE41, 0xFA01, 0x3AC0, 0x3B80, 0xFB41, 0x3900, 0xF9C1, 0xF881, 0x3840,
    0x2800, 0xE8C1, 0xE981, 0x2940, 0xEB01, 0x2BC0, 0x2A80, 0xEA41, 0xEE01, 0x2EC0, 0x2F80, 0xEF41,
    0x2D00, 0xEDC1, 0xEC81, 0x2C40, 0xE401, 0x24C0, 0x2580, 0xE541, 0x2700, 0xE7C1, 0xE681, 0x2640,
    0x2200, 0xE2C1, 0xE381, 0x2340, 0xE101, 0x21C0, 0x2080, 0xE041, 0xA001, 0x60C0, 0x6180, 0xA141,
    0x6300, 0xA3C1, 0xA281, 0x6240, 0x6600, 0xA6C1, 0xA781, 0x6740, 0xA501, 0x65C0, 0x6480, 0xA441,
    0x6C00, 0xACC1, 0xAD81, 0x6D40, 0xAF01, 0x6FC0, 0x6E80, 0xAE41, 0xAA01, 0x6AC0, 0x6B80, 0xAB41,
    0x6900, 0xA9C1, 0xA881, 0x6840, 0x7800, 0xB8C1, 0xB981, 0x7940, 0xBB01, 0x7BC0, 0x7A80, 0xBA41,
    0xBE01, 0x7EC0, 0x7F80, 0xBF41, 0x7D00, 0xBDC1, 0xBC81, 0x7C40, 0xB401, 0x74C0, 0x7580, 0xB541,
    0x7700, 0xB7C1, 0xB681, 0x7640, 0x7200, 0xB2C1, 0xB381, 0x7340, 0xB101, 0x71C0, 0x7080, 0xB041,
    0x5000, 0x90C1, 0x9181, 0x5140, 0x9301, 0x53C0, 0x5280, 0x9241, 0x9601, 0x56C0, 0x5780, 0x9741,
    0x5500, 0x95C1, 0x9481, 0x5440, 0x9C01, 0x5CC0, 0x5D80, 0x9D41, 0x5F00, 0x9FC1, 0x9E81, 0x5E40,
    0x5A00, 0x9AC1, 0x9B81, 0x5B40, 0x9901, 0x59C0, 0x5880, 0x9841, 0x8801, 0x48C0, 0x4980, 0x8941,
    0x4B00, 0x8BC1, 0x8A81, 0x4A40, 0x4E00, 0x8EC1, 0x8F81, 0x4F40, 0x8D01, 0x4DC0, 0x4C80, 0x8C41,
    0x4400, 0x84C1, 0x8581, 0x4540, 0x8701, 0x47C0, 0x4680, 0x8641, 0x8201, 0x42C0, 0x4380, 0x8341,
    0x4100, 0x81C1, 0x8081, 0x4040,
};

uint16_t mbframe_crc16(const uint8_t *buf, size_t len)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < len; i++)
        crc = (uint16_t)((crc >> 8) ^ crc_table[(crc ^ buf[i]) & 0xFF]);
    return crc;
}

int mbframe_rtu_check(const uint8_t *adu, size_t len)
{
    if (len < 4 || len > MBFRAME_RTU_MAX)
        return ACS_EINVAL;
    uint16_t want = mbframe_crc16(adu, len - 2);
    uint16_t got = (uint16_t)(adu[len - 2] | (adu[len - 1] << 8));
    return want == got ? 0 : ACS_EIO;
}

size_t mbframe_rtu_build(uint8_t *out, size_t cap, uint8_t unit, const uint8_t *pdu, size_t pdu_len)
{
    if (pdu_len == 0 || pdu_len > MBFRAME_PDU_MAX || cap < pdu_len + 3)
        return 0;
    out[0] = unit;
    memcpy(out + 1, pdu, pdu_len);
    uint16_t crc = mbframe_crc16(out, pdu_len + 1);
    out[pdu_len + 1] = (uint8_t)(crc & 0xFF);
    out[pdu_len + 2] = (uint8_t)(crc >> 8);
    return pdu_len + 3;
}

/* Request ADU lengths by function code: a fixed length, or a byte count at `count_at` that
 * adds to `base`. Both include the unit id and the CRC. */
static const struct {
    uint8_t fc;
    uint8_t base;
    uint8_t count_at; /* 0: fixed length */
} request_len[] = {
    {0x01, 8, 0}, {0x02, 8, 0},  {0x03, 8, 0},   {0x04, 8, 0}, {0x05, 8, 0}, {0x06, 8, 0},
    {0x07, 4, 0}, {0x08, 8, 0},  {0x0B, 4, 0},   {0x0C, 4, 0}, {0x0F, 9, 6}, {0x10, 9, 6},
    {0x11, 4, 0}, {0x16, 10, 0}, {0x17, 13, 10}, /* read/write multiple registers: byte count of the
                                                    write part */
    {0x2B, 7, 0},                                /* MEI transport, read device identification */
};

long mbframe_rtu_request_length(const uint8_t *buf, size_t len)
{
    if (len < 2)
        return 0;
    for (size_t i = 0; i < sizeof(request_len) / sizeof(request_len[0]); i++) {
        if (request_len[i].fc != buf[1])
            continue;
        if (request_len[i].count_at == 0)
            return request_len[i].base;
        if (len <= request_len[i].count_at)
            return 0;
        return (long)request_len[i].base + buf[request_len[i].count_at];
    }
    return -1;
}

long mbframe_mbap_parse(const uint8_t *buf, size_t len, mbframe_mbap_t *hdr)
{
    if (len < MBFRAME_MBAP_LEN)
        return 0;
    hdr->transaction = (uint16_t)(buf[0] << 8 | buf[1]);
    hdr->protocol = (uint16_t)(buf[2] << 8 | buf[3]);
    hdr->length = (uint16_t)(buf[4] << 8 | buf[5]);
    hdr->unit = buf[6];
    if (hdr->protocol != 0 || hdr->length < 2 || hdr->length > MBFRAME_PDU_MAX + 1)
        return ACS_EINVAL;
    size_t total = (size_t)6 + hdr->length;
    return len >= total ? (long)total : 0;
}

size_t mbframe_mbap_build(uint8_t *out, size_t cap, uint16_t transaction, uint8_t unit,
                          const uint8_t *pdu, size_t pdu_len)
{
    if (pdu_len == 0 || pdu_len > MBFRAME_PDU_MAX || cap < pdu_len + MBFRAME_MBAP_LEN)
        return 0;
    size_t length = pdu_len + 1;
    out[0] = (uint8_t)(transaction >> 8);
    out[1] = (uint8_t)(transaction & 0xFF);
    out[2] = 0;
    out[3] = 0;
    out[4] = (uint8_t)(length >> 8);
    out[5] = (uint8_t)(length & 0xFF);
    out[6] = unit;
    memcpy(out + MBFRAME_MBAP_LEN, pdu, pdu_len);
    return pdu_len + MBFRAME_MBAP_LEN;
}

uint32_t mbframe_t35_us(uint32_t baud, unsigned bits_per_char)
{
    if (baud == 0)
        return 1750;
    if (baud > 19200)
        return 1750;
    /* 3.5 characters, rounded up to the next microsecond. */
    uint64_t us = ((uint64_t)bits_per_char * 3500000u + baud - 1) / baud;
    return (uint32_t)us;
}
