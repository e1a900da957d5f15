/* SPDX-License-Identifier: MIT */
/*
 * auth_token.h - bearer tokens: generation and hashing.
 *
 * A token is 32 random bytes (256 bits, libsodium randombytes_buf) written as the prefix
 * "acs_" followed by 43 characters of unpadded URL-safe base64. Only its SHA-256 is stored
 * (api_token.token_hash); the token itself is printed once and never kept.
 */
#ifndef ACS_AUTH_TOKEN_H
#define ACS_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_TOKEN_PREFIX "acs_"
#define AUTH_TOKEN_STRLEN (4 + 43) /* without the NUL */
#define AUTH_TOKEN_HASHLEN 32

/* Initialise libsodium; call once before the others. Return 0 or ACS_EIO. */
int auth_token_init(void);

/* Write a new random token and its NUL into out (size >= AUTH_TOKEN_STRLEN + 1). */
void auth_token_new(char out[AUTH_TOKEN_STRLEN + 1]);

/* Hash a presented token. Return 0, or ACS_EINVAL when `token` (len bytes) is not shaped like
 * a token (wrong prefix, length or alphabet); hash is then zeroed. */
int auth_token_hash(const char *token, size_t len, uint8_t hash[AUTH_TOKEN_HASHLEN]);

/* Write the PostgreSQL bytea hex literal of hash ("\\x" followed by 64 hex digits) and its NUL
 * into out (size >= 67). */
void auth_token_hash_hex(const uint8_t hash[AUTH_TOKEN_HASHLEN], char out[67]);

#endif
