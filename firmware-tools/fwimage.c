/* SPDX-License-Identifier: MIT */
/*
 * fwimage.c - encoding, decoding, signing and checking acsfield firmware images (see
 * fwimage.h and docs/firmware.md). The order of the checks is fixed so that each broken image
 * gets the most useful verdict: length and header first (a truncated download is not a
 * forgery), then the payload hash, then the key, then the signature.
 */
#include "fwimage.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

/* Field offsets of the header (docs/firmware.md). */
enum {
    OFF_MAGIC = 0,
    OFF_FORMAT = 8,
    OFF_HSIZE = 10,
    OFF_MODEL = 12,
    OFF_HWMIN = 28,
    OFF_HWMAX = 30,
    OFF_VERSION = 32,
    OFF_BUILD = 40,
    OFF_PSIZE = 48,
    OFF_FLAGS = 52,
    OFF_KEYID = 56,
    OFF_SHA = 64,
    OFF_RESERVED = 96,
};

const char *fwimage_strerror(int code)
{
#define XX(name, value, text)                                                                      \
    if (code == (value))                                                                           \
        return text;
    FWIMAGE_ERRNO_MAP(XX)
#undef XX
    return "unknown error";
}

const char *fwimage_err_name(int code)
{
#define XX(name, value, text)                                                                      \
    if (code == (value))                                                                           \
        return #name;
    FWIMAGE_ERRNO_MAP(XX)
#undef XX
    return "EUNKNOWN";
}

int fwimage_init(void)
{
    return sodium_init() < 0 ? FWIMAGE_EINVAL : 0;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void fwimage_key_id(const uint8_t pk[FWIMAGE_PUBLIC_SIZE], uint8_t id[FWIMAGE_KEY_ID_SIZE])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pk, FWIMAGE_PUBLIC_SIZE);
    memcpy(id, h, FWIMAGE_KEY_ID_SIZE);
}

void fwimage_header_encode(const fwimage_header_t *h, uint8_t out[FWIMAGE_HEADER_SIZE])
{
    memset(out, 0, FWIMAGE_HEADER_SIZE);
    memcpy(out + OFF_MAGIC, FWIMAGE_MAGIC, 8);
    put16(out + OFF_FORMAT, h->format_version);
    put16(out + OFF_HSIZE, FWIMAGE_HEADER_SIZE);
    memcpy(out + OFF_MODEL, h->model, strnlen(h->model, FWIMAGE_MODEL_MAX));
    put16(out + OFF_HWMIN, h->hw_rev_min);
    put16(out + OFF_HWMAX, h->hw_rev_max);
    put16(out + OFF_VERSION, h->version.major);
    put16(out + OFF_VERSION + 2, h->version.minor);
    put16(out + OFF_VERSION + 4, h->version.patch);
    put64(out + OFF_BUILD, h->build_time);
    put32(out + OFF_PSIZE, h->payload_size);
    put32(out + OFF_FLAGS, h->flags);
    memcpy(out + OFF_KEYID, h->key_id, FWIMAGE_KEY_ID_SIZE);
    memcpy(out + OFF_SHA, h->payload_sha256, 32);
}

static int model_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > FWIMAGE_MODEL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i] < 0x21 || m[i] > 0x7E)
            return 0;
    }
    return 1;
}

