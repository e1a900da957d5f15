/* SPDX-License-Identifier: MIT */
/*
 * fwslot.h - the simulated flash of a controller and the bootloader logic on it: two image
 * slots (A and B), a boot record kept in two alternating copies, transfers that survive power
 * loss, trial boots that revert unless confirmed. Pure: no I/O, no clock. Every flash write
 * is counted as one step, and power can be cut at any step (the write is then torn: only its
 * first half reaches the flash), so that a unit test can cut power at every step of an update
 * and check that the device still boots a whole, validly signed image (tests/unit/
 * test_fwslot.c). hardware-sim/simboot.c puts it behind Modbus registers (fwproto.h).
 *
 * Flash layout (FWSLOT_FLASH_SIZE bytes; 0 is the erased value):
 *   0x0000  boot record copy 0 (64 bytes)     the copy with the higher sequence number and a
 *   0x0040  boot record copy 1 (64 bytes)     good CRC-32 wins; a write goes to the older one
 *   0x1000  slot A (FWSLOT_SLOT_SIZE)
 *   0x1000 + FWSLOT_SLOT_SIZE  slot B
 *
 * Update states (boot record "pending" and the transfer fields; S = confirmed slot, T = the
 * other one):
 *
 *      +---------+ BEGIN  +-----------+ last chunk +----------+ VERIFY +---------+
 *      | RUNNING |------->| RECEIVING |----------->| RECEIVED |------->| PENDING |
 *      |   S     |<-------|  into T   |            +----------+        |   T     |
 *      +---------+ ABORT, +-----------+  bad image: transfer dropped   +---------+
 *         ^   ^   bad header   |  ^ power loss: stays, resumes               | reset
 *         |   |                +--+ at the acknowledged offset               v
 *         |   |  reset (not confirmed): revert to S               +-------------------+
 *         |   +---------------------------------------------------|  TRIAL: T runs,   |
 *         |                     CONFIRM: T becomes S              |  S kept           |
 *         +-------------------------------------------------------+-------------------+
 *
 *   transition                         function          flash writes
 *   enter update mode                  fwslot_enter      none (volatile)
 *   start or resume a transfer         fwslot_begin      1 boot record (none to resume)
 *   store one chunk                    fwslot_chunk      1 data write + 1 boot record
 *   check the image, stage it          fwslot_verify     1 boot record
 *   reset: stage -> trial, trial -> S  fwslot_boot       1 boot record when it changes
 *   keep the trial image               fwslot_confirm    1 boot record
 *   drop transfer and staged image     fwslot_abort      1 boot record
 *
 * Invariant (what the power-fail test checks): slot S is never written while it is the
 * confirmed slot, and the boot record names T as bootable only after every byte of T was
 * written and verified; a torn boot record fails its CRC and the previous copy is used.
 */
#ifndef ACS_SIM_FWSLOT_H
#define ACS_SIM_FWSLOT_H

#include <stddef.h>
#include <stdint.h>

#include "fwimage.h"
#include "fwproto.h"

#define FWSLOT_SLOT_SIZE   (512u * 1024u)
#define FWSLOT_RECORD_SIZE 64
#define FWSLOT_SLOT_OFFSET 4096u
#define FWSLOT_FLASH_SIZE  (FWSLOT_SLOT_OFFSET + 2u * FWSLOT_SLOT_SIZE)

typedef struct fwslot fwslot_t;

typedef struct fwslot_config {
    const char *model;         /* the device's model ("TC-200"), copied */
    unsigned hw_rev;           /* its hardware revision */
    const uint8_t *key;        /* its public key (32 bytes, copied) or NULL */
    fwimage_version_t factory; /* version of the image it left the factory with */
    /* Called after every flash write (also a torn one) with the flash offset and the bytes
     * now there; simboot.c mirrors them into a file. May be NULL. */
    void (*persist)(void *arg, size_t offset, const uint8_t *bytes, size_t len);
    void *persist_arg;
} fwslot_config_t;

typedef struct fwslot_status {
    int powered;
    fwproto_state_t state;
    int error; /* last refusal, positive FWPROTO code, 0 none */
    int unlocked, trial, download, pending;
    uint32_t dl_size, dl_acked;
    uint8_t dl_id[8];
    int running_slot; /* -1: none bootable */
    int running_factory;
    fwimage_version_t running;
    int other_valid;
    fwimage_version_t other;
    uint32_t writes; /* flash writes so far */
} fwslot_status_t;

/*
 * Creates a device. flash (flash_len bytes, may be NULL) is the content of its flash at power
 * on, e.g. read back from a file; missing bytes are erased. The device is powered off: call
 * fwslot_boot. Returns 0 and *out, or ACS_ENOMEM / ACS_EINVAL (no model).
 */
int fwslot_new(const fwslot_config_t *cfg, const uint8_t *flash, size_t flash_len, fwslot_t **out);

/* Frees a device. NULL is a no-op. */
void fwslot_free(fwslot_t *fs);

/* The flash content (FWSLOT_FLASH_SIZE bytes), e.g. to start another device from it. */
const uint8_t *fwslot_flash(const fwslot_t *fs);

/*
 * Power on or reset: volatile state cleared (update mode off), boot record read, a staged
 * image started on trial, an unconfirmed trial reverted, the running slot's image checked
 * (hash, signature, model, revision). Returns 0, or FWPROTO_EPOWER when power was cut during
 * its own boot record write (the device is off again).
 */
int fwslot_boot(fwslot_t *fs);

/* The operations of the protocol (fwproto.h). Each returns 0 or a negative FWPROTO_E* code,
 * which it also records as the last error; FWPROTO_EPOWER means power was cut by this call
 * (or was off): the device is off until fwslot_boot. */
int fwslot_enter(fwslot_t *fs, uint32_t unlock);
int fwslot_begin(fwslot_t *fs, uint32_t size, const uint8_t id[8]);
int fwslot_chunk(fwslot_t *fs, uint32_t offset, const uint8_t *data, size_t len, uint16_t crc);
int fwslot_verify(fwslot_t *fs);
int fwslot_confirm(fwslot_t *fs);
int fwslot_abort(fwslot_t *fs);

/* Cuts power at the n-th flash write from now (1 = the next one); 0 cancels. */
void fwslot_cut_power_at(fwslot_t *fs, uint32_t n);
/* Power goes away now (no write in progress): the device is off until fwslot_boot. */
void fwslot_power_off(fwslot_t *fs);

void fwslot_status(const fwslot_t *fs, fwslot_status_t *st);

/* Whether the device has power (cheap). */
int fwslot_powered(const fwslot_t *fs);

/* Size of the transfer in progress (0: none); cheaper than fwslot_status. */
uint32_t fwslot_download_size(const fwslot_t *fs);

/* The running image's bytes (header, payload, signature) or NULL for a factory image or none. */
const uint8_t *fwslot_running_image(const fwslot_t *fs, size_t *len);

#endif
