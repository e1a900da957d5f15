/* SPDX-License-Identifier: MIT */
/*
 * test_fwslot.c - the simulated bootloader (hardware-sim/fwslot.c) driven step by step, the
 * way MCUboot's simulator tests its swaps: count the flash writes of a clean update, then for
 * every step i cut power exactly there, power on again (on the same device, or on a new one
 * started from the flash content as a simulator restart does), and check that the device
 * boots a whole, validly signed image - the old one or the new one, byte for byte, never a
 * mix - and that resuming then completes the update. Also: trial images revert unless
 * confirmed, and every refusal of the protocol.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fwslot.h"

#define MODEL  "TC-200"
#define HW_REV 3

typedef struct keys {
    uint8_t pk[32], sk[64];
} keys_t;

static keys_t trusted, stranger;

typedef struct image {
    uint8_t *bytes;
    size_t len;
    uint8_t id[8];
    fwimage_version_t version;
} image_t;

static image_t make_image(const keys_t *k, const char *model, unsigned hw_min, unsigned hw_max,
                          const char *version, size_t payload_len, uint8_t seed)
{
    image_t im;
    memset(&im, 0, sizeof(im));
    fwimage_header_t h;
    memset(&h, 0, sizeof(h));
    snprintf(h.model, sizeof(h.model), "%s", model);
    h.hw_rev_min = (uint16_t)hw_min;
    h.hw_rev_max = (uint16_t)hw_max;
    assert_int_equal(fwimage_version_parse(version, &h.version), 0);
    im.version = h.version;
    h.build_time = 1700000000u + seed;
    uint8_t *payload = malloc(payload_len);
    assert_non_null(payload);
    for (size_t i = 0; i < payload_len; i++)
        payload[i] = (uint8_t)(i * 31u + seed);
    assert_int_equal(fwimage_build(&h, payload, payload_len, k->sk, &im.bytes, &im.len, NULL, 0),
                     0);
    free(payload);
    uint8_t sha[32];
    crypto_hash_sha256(sha, im.bytes, im.len);
    memcpy(im.id, sha, 8);
    return im;
}

static fwslot_t *device(const uint8_t *flash)
{
    fwslot_config_t cfg = {.model = MODEL, .hw_rev = HW_REV, .key = trusted.pk};
    assert_int_equal(fwimage_version_parse("1.0.0", &cfg.factory), 0);
    fwslot_t *fs;
    assert_int_equal(fwslot_new(&cfg, flash, flash != NULL ? FWSLOT_FLASH_SIZE : 0, &fs), 0);
    return fs;
}

static int same_version(const fwimage_version_t *a, const fwimage_version_t *b)
{
    return fwimage_version_cmp(a, b) == 0;
}

/*
 * What acs-fw flash does (firmware-tools/fwflash.c), on the device directly: confirm a trial
 * of this image, reset into a staged copy of it, or enter, begin (resumes the same transfer),
 * send from the acknowledged offset, verify, reset, enter, confirm. Returns 0 or the first
 * error (FWPROTO_EPOWER when power was cut).
 */
static int client_update(fwslot_t *fs, const image_t *im)
{
    fwslot_status_t st;
    fwslot_status(fs, &st);
    int rc;
    if (same_version(&st.running, &im->version) && !st.trial && !st.running_factory)
        return 0;
    if (!(same_version(&st.running, &im->version) && st.trial)) {
        if (!(st.pending && memcmp(st.dl_id, im->id, 8) == 0)) {
            if ((rc = fwslot_enter(fs, FWPROTO_UNLOCK)) != 0 ||
                (rc = fwslot_begin(fs, (uint32_t)im->len, im->id)) != 0)
                return rc;
            fwslot_status(fs, &st);
            for (uint32_t off = st.dl_acked; off < im->len; off += FWPROTO_CHUNK_MAX) {
                size_t n = im->len - off < FWPROTO_CHUNK_MAX ? im->len - off : FWPROTO_CHUNK_MAX;
                rc = fwslot_chunk(fs, off, im->bytes + off, n,
                                  fwproto_chunk_crc(off, im->bytes + off, n));
                if (rc != 0)
                    return rc;
            }
            if ((rc = fwslot_verify(fs)) != 0)
                return rc;
        }
        if ((rc = fwslot_boot(fs)) != 0)
            return rc;
    }
    if ((rc = fwslot_enter(fs, FWPROTO_UNLOCK)) != 0)
        return rc;
    return fwslot_confirm(fs);
}

