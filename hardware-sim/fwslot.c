/* SPDX-License-Identifier: MIT */
/*
 * fwslot.c - simulated flash, A/B slots and the bootloader's decisions (see fwslot.h for the
 * layout, the state diagram and the transition table).
 *
 * Everything persistent lives in the flash buffer and nowhere else: after a power cut the
 * device knows only what fwslot_boot reads back from it, exactly as a real bootloader would.
 * The boot record is written in two alternating copies with a sequence number and a CRC-32,
 * so that a write torn by a power cut leaves the previous record in force.
 */
#include "fwslot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"

#define RECORD_MAGIC 0x4D534341u /* "ACSM" */

enum { PEND_NONE = 0, PEND_STAGED = 1, PEND_TRIAL = 2 };

/* The boot record, as kept in flash. */
typedef struct record {
    uint32_t seq;
    uint8_t confirmed; /* slot S */
    uint8_t pending;   /* PEND_* */
    uint8_t factory;   /* bit per slot: holds the factory image (no bytes) */
    uint8_t download;  /* a transfer into the other slot is in progress */
    fwimage_version_t factory_version;
    uint32_t img_len[2]; /* bytes of a verified image in each slot, 0 none */
    uint32_t dl_size, dl_acked;
    uint8_t dl_id[8];
} record_t;

struct fwslot {
    char model[FWIMAGE_MODEL_MAX + 1];
    unsigned hw_rev;
    int has_key;
    uint8_t key[FWIMAGE_PUBLIC_SIZE];
    fwimage_version_t factory;
    void (*persist)(void *, size_t, const uint8_t *, size_t);
    void *persist_arg;
    uint8_t *flash;

    /* volatile */
    int powered;
    record_t rec;
    int unlocked;
    int trial;
    int running; /* slot, or -1 */
    int error;
    uint32_t writes;
    uint32_t cut_at; /* cut power at this value of writes (0: never) */
    /* What slot_valid found per slot (-1: not known since the last write), because a full
     * check hashes the whole image. */
    int valid_cache[2];
    fwimage_version_t version_cache[2];
};

/* ---- CRC-32 and record coding ---------------------------------------------------------- */

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void record_encode(const record_t *r, uint8_t out[FWSLOT_RECORD_SIZE])
{
    memset(out, 0, FWSLOT_RECORD_SIZE);
    put32(out + 0, RECORD_MAGIC);
    put32(out + 4, r->seq);
    out[8] = r->confirmed;
    out[9] = r->pending;
    out[10] = r->factory;
    out[11] = r->download;
    put16(out + 12, r->factory_version.major);
    put16(out + 14, r->factory_version.minor);
    put16(out + 16, r->factory_version.patch);
    put32(out + 20, r->img_len[0]);
    put32(out + 24, r->img_len[1]);
    put32(out + 28, r->dl_size);
    put32(out + 32, r->dl_acked);
    memcpy(out + 36, r->dl_id, 8);
    put32(out + 60, crc32(out, 60));
}

static int record_decode(const uint8_t *in, record_t *r)
{
    if (get32(in) != RECORD_MAGIC || get32(in + 60) != crc32(in, 60))
        return -1;
    r->seq = get32(in + 4);
    r->confirmed = in[8] & 1;
    r->pending = in[9] <= PEND_TRIAL ? in[9] : PEND_NONE;
    r->factory = in[10] & 3;
    r->download = in[11] != 0;
    r->factory_version.major = get16(in + 12);
    r->factory_version.minor = get16(in + 14);
    r->factory_version.patch = get16(in + 16);
    r->img_len[0] = get32(in + 20);
    r->img_len[1] = get32(in + 24);
    r->dl_size = get32(in + 28);
    r->dl_acked = get32(in + 32);
    memcpy(r->dl_id, in + 36, 8);
    return 0;
}

/* ---- flash writes ------------------------------------------------------------------------ */

static size_t slot_offset(int slot)
{
    return FWSLOT_SLOT_OFFSET + (size_t)slot * FWSLOT_SLOT_SIZE;
}