int fwimage_header_decode(const uint8_t *buf, size_t len, fwimage_header_t *h, char *err,
                          size_t errlen)
{
    memset(h, 0, sizeof(*h));
    if (len < 8 || memcmp(buf + OFF_MAGIC, FWIMAGE_MAGIC, len < 8 ? len : 8) != 0) {
        if (len < 8 && memcmp(buf, FWIMAGE_MAGIC, len) == 0) {
            errbuf_printf(err, errlen,
                          "only %zu bytes: the file ends inside the header (a firmware image "
                          "starts with a %d-byte header; copy the whole file again)",
                          len, FWIMAGE_HEADER_SIZE);
            return FWIMAGE_ETRUNCATED;
        }
        errbuf_printf(err, errlen,
                      "not an acsfield firmware image: it does not start with \"%s\" (pack "
                      "raw binaries or Intel HEX files with acs-fw pack first)",
                      FWIMAGE_MAGIC);
        return FWIMAGE_ECORRUPT;
    }
    if (len < FWIMAGE_HEADER_SIZE) {
        errbuf_printf(err, errlen,
                      "only %zu bytes: the file ends inside the %d-byte header (the copy or "
                      "download was cut short; copy the whole file again)",
                      len, FWIMAGE_HEADER_SIZE);
        return FWIMAGE_ETRUNCATED;
    }
    h->format_version = get16(buf + OFF_FORMAT);
    if (h->format_version != FWIMAGE_FORMAT_VERSION) {
        errbuf_printf(err, errlen,
                      "image format version %u is not supported (this tool reads version %d; "
                      "use a matching acs-fw)",
                      h->format_version, FWIMAGE_FORMAT_VERSION);
        return FWIMAGE_ECORRUPT;
    }
    if (get16(buf + OFF_HSIZE) != FWIMAGE_HEADER_SIZE) {
        errbuf_printf(err, errlen, "header size field is %u, not %d: the header is corrupted",
                      get16(buf + OFF_HSIZE), FWIMAGE_HEADER_SIZE);
        return FWIMAGE_ECORRUPT;
    }
    memcpy(h->model, buf + OFF_MODEL, 16);
    if (h->model[FWIMAGE_MODEL_MAX] != '\0' || !model_ok(h->model)) {
        h->model[FWIMAGE_MODEL_MAX] = '\0';
        errbuf_printf(err, errlen,
                      "the model field is not 1-%d printable characters: the header is "
                      "corrupted",
                      FWIMAGE_MODEL_MAX);
        return FWIMAGE_ECORRUPT;
    }
    for (size_t i = strlen(h->model); i < 16; i++) {
        if (buf[OFF_MODEL + i] != 0) {
            errbuf_printf(err, errlen,
                          "bytes after the model name are not 0: the header is "
                          "corrupted");
            return FWIMAGE_ECORRUPT;
        }
    }
    h->hw_rev_min = get16(buf + OFF_HWMIN);
    h->hw_rev_max = get16(buf + OFF_HWMAX);
    if (h->hw_rev_min > h->hw_rev_max) {
        errbuf_printf(err, errlen,
                      "hardware revision range %u..%u is empty: the header is corrupted",
                      h->hw_rev_min, h->hw_rev_max);
        return FWIMAGE_ECORRUPT;
    }
    h->version.major = get16(buf + OFF_VERSION);
    h->version.minor = get16(buf + OFF_VERSION + 2);
    h->version.patch = get16(buf + OFF_VERSION + 4);
    h->build_time = get64(buf + OFF_BUILD);
    h->payload_size = get32(buf + OFF_PSIZE);
    h->flags = get32(buf + OFF_FLAGS);
    memcpy(h->key_id, buf + OFF_KEYID, FWIMAGE_KEY_ID_SIZE);
    memcpy(h->payload_sha256, buf + OFF_SHA, 32);
    if (h->payload_size == 0 || h->payload_size > FWIMAGE_PAYLOAD_MAX) {
        errbuf_printf(err, errlen, "payload size %u is outside 1..%u: the header is corrupted",
                      (unsigned)h->payload_size, FWIMAGE_PAYLOAD_MAX);
        return FWIMAGE_ECORRUPT;
    }
    int reserved = get16(buf + OFF_VERSION + 6) != 0 || h->flags != 0;
    for (size_t i = OFF_RESERVED; i < FWIMAGE_HEADER_SIZE; i++)
        reserved |= buf[i] != 0;
    if (reserved) {
        errbuf_printf(err, errlen, "reserved header bytes are not 0: the header is corrupted");
        return FWIMAGE_ECORRUPT;
    }
    return 0;
}