/* The device runs exactly `a` or `b` (a whole signed image, byte for byte). Returns which:
 * 0 for a, 1 for b. */
static int running_one_of(fwslot_t *fs, const image_t *a, const image_t *b)
{
    fwslot_status_t st;
    fwslot_status(fs, &st);
    assert_true(st.powered);
    assert_true(st.running_slot == 0 || st.running_slot == 1);
    size_t len;
    const uint8_t *img = fwslot_running_image(fs, &len);
    assert_non_null(img);
    fwimage_keyring_t ring = {(const uint8_t(*)[32])trusted.pk, 1};
    assert_int_equal(fwimage_check(img, len, &ring, NULL, NULL, 0), 0);
    if (len == a->len && memcmp(img, a->bytes, len) == 0) {
        assert_true(same_version(&st.running, &a->version));
        return 0;
    }
    assert_true(len == b->len && memcmp(img, b->bytes, len) == 0);
    assert_true(same_version(&st.running, &b->version));
    return 1;
}

static void test_factory_then_clean_update(void **state)
{
    (void)state;
    image_t v1 = make_image(&trusted, MODEL, 1, 5, "1.1.0", 3000, 1);
    fwslot_t *fs = device(NULL);
    assert_int_equal(fwslot_boot(fs), 0);
    fwslot_status_t st;
    fwslot_status(fs, &st);
    assert_int_equal(st.state, FWPROTO_STATE_APP);
    assert_true(st.running_factory);
    assert_int_equal(st.running.major, 1);
    assert_int_equal(st.running.minor, 0);

    assert_int_equal(client_update(fs, &v1), 0);
    fwslot_status(fs, &st);
    assert_int_equal(st.running_slot, 1);
    assert_false(st.trial);
    assert_int_equal(st.running.minor, 1);
    assert_true(st.other_valid); /* the factory image stays in slot A */
    /* 1 BEGIN + 2 per chunk + VERIFY + boot (staged -> trial) + CONFIRM */
    size_t chunks = (v1.len + FWPROTO_CHUNK_MAX - 1) / FWPROTO_CHUNK_MAX;
    assert_int_equal(st.writes, 1 + 2 * chunks + 1 + 1 + 1);

    /* Confirmed: a reset keeps it; a restart from the flash content too. */
    assert_int_equal(fwslot_boot(fs), 0);
    fwslot_status(fs, &st);
    assert_int_equal(st.running.minor, 1);
    fwslot_t *again = device(fwslot_flash(fs));
    assert_int_equal(fwslot_boot(again), 0);
    fwslot_status(again, &st);
    assert_int_equal(st.running.minor, 1);
    assert_int_equal(st.running_slot, 1);
    fwslot_free(again);
    fwslot_free(fs);
    free(v1.bytes);
}

