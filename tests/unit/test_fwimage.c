/* SPDX-License-Identifier: MIT */
/*
 * test_fwimage.c - the firmware image format (firmware-tools/fwimage.c) and the Intel HEX
 * reader (ihex.c): the header layout byte by byte, a round trip through build and check, and
 * each refusal with its own code - truncated, corrupted, unknown key, bad signature, wrong
 * model, wrong hardware revision, downgrade - plus every malformed Intel HEX line reported
 * with its line number.
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

#include "acs_error.h"
#include "fwimage.h"
#include "fwproto.h"
#include "ihex.h"

static uint8_t pk[32], sk[64], pk2[32], sk2[64];

static uint8_t *build(const char *model, unsigned lo, unsigned hi, const char *ver, size_t n,
                      const uint8_t *secret, size_t *len)
{
    fwimage_header_t h;
    memset(&h, 0, sizeof(h));
    snprintf(h.model, sizeof(h.model), "%s", model);
    h.hw_rev_min = (uint16_t)lo;
    h.hw_rev_max = (uint16_t)hi;
    assert_int_equal(fwimage_version_parse(ver, &h.version), 0);
    h.build_time = 1732400000;
    uint8_t *payload = malloc(n);
    for (size_t i = 0; i < n; i++)
        payload[i] = (uint8_t)(i ^ 0x5A);
    uint8_t *img;
    char err[256];
    assert_int_equal(fwimage_build(&h, payload, n, secret, &img, len, err, sizeof(err)), 0);
    free(payload);
    return img;
}

static void test_header_layout(void **state)
{
    (void)state;
    size_t len;
    uint8_t *img = build("TC-200", 2, 4, "3.1.7", 1000, sk, &len);
    assert_int_equal(len, 128 + 1000 + 64);
    assert_memory_equal(img, "ACSFWIMG", 8);
    assert_int_equal(img[8] | img[9] << 8, 1);     /* format version */
    assert_int_equal(img[10] | img[11] << 8, 128); /* header size */
    assert_string_equal((const char *)img + 12, "TC-200");
    assert_int_equal(img[28], 2);
    assert_int_equal(img[30], 4);
    assert_int_equal(img[32], 3);
    assert_int_equal(img[34], 1);
    assert_int_equal(img[36], 7);
    assert_int_equal(img[48] | img[49] << 8, 1000);
    uint8_t id[8], sha[32];
    fwimage_key_id(pk, id);
    assert_memory_equal(img + 56, id, 8);
    crypto_hash_sha256(sha, img + 128, 1000);
    assert_memory_equal(img + 64, sha, 32);
    assert_int_equal(crypto_sign_verify_detached(img + 128 + 1000, img, 128 + 1000, pk), 0);

    fwimage_keyring_t ring = {(const uint8_t(*)[32])pk, 1};
    fwimage_header_t h;
    char err[256];
    assert_int_equal(fwimage_check(img, len, &ring, &h, err, sizeof(err)), 0);
    assert_string_equal(h.model, "TC-200");
    assert_int_equal(h.version.patch, 7);
    assert_int_equal(h.build_time, 1732400000);
    free(img);
}