/* One flash write: counted, and torn (first half only) when power is cut at this step. */
static int flash_write(fwslot_t *fs, size_t off, const uint8_t *data, size_t len)
{
    fs->writes++;
    fs->valid_cache[0] = fs->valid_cache[1] = -1;
    int cut = fs->cut_at != 0 && fs->writes == fs->cut_at;
    size_t n = cut ? len / 2 : len;
    memcpy(fs->flash + off, data, n);
    if (fs->persist != NULL && n > 0)
        fs->persist(fs->persist_arg, off, fs->flash + off, n);
    if (cut) {
        fs->cut_at = 0;
        fwslot_power_off(fs);
        return FWPROTO_EPOWER;
    }
    return 0;
}

/* Writes r as the next boot record (into the older copy). On success it is the device's. */
static int record_write(fwslot_t *fs, record_t *r)
{
    uint8_t buf[FWSLOT_RECORD_SIZE];
    r->seq = fs->rec.seq + 1;
    record_encode(r, buf);
    int rc = flash_write(fs, (size_t)(r->seq % 2) * FWSLOT_RECORD_SIZE, buf, sizeof(buf));
    if (rc == 0)
        fs->rec = *r;
    return rc;
}

static void record_load(fwslot_t *fs)
{
    record_t a, b;
    int va = record_decode(fs->flash, &a) == 0;
    int vb = record_decode(fs->flash + FWSLOT_RECORD_SIZE, &b) == 0;
    if (va && (!vb || a.seq > b.seq)) {
        fs->rec = a;
    } else if (vb) {
        fs->rec = b;
    } else {
        /* Blank flash: slot A holds the factory image. */
        memset(&fs->rec, 0, sizeof(fs->rec));
        fs->rec.factory = 1;
        fs->rec.factory_version = fs->factory;
    }
}

/* ---- images in slots ------------------------------------------------------------------- */

static int slot_check(const fwslot_t *fs, int s, fwimage_version_t *v);

/* Whether slot s holds a bootable image; its version in *v. */
static int slot_valid(fwslot_t *fs, int s, fwimage_version_t *v)
{
    if (fs->valid_cache[s] < 0)
        fs->valid_cache[s] = slot_check(fs, s, &fs->version_cache[s]);
    if (fs->valid_cache[s] && v != NULL)
        *v = fs->version_cache[s];
    return fs->valid_cache[s];
}

static int slot_check(const fwslot_t *fs, int s, fwimage_version_t *v)
{
    if (fs->rec.factory & (1u << s)) {
        if (v != NULL)
            *v = fs->rec.factory_version;
        return 1;
    }
    uint32_t len = fs->rec.img_len[s];
    if (len < FWIMAGE_MIN_SIZE || len > FWSLOT_SLOT_SIZE || !fs->has_key)
        return 0;
    const uint8_t(*keys)[FWIMAGE_PUBLIC_SIZE] = (const uint8_t(*)[FWIMAGE_PUBLIC_SIZE])fs->key;
    fwimage_keyring_t ring = {keys, 1};
    fwimage_header_t h;
    if (fwimage_check(fs->flash + slot_offset(s), len, &ring, &h, NULL, 0) != 0 ||
        fwimage_check_target(&h, fs->model, fs->hw_rev, NULL, 0) != 0)
        return 0;
    if (v != NULL)
        *v = h.version;
    return 1;
}

static int fail(fwslot_t *fs, int code)
{
    fs->error = code;
    return code;
}

static int target_slot(const fwslot_t *fs)
{
    return 1 - fs->rec.confirmed;
}

/* ---- life cycle ------------------------------------------------------------------------- */