static void test_trial_reverts_unless_confirmed(void **state)
{
    (void)state;
    image_t v1 = make_image(&trusted, MODEL, 1, 5, "1.1.0", 1000, 2);
    image_t v2 = make_image(&trusted, MODEL, 1, 5, "1.2.0", 1200, 3);
    fwslot_t *fs = device(NULL);
    assert_int_equal(fwslot_boot(fs), 0);
    assert_int_equal(client_update(fs, &v1), 0);

    assert_int_equal(fwslot_enter(fs, FWPROTO_UNLOCK), 0);
    assert_int_equal(fwslot_begin(fs, (uint32_t)v2.len, v2.id), 0);
    for (uint32_t off = 0; off < v2.len; off += FWPROTO_CHUNK_MAX) {
        size_t n = v2.len - off < FWPROTO_CHUNK_MAX ? v2.len - off : FWPROTO_CHUNK_MAX;
        assert_int_equal(
            fwslot_chunk(fs, off, v2.bytes + off, n, fwproto_chunk_crc(off, v2.bytes + off, n)), 0);
    }
    assert_int_equal(fwslot_verify(fs), 0);
    fwslot_status_t st;
    fwslot_status(fs, &st);
    assert_int_equal(st.state, FWPROTO_STATE_PENDING);
    assert_int_equal(st.running.minor, 1); /* still the old one until reset */

    assert_int_equal(fwslot_boot(fs), 0); /* reset: v2 on trial */
    fwslot_status(fs, &st);
    assert_true(st.trial);
    assert_int_equal(st.running.minor, 2);
    assert_int_equal(running_one_of(fs, &v1, &v2), 1);
    /* A new transfer is refused while on trial. */
    assert_int_equal(fwslot_enter(fs, FWPROTO_UNLOCK), 0);
    assert_int_equal(fwslot_begin(fs, (uint32_t)v1.len, v1.id), FWPROTO_ETRIAL);

    assert_int_equal(fwslot_boot(fs), 0); /* reset without confirm: back to v1 */
    fwslot_status(fs, &st);
    assert_false(st.trial);
    assert_int_equal(st.running.minor, 1);
    assert_int_equal(running_one_of(fs, &v1, &v2), 0);
    assert_true(st.other_valid);
    assert_int_equal(st.other.minor, 2);
    assert_int_equal(fwslot_boot(fs), 0); /* and it stays there */
    assert_int_equal(running_one_of(fs, &v1, &v2), 0);
    fwslot_free(fs);
    free(v1.bytes);
    free(v2.bytes);
}

static void power_cut_at_every_write(size_t old_len, size_t new_len)
{
    image_t old = make_image(&trusted, MODEL, 1, 5, "2.0.0", old_len, 4);
    image_t neu = make_image(&trusted, MODEL, 1, 5, "2.1.0", new_len, 5);
    fwslot_t *base = device(NULL);
    assert_int_equal(fwslot_boot(base), 0);
    assert_int_equal(client_update(base, &old), 0);
    uint8_t *start = malloc(FWSLOT_FLASH_SIZE);
    assert_non_null(start);
    memcpy(start, fwslot_flash(base), FWSLOT_FLASH_SIZE);
    fwslot_free(base);

    /* The clean update: how many flash writes it takes. */
    fwslot_t *fs = device(start);
    assert_int_equal(fwslot_boot(fs), 0);
    fwslot_status_t st;
    fwslot_status(fs, &st);
    uint32_t before = st.writes;
    assert_int_equal(client_update(fs, &neu), 0);
    fwslot_status(fs, &st);
    uint32_t steps = st.writes - before;
    assert_int_equal(running_one_of(fs, &old, &neu), 1);
    fwslot_free(fs);
    assert_true(steps > 20);

    unsigned saw_old = 0, saw_new = 0;
    for (uint32_t i = 1; i <= steps; i++) {
        fs = device(start);
        assert_int_equal(fwslot_boot(fs), 0);
        fwslot_cut_power_at(fs, i);
        assert_int_equal(client_update(fs, &neu), FWPROTO_EPOWER);
        fwslot_status(fs, &st);
        assert_false(st.powered);
        assert_int_equal(fwslot_enter(fs, FWPROTO_UNLOCK), FWPROTO_EPOWER);

        if (i % 2 == 0) {
            /* Simulator restart: a new device from the flash as it was left. */
            fwslot_t *restarted = device(fwslot_flash(fs));
            fwslot_free(fs);
            fs = restarted;
        }
        assert_int_equal(fwslot_boot(fs), 0);
        int which = running_one_of(fs, &old, &neu);
        saw_old += which == 0;
        saw_new += which == 1;
        /* A second reset without any client: still a whole image (a trial reverts). */
        assert_int_equal(fwslot_boot(fs), 0);
        running_one_of(fs, &old, &neu);

        /* Every third time the resume is cut too (at its second write, if it has one). */
        if (i % 3 == 0) {
            fwslot_cut_power_at(fs, 2);
            int rc = client_update(fs, &neu);
            assert_true(rc == 0 || rc == FWPROTO_EPOWER);
            if (rc == FWPROTO_EPOWER)
                assert_int_equal(fwslot_boot(fs), 0);
            fwslot_cut_power_at(fs, 0);
            running_one_of(fs, &old, &neu);
        }
        /* Resume completes the update, and it survives a reset. */
        assert_int_equal(client_update(fs, &neu), 0);
        assert_int_equal(running_one_of(fs, &old, &neu), 1);
        fwslot_status(fs, &st);
        assert_false(st.trial);
        assert_int_equal(fwslot_boot(fs), 0);
        assert_int_equal(running_one_of(fs, &old, &neu), 1);
        fwslot_free(fs);
    }
    /* Cuts up to the VERIFY record boot the old image; a cut in the trial boot record boots
     * the new one on trial; a cut in the CONFIRM record reverts to the old one. */
    print_message("power cut at each of %u flash writes: old image after %u, new after %u\n", steps,
                  saw_old, saw_new);
    assert_true(saw_old > 0);
    assert_true(saw_new > 0);
    assert_true(saw_old + saw_new == steps);
    free(start);
    free(old.bytes);
    free(neu.bytes);
}

