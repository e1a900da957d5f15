/* SPDX-License-Identifier: MIT */
/*
 * fwupdate.h - firmware updates run by fieldd: acs_fw's fwflash_run (firmware-tools/fwflash.h)
 * on a drivers/bus.h worker thread, one bus per RTU port or TCP endpoint, with the progress
 * the library reports kept for readers on the loop thread and written to the update's
 * firmware_update row (db/migrations/0014_firmware_service.sql) while it runs and when it
 * ends. The loop thread never blocks: the update's only work on it is turning progress and
 * results into SQL parameters.
 *
 * An update, as this file sees it (the steps inside fwflash_run are in fwflash.h):
 *
 *   [row running] --fwupdate_start--> [on the worker] --fwflash_run returns--> [storing end]
 *        |                                  |  progress: done/total, lines     --> [ended]
 *        +-- port busy / no memory: the caller ends the row itself
 *
 *   result of fwflash_run                          status        the device
 *   0                                              succeeded     runs the image, confirmed
 *   FWFLASH_ELINK, or a link error after bytes     interrupted   keeps its acknowledged offset:
 *     were acknowledged                                          the same image resumes there
 *   anything else (refused, reverted, no port)     failed
 *
 *   transition                 function
 *   start                      fwupdate_start -> bus_submit(work_flash)
 *   progress (worker thread)   on_progress (static), under the update's mutex
 *   progress to the database   on_tick (static), every FIELDD_FWUPDATE_TICK_MS
 *   end                        done_flash (static) -> store_end -> on_end_stored
 *
 * The engine exists only when fieldd is built with hardware support (ACS_WITH_HARDWARE).
 */
#ifndef ACS_FWUPDATE_H
#define ACS_FWUPDATE_H

#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "fwimage.h"

typedef struct server server_t;

/*
 * Load the trusted public keys from FIELDD_FIRMWARE_KEYS (acs-fw .pub files, separated by
 * ':' or ','), remember srv and start the progress timer. Call once before the loop runs.
 * Returns 0 (also without keys: uploads are then refused), or ACS_EINVAL with a sentence
 * naming the file that is not a key.
 */
int fwupdate_init(server_t *srv, char *err, size_t errlen);

/* The trusted keys (borrowed; valid until fwupdate_free). nkeys 0 when none are configured. */
const fwimage_keyring_t *fwupdate_keys(void);

/*
 * Start the update whose firmware_update row (status running) exists: the image img (len
 * bytes; ownership passes here on success, freed when the update ends) to unit `unit` over
 * the single bus of s (its RTU port or its first TCP endpoint). The update counts as a request
 * in flight (srv->inflight) until its end is stored. Returns 0, or ACS_ECONFLICT (the bus is
 * in use by a diagnostic session or another update), ACS_ESHUTDOWN, ACS_ENOMEM, ACS_EIO (the
 * bus could not start) with a sentence; then nothing was started, img is still the caller's
 * and the caller ends the row itself.
 */
int fwupdate_start(const char *update_id, const char *device_id, const diag_settings_t *s, int unit,
                   int allow_downgrade, uint8_t *img, size_t len, char *err, size_t errlen);

/* The id of an update running in this process on bus `name` (an RTU port or "host:port"), or
 * NULL. */
const char *fwupdate_bus_user(const char *name);

/* Live progress of an update running in this process. */
typedef struct fwupdate_progress {
    char step[16]; /* "status", "enter", "transfer", "verify", "reset", "confirm", "done" */
    uint32_t done, total, resumed_from;
    unsigned retries;
} fwupdate_progress_t;

/* Fill *out with the live progress of update `id`; 0, or ACS_ENOTFOUND when it does not run
 * in this process. */
int fwupdate_progress(const char *id, fwupdate_progress_t *out);

/* Reply to req with the live event stream of update `id` (events update_progress, then
 * update_end when its end is stored; docs/firmware.md). Returns 0, or ACS_ENOTFOUND when it
 * does not run in this process (or is ending), ACS_ENOMEM; then nothing was sent. */
int fwupdate_attach(const char *id, h2o_req_t *req);

/* The ids of updates running in this process as a PostgreSQL array literal ("{a,b}") in buf.
 * Returns 0, or ACS_ENOMEM when buf is too small. */
int fwupdate_running_ids(char *buf, size_t len);

/* Stop the progress timer; running updates finish their current run (fwflash_run cannot be
 * cancelled) and are stored. Call on SIGTERM. */
void fwupdate_shutdown(void);

/* Free the keys. Call after the loop ended. */
void fwupdate_free(void);

#endif
