/* SPDX-License-Identifier: MIT */
/*
 * fwproto.h - the bootloader protocol over Modbus, as one set of constants shared by the
 * device side (acs-sim: hardware-sim/fwslot.c, simboot.c) and the client (fwflash.c). The
 * protocol lives in holding registers at 0xF000 and up, outside every profile's map; the
 * description with examples is in docs/firmware.md.
 *
 *   0xF000..0xF023  status block, read with FC 03 at any time (36 registers)
 *   0xF040          command block, written with FC 16: command word, then its arguments
 *   0xF100          data block, written with FC 16: offset (2 words), CRC-16 of offset and
 *                   data (1 word), then up to 120 words (240 bytes) of image data
 *
 * A refused request is answered with exception 04 (server device failure) and the reason in
 * FWPROTO_REG_ERROR; a malformed one with exception 03, an address outside the blocks with 02.
 */
#ifndef ACS_FWPROTO_H
#define ACS_FWPROTO_H

#include <stddef.h>
#include <stdint.h>

#define FWPROTO_MAGIC 0xB001 /* FWPROTO_REG_MAGIC: bootloader protocol, version 1 */

/* Status block (FC 03). 32-bit values are two registers, high word first. */
#define FWPROTO_REG_STATUS    0xF000
#define FWPROTO_REG_MAGIC     0xF000
#define FWPROTO_REG_STATE     0xF001 /* fwproto_state_t */
#define FWPROTO_REG_ERROR     0xF002 /* last refusal (FWPROTO_E*, positive), 0 none */
#define FWPROTO_REG_FLAGS     0xF003 /* FWPROTO_FLAG_* */
#define FWPROTO_REG_DL_SIZE   0xF004 /* 2 regs: size of the image being received */
#define FWPROTO_REG_DL_ACKED  0xF006 /* 2 regs: bytes acknowledged (kept across power loss) */
#define FWPROTO_REG_DL_ID     0xF008 /* 4 regs: transfer id given at BEGIN */
#define FWPROTO_REG_CHUNK_MAX 0xF00C /* data bytes per chunk the device accepts */
#define FWPROTO_REG_RUN_SLOT  0xF00D /* 0 = A, 1 = B, 0xFFFF = no bootable image */
#define FWPROTO_REG_RUN_VER   0xF00E /* 3 regs: running major, minor, patch */
#define FWPROTO_REG_OTHER_VER 0xF011 /* 3 regs: the other slot's valid image, 0xFFFF x3 none */
#define FWPROTO_REG_HW_REV    0xF014
#define FWPROTO_REG_MODEL     0xF015 /* 8 regs: 16 bytes, NUL padded, 2 characters a register */
#define FWPROTO_REG_KEY_ID    0xF01D /* 4 regs: id of the device's public key (0 none) */
#define FWPROTO_REG_WRITES    0xF021 /* 2 regs: flash writes since the simulator started */
#define FWPROTO_REG_SLOT_KIB  0xF023 /* slot size in KiB: the largest image */
#define FWPROTO_STATUS_REGS   36

#define FWPROTO_REG_COMMAND 0xF040
#define FWPROTO_REG_DATA    0xF100

#define FWPROTO_FLAG_UNLOCKED 0x0001 /* in update mode */
#define FWPROTO_FLAG_TRIAL    0x0002 /* running image is on trial (reverts at reset) */
#define FWPROTO_FLAG_DOWNLOAD 0x0004 /* a transfer is in progress */
#define FWPROTO_FLAG_PENDING  0x0008 /* a verified image boots on trial at the next reset */

/* Commands: the first word written to FWPROTO_REG_COMMAND. */
#define FWPROTO_CMD_ENTER   1 /* + 2 words: the unlock value, high word first */
#define FWPROTO_CMD_BEGIN   2 /* + 2 words size + 4 words transfer id */
#define FWPROTO_CMD_VERIFY  3 /* check hash, signature, model, revision; stage for trial */
#define FWPROTO_CMD_RESET   4 /* restart: boots a staged image on trial, reverts a trial */
#define FWPROTO_CMD_CONFIRM 5 /* keep the image running on trial */
#define FWPROTO_CMD_ABORT   6 /* drop the transfer and any staged image */

#define FWPROTO_UNLOCK 0x41435346u /* "ACSF" */

#define FWPROTO_CHUNK_MAX 240 /* 120 registers: an FC 16 of 123 with the 3 header words */

typedef enum fwproto_state {
    FWPROTO_STATE_APP = 0,       /* running the application, update mode off */
    FWPROTO_STATE_UPDATE = 1,    /* update mode, no transfer */
    FWPROTO_STATE_RECEIVING = 2, /* transfer in progress */
    FWPROTO_STATE_RECEIVED = 3,  /* every byte acknowledged, not yet verified */
    FWPROTO_STATE_PENDING = 4,   /* verified: boots on trial at the next reset */
    FWPROTO_STATE_NO_IMAGE = 5,  /* no slot holds a bootable image: bootloader only */
} fwproto_state_t;

/* Refusals: positive on the wire (FWPROTO_REG_ERROR), negated as return codes of fwslot. */
#define FWPROTO_ERRNO_MAP(XX)                                                                      \
    XX(ELOCKED, 1, "not in update mode (send ENTER with the unlock value first)")                  \
    XX(EUNLOCK, 2, "wrong unlock value")                                                           \
    XX(ECRC, 3, "chunk CRC does not match its data (corrupted in transit; send it again)")         \
    XX(EORDER, 4, "chunk offset is not the next expected byte")                                    \
    XX(ESIZE, 5, "image size out of range for a slot")                                             \
    XX(ENODOWNLOAD, 6, "no transfer in progress (send BEGIN)")                                     \
    XX(EHEADER, 7, "image header is corrupted or does not match the announced size")               \
    XX(EMODEL, 8, "image is for another device model")                                             \
    XX(EHWREV, 9, "image is for another hardware revision")                                        \
    XX(EKEY, 10, "image is signed with a key the device does not trust")                           \
    XX(ESIG, 11, "image signature does not verify with the device's key")                          \
    XX(EHASH, 12, "image payload does not match its SHA-256")                                      \
    XX(EINCOMPLETE, 13, "not every byte of the image was received")                                \
    XX(ETRIAL, 14, "an image is running on trial (confirm it or reset first)")                     \
    XX(ENOTRIAL, 15, "nothing to confirm: the running image is not on trial")                      \
    XX(EPOWER, 16, "power was lost during a flash write")                                          \
    XX(ECOMMAND, 17, "unknown command or wrong arguments")

enum fwproto_errno {
#define XX(name, code, text) FWPROTO_##name = -(code),
    FWPROTO_ERRNO_MAP(XX)
#undef XX
};

/* Sentence for an error code (positive wire value or negative return code). */
const char *fwproto_strerror(int code);
/* "receiving", ... */
const char *fwproto_state_name(int state);

/* CRC-16/MODBUS over the offset (4 bytes, big-endian) and the chunk data. */
uint16_t fwproto_chunk_crc(uint32_t offset, const uint8_t *data, size_t len);

#endif