static void test_refusals(void **state)
{
    (void)state;
    size_t len;
    uint8_t *img = build("TC-200", 2, 4, "3.1.7", 1000, sk, &len);
    uint8_t both[2][32];
    memcpy(both[0], pk2, 32);
    memcpy(both[1], pk, 32);
    fwimage_keyring_t ring = {(const uint8_t(*)[32])both, 2};
    fwimage_keyring_t other = {(const uint8_t(*)[32])pk2, 1};
    fwimage_header_t h;
    char err[512];

    assert_int_equal(fwimage_check(img, len, &ring, &h, err, sizeof(err)), 0);
    /* truncated: inside the header, inside the payload, missing signature bytes */
    assert_int_equal(fwimage_check(img, 60, &ring, &h, err, sizeof(err)), FWIMAGE_ETRUNCATED);
    assert_non_null(strstr(err, "header"));
    assert_int_equal(fwimage_check(img, 500, &ring, &h, err, sizeof(err)), FWIMAGE_ETRUNCATED);
    assert_int_equal(fwimage_check(img, len - 1, &ring, &h, err, sizeof(err)), FWIMAGE_ETRUNCATED);
    assert_non_null(strstr(err, "cut short"));
    assert_int_equal(fwimage_check(img, 0, &ring, &h, err, sizeof(err)), FWIMAGE_ETRUNCATED);
    /* unknown key */
    assert_int_equal(fwimage_check(img, len, &other, &h, err, sizeof(err)), FWIMAGE_EUNKNOWNKEY);
    assert_non_null(strstr(err, "not among the 1 trusted key"));
    /* bad signature: the build time changed after signing */
    uint8_t *bad = malloc(len);
    memcpy(bad, img, len);
    bad[40] ^= 1;
    assert_int_equal(fwimage_check(bad, len, &ring, &h, err, sizeof(err)), FWIMAGE_EBADSIG);
    memcpy(bad, img, len);
    bad[len - 3] ^= 0x10; /* the signature itself */
    assert_int_equal(fwimage_check(bad, len, &ring, &h, err, sizeof(err)), FWIMAGE_EBADSIG);
    /* corrupted: payload vs hash, magic, version, reserved bytes, appended bytes */
    memcpy(bad, img, len);
    bad[300] ^= 1;
    assert_int_equal(fwimage_check(bad, len, &ring, &h, err, sizeof(err)), FWIMAGE_ECORRUPT);
    assert_non_null(strstr(err, "SHA-256"));
    memcpy(bad, img, len);
    bad[0] = 'X';
    assert_int_equal(fwimage_check(bad, len, &ring, &h, err, sizeof(err)), FWIMAGE_ECORRUPT);
    assert_non_null(strstr(err, "not an acsfield firmware image"));
    memcpy(bad, img, len);
    bad[8] = 9;
    assert_int_equal(fwimage_check(bad, len, &ring, &h, err, sizeof(err)), FWIMAGE_ECORRUPT);
    assert_non_null(strstr(err, "format version 9"));
    memcpy(bad, img, len);
    bad[100] = 1;
    assert_int_equal(fwimage_check(bad, len, &ring, &h, err, sizeof(err)), FWIMAGE_ECORRUPT);
    memcpy(bad, img, len);
    bad[28] = 9; /* hw min 9 > max 4 */
    assert_int_equal(fwimage_check(bad, len, &ring, &h, err, sizeof(err)), FWIMAGE_ECORRUPT);
    uint8_t *longer = malloc(len + 5);
    memcpy(longer, img, len);
    memset(longer + len, 0, 5);
    assert_int_equal(fwimage_check(longer, len + 5, &ring, &h, err, sizeof(err)), FWIMAGE_ECORRUPT);
    assert_non_null(strstr(err, "appended"));
    free(longer);
    free(bad);

    /* target and version */
    assert_int_equal(fwimage_check(img, len, &ring, &h, err, sizeof(err)), 0);
    assert_int_equal(fwimage_check_target(&h, "TC-200", 3, err, sizeof(err)), 0);
    assert_int_equal(fwimage_check_target(&h, "RC-50", 3, err, sizeof(err)), FWIMAGE_EWRONGMODEL);
    assert_string_equal(err, "the image is for model TC-200, the device is a RC-50");
    assert_int_equal(fwimage_check_target(&h, "TC-200", 5, err, sizeof(err)), FWIMAGE_EWRONGHW);
    assert_int_equal(fwimage_check_target(&h, "TC-200", 1, err, sizeof(err)), FWIMAGE_EWRONGHW);
    assert_non_null(strstr(err, "revisions 2..4, the device is revision 1"));
    fwimage_version_t run;
    assert_int_equal(fwimage_version_parse("3.2.0", &run), 0);
    assert_int_equal(fwimage_check_version(&h, &run, 0, err, sizeof(err)), FWIMAGE_EDOWNGRADE);
    assert_non_null(strstr(err, "--allow-downgrade"));
    assert_int_equal(fwimage_check_version(&h, &run, 1, err, sizeof(err)), 0);
    assert_int_equal(fwimage_version_parse("3.1.7", &run), 0);
    assert_int_equal(fwimage_check_version(&h, &run, 0, err, sizeof(err)), 0);
    free(img);

    /* distinct codes and names */
    assert_string_equal(fwimage_err_name(FWIMAGE_EBADSIG), "EBADSIG");
    assert_string_equal(fwimage_strerror(FWIMAGE_ETRUNCATED), "truncated image");
}

