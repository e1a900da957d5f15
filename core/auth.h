/* SPDX-License-Identifier: MIT */
/*
 * auth.h - who is calling: bearer token -> user, with a short-lived cache so that a busy
 * client does not cost a database round trip per request.
 *
 * A cached entry lives FIELDD_AUTH_CACHE_MS (default 2000 ms), so a revoked token or a
 * deactivated user stops working within that time on every instance.
 */
#ifndef ACS_AUTH_H
#define ACS_AUTH_H

#include <stdint.h>

#include "auth_token.h"

typedef struct api_req api_req_t;

#define AUTH_CACHE_BUCKETS 256

typedef struct auth_entry auth_entry_t;

typedef struct {
    auth_entry_t *buckets[AUTH_CACHE_BUCKETS];
    size_t count;
    uint64_t ttl_ms;
} auth_cache_t;

void auth_cache_init(auth_cache_t *cache, uint64_t ttl_ms);
void auth_cache_clear(auth_cache_t *cache);

/*
 * Authenticate r from its Authorization header (or the web UI's session cookie, web.h), then
 * call next(r) with r->user set; a cookie-signed change without X-ACS-CSRF is refused 403.
 * Replies 401 itself (missing, malformed, unknown or revoked token) or 503 (database
 * unavailable), in which case next is not called. May answer from the cache at once, or later
 * from a database callback.
 */
void auth_request(api_req_t *r, void (*next)(api_req_t *r));

#endif