size_t fwimage_total_size(const fwimage_header_t *h)
{
    return FWIMAGE_HEADER_SIZE + (size_t)h->payload_size + FWIMAGE_SIG_SIZE;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int fwimage_check(const uint8_t *img, size_t len, const fwimage_keyring_t *keys,
                  fwimage_header_t *hout, char *err, size_t errlen)
{
    fwimage_header_t hh = {0};
    fwimage_header_t *h = hout != NULL ? hout : &hh;
    int rc = fwimage_header_decode(img, len, h, err, errlen);
    if (rc != 0)
        return rc;
    size_t total = fwimage_total_size(h);
    if (len < total) {
        errbuf_printf(err, errlen,
                      "%zu of the %zu bytes the header announces (%u payload bytes and a "
                      "%d-byte signature): the file was cut short; copy the whole file again",
                      len, total, (unsigned)h->payload_size, FWIMAGE_SIG_SIZE);
        return FWIMAGE_ETRUNCATED;
    }
    if (len > total) {
        errbuf_printf(err, errlen,
                      "%zu bytes, %zu more than the header announces: something was appended "
                      "to the image",
                      len, len - total);
        return FWIMAGE_ECORRUPT;
    }
    uint8_t sha[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sha, img + FWIMAGE_HEADER_SIZE, h->payload_size);
    if (sodium_memcmp(sha, h->payload_sha256, sizeof(sha)) != 0) {
        errbuf_printf(err, errlen,
                      "the payload's SHA-256 does not match the header: the image is "
                      "corrupted (copy it again)");
        return FWIMAGE_ECORRUPT;
    }
    if (keys == NULL || keys->nkeys == 0)
        return 0;
    const uint8_t *pk = NULL;
    for (size_t i = 0; i < keys->nkeys && pk == NULL; i++) {
        uint8_t id[FWIMAGE_KEY_ID_SIZE];
        fwimage_key_id(keys->keys[i], id);
        if (memcmp(id, h->key_id, sizeof(id)) == 0)
            pk = keys->keys[i];
    }
    if (pk == NULL) {
        char idhex[2 * FWIMAGE_KEY_ID_SIZE + 1];
        hex(h->key_id, FWIMAGE_KEY_ID_SIZE, idhex);
        errbuf_printf(err, errlen,
                      "signed with key %s, which is not among the %zu trusted key%s (give the "
                      "matching .pub file with --key, or re-sign the image with a trusted key)",
                      idhex, keys->nkeys, keys->nkeys == 1 ? "" : "s");
        return FWIMAGE_EUNKNOWNKEY;
    }
    const uint8_t *sig = img + FWIMAGE_HEADER_SIZE + h->payload_size;
    if (crypto_sign_verify_detached(sig, img, FWIMAGE_HEADER_SIZE + (size_t)h->payload_size, pk) !=
        0) {
        errbuf_printf(err, errlen,
                      "the signature does not verify with the key the header names: the image "
                      "was altered after signing, or signed with another key of the same id "
                      "(do not install it)");
        return FWIMAGE_EBADSIG;
    }
    return 0;
}

int fwimage_check_target(const fwimage_header_t *h, const char *model, unsigned hw_rev, char *err,
                         size_t errlen)
{
    if (strcmp(h->model, model) != 0) {
        errbuf_printf(err, errlen, "the image is for model %s, the device is a %s", h->model,
                      model);
        return FWIMAGE_EWRONGMODEL;
    }
    if (hw_rev < h->hw_rev_min || hw_rev > h->hw_rev_max) {
        errbuf_printf(err, errlen,
                      "the image is for %s hardware revisions %u..%u, the device is revision %u",
                      h->model, h->hw_rev_min, h->hw_rev_max, hw_rev);
        return FWIMAGE_EWRONGHW;
    }
    return 0;
}

int fwimage_check_version(const fwimage_header_t *h, const fwimage_version_t *running,
                          int allow_downgrade, char *err, size_t errlen)
{
    if (allow_downgrade || fwimage_version_cmp(&h->version, running) >= 0)
        return 0;
    char a[32], b[32];
    fwimage_version_format(&h->version, a, sizeof(a));
    fwimage_version_format(running, b, sizeof(b));
    errbuf_printf(err, errlen,
                  "the image holds version %s, older than the running %s (add "
                  "--allow-downgrade if that is intended)",
                  a, b);
    return FWIMAGE_EDOWNGRADE;
}

int fwimage_build(const fwimage_header_t *hin, const uint8_t *payload, size_t payload_len,
                  const uint8_t sk[FWIMAGE_SECRET_SIZE], uint8_t **out, size_t *outlen, char *err,
                  size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    if (payload_len == 0 || payload_len > FWIMAGE_PAYLOAD_MAX) {
        errbuf_printf(err, errlen, "the payload is %zu bytes; it must be 1..%u", payload_len,
                      FWIMAGE_PAYLOAD_MAX);
        return FWIMAGE_EINVAL;
    }
    if (!model_ok(hin->model)) {
        errbuf_printf(err, errlen, "model \"%s\" must be 1-%d printable characters without spaces",
                      hin->model, FWIMAGE_MODEL_MAX);
        return FWIMAGE_EINVAL;
    }
    if (hin->hw_rev_min > hin->hw_rev_max) {
        errbuf_printf(err, errlen, "hardware revision range %u..%u is empty", hin->hw_rev_min,
                      hin->hw_rev_max);
        return FWIMAGE_EINVAL;
    }
    fwimage_header_t h = *hin;
    h.format_version = FWIMAGE_FORMAT_VERSION;
    h.payload_size = (uint32_t)payload_len;
    h.flags = 0;
    /* The public key is the second half of a libsodium ed25519 secret key. */
    fwimage_key_id(sk + 32, h.key_id);
    crypto_hash_sha256(h.payload_sha256, payload, payload_len);
    size_t total = fwimage_total_size(&h);
    uint8_t *img = malloc(total);
    if (img == NULL) {
        errbuf_printf(err, errlen, "out of memory for a %zu-byte image", total);
        return FWIMAGE_ENOMEM;
    }
    fwimage_header_encode(&h, img);
    memcpy(img + FWIMAGE_HEADER_SIZE, payload, payload_len);
    crypto_sign_detached(img + FWIMAGE_HEADER_SIZE + payload_len, NULL, img,
                         FWIMAGE_HEADER_SIZE + payload_len, sk);
    *out = img;
    *outlen = total;
    return 0;
}

int fwimage_version_parse(const char *text, fwimage_version_t *v)
{
    unsigned long part[3];
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)*p))
            return FWIMAGE_EINVAL;
        char *end;
        part[i] = strtoul(p, &end, 10);
        if (part[i] > 65535 || end - p > 5)
            return FWIMAGE_EINVAL;
        p = end;
        if (i < 2) {
            if (*p != '.')
                return FWIMAGE_EINVAL;
            p++;
        }
    }
    if (*p != '\0')
        return FWIMAGE_EINVAL;
    v->major = (uint16_t)part[0];
    v->minor = (uint16_t)part[1];
    v->patch = (uint16_t)part[2];
    return 0;
}

