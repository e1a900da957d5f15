/* SPDX-License-Identifier: MIT */
/*
 * cache.h - a bounded cache of list responses, made safe by generations.
 *
 * Every change to the data the lists show bumps the generation: a write answered by this
 * instance bumps it before the reply leaves, and a NOTIFY from PostgreSQL (a trigger on each
 * listed table) bumps it for writes made by other instances or by hand. An entry is served
 * only if it was filled at the current generation, from a query that *started* at that
 * generation, so a result computed before a write can never be served after it. While the
 * LISTEN connection is down, notifications may be missed, so the cache is disabled.
 */
#ifndef ACS_CACHE_H
#define ACS_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct cache cache_t;

/* Create a cache of at most max_entries, each served for at most ttl_ms. Starts disabled.
 * Return 0 and set *out, or ACS_ENOMEM / ACS_EINVAL (max_entries 0) with *out = NULL. */
int cache_new(size_t max_entries, uint64_t ttl_ms, cache_t **out);

/* Free the cache and its entries. NULL is a no-op. */
void cache_free(cache_t *c);

/* The current generation; take it before starting the query whose result may be stored. */
uint64_t cache_generation(const cache_t *c);

/* Something changed: every entry is stale from now on. */
void cache_invalidate(cache_t *c);

/* Serve and store only while enabled; disabling also invalidates. */
void cache_set_enabled(cache_t *c, int enabled);
int cache_enabled(const cache_t *c);

/* The body stored under key, if fresh (current generation, younger than ttl at now_ms), with
 * *len set; NULL otherwise. The pointer is valid until the next call that changes the cache. */
const char *cache_get(cache_t *c, const char *key, size_t key_len, uint64_t now_ms, size_t *len);

/* Store a copy of body under key if the cache is enabled and gen is still the current
 * generation; otherwise do nothing. Return 1 if stored, 0 if not. */
int cache_put(cache_t *c, const char *key, size_t key_len, uint64_t gen, uint64_t now_ms,
              const char *body, size_t len);

/* Entries held now (fresh or not yet dropped). */
size_t cache_count(const cache_t *c);

#endif
