/* SPDX-License-Identifier: MIT */
/*
 * test_auth_token.c - unit tests of bearer tokens (core/auth_token.h): the shape of new
 * tokens, the shape check of presented ones, and SHA-256 against vectors computed outside
 * this code (coreutils sha256sum).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "acs_error.h"
#include "auth_token.h"

/* printf 'acs_0123456789abcdefghijklmnopqrstuvwxyzABCDEF-' | sha256sum */
static const char known_token[] = "acs_0123456789abcdefghijklmnopqrstuvwxyzABCDEF-";
static const char known_hex[] =
    "\\x5eb2e0e1f981640569ae92a796bfc2e964c49ff0b20e33d6a2d912052f35fddb";

static int setup(void **state)
{
    (void)state;
    return auth_token_init() == 0 ? 0 : -1;
}

static int in_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static void test_init_twice(void **state)
{
    (void)state;
    assert_int_equal(auth_token_init(), 0);
    assert_int_equal(auth_token_init(), 0);
}

static void test_new_shape(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        char tok[AUTH_TOKEN_STRLEN + 2];
        memset(tok, 'Z', sizeof(tok));
        auth_token_new(tok);
        assert_int_equal(strlen(tok), AUTH_TOKEN_STRLEN);
        assert_int_equal(AUTH_TOKEN_STRLEN, 47);
        assert_memory_equal(tok, "acs_", 4);
        for (size_t i = 4; i < AUTH_TOKEN_STRLEN; i++)
            assert_true(in_alphabet(tok[i]));
        assert_int_equal(tok[AUTH_TOKEN_STRLEN + 1], 'Z'); /* nothing past the NUL */

        /* The body is canonical unpadded URL-safe base64 of exactly 32 bytes. */
        unsigned char raw[64];
        size_t rawlen = 0;
        assert_int_equal(sodium_base642bin(raw, sizeof(raw), tok + 4, 43, NULL, &rawlen, NULL,
                                           sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                         0);
        assert_int_equal(rawlen, 32);

        uint8_t hash[AUTH_TOKEN_HASHLEN];
        assert_int_equal(auth_token_hash(tok, strlen(tok), hash), 0);
    }
}

static void test_new_tokens_differ(void **state)
{
    (void)state;
    char a[AUTH_TOKEN_STRLEN + 1], b[AUTH_TOKEN_STRLEN + 1];
    auth_token_new(a);
    auth_token_new(b);
    assert_string_not_equal(a, b);
    uint8_t ha[AUTH_TOKEN_HASHLEN], hb[AUTH_TOKEN_HASHLEN];
    assert_int_equal(auth_token_hash(a, strlen(a), ha), 0);
    assert_int_equal(auth_token_hash(b, strlen(b), hb), 0);
    assert_memory_not_equal(ha, hb, AUTH_TOKEN_HASHLEN);
}

static void test_hash_known_vector(void **state)
{
    (void)state;
    uint8_t hash[AUTH_TOKEN_HASHLEN];
    uint8_t again[AUTH_TOKEN_HASHLEN];
    char hex[67];
    assert_int_equal(strlen(known_token), AUTH_TOKEN_STRLEN);
    assert_int_equal(auth_token_hash(known_token, strlen(known_token), hash), 0);
    memset(hex, 'x', sizeof(hex));
    auth_token_hash_hex(hash, hex);
    assert_string_equal(hex, known_hex);
    assert_int_equal(strlen(hex), 66);
    /* Deterministic. */
    assert_int_equal(auth_token_hash(known_token, strlen(known_token), again), 0);
    assert_memory_equal(hash, again, AUTH_TOKEN_HASHLEN);
}

static void test_hash_hex_format(void **state)
{
    (void)state;
    /* SHA-256("abc") from FIPS 180-2, as bytes: checks the hex writer on its own. */
    static const uint8_t abc[AUTH_TOKEN_HASHLEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    char hex[67];
    auth_token_hash_hex(abc, hex);
    assert_string_equal(hex, "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    static const uint8_t zero[AUTH_TOKEN_HASHLEN] = {0};
    auth_token_hash_hex(zero, hex);
    assert_string_equal(hex, "\\x0000000000000000000000000000000000000000000000000000000000000000");
}

static void assert_refused(const char *token, size_t len)
{
    uint8_t hash[AUTH_TOKEN_HASHLEN];
    static const uint8_t zero[AUTH_TOKEN_HASHLEN] = {0};
    memset(hash, 0xAA, sizeof(hash));
    assert_int_equal(auth_token_hash(token, len, hash), ACS_EINVAL);
    assert_memory_equal(hash, zero, AUTH_TOKEN_HASHLEN);
}

static void test_hash_refuses_bad_shapes(void **state)
{
    (void)state;
    char t[64];

    assert_refused("", 0);
    assert_refused(NULL, 47);
    /* Length one short and one long. */
    assert_refused(known_token, AUTH_TOKEN_STRLEN - 1);
    strcpy(t, known_token);
    strcat(t, "A");
    assert_refused(t, strlen(t));
    /* Wrong prefix. */
    strcpy(t, known_token);
    t[0] = 'A';
    assert_refused(t, strlen(t));
    strcpy(t, known_token);
    t[3] = '-';
    assert_refused(t, strlen(t));
    /* Characters outside URL-safe base64: standard base64, padding, space, NUL, high byte. */
    static const char bad[] = {'+', '/', '=', ' ', '\0', '.', '~', (char)0xC3};
    for (size_t i = 0; i < sizeof(bad); i++) {
        strcpy(t, known_token);
        t[20] = bad[i];
        assert_refused(t, AUTH_TOKEN_STRLEN);
    }
    strcpy(t, known_token);
    t[AUTH_TOKEN_STRLEN - 1] = '=';
    assert_refused(t, AUTH_TOKEN_STRLEN);
    /* A Bearer header value with the scheme still on it. */
    assert_refused("Bearer acs_0123456789abcdefghijklmnopqrstuvwxyzABC", 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_twice),        cmocka_unit_test(test_new_shape),
        cmocka_unit_test(test_new_tokens_differ), cmocka_unit_test(test_hash_known_vector),
        cmocka_unit_test(test_hash_hex_format),   cmocka_unit_test(test_hash_refuses_bad_shapes),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