void fwimage_version_format(const fwimage_version_t *v, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u", v->major, v->minor, v->patch);
}

int fwimage_version_cmp(const fwimage_version_t *a, const fwimage_version_t *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->patch != b->patch)
        return a->patch < b->patch ? -1 : 1;
    return 0;
}

static const char pub_prefix[] = "acs-fw ed25519 public ";
static const char sec_prefix[] = "acs-fw ed25519 secret ";

int fwimage_key_parse(const char *text, uint8_t *out, size_t outcap, int *is_secret, char *err,
                      size_t errlen)
{
    while (isspace((unsigned char)*text))
        text++;
    int secret = 0;
    if (strncmp(text, pub_prefix, sizeof(pub_prefix) - 1) == 0) {
        text += sizeof(pub_prefix) - 1;
    } else if (strncmp(text, sec_prefix, sizeof(sec_prefix) - 1) == 0) {
        text += sizeof(sec_prefix) - 1;
        secret = 1;
    }
    size_t want = secret ? FWIMAGE_SECRET_SIZE : FWIMAGE_PUBLIC_SIZE;
    size_t digits = 0;
    while (isxdigit((unsigned char)text[digits]))
        digits++;
    const char *rest = text + digits;
    while (isspace((unsigned char)*rest))
        rest++;
    if (digits != 2 * want || *rest != '\0') {
        errbuf_printf(err, errlen,
                      "not an acs-fw key: expected \"%s\" and %zu hex digits (make keys with "
                      "acs-fw keygen)",
                      secret ? sec_prefix : pub_prefix, 2 * want);
        return FWIMAGE_EINVAL;
    }
    if (outcap < want) {
        errbuf_printf(err, errlen, "%s key where a %s key was expected",
                      secret ? "a secret" : "a public", secret ? "public" : "secret");
        return FWIMAGE_EINVAL;
    }
    size_t got = 0;
    if (sodium_hex2bin(out, want, text, digits, NULL, &got, NULL) != 0 || got != want) {
        errbuf_printf(err, errlen, "the key's hex digits do not decode");
        return FWIMAGE_EINVAL;
    }
    if (is_secret != NULL)
        *is_secret = secret;
    return 0;
}

void fwimage_key_format(const uint8_t *key, int is_secret, char *buf, size_t len)
{
    size_t n = is_secret ? FWIMAGE_SECRET_SIZE : FWIMAGE_PUBLIC_SIZE;
    char h[2 * FWIMAGE_SECRET_SIZE + 1];
    sodium_bin2hex(h, sizeof(h), key, n);
    snprintf(buf, len, "%s%s\n", is_secret ? sec_prefix : pub_prefix, h);
}
