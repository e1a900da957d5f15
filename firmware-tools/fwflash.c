/* SPDX-License-Identifier: MIT */
/*
 * fwflash.c - updating a device over Modbus with the bootloader protocol (see fwflash.h for
 * the client's state machine and fwproto.h for the registers).
 *
 * Resuming is the device's job as much as ours: it keeps the acknowledged offset of a transfer
 * across power loss, and BEGIN with the same size and transfer id (the first 8 bytes of the
 * image's SHA-256) continues that transfer instead of starting again. So an interrupted run
 * and a new one are the same code path: read the status, BEGIN, send from dl_acked.
 */
#include "fwflash.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "acs_error.h"
#include "errbuf.h"

const char *fwflash_strerror(int code)
{
#define XX(name, value, text)                                                                      \
    if (code == (value))                                                                           \
        return text;
    FWFLASH_ERRNO_MAP(XX)
#undef XX
    if (code <= -100)
        return fwimage_strerror(code);
    return acs_strerror(code);
}

/* "unit 1 on /dev/pts/3 at 115200 8E1" */
static void who(transport_t *t, char *buf, size_t len)
{
    char where[TRANSPORT_NAME_MAX];
    transport_ops(t)->describe(t, where, sizeof(where));
    snprintf(buf, len, "unit %d %s %s", transport_unit(t),
             transport_config(t)->kind == TRANSPORT_RTU ? "on" : "at", where);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int fwflash_read_status(transport_t *t, fwflash_device_t *dev, char *err, size_t errlen)
{
    uint16_t r[FWPROTO_STATUS_REGS];
    memset(dev, 0, sizeof(*dev));
    int rc = transport_read(t, 3, FWPROTO_REG_STATUS, FWPROTO_STATUS_REGS, r, err, errlen);
    char w[TRANSPORT_NAME_MAX + 32];
    if (rc != 0) {
        int ex = transport_last_exception(t);
        if (ex == 1 || ex == 2) {
            who(t, w, sizeof(w));
            errbuf_printf(err, errlen,
                          "%s has no bootloader registers at 0x%04X (exception %02d): it does "
                          "not support updates over Modbus, or it is not an acsfield device",
                          w, FWPROTO_REG_STATUS, ex);
            return FWFLASH_ENOBOOT;
        }
        return rc;
    }
#define R(addr) r[(addr)-FWPROTO_REG_STATUS]
    if (R(FWPROTO_REG_MAGIC) != FWPROTO_MAGIC) {
        who(t, w, sizeof(w));
        errbuf_printf(err, errlen,
                      "%s answers 0x%04X at 0x%04X, not the bootloader protocol's 0x%04X: it "
                      "does not support this update protocol",
                      w, R(FWPROTO_REG_MAGIC), FWPROTO_REG_MAGIC, FWPROTO_MAGIC);
        return FWFLASH_ENOBOOT;
    }
    dev->state = (fwproto_state_t)R(FWPROTO_REG_STATE);
    dev->error = R(FWPROTO_REG_ERROR);
    dev->flags = R(FWPROTO_REG_FLAGS);
    dev->dl_size = (uint32_t)R(FWPROTO_REG_DL_SIZE) << 16 | R(FWPROTO_REG_DL_SIZE + 1);
    dev->dl_acked = (uint32_t)R(FWPROTO_REG_DL_ACKED) << 16 | R(FWPROTO_REG_DL_ACKED + 1);
    for (int i = 0; i < 4; i++) {
        dev->dl_id[2 * i] = (uint8_t)(R(FWPROTO_REG_DL_ID + i) >> 8);
        dev->dl_id[2 * i + 1] = (uint8_t)R(FWPROTO_REG_DL_ID + i);
        dev->key_id[2 * i] = (uint8_t)(R(FWPROTO_REG_KEY_ID + i) >> 8);
        dev->key_id[2 * i + 1] = (uint8_t)R(FWPROTO_REG_KEY_ID + i);
    }
    dev->chunk_max = R(FWPROTO_REG_CHUNK_MAX);
    dev->run_slot = R(FWPROTO_REG_RUN_SLOT) == 0xFFFF ? -1 : R(FWPROTO_REG_RUN_SLOT);
    dev->running.major = R(FWPROTO_REG_RUN_VER);
    dev->running.minor = R(FWPROTO_REG_RUN_VER + 1);
    dev->running.patch = R(FWPROTO_REG_RUN_VER + 2);
    dev->other_valid = R(FWPROTO_REG_OTHER_VER) != 0xFFFF;
    dev->other.major = R(FWPROTO_REG_OTHER_VER);
    dev->other.minor = R(FWPROTO_REG_OTHER_VER + 1);
    dev->other.patch = R(FWPROTO_REG_OTHER_VER + 2);
    dev->hw_rev = R(FWPROTO_REG_HW_REV);
    for (int i = 0; i < 8; i++) {
        dev->model[2 * i] = (char)(R(FWPROTO_REG_MODEL + i) >> 8);
        dev->model[2 * i + 1] = (char)R(FWPROTO_REG_MODEL + i);
    }
    dev->model[16] = '\0';
    dev->writes = (uint32_t)R(FWPROTO_REG_WRITES) << 16 | R(FWPROTO_REG_WRITES + 1);
    dev->slot_kib = R(FWPROTO_REG_SLOT_KIB);
#undef R
    return 0;
}

static const char *command_name(uint16_t cmd)
{
    static const char *const names[] = {"?",     "ENTER",   "BEGIN", "VERIFY",
                                        "RESET", "CONFIRM", "ABORT"};
    return cmd < sizeof(names) / sizeof(names[0]) ? names[cmd] : "?";
}

/* A refusal (exception 04): read the device's reason and say it. */
static int refused(transport_t *t, const char *what, int *device_error, char *err, size_t errlen)
{
    fwflash_device_t dev;
    char why[256], w[TRANSPORT_NAME_MAX + 32];
    who(t, w, sizeof(w));
    if (fwflash_read_status(t, &dev, why, sizeof(why)) != 0) {
        errbuf_printf(err, errlen, "%s refused %s and then did not say why: %s", w, what, why);
        return FWFLASH_EREFUSED;
    }
    if (device_error != NULL)
        *device_error = dev.error;
    errbuf_printf(err, errlen, "%s refused %s: %s (bootloader error %d)", w, what,
                  fwproto_strerror(dev.error), dev.error);
    return FWFLASH_EREFUSED;
}

static int command(transport_t *t, const uint16_t *words, uint16_t n, int *device_error, char *err,
                   size_t errlen)
{
    int rc = transport_write(t, 16, FWPROTO_REG_COMMAND, n, words, err, errlen);
    if (rc != 0 && transport_last_exception(t) == 4)
        return refused(t, command_name(words[0]), device_error, err, errlen);
    return rc;
}

static int enter(transport_t *t, int *device_error, char *err, size_t errlen)
{
    uint16_t w[3] = {FWPROTO_CMD_ENTER, (uint16_t)(FWPROTO_UNLOCK >> 16),
                     (uint16_t)(FWPROTO_UNLOCK & 0xFFFF)};
    return command(t, w, 3, device_error, err, errlen);
}

static int simple(transport_t *t, uint16_t cmd, int *device_error, char *err, size_t errlen)
{
    int rc = enter(t, device_error, err, errlen);
    if (rc == 0)
        rc = command(t, &cmd, 1, device_error, err, errlen);
    return rc;
}

int fwflash_confirm(transport_t *t, char *err, size_t errlen)
{
    return simple(t, FWPROTO_CMD_CONFIRM, NULL, err, errlen);
}

int fwflash_reset(transport_t *t, char *err, size_t errlen)
{
    return simple(t, FWPROTO_CMD_RESET, NULL, err, errlen);
}

int fwflash_abort(transport_t *t, char *err, size_t errlen)
{
    return simple(t, FWPROTO_CMD_ABORT, NULL, err, errlen);
}

typedef struct run {
    transport_t *t;
    const fwflash_options_t *opt;
    fwflash_result_t *res;
    fwflash_progress_t p;
    char w[TRANSPORT_NAME_MAX + 32];
    char text[256];
} run_t;

static void report(run_t *r, fwflash_step_t step, const char *text)
{
    r->p.step = step;
    r->p.text = text;
    if (r->opt->progress != NULL)
        r->opt->progress(&r->p, r->opt->progress_arg);
}

/* The tool's own checks, against what the device says it is. */
static int check_image(run_t *r, const uint8_t *img, size_t len, const fwflash_device_t *dev,
                       fwimage_header_t *h, char *err, size_t errlen)
{
    char why[512];
    int rc = fwimage_check(img, len, r->opt->keys, h, why, sizeof(why));
    if (rc == 0)
        rc = fwimage_check_target(h, dev->model, dev->hw_rev, why, sizeof(why));
    static const uint8_t none[8] = {0};
    if (rc == 0 && memcmp(dev->key_id, none, 8) != 0 && memcmp(dev->key_id, h->key_id, 8) != 0) {
        char a[17], b[17];
        sodium_bin2hex(a, sizeof(a), h->key_id, 8);
        sodium_bin2hex(b, sizeof(b), dev->key_id, 8);
        snprintf(why, sizeof(why),
                 "the image is signed with key %s but the device trusts key %s (sign the image "
                 "with the device's key)",
                 a, b);
        rc = FWIMAGE_EUNKNOWNKEY;
    }
    if (rc == 0)
        rc = fwimage_check_version(h, &dev->running, r->opt->allow_downgrade, why, sizeof(why));
    if (rc == 0 && dev->slot_kib != 0 && len > (size_t)dev->slot_kib * 1024u) {
        snprintf(why, sizeof(why),
                 "the image is %zu bytes, more than the device's %u KiB slots hold (build a "
                 "smaller image)",
                 len, dev->slot_kib);
        rc = FWIMAGE_EINVAL;
    }
    if (rc != 0)
        errbuf_printf(err, errlen, "not sent to %s: %s", r->w, why);
    return rc;
}

/* Sends the chunks from the device's acknowledged offset to the end. */
static int send_chunks(run_t *r, const uint8_t *img, size_t len, const uint8_t id[8],
                       uint32_t offset, unsigned chunk_max, char *err, size_t errlen)
{
    unsigned retries = r->opt->retries != 0 ? r->opt->retries : 3;
    unsigned tries = 0;
    uint16_t words[3 + FWPROTO_CHUNK_MAX / 2];
    while (offset < len) {
        size_t n = len - offset < chunk_max ? len - offset : chunk_max;
        words[0] = (uint16_t)(offset >> 16);
        words[1] = (uint16_t)offset;
        words[2] = fwproto_chunk_crc(offset, img + offset, n);
        for (size_t i = 0; i < (n + 1) / 2; i++) {
            uint8_t hi = img[offset + 2 * i];
            uint8_t lo = 2 * i + 1 < n ? img[offset + 2 * i + 1] : 0;
            words[3 + i] = (uint16_t)(hi << 8 | lo);
        }
        char why[512];
        int rc = transport_write(r->t, 16, FWPROTO_REG_DATA, (uint16_t)(3 + (n + 1) / 2), words,
                                 why, sizeof(why));
        if (rc == 0) {
            offset += (uint32_t)n;
            r->res->bytes_sent += (uint32_t)n;
            r->res->chunks++;
            tries = 0;
            r->p.done = offset;
            report(r, FWFLASH_STEP_TRANSFER, NULL);
            continue;
        }
        fwflash_device_t dev;
        char why2[256];
        if (transport_last_exception(r->t) == 4) {
            int rs = fwflash_read_status(r->t, &dev, why2, sizeof(why2));
            if (rs == 0 && dev.error == -FWPROTO_ECRC && ++tries <= retries) {
                r->res->retries++;
                r->p.retries = r->res->retries;
                snprintf(r->text, sizeof(r->text),
                         "chunk at byte %u arrived corrupted (CRC); sending it again", offset);
                report(r, FWFLASH_STEP_TRANSFER, r->text);
                continue;
            }
            if (rs == 0 && dev.error == -FWPROTO_EORDER && dev.dl_acked < len &&
                ++tries <= retries) {
                offset = dev.dl_acked;
                continue;
            }
            if (rs == 0) {
                r->res->device_error = dev.error;
                errbuf_printf(err, errlen,
                              "%s refused the chunk at byte %u: %s (bootloader error %d)", r->w,
                              offset, fwproto_strerror(dev.error), dev.error);
                return FWFLASH_EREFUSED;
            }
        }
        /* Silence, a damaged reply or a lost connection: try again from what the device says
         * it has, a few times. */
        if (++tries > retries) {
            errbuf_printf(err, errlen,
                          "%s stopped answering at byte %u of %zu (%s); its flash keeps what it "
                          "acknowledged: run the same command again to resume",
                          r->w, offset, len, why);
            return FWFLASH_ELINK;
        }
        r->res->retries++;
        r->p.retries = r->res->retries;
        snprintf(r->text, sizeof(r->text), "no answer for the chunk at byte %u; trying again",
                 offset);
        report(r, FWFLASH_STEP_TRANSFER, r->text);
        if (fwflash_read_status(r->t, &dev, why2, sizeof(why2)) == 0) {
            if (!(dev.flags & FWPROTO_FLAG_DOWNLOAD) || memcmp(dev.dl_id, id, 8) != 0) {
                errbuf_printf(err, errlen,
                              "%s dropped the transfer at byte %u (state %s, error %d: %s)", r->w,
                              offset, fwproto_state_name(dev.state), dev.error,
                              dev.error ? fwproto_strerror(dev.error) : "none");
                return FWFLASH_ELINK;
            }
            offset = dev.dl_acked;
        }
    }
    return 0;
}

/* A status read or an idempotent command (ENTER, BEGIN of the same transfer) is repeated
 * when the frame or its answer was lost; a refusal is not. */
static int lost(transport_t *t, int rc)
{
    return rc == ACS_ETIMEDOUT || (rc == ACS_EIO && transport_last_exception(t) == 0);
}

static int status_retry(run_t *r, fwflash_device_t *dev, char *err, size_t errlen)
{
    unsigned tries = r->opt->retries != 0 ? r->opt->retries : 3;
    int rc;
    do
        rc = fwflash_read_status(r->t, dev, err, errlen);
    while (rc != 0 && lost(r->t, rc) && tries-- > 0);
    return rc;
}

static int command_retry(run_t *r, const uint16_t *words, uint16_t n, char *err, size_t errlen)
{
    unsigned tries = r->opt->retries != 0 ? r->opt->retries : 3;
    int rc;
    do
        rc = command(r->t, words, n, &r->res->device_error, err, errlen);
    while (rc != 0 && lost(r->t, rc) && tries-- > 0);
    return rc;
}

/*
 * VERIFY, RESET and CONFIRM are not idempotent, so a lost answer is not simply repeated: the
 * status block says whether the device carried the command out. Each returns 0 when it did,
 * or the error of the last attempt.
 */
static int verify_step(run_t *r, const uint8_t id[8], char *err, size_t errlen)
{
    unsigned tries = r->opt->retries != 0 ? r->opt->retries : 3;
    for (;;) {
        uint16_t c = FWPROTO_CMD_VERIFY;
        int rc = command(r->t, &c, 1, &r->res->device_error, err, errlen);
        if (rc == 0 || !lost(r->t, rc))
            return rc;
        fwflash_device_t d;
        char why[256];
        if (status_retry(r, &d, why, sizeof(why)) != 0)
            return rc;
        if ((d.flags & FWPROTO_FLAG_PENDING) && memcmp(d.dl_id, id, 8) == 0) {
            report(r, FWFLASH_STEP_VERIFY,
                   "the answer to VERIFY was lost; the device has "
                   "verified and staged the image");
            return 0;
        }
        if (!(d.flags & FWPROTO_FLAG_DOWNLOAD) && d.error != 0) {
            r->res->device_error = d.error;
            errbuf_printf(err, errlen, "%s refused VERIFY: %s (bootloader error %d)", r->w,
                          fwproto_strerror(d.error), d.error);
            return FWFLASH_EREFUSED;
        }
        if (tries-- == 0)
            return rc;
        report(r, FWFLASH_STEP_VERIFY, "no answer to VERIFY; asking again");
    }
}

static int wait_boot(run_t *r, fwflash_device_t *dev, char *err, size_t errlen);

static int reset_step(run_t *r, fwflash_device_t *after, char *err, size_t errlen)
{
    unsigned tries = r->opt->retries != 0 ? r->opt->retries : 3;
    for (;;) {
        uint16_t c = FWPROTO_CMD_RESET;
        int rc = command(r->t, &c, 1, &r->res->device_error, err, errlen);
        if (rc != 0 && !lost(r->t, rc))
            return rc;
        int wrc = wait_boot(r, after, err, errlen);
        if (wrc != 0)
            return wrc;
        if (rc == 0)
            return 0;
        /* Still staged: the RESET itself was lost, not only its answer. */
        if (!(after->flags & FWPROTO_FLAG_PENDING)) {
            report(r, FWFLASH_STEP_RESET, "the answer to RESET was lost; the device restarted");
            return 0;
        }
        if (tries-- == 0)
            return rc;
        report(r, FWFLASH_STEP_RESET, "the device did not restart; asking again");
    }
}

static int confirm_step(run_t *r, const fwimage_version_t *v, char *err, size_t errlen)
{
    unsigned tries = r->opt->retries != 0 ? r->opt->retries : 3;
    for (;;) {
        int rc = simple(r->t, FWPROTO_CMD_CONFIRM, &r->res->device_error, err, errlen);
        if (rc == 0 || !lost(r->t, rc))
            return rc;
        fwflash_device_t d;
        char why[256];
        if (status_retry(r, &d, why, sizeof(why)) != 0)
            return rc;
        if (!(d.flags & FWPROTO_FLAG_TRIAL) && fwimage_version_cmp(&d.running, v) == 0) {
            report(r, FWFLASH_STEP_CONFIRM,
                   "the answer to CONFIRM was lost; the device has "
                   "confirmed the image");
            return 0;
        }
        if (tries-- == 0)
            return rc;
        report(r, FWFLASH_STEP_CONFIRM, "no answer to CONFIRM; asking again");
    }
}

/* After RESET: the device answers again. */
static int wait_boot(run_t *r, fwflash_device_t *dev, char *err, size_t errlen)
{
    unsigned wait = r->opt->boot_wait_ms != 0 ? r->opt->boot_wait_ms : 5000;
    double until = now_ms() + wait;
    int rc;
    do {
        rc = fwflash_read_status(r->t, dev, err, errlen);
        if (rc == 0 || rc == FWFLASH_ENOBOOT)
            return rc;
        sleep_ms(50);
    } while (now_ms() < until);
    return rc;
}

int fwflash_run(transport_t *t, const uint8_t *img, size_t len, const fwflash_options_t *opt,
                fwflash_result_t *res, char *err, size_t errlen)
{
    run_t r;
    memset(&r, 0, sizeof(r));
    memset(res, 0, sizeof(*res));
    r.t = t;
    r.opt = opt;
    r.res = res;
    r.p.total = (uint32_t)len;
    who(t, r.w, sizeof(r.w));
    fwimage_header_t h;
    memset(&h, 0, sizeof(h));
    int rc = 0;
    if (len > UINT32_MAX) {
        errbuf_printf(err, errlen, "an image of %zu bytes is too large", len);
        return FWIMAGE_EINVAL;
    }

    report(&r, FWFLASH_STEP_STATUS, "reading the device's status");
    fwflash_device_t *dev = &res->before;
    if ((rc = status_retry(&r, dev, err, errlen)) != 0)
        return rc;
    if (opt->skip_checks) {
        fwimage_header_decode(img, len, &h, NULL, 0);
    } else if ((rc = check_image(&r, img, len, dev, &h, err, errlen)) != 0) {
        return rc;
    }
    uint8_t sha[crypto_hash_sha256_BYTES], id[8];
    crypto_hash_sha256(sha, img, len);
    memcpy(id, sha, 8);

    int same = fwimage_version_cmp(&dev->running, &h.version) == 0;
    int trial = (dev->flags & FWPROTO_FLAG_TRIAL) != 0;
    if (same && !trial && !opt->skip_checks) {
        res->already = 1;
        res->confirmed = 1;
        res->after = *dev;
        report(&r, FWFLASH_STEP_DONE, "the device already runs this version");
        return 0;
    }
    int staged = (dev->flags & FWPROTO_FLAG_PENDING) && memcmp(dev->dl_id, id, 8) == 0;
    if (!(same && trial) && !staged) {
        report(&r, FWFLASH_STEP_ENTER, "entering update mode");
        uint16_t unlock[3] = {FWPROTO_CMD_ENTER, (uint16_t)(FWPROTO_UNLOCK >> 16),
                              (uint16_t)(FWPROTO_UNLOCK & 0xFFFF)};
        if ((rc = command_retry(&r, unlock, 3, err, errlen)) != 0)
            return rc;
        uint16_t begin[7] = {FWPROTO_CMD_BEGIN, (uint16_t)(len >> 16), (uint16_t)len};
        for (int i = 0; i < 4; i++)
            begin[3 + i] = (uint16_t)(id[2 * i] << 8 | id[2 * i + 1]);
        if ((rc = command_retry(&r, begin, 7, err, errlen)) != 0)
            return rc;
        fwflash_device_t now;
        if ((rc = status_retry(&r, &now, err, errlen)) != 0)
            return rc;
        unsigned chunk = now.chunk_max;
        if (chunk == 0 || chunk > FWPROTO_CHUNK_MAX)
            chunk = FWPROTO_CHUNK_MAX;
        chunk &= ~1u;
        res->resumed_from = now.dl_acked;
        r.p.resumed_from = now.dl_acked;
        r.p.done = now.dl_acked;
        if (now.dl_acked > 0)
            snprintf(r.text, sizeof(r.text), "resuming at byte %u of %zu", now.dl_acked, len);
        else
            snprintf(r.text, sizeof(r.text), "sending %zu bytes", len);
        report(&r, FWFLASH_STEP_TRANSFER, r.text);
        if ((rc = send_chunks(&r, img, len, id, now.dl_acked, chunk, err, errlen)) != 0)
            return rc;
        report(&r, FWFLASH_STEP_VERIFY, "the device checks hash, signature, model and revision");
        if ((rc = verify_step(&r, id, err, errlen)) != 0)
            return rc;
    }
    fwflash_device_t *after = &res->after;
    if (!(same && trial)) {
        report(&r, FWFLASH_STEP_RESET, "restarting the device into the new image (on trial)");
        if ((rc = reset_step(&r, after, err, errlen)) != 0)
            return rc;
    } else {
        *after = *dev;
    }
    if (fwimage_version_cmp(&after->running, &h.version) != 0) {
        char a[32], b[32];
        fwimage_version_format(&after->running, a, sizeof(a));
        fwimage_version_format(&h.version, b, sizeof(b));
        errbuf_printf(err, errlen,
                      "%s runs %s after the restart, not %s: its bootloader did not start the "
                      "new image and kept the old one",
                      r.w, a, b);
        return FWFLASH_EREVERTED;
    }
    if (!opt->no_confirm) {
        report(&r, FWFLASH_STEP_CONFIRM, "confirming the new image");
        if ((rc = confirm_step(&r, &h.version, err, errlen)) != 0)
            return rc;
        res->confirmed = 1;
    }
    /* Read back what runs now. */
    if ((rc = status_retry(&r, after, err, errlen)) != 0)
        return rc;
    report(&r, FWFLASH_STEP_DONE, NULL);
    return 0;
}