int fwslot_new(const fwslot_config_t *cfg, const uint8_t *flash, size_t flash_len, fwslot_t **out)
{
    *out = NULL;
    if (cfg->model == NULL || cfg->model[0] == '\0')
        return ACS_EINVAL;
    fwslot_t *fs = calloc(1, sizeof(*fs));
    if (fs == NULL)
        return ACS_ENOMEM;
    fs->flash = calloc(1, FWSLOT_FLASH_SIZE);
    if (fs->flash == NULL) {
        free(fs);
        return ACS_ENOMEM;
    }
    if (flash != NULL)
        memcpy(fs->flash, flash, flash_len < FWSLOT_FLASH_SIZE ? flash_len : FWSLOT_FLASH_SIZE);
    snprintf(fs->model, sizeof(fs->model), "%s", cfg->model);
    fs->hw_rev = cfg->hw_rev;
    if (cfg->key != NULL) {
        fs->has_key = 1;
        memcpy(fs->key, cfg->key, FWIMAGE_PUBLIC_SIZE);
    }
    fs->factory = cfg->factory;
    fs->persist = cfg->persist;
    fs->persist_arg = cfg->persist_arg;
    fs->running = -1;
    fs->valid_cache[0] = fs->valid_cache[1] = -1;
    *out = fs;
    return 0;
}

void fwslot_free(fwslot_t *fs)
{
    if (fs == NULL)
        return;
    free(fs->flash);
    free(fs);
}

const uint8_t *fwslot_flash(const fwslot_t *fs)
{
    return fs->flash;
}

void fwslot_power_off(fwslot_t *fs)
{
    fs->powered = 0;
    fs->unlocked = 0;
}

void fwslot_cut_power_at(fwslot_t *fs, uint32_t n)
{
    fs->cut_at = n == 0 ? 0 : fs->writes + n;
}

int fwslot_boot(fwslot_t *fs)
{
    fs->powered = 1;
    fs->unlocked = 0;
    fs->trial = 0;
    fs->error = 0;
    fs->running = -1;
    fs->valid_cache[0] = fs->valid_cache[1] = -1;
    record_load(fs);
    record_t r = fs->rec;
    int s = fs->rec.confirmed, t = 1 - s;
    int run = s;
    if (r.pending == PEND_STAGED) {
        if (slot_valid(fs, t, NULL)) {
            r.pending = PEND_TRIAL;
            run = t;
        } else {
            r.pending = PEND_NONE; /* the staged image no longer checks out: stay */
        }
        if (record_write(fs, &r) != 0)
            return FWPROTO_EPOWER;
        fs->trial = run == t;
    } else if (r.pending == PEND_TRIAL) {
        /* Reset while on trial, not confirmed: revert to the confirmed image. */
        r.pending = PEND_NONE;
        if (record_write(fs, &r) != 0)
            return FWPROTO_EPOWER;
    }
    if (slot_valid(fs, run, NULL)) {
        fs->running = run;
    } else if (!fs->trial && slot_valid(fs, 1 - run, NULL)) {
        fs->running = 1 - run;
    }
    return 0;
}

/* ---- protocol operations ------------------------------------------------------------- */

static int check_ready(fwslot_t *fs)
{
    if (!fs->powered)
        return FWPROTO_EPOWER;
    if (!fs->unlocked)
        return fail(fs, FWPROTO_ELOCKED);
    return 0;
}

int fwslot_enter(fwslot_t *fs, uint32_t unlock)
{
    if (!fs->powered)
        return FWPROTO_EPOWER;
    if (unlock != FWPROTO_UNLOCK) {
        fs->unlocked = 0;
        return fail(fs, FWPROTO_EUNLOCK);
    }
    fs->unlocked = 1;
    fs->error = 0;
    return 0;
}

int fwslot_begin(fwslot_t *fs, uint32_t size, const uint8_t id[8])
{
    int rc = check_ready(fs);
    if (rc != 0)
        return rc;
    if (fs->trial)
        return fail(fs, FWPROTO_ETRIAL);
    if (size < FWIMAGE_MIN_SIZE || size > FWSLOT_SLOT_SIZE)
        return fail(fs, FWPROTO_ESIZE);
    if (fs->rec.download && fs->rec.dl_size == size && memcmp(fs->rec.dl_id, id, 8) == 0)
        return 0; /* the same transfer: resume at dl_acked */
    record_t r = fs->rec;
    int t = target_slot(fs);
    r.download = 1;
    r.dl_size = size;
    r.dl_acked = 0;
    memcpy(r.dl_id, id, 8);
    r.img_len[t] = 0;
    r.factory &= (uint8_t) ~(1u << t);
    r.pending = PEND_NONE;
    rc = record_write(fs, &r);
    return rc != 0 ? fail(fs, rc) : 0;
}