static void test_power_cut_at_every_write(void **state)
{
    (void)state;
    power_cut_at_every_write(2000, 2500);   /* 12 chunks */
    power_cut_at_every_write(30000, 20000); /* 84 chunks, a shorter image over a longer one */
}

/* A resumed transfer continues at the acknowledged offset, not at 0. */
static void test_resume_after_cut_keeps_acknowledged_bytes(void **state)
{
    (void)state;
    image_t im = make_image(&trusted, MODEL, 1, 5, "1.3.0", 5000, 6);
    fwslot_t *fs = device(NULL);
    assert_int_equal(fwslot_boot(fs), 0);
    assert_int_equal(fwslot_enter(fs, FWPROTO_UNLOCK), 0);
    assert_int_equal(fwslot_begin(fs, (uint32_t)im.len, im.id), 0);
    fwslot_cut_power_at(fs, 2 * 10 + 1); /* the data write of chunk 10 */
    uint32_t off = 0;
    int rc = 0;
    for (; off < im.len && rc == 0; off += FWPROTO_CHUNK_MAX)
        rc = fwslot_chunk(fs, off, im.bytes + off, FWPROTO_CHUNK_MAX,
                          fwproto_chunk_crc(off, im.bytes + off, FWPROTO_CHUNK_MAX));
    assert_int_equal(rc, FWPROTO_EPOWER);
    fwslot_t *restarted = device(fwslot_flash(fs));
    fwslot_free(fs);
    fs = restarted;
    assert_int_equal(fwslot_boot(fs), 0);
    fwslot_status_t st;
    fwslot_status(fs, &st);
    assert_int_equal(st.state, FWPROTO_STATE_RECEIVING);
    assert_int_equal(st.dl_acked, 10 * FWPROTO_CHUNK_MAX);
    assert_int_equal(st.dl_size, im.len);
    assert_memory_equal(st.dl_id, im.id, 8);
    /* BEGIN of the same transfer keeps it; a chunk past the acknowledged offset is refused. */
    assert_int_equal(fwslot_enter(fs, FWPROTO_UNLOCK), 0);
    assert_int_equal(fwslot_begin(fs, (uint32_t)im.len, im.id), 0);
    fwslot_status(fs, &st);
    assert_int_equal(st.dl_acked, 10 * FWPROTO_CHUNK_MAX);
    off = 11 * FWPROTO_CHUNK_MAX;
    assert_int_equal(fwslot_chunk(fs, off, im.bytes + off, FWPROTO_CHUNK_MAX,
                                  fwproto_chunk_crc(off, im.bytes + off, FWPROTO_CHUNK_MAX)),
                     FWPROTO_EORDER);
    /* A repeated, already acknowledged chunk is acknowledged again without a write. */
    fwslot_status(fs, &st);
    uint32_t w = st.writes;
    assert_int_equal(fwslot_chunk(fs, 0, im.bytes, FWPROTO_CHUNK_MAX,
                                  fwproto_chunk_crc(0, im.bytes, FWPROTO_CHUNK_MAX)),
                     0);
    fwslot_status(fs, &st);
    assert_int_equal(st.writes, w);
    assert_int_equal(client_update(fs, &im), 0);
    fwslot_status(fs, &st);
    assert_int_equal(st.running.minor, 3);
    fwslot_free(fs);
    free(im.bytes);
}

