/* SPDX-License-Identifier: MIT */
/*
 * auth.c - bearer token to user, through a small cache keyed by the token's SHA-256. The
 * token comes from the Authorization header, or else from the web UI's session cookie
 * (web.h), whose changes must carry the X-ACS-CSRF header.
 *
 * The cache holds only what the database said a moment ago; entries expire after ttl_ms and
 * the whole cache is dropped if it grows past a bound, so a flood of distinct bad tokens
 * cannot grow memory. Unknown tokens are not cached: each costs one indexed lookup.
 */
#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"
#include "server.h"
#include "web.h"

#define AUTH_CACHE_MAX 4096

struct auth_entry {
    auth_entry_t *next;
    uint8_t hash[AUTH_TOKEN_HASHLEN];
    api_user_t user;
    uint64_t expires_ms;
};

void auth_cache_init(auth_cache_t *cache, uint64_t ttl_ms)
{
    memset(cache, 0, sizeof(*cache));
    cache->ttl_ms = ttl_ms;
}

void auth_cache_clear(auth_cache_t *cache)
{
    for (size_t i = 0; i < AUTH_CACHE_BUCKETS; i++) {
        auth_entry_t *e = cache->buckets[i];
        while (e != NULL) {
            auth_entry_t *next = e->next;
            free(e);
            e = next;
        }
        cache->buckets[i] = NULL;
    }
    cache->count = 0;
}

static size_t bucket_of(const uint8_t *hash)
{
    return hash[0]; /* the hash is uniformly distributed already */
}

static const api_user_t *token_cache_get(auth_cache_t *cache, const uint8_t *hash, uint64_t now)
{
    auth_entry_t **pp = &cache->buckets[bucket_of(hash)];
    while (*pp != NULL) {
        auth_entry_t *e = *pp;
        if (e->expires_ms <= now) {
            *pp = e->next;
            free(e);
            cache->count--;
            continue;
        }
        if (memcmp(e->hash, hash, AUTH_TOKEN_HASHLEN) == 0)
            return &e->user;
        pp = &e->next;
    }
    return NULL;
}

static void token_cache_put(auth_cache_t *cache, const uint8_t *hash, const api_user_t *user,
                            uint64_t now)
{
    if (cache->ttl_ms == 0)
        return;
    if (cache->count >= AUTH_CACHE_MAX)
        auth_cache_clear(cache);
    auth_entry_t *e = malloc(sizeof(*e));
    if (e == NULL)
        return;
    memcpy(e->hash, hash, AUTH_TOKEN_HASHLEN);
    e->user = *user;
    e->expires_ms = now + cache->ttl_ms;
    size_t b = bucket_of(hash);
    e->next = cache->buckets[b];
    cache->buckets[b] = e;
    cache->count++;
}

typedef struct {
    void (*next)(api_req_t *r);
    uint8_t hash[AUTH_TOKEN_HASHLEN];
} auth_state_t;

static void on_user(api_req_t *r, int err, PGresult *res)
{
    auth_state_t *st = r->data;
    if (err != 0) {
        api_reply_db_error(r, err, res);
        return;
    }
    if (PQntuples(res) != 1) {
        api_problem(r, 401, "unauthorized", NULL, NULL,
                    "the bearer token is unknown or revoked, or its user is deactivated");
        return;
    }
    role_t role = role_parse(PQgetvalue(res, 0, 1));
    if (role == 0) {
        api_problem(r, 500, "internal", NULL, NULL, "user has an unknown role \"%s\"",
                    PQgetvalue(res, 0, 1));
        return;
    }
    snprintf(r->user.id, sizeof(r->user.id), "%s", PQgetvalue(res, 0, 0));
    snprintf(r->user.name, sizeof(r->user.name), "%s", PQgetvalue(res, 0, 2));
    r->user.role = role;
    token_cache_put(&r->srv->auth, st->hash, &r->user, uv_now(r->srv->loop));
    r->data = NULL;
    st->next(r);
}

void auth_request(api_req_t *r, void (*next)(api_req_t *r))
{
    h2o_req_t *req = r->req;
    const char *tok;
    size_t tok_len;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0) {
        /* A browser signed in through the web UI sends the token as a cookie (web.h). */
        if (web_session_token(req, &tok, &tok_len) != 0) {
            api_problem(r, 401, "unauthorized", NULL, NULL,
                        "this endpoint needs an Authorization: Bearer <token> header "
                        "(or the session cookie of a sign-in at /ui/)");
            return;
        }
        if (!web_csrf_ok(req)) {
            api_problem(r, 403, "forbidden", NULL, NULL,
                        "a change signed in by the session cookie must carry the header "
                        "X-ACS-CSRF: 1 (the web UI sends it; other clients use "
                        "Authorization: Bearer)");
            return;
        }
    } else {
        h2o_iovec_t v = req->headers.entries[i].value;
        static const char scheme[] = "Bearer ";
        if (v.len <= sizeof(scheme) - 1 || strncasecmp(v.base, scheme, sizeof(scheme) - 1) != 0) {
            api_problem(r, 401, "unauthorized", NULL, NULL,
                        "the Authorization header must be \"Bearer <token>\"");
            return;
        }
        tok = v.base + sizeof(scheme) - 1;
        tok_len = v.len - (sizeof(scheme) - 1);
    }

    auth_state_t *st = h2o_mem_alloc_pool(&req->pool, sizeof(*st));
    st->next = next;
    if (auth_token_hash(tok, tok_len, st->hash) != 0) {
        api_problem(r, 401, "unauthorized", NULL, NULL,
                    "the bearer token is malformed (expected acs_ followed by 43 characters)");
        return;
    }
    const api_user_t *cached = token_cache_get(&r->srv->auth, st->hash, uv_now(r->srv->loop));
    if (cached != NULL) {
        r->user = *cached;
        next(r);
        return;
    }
    char hex[67];
    auth_token_hash_hex(st->hash, hex);
    const char *params[] = {hex};
    r->data = st;
    api_query(r,
              "SELECT u.id, u.role, u.name FROM api_token t JOIN app_user u ON u.id = t.user_id"
              " WHERE t.token_hash = $1::bytea AND t.revoked_at IS NULL AND u.active",
              1, params, on_user);
}
