/* SPDX-License-Identifier: MIT */
/*
 * fwflash.h - the client side of the bootloader protocol (fwproto.h, docs/firmware.md): update
 * one device over a Modbus transport (drivers/transport.h), resuming an interrupted transfer
 * from the offset the device acknowledged, and read back the version it runs afterwards.
 *
 * It blocks (libmodbus): call it from a thread that owns the transport - acs-fw's main thread,
 * or a bus worker (drivers/bus.h, bus_submit) in a service. Progress is reported through a
 * callback on the calling thread, so the same code draws a progress bar in acs-fw and could
 * record steps of a job in fieldd.
 *
 * An update, as a state machine of the client (fwflash_run):
 *
 *   READ STATUS --model/rev/key/version checks fail--> refused (nothing sent)
 *        |
 *        +-- running == image, confirmed ------------------------------> DONE (already)
 *        +-- running == image, on trial -------------------------------> CONFIRM
 *        +-- staged image == this one --------------------------------> RESET
 *        v
 *      ENTER --> BEGIN (resumes the same transfer) --> TRANSFER from the acknowledged offset
 *        --> VERIFY --> RESET --> wait until it answers --> ENTER --> CONFIRM --> READ BACK
 *
 *   step        function (static)   on failure
 *   status      read_status         link error: ELINK
 *   checks      check_image         FWIMAGE_E* (the tool refuses)
 *   transfer    send_chunks         exception 04: device error read back: EREFUSED (or retry
 *                                   a chunk whose CRC failed); silence: retry, then ELINK
 *   verify      verify_step         EREFUSED with the device's reason; a lost answer: the
 *                                   status says whether it verified
 *   reset       reset_step          wait for the device to answer again (boot_wait_ms); still
 *                                   staged: RESET again
 *   confirm     confirm_step        EREVERTED when the device runs another version; a lost
 *                                   answer: the status says whether it confirmed
 */
#ifndef ACS_FWFLASH_H
#define ACS_FWFLASH_H

#include <stddef.h>
#include <stdint.h>

#include "fwimage.h"
#include "fwproto.h"
#include "transport.h"

/* Codes besides FWIMAGE_E* and ACS_E*. */
#define FWFLASH_ERRNO_MAP(XX)                                                                      \
    XX(ELINK, -120, "lost contact with the device")                                                \
    XX(EREFUSED, -121, "the device refused the image")                                             \
    XX(ENOBOOT, -122, "the device does not speak the bootloader protocol")                         \
    XX(EREVERTED, -123, "the device does not run the new image")

enum fwflash_errno {
#define XX(name, value, text) FWFLASH_##name = (value),
    FWFLASH_ERRNO_MAP(XX)
#undef XX
};

const char *fwflash_strerror(int code);

/* The status block of a device (fwproto.h). */
typedef struct fwflash_device {
    fwproto_state_t state;
    int error; /* last refusal, FWPROTO code (positive), 0 none */
    unsigned flags;
    uint32_t dl_size, dl_acked;
    uint8_t dl_id[8];
    unsigned chunk_max;
    int run_slot; /* 0 A, 1 B, -1 none */
    fwimage_version_t running;
    int other_valid;
    fwimage_version_t other;
    unsigned hw_rev;
    char model[17];
    uint8_t key_id[8];
    uint32_t writes;
    unsigned slot_kib;
} fwflash_device_t;

typedef enum fwflash_step {
    FWFLASH_STEP_STATUS = 0,
    FWFLASH_STEP_ENTER,
    FWFLASH_STEP_TRANSFER,
    FWFLASH_STEP_VERIFY,
    FWFLASH_STEP_RESET,
    FWFLASH_STEP_CONFIRM,
    FWFLASH_STEP_DONE,
} fwflash_step_t;

typedef struct fwflash_progress {
    fwflash_step_t step;
    uint32_t done, total;  /* bytes acknowledged / image size (TRANSFER) */
    uint32_t resumed_from; /* where this run's transfer started */
    unsigned retries;      /* chunks sent again so far */
    const char *text;      /* one line for a person, e.g. "resuming at byte 24000" */
} fwflash_progress_t;

typedef void (*fwflash_progress_cb)(const fwflash_progress_t *p, void *arg);

typedef struct fwflash_options {
    const fwimage_keyring_t *keys; /* keys the tool trusts (required unless skip_checks) */
    int allow_downgrade;
    int no_confirm;               /* leave the new image on trial (it reverts at the next reset) */
    int skip_checks;              /* send without the tool's own checks: the device decides alone */
    unsigned retries;             /* per chunk, after a CRC refusal or silence; 0 = 3 */
    unsigned boot_wait_ms;        /* how long to wait for the device after RESET; 0 = 5000 */
    fwflash_progress_cb progress; /* may be NULL */
    void *progress_arg;
} fwflash_options_t;

typedef struct fwflash_result {
    fwflash_device_t before, after;
    uint32_t resumed_from; /* 0 for a transfer from the start */
    uint32_t bytes_sent;   /* image bytes sent in this run */
    unsigned chunks, retries;
    int already;      /* the device already ran this image: nothing was sent */
    int confirmed;    /* the new image is confirmed */
    int device_error; /* EREFUSED: the device's reason (FWPROTO code, positive) */
} fwflash_result_t;

/* Reads the status block. Returns 0, FWFLASH_ENOBOOT (not a bootloader: exception 02 or a
 * wrong magic), or the transport's error; a sentence in err. */
int fwflash_read_status(transport_t *t, fwflash_device_t *dev, char *err, size_t errlen);

/*
 * Updates the device behind t (unit already set) with the image img (len bytes). Returns 0
 * with *res filled, or: a FWIMAGE_E* code when the tool refuses the image before sending
 * anything (check order: image, key, signature, model, hardware revision, downgrade);
 * FWFLASH_EREFUSED when the device refused it (res->device_error says why); FWFLASH_ELINK
 * when it stopped answering (run again to resume); FWFLASH_EREVERTED; ACS_E* from the
 * transport. err gets a sentence naming the device and what to do.
 */
int fwflash_run(transport_t *t, const uint8_t *img, size_t len, const fwflash_options_t *opt,
                fwflash_result_t *res, char *err, size_t errlen);

/* Single commands: ENTER then CONFIRM / RESET / ABORT. Return 0, FWFLASH_EREFUSED with the
 * device's reason, or a transport error. */
int fwflash_confirm(transport_t *t, char *err, size_t errlen);
int fwflash_reset(transport_t *t, char *err, size_t errlen);
int fwflash_abort(transport_t *t, char *err, size_t errlen);

#endif