/* Sends a whole image and verifies; returns the first refusal. */
static int send_all(fwslot_t *fs, const image_t *im)
{
    int rc;
    if ((rc = fwslot_enter(fs, FWPROTO_UNLOCK)) != 0 ||
        (rc = fwslot_begin(fs, (uint32_t)im->len, im->id)) != 0)
        return rc;
    for (uint32_t off = 0; off < im->len; off += FWPROTO_CHUNK_MAX) {
        size_t n = im->len - off < FWPROTO_CHUNK_MAX ? im->len - off : FWPROTO_CHUNK_MAX;
        rc = fwslot_chunk(fs, off, im->bytes + off, n, fwproto_chunk_crc(off, im->bytes + off, n));
        if (rc != 0)
            return rc;
    }
    return fwslot_verify(fs);
}

static void expect_refused_and_unchanged(const image_t *im, int want)
{
    fwslot_t *fs = device(NULL);
    assert_int_equal(fwslot_boot(fs), 0);
    assert_int_equal(send_all(fs, im), want);
    fwslot_status_t st;
    fwslot_status(fs, &st);
    assert_int_equal(st.error, -want);
    assert_false(st.download); /* the bad transfer is dropped */
    assert_false(st.pending);
    assert_int_equal(fwslot_boot(fs), 0);
    fwslot_status(fs, &st);
    assert_true(st.running_factory);
    fwslot_free(fs);
}