static void test_build_refuses(void **state)
{
    (void)state;
    fwimage_header_t h;
    memset(&h, 0, sizeof(h));
    uint8_t *img;
    size_t len;
    char err[256];
    uint8_t p[4] = {1, 2, 3, 4};
    snprintf(h.model, sizeof(h.model), "TC 200");
    assert_int_equal(fwimage_build(&h, p, 4, sk, &img, &len, err, sizeof(err)), FWIMAGE_EINVAL);
    assert_null(img);
    snprintf(h.model, sizeof(h.model), "TC-200");
    assert_int_equal(fwimage_build(&h, p, 0, sk, &img, &len, err, sizeof(err)), FWIMAGE_EINVAL);
    h.hw_rev_min = 3;
    h.hw_rev_max = 2;
    assert_int_equal(fwimage_build(&h, p, 4, sk, &img, &len, err, sizeof(err)), FWIMAGE_EINVAL);
    assert_non_null(strstr(err, "3..2 is empty"));
}

static void test_versions_and_keys(void **state)
{
    (void)state;
    fwimage_version_t v;
    assert_int_equal(fwimage_version_parse("1.22.333", &v), 0);
    assert_int_equal(v.minor, 22);
    char buf[32];
    fwimage_version_format(&v, buf, sizeof(buf));
    assert_string_equal(buf, "1.22.333");
    const char *bad[] = {"",     "1",         "1.2",    "1.2.3.4", "1.2.x",
                         "1..2", "65536.0.0", "-1.0.0", " 1.2.3",  "1.2.3 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fwimage_version_parse(bad[i], &v), FWIMAGE_EINVAL);
    fwimage_version_t a = {1, 2, 3}, b = {1, 10, 0};
    assert_true(fwimage_version_cmp(&a, &b) < 0);
    assert_true(fwimage_version_cmp(&b, &a) > 0);

    char line[200], err[256];
    uint8_t out[64];
    int secret;
    fwimage_key_format(pk, 0, line, sizeof(line));
    assert_int_equal(strncmp(line, "acs-fw ed25519 public ", 22), 0);
    assert_int_equal(fwimage_key_parse(line, out, 32, &secret, err, sizeof(err)), 0);
    assert_false(secret);
    assert_memory_equal(out, pk, 32);
    assert_int_equal(fwimage_key_parse(line + 22, out, 32, &secret, err, sizeof(err)), 0);
    fwimage_key_format(sk, 1, line, sizeof(line));
    assert_int_equal(fwimage_key_parse(line, out, 64, &secret, err, sizeof(err)), 0);
    assert_true(secret);
    assert_memory_equal(out, sk, 64);
    assert_int_equal(fwimage_key_parse(line, out, 32, &secret, err, sizeof(err)), FWIMAGE_EINVAL);
    assert_non_null(strstr(err, "secret key where a public key"));
    assert_int_equal(
        fwimage_key_parse("acs-fw ed25519 public abc", out, 32, &secret, err, sizeof(err)),
        FWIMAGE_EINVAL);
    assert_non_null(strstr(err, "64 hex digits"));
}

/* ---- Intel HEX ------------------------------------------------------------------------ */

static int hex_parse(const char *text, ihex_result_t *r, char *err, size_t errlen)
{
    return ihex_parse(text, strlen(text), 0xFF, r, err, errlen);
}

static void test_ihex_good(void **state)
{
    (void)state;
    /* Two data records with a 2-byte gap, an extended linear address, a start address, CRLF
     * line ends and a blank line. */
    const char *text = ":020000040800F2\r\n"
                       ":0400000001020304F2\r\n"
                       "\r\n"
                       ":02000600AABB93\r\n"
                       ":0400000508000101ED\r\n"
                       ":00000001FF\r\n";
    ihex_result_t r;
    char err[256];
    assert_int_equal(hex_parse(text, &r, err, sizeof(err)), 0);
    assert_int_equal(r.base, 0x08000000);
    assert_int_equal(r.len, 8);
    const uint8_t want[8] = {1, 2, 3, 4, 0xFF, 0xFF, 0xAA, 0xBB};
    assert_memory_equal(r.data, want, 8);
    assert_int_equal(r.gap_bytes, 2);
    assert_int_equal(r.data_records, 2);
    assert_true(r.has_start);
    assert_int_equal(r.start, 0x08000101);
    ihex_result_free(&r);

    /* Extended segment addresses (type 02) and a start segment address (03). */
    text = ":020000021000EC\n"
           ":01001000559A\n"
           ":0400000300100020C9\n"
           ":00000001FF\n";
    assert_int_equal(hex_parse(text, &r, err, sizeof(err)), 0);
    assert_int_equal(r.base, 0x10010);
    assert_int_equal(r.len, 1);
    assert_int_equal(r.data[0], 0x55);
    assert_int_equal(r.start, (0x0010u << 4) + 0x0020u);
    ihex_result_free(&r);
}

static void expect_hex_error(const char *text, const char *want)
{
    ihex_result_t r;
    char err[256];
    assert_int_equal(hex_parse(text, &r, err, sizeof(err)), ACS_EINVAL);
    assert_null(r.data);
    if (strstr(err, want) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", want, err);
}

static void test_ihex_errors(void **state)
{
    (void)state;
    expect_hex_error(":0400000001020304F3\n:00000001FF\n",
                     "line 1: checksum 0xF3 does not match the record (expected 0xF2)");
    expect_hex_error(":00000001FF\n0400000001020304F2\n", "line 2: does not start with ':'");
    expect_hex_error(":0400000001020304F2\n", "line 1: the file ends without an end-of-file");
    expect_hex_error(":0400000001020304F2\n:00000001FF\n:0100000000FF\n",
                     "line 3: a record after the end-of-file record");
    expect_hex_error(":0400000001020G04F2\n:00000001FF\n", "line 1: column 15: 'G' is not a hex");
    expect_hex_error(":0500000001020304F1\n:00000001FF\n",
                     "line 1: the byte count says 5 data bytes but the record holds 4");
    expect_hex_error(":0400000001020304F\n", "line 1: 17 characters after ':'");
    expect_hex_error(":0400000001020304F2\n:020002009988DB\n:00000001FF\n",
                     "line 2: address 0x00000002 was already written");
    expect_hex_error(":0400000601020304EC\n:00000001FF\n", "line 1: record type 06");
    expect_hex_error(":03000004080000F1\n:00000001FF\n", "line 1: extended linear address");
    expect_hex_error(":0100000101FD\n", "line 1: end-of-file record with 1 data bytes");
    expect_hex_error(":00000001FF\n", "no data records");
    expect_hex_error(":02FFFF00AABB9B\n:00000001FF\n", "line 1: data at offset 0xFFFF runs past");
    /* data spanning more than IHEX_SPAN_MAX */
    expect_hex_error(":0100000011EE\n:020000040200F8\n:0100000022DD\n:00000001FF\n",
                     "line 3: the data spans more than");
}

static void test_proto_strings(void **state)
{
    (void)state;
    assert_non_null(strstr(fwproto_strerror(FWPROTO_ECRC), "CRC"));
    assert_non_null(strstr(fwproto_strerror(3), "CRC"));
    assert_string_equal(fwproto_state_name(FWPROTO_STATE_RECEIVING), "receiving");
    /* CRC-16/MODBUS of offset 0 + "123456789" differs from that of the bare check string. */
    const uint8_t check[] = "123456789";
    assert_int_not_equal(fwproto_chunk_crc(0, check, 9), 0x4B37);
    assert_int_equal(fwproto_chunk_crc(0, check, 9), fwproto_chunk_crc(0, check, 9));
    assert_int_not_equal(fwproto_chunk_crc(240, check, 9), fwproto_chunk_crc(0, check, 9));
}

int main(void)
{
    if (fwimage_init() != 0)
        return 1;
    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_layout), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_build_refuses), cmocka_unit_test(test_versions_and_keys),
        cmocka_unit_test(test_ihex_good),     cmocka_unit_test(test_ihex_errors),
        cmocka_unit_test(test_proto_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
