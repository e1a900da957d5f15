/* SPDX-License-Identifier: MIT */
/*
 * cache.c - the generation-checked response cache of cache.h: a chained hash table keyed by
 * FNV-1a. Stale entries are dropped when met; when the table is full it is emptied, which is
 * cheap and keeps memory bounded without an eviction order to maintain.
 */
#include "cache.h"

#include <stdlib.h>
#include <string.h>

#include "acs_error.h"

#define CACHE_BUCKETS 1024

typedef struct cache_entry {
    struct cache_entry *next;
    uint64_t hash;
    uint64_t gen;
    uint64_t stored_ms;
    size_t key_len;
    size_t len;
    char *key;  /* points into the same allocation */
    char *body; /* likewise */
} cache_entry_t;

struct cache {
    cache_entry_t *buckets[CACHE_BUCKETS];
    size_t count;
    size_t max_entries;
    uint64_t ttl_ms;
    uint64_t gen;
    int enabled;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void clear_all(cache_t *c)
{
    for (size_t i = 0; i < CACHE_BUCKETS; i++) {
        cache_entry_t *e = c->buckets[i];
        while (e != NULL) {
            cache_entry_t *next = e->next;
            free(e);
            e = next;
        }
        c->buckets[i] = NULL;
    }
    c->count = 0;
}

int cache_new(size_t max_entries, uint64_t ttl_ms, cache_t **out)
{
    *out = NULL;
    if (max_entries == 0)
        return ACS_EINVAL;
    cache_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ACS_ENOMEM;
    c->max_entries = max_entries;
    c->ttl_ms = ttl_ms;
    c->gen = 1;
    *out = c;
    return 0;
}

void cache_free(cache_t *c)
{
    if (c == NULL)
        return;
    clear_all(c);
    free(c);
}

uint64_t cache_generation(const cache_t *c)
{
    return c->gen;
}

void cache_invalidate(cache_t *c)
{
    c->gen++;
}

void cache_set_enabled(cache_t *c, int enabled)
{
    c->enabled = enabled != 0;
    c->gen++;
    if (!c->enabled)
        clear_all(c);
}

int cache_enabled(const cache_t *c)
{
    return c->enabled;
}

size_t cache_count(const cache_t *c)
{
    return c->count;
}

const char *cache_get(cache_t *c, const char *key, size_t key_len, uint64_t now_ms, size_t *len)
{
    if (!c->enabled)
        return NULL;
    uint64_t h = fnv1a(key, key_len);
    cache_entry_t **pp = &c->buckets[h % CACHE_BUCKETS];
    while (*pp != NULL) {
        cache_entry_t *e = *pp;
        if (e->gen != c->gen || now_ms - e->stored_ms >= c->ttl_ms || now_ms < e->stored_ms) {
            *pp = e->next;
            free(e);
            c->count--;
            continue;
        }
        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0) {
            *len = e->len;
            return e->body;
        }
        pp = &e->next;
    }
    return NULL;
}

int cache_put(cache_t *c, const char *key, size_t key_len, uint64_t gen, uint64_t now_ms,
              const char *body, size_t len)
{
    if (!c->enabled || gen != c->gen)
        return 0;
    if (c->count >= c->max_entries)
        clear_all(c);
    uint64_t h = fnv1a(key, key_len);
    size_t b = h % CACHE_BUCKETS;
    /* Replace an entry under the same key rather than holding two. */
    for (cache_entry_t **pp = &c->buckets[b]; *pp != NULL; pp = &(*pp)->next) {
        cache_entry_t *e = *pp;
        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0) {
            *pp = e->next;
            free(e);
            c->count--;
            break;
        }
    }
    cache_entry_t *e = malloc(sizeof(*e) + key_len + len + 1);
    if (e == NULL)
        return 0;
    e->hash = h;
    e->gen = gen;
    e->stored_ms = now_ms;
    e->key_len = key_len;
    e->len = len;
    e->key = (char *)(e + 1);
    e->body = e->key + key_len;
    memcpy(e->key, key, key_len);
    memcpy(e->body, body, len);
    e->body[len] = '\0';
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->count++;
    return 1;
}