static void test_refusals(void **state)
{
    (void)state;
    image_t good = make_image(&trusted, MODEL, 1, 5, "1.1.0", 900, 7);

    image_t other_model = make_image(&trusted, "RC-50", 1, 5, "1.1.0", 900, 7);
    expect_refused_and_unchanged(&other_model, FWPROTO_EMODEL);
    image_t other_hw = make_image(&trusted, MODEL, 4, 5, "1.1.0", 900, 7);
    expect_refused_and_unchanged(&other_hw, FWPROTO_EHWREV);
    image_t foreign = make_image(&stranger, MODEL, 1, 5, "1.1.0", 900, 7);
    expect_refused_and_unchanged(&foreign, FWPROTO_EKEY);

    image_t forged = make_image(&trusted, MODEL, 1, 5, "1.1.0", 900, 7);
    forged.bytes[40] ^= 1; /* build time: header still well-formed, signature no longer */
    expect_refused_and_unchanged(&forged, FWPROTO_ESIG);
    image_t damaged = make_image(&trusted, MODEL, 1, 5, "1.1.0", 900, 7);
    damaged.bytes[FWIMAGE_HEADER_SIZE + 500] ^= 0x80; /* payload no longer matches its hash */
    expect_refused_and_unchanged(&damaged, FWPROTO_EHASH);
    image_t garbage = make_image(&trusted, MODEL, 1, 5, "1.1.0", 900, 7);
    memcpy(garbage.bytes, "NOTANIMG", 8);
    expect_refused_and_unchanged(&garbage, FWPROTO_EHEADER);

    fwslot_t *fs = device(NULL);
    assert_int_equal(fwslot_boot(fs), 0);
    /* Locked until ENTER with the right value. */
    assert_int_equal(fwslot_begin(fs, (uint32_t)good.len, good.id), FWPROTO_ELOCKED);
    assert_int_equal(fwslot_enter(fs, 0x12345678u), FWPROTO_EUNLOCK);
    assert_int_equal(fwslot_begin(fs, (uint32_t)good.len, good.id), FWPROTO_ELOCKED);
    assert_int_equal(fwslot_enter(fs, FWPROTO_UNLOCK), 0);
    assert_int_equal(fwslot_chunk(fs, 0, good.bytes, 10, fwproto_chunk_crc(0, good.bytes, 10)),
                     FWPROTO_ENODOWNLOAD);
    assert_int_equal(fwslot_begin(fs, 10, good.id), FWPROTO_ESIZE);
    assert_int_equal(fwslot_begin(fs, FWSLOT_SLOT_SIZE + 1, good.id), FWPROTO_ESIZE);
    assert_int_equal(fwslot_begin(fs, (uint32_t)good.len, good.id), 0);
    /* A chunk whose CRC does not match is refused and not stored. */
    uint16_t crc = fwproto_chunk_crc(0, good.bytes, FWPROTO_CHUNK_MAX);
    assert_int_equal(fwslot_chunk(fs, 0, good.bytes, FWPROTO_CHUNK_MAX, (uint16_t)(crc ^ 1)),
                     FWPROTO_ECRC);
    fwslot_status_t st;
    fwslot_status(fs, &st);
    assert_int_equal(st.dl_acked, 0);
    assert_int_equal(st.error, 3);
    assert_int_equal(fwslot_chunk(fs, 0, good.bytes, 0, 0), FWPROTO_ECOMMAND);
    assert_int_equal(fwslot_chunk(fs, 0, good.bytes, FWPROTO_CHUNK_MAX, crc), 0);
    assert_int_equal(fwslot_verify(fs), FWPROTO_EINCOMPLETE);
    assert_int_equal(fwslot_confirm(fs), FWPROTO_ENOTRIAL);
    /* Abort drops the transfer. */
    assert_int_equal(fwslot_abort(fs), 0);
    fwslot_status(fs, &st);
    assert_false(st.download);
    assert_int_equal(st.state, FWPROTO_STATE_UPDATE);
    fwslot_free(fs);

    /* A device without a key trusts no image. */
    fwslot_config_t cfg = {.model = MODEL, .hw_rev = HW_REV, .key = NULL};
    assert_int_equal(fwslot_new(&cfg, NULL, 0, &fs), 0);
    assert_int_equal(fwslot_boot(fs), 0);
    assert_int_equal(send_all(fs, &good), FWPROTO_EKEY);
    fwslot_free(fs);

    free(good.bytes);
    free(other_model.bytes);
    free(other_hw.bytes);
    free(foreign.bytes);
    free(forged.bytes);
    free(damaged.bytes);
    free(garbage.bytes);
}

/* A torn boot record is ignored in favour of the previous copy. */
static void test_torn_boot_record(void **state)
{
    (void)state;
    fwslot_t *fs = device(NULL);
    assert_int_equal(fwslot_boot(fs), 0);
    image_t im = make_image(&trusted, MODEL, 1, 5, "1.1.0", 700, 8);
    assert_int_equal(fwslot_enter(fs, FWPROTO_UNLOCK), 0);
    assert_int_equal(fwslot_begin(fs, (uint32_t)im.len, im.id), 0);
    fwslot_cut_power_at(fs, 1);
    assert_int_equal(fwslot_abort(fs), FWPROTO_EPOWER); /* the record write is torn */
    assert_int_equal(fwslot_boot(fs), 0);
    fwslot_status_t st;
    fwslot_status(fs, &st);
    assert_true(st.download); /* the record before the torn one is in force */
    assert_int_equal(st.dl_size, im.len);
    fwslot_free(fs);
    free(im.bytes);
}

int main(void)
{
    if (fwimage_init() != 0)
        return 1;
    crypto_sign_keypair(trusted.pk, trusted.sk);
    crypto_sign_keypair(stranger.pk, stranger.sk);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_factory_then_clean_update),
        cmocka_unit_test(test_trial_reverts_unless_confirmed),
        cmocka_unit_test(test_power_cut_at_every_write),
        cmocka_unit_test(test_resume_after_cut_keeps_acknowledged_bytes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_torn_boot_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
