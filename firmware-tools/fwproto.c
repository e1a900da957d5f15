/* SPDX-License-Identifier: MIT */
/*
 * fwproto.c - the few functions of the bootloader protocol that both sides need (see
 * fwproto.h): error sentences, state names and the chunk CRC.
 */
#include "fwproto.h"

const char *fwproto_strerror(int code)
{
    if (code < 0)
        code = -code;
#define XX(name, value, text)                                                                      \
    if (code == (value))                                                                           \
        return text;
    FWPROTO_ERRNO_MAP(XX)
#undef XX
    return "unknown bootloader error";
}

const char *fwproto_state_name(int state)
{
    static const char *const names[] = {"app",      "update",  "receiving",
                                        "received", "pending", "no_image"};
    if (state < 0 || (size_t)state >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[state];
}

static uint16_t crc_step(uint16_t crc, uint8_t b)
{
    crc ^= b;
    for (int i = 0; i < 8; i++)
        crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    return crc;
}

uint16_t fwproto_chunk_crc(uint32_t offset, const uint8_t *data, size_t len)
{
    uint16_t crc = 0xFFFF;
    for (int i = 3; i >= 0; i--)
        crc = crc_step(crc, (uint8_t)(offset >> (8 * i)));
    for (size_t i = 0; i < len; i++)
        crc = crc_step(crc, data[i]);
    return crc;
}
