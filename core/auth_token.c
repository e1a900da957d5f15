/* SPDX-License-Identifier: MIT */
/*
 * auth_token.c - bearer tokens of auth_token.h, made and hashed with libsodium.
 *
 * A token is "acs_" followed by 32 random bytes in unpadded URL-safe base64. The service
 * keeps only SHA-256(token text); a presented token is shape-checked before it is hashed so
 * that obvious garbage never costs a database lookup.
 */
#include "auth_token.h"

#include "acs_error.h"

#include <sodium.h>
#include <string.h>

#define TOKEN_RAW_BYTES 32
#define PREFIX_LEN      (sizeof(AUTH_TOKEN_PREFIX) - 1)
#define BODY_LEN        (AUTH_TOKEN_STRLEN - PREFIX_LEN)

/* The encoded form must fill exactly the room the header promises. */
_Static_assert(sodium_base64_ENCODED_LEN(TOKEN_RAW_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) == BODY_LEN + 1,
               "token body length does not match AUTH_TOKEN_STRLEN");

int auth_token_init(void)
{
    /* sodium_init returns 1 when it was already initialised, which is fine. */
    return sodium_init() < 0 ? ACS_EIO : 0;
}

void auth_token_new(char out[AUTH_TOKEN_STRLEN + 1])
{
    unsigned char raw[TOKEN_RAW_BYTES];
    randombytes_buf(raw, sizeof(raw));
    memcpy(out, AUTH_TOKEN_PREFIX, PREFIX_LEN);
    sodium_bin2base64(out + PREFIX_LEN, BODY_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

static int is_urlsafe_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int auth_token_hash(const char *token, size_t len, uint8_t hash[AUTH_TOKEN_HASHLEN])
{
    memset(hash, 0, AUTH_TOKEN_HASHLEN);
    if (token == NULL || len != AUTH_TOKEN_STRLEN ||
        memcmp(token, AUTH_TOKEN_PREFIX, PREFIX_LEN) != 0)
        return ACS_EINVAL;
    for (size_t i = PREFIX_LEN; i < len; i++) {
        if (!is_urlsafe_b64(token[i]))
            return ACS_EINVAL;
    }
    crypto_hash_sha256(hash, (const unsigned char *)token, len);
    return 0;
}

void auth_token_hash_hex(const uint8_t hash[AUTH_TOKEN_HASHLEN], char out[67])
{
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, 2 * AUTH_TOKEN_HASHLEN + 1, hash, AUTH_TOKEN_HASHLEN);
}