/* Drops the transfer after a bad image (best effort: a power cut here is reported). */
static int drop_transfer(fwslot_t *fs, int why)
{
    record_t r = fs->rec;
    r.download = 0;
    r.dl_acked = 0;
    int rc = record_write(fs, &r);
    return fail(fs, rc != 0 ? rc : why);
}

static int map_image_error(int rc)
{
    switch (rc) {
    case FWIMAGE_EWRONGMODEL:
        return FWPROTO_EMODEL;
    case FWIMAGE_EWRONGHW:
        return FWPROTO_EHWREV;
    case FWIMAGE_EUNKNOWNKEY:
        return FWPROTO_EKEY;
    case FWIMAGE_EBADSIG:
        return FWPROTO_ESIG;
    default:
        return FWPROTO_EHEADER;
    }
}

/* The header is complete once the first 128 bytes are in: refuse a wrong image early. */
static int check_header(fwslot_t *fs, uint32_t offset, const uint8_t *data)
{
    uint8_t hdr[FWIMAGE_HEADER_SIZE];
    const uint8_t *slot = fs->flash + slot_offset(target_slot(fs));
    memcpy(hdr, slot, offset);
    memcpy(hdr + offset, data, FWIMAGE_HEADER_SIZE - offset);
    fwimage_header_t h;
    if (fwimage_header_decode(hdr, sizeof(hdr), &h, NULL, 0) != 0 ||
        fwimage_total_size(&h) != fs->rec.dl_size)
        return FWPROTO_EHEADER;
    int rc = fwimage_check_target(&h, fs->model, fs->hw_rev, NULL, 0);
    return rc != 0 ? map_image_error(rc) : 0;
}

int fwslot_chunk(fwslot_t *fs, uint32_t offset, const uint8_t *data, size_t len, uint16_t crc)
{
    int rc = check_ready(fs);
    if (rc != 0)
        return rc;
    if (!fs->rec.download)
        return fail(fs, FWPROTO_ENODOWNLOAD);
    if (len == 0 || len > FWPROTO_CHUNK_MAX)
        return fail(fs, FWPROTO_ECOMMAND);
    if (fwproto_chunk_crc(offset, data, len) != crc)
        return fail(fs, FWPROTO_ECRC);
    if ((uint64_t)offset + len > fs->rec.dl_size)
        return fail(fs, FWPROTO_ESIZE);
    if ((uint64_t)offset + len <= fs->rec.dl_acked)
        return 0; /* already acknowledged: the client lost our answer */
    if (offset != fs->rec.dl_acked)
        return fail(fs, FWPROTO_EORDER);
    if (offset < FWIMAGE_HEADER_SIZE && offset + len >= FWIMAGE_HEADER_SIZE) {
        rc = check_header(fs, offset, data);
        if (rc != 0)
            return drop_transfer(fs, rc);
    }
    rc = flash_write(fs, slot_offset(target_slot(fs)) + offset, data, len);
    if (rc != 0)
        return fail(fs, rc);
    record_t r = fs->rec;
    r.dl_acked = offset + (uint32_t)len;
    rc = record_write(fs, &r);
    return rc != 0 ? fail(fs, rc) : 0;
}

int fwslot_verify(fwslot_t *fs)
{
    int rc = check_ready(fs);
    if (rc != 0)
        return rc;
    if (!fs->rec.download)
        return fail(fs, FWPROTO_ENODOWNLOAD);
    if (fs->rec.dl_acked != fs->rec.dl_size)
        return fail(fs, FWPROTO_EINCOMPLETE);
    if (!fs->has_key)
        return drop_transfer(fs, FWPROTO_EKEY);
    int t = target_slot(fs);
    const uint8_t(*keys)[FWIMAGE_PUBLIC_SIZE] = (const uint8_t(*)[FWIMAGE_PUBLIC_SIZE])fs->key;
    fwimage_keyring_t ring = {keys, 1};
    fwimage_header_t h;
    rc = fwimage_check(fs->flash + slot_offset(t), fs->rec.dl_size, &ring, &h, NULL, 0);
    if (rc == FWIMAGE_ECORRUPT &&
        fwimage_header_decode(fs->flash + slot_offset(t), fs->rec.dl_size, &h, NULL, 0) == 0)
        return drop_transfer(fs, FWPROTO_EHASH);
    if (rc == 0)
        rc = fwimage_check_target(&h, fs->model, fs->hw_rev, NULL, 0);
    if (rc != 0)
        return drop_transfer(fs, map_image_error(rc));
    record_t r = fs->rec;
    r.img_len[t] = r.dl_size;
    r.download = 0;
    r.pending = PEND_STAGED;
    rc = record_write(fs, &r);
    return rc != 0 ? fail(fs, rc) : 0;
}

int fwslot_confirm(fwslot_t *fs)
{
    int rc = check_ready(fs);
    if (rc != 0)
        return rc;
    if (!fs->trial)
        return fail(fs, FWPROTO_ENOTRIAL);
    record_t r = fs->rec;
    r.confirmed = (uint8_t)fs->running;
    r.pending = PEND_NONE;
    rc = record_write(fs, &r);
    if (rc != 0)
        return fail(fs, rc);
    fs->trial = 0;
    fs->unlocked = 0; /* the update is over: back to normal operation */
    return 0;
}

int fwslot_abort(fwslot_t *fs)
{
    int rc = check_ready(fs);
    if (rc != 0)
        return rc;
    if (!fs->rec.download && fs->rec.pending != PEND_STAGED)
        return 0;
    record_t r = fs->rec;
    r.download = 0;
    r.dl_acked = 0;
    if (r.pending == PEND_STAGED)
        r.pending = PEND_NONE;
    rc = record_write(fs, &r);
    return rc != 0 ? fail(fs, rc) : 0;
}

/* ---- status ------------------------------------------------------------------------------ */

void fwslot_status(const fwslot_t *cfs, fwslot_status_t *st)
{
    /* Only the validity cache changes. */
    fwslot_t *fs = (fwslot_t *)cfs;
    memset(st, 0, sizeof(*st));
    st->powered = fs->powered;
    st->error = fs->error < 0 ? -fs->error : fs->error;
    st->unlocked = fs->unlocked;
    st->trial = fs->trial;
    st->download = fs->rec.download;
    st->pending = fs->rec.pending == PEND_STAGED;
    st->dl_size = fs->rec.dl_size;
    st->dl_acked = fs->rec.download ? fs->rec.dl_acked : 0;
    memcpy(st->dl_id, fs->rec.dl_id, 8);
    st->running_slot = fs->running;
    st->writes = fs->writes;
    if (fs->running >= 0) {
        slot_valid(fs, fs->running, &st->running);
        st->running_factory = (fs->rec.factory >> fs->running) & 1;
        st->other_valid = !fs->rec.download && slot_valid(fs, 1 - fs->running, &st->other);
    }
    if (fs->running < 0)
        st->state = FWPROTO_STATE_NO_IMAGE;
    else if (fs->rec.download)
        st->state =
            fs->rec.dl_acked < fs->rec.dl_size ? FWPROTO_STATE_RECEIVING : FWPROTO_STATE_RECEIVED;
    else if (fs->rec.pending == PEND_STAGED)
        st->state = FWPROTO_STATE_PENDING;
    else if (fs->unlocked)
        st->state = FWPROTO_STATE_UPDATE;
    else
        st->state = FWPROTO_STATE_APP;
}

const uint8_t *fwslot_running_image(const fwslot_t *fs, size_t *len)
{
    *len = 0;
    if (fs->running < 0 || (fs->rec.factory >> fs->running) & 1)
        return NULL;
    *len = fs->rec.img_len[fs->running];
    return fs->flash + slot_offset(fs->running);
}

uint32_t fwslot_download_size(const fwslot_t *fs)
{
    return fs->rec.download ? fs->rec.dl_size : 0;
}

int fwslot_powered(const fwslot_t *fs)
{
    return fs->powered;
}
