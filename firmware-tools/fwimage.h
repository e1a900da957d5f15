/* SPDX-License-Identifier: MIT */
/*
 * fwimage.h - the acsfield firmware image: a 128-byte header (magic, format version, device
 * model, hardware revision range, firmware version, build time, payload size, the id of the
 * signing key, SHA-256 of the payload), the payload, and an ed25519 signature (libsodium,
 * crypto_sign_detached) over header and payload. The byte layout is in docs/firmware.md.
 *
 * Everything here is pure (no I/O besides libsodium's arithmetic), so that the tool (acs-fw),
 * the simulated bootloader (hardware-sim/fwslot.c) and the unit tests run the same checks.
 *
 * Errors: 0 or a negative FWIMAGE_E* code from the table below (fwimage_strerror), and a
 * sentence naming the image and what to do in the caller's buffer. The codes are distinct so
 * that a caller can tell a truncated file from a forged one; acs-fw turns each into its own
 * exit status.
 */
#ifndef ACS_FWIMAGE_H
#define ACS_FWIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define FWIMAGE_MAGIC          "ACSFWIMG"
#define FWIMAGE_FORMAT_VERSION 1
#define FWIMAGE_HEADER_SIZE    128
#define FWIMAGE_SIG_SIZE       64
#define FWIMAGE_MODEL_MAX      15 /* characters; the field is 16 bytes, NUL padded */
#define FWIMAGE_KEY_ID_SIZE    8
#define FWIMAGE_PUBLIC_SIZE    32
#define FWIMAGE_SECRET_SIZE    64
#define FWIMAGE_PAYLOAD_MAX    (16u * 1024u * 1024u)
/* The smallest whole image: header, one payload byte, signature. */
#define FWIMAGE_MIN_SIZE (FWIMAGE_HEADER_SIZE + 1 + FWIMAGE_SIG_SIZE)

/* Codes, value and sentence fragment. Kept apart from ACS_E* (core/acs_error.h) because a
 * verdict on an image has more shades than "invalid argument". */
#define FWIMAGE_ERRNO_MAP(XX)                                                                      \
    XX(ETRUNCATED, -101, "truncated image")                                                        \
    XX(ECORRUPT, -102, "corrupted image")                                                          \
    XX(EUNKNOWNKEY, -103, "signed with an unknown key")                                            \
    XX(EBADSIG, -104, "bad signature")                                                             \
    XX(EWRONGMODEL, -105, "image for another device model")                                        \
    XX(EWRONGHW, -106, "image for another hardware revision")                                      \
    XX(EDOWNGRADE, -107, "older than the running firmware")                                        \
    XX(EINVAL, -108, "invalid argument")                                                           \
    XX(ENOMEM, -109, "out of memory")

enum fwimage_errno {
#define XX(name, value, text) FWIMAGE_##name = (value),
    FWIMAGE_ERRNO_MAP(XX)
#undef XX
};

/* A static sentence fragment for a FWIMAGE_E* code ("unknown error" otherwise). */
const char *fwimage_strerror(int code);
/* "ETRUNCATED", ... or "EUNKNOWN". */
const char *fwimage_err_name(int code);

typedef struct fwimage_version {
    uint16_t major, minor, patch;
} fwimage_version_t;

typedef struct fwimage_header {
    uint16_t format_version;
    char model[FWIMAGE_MODEL_MAX + 1];
    uint16_t hw_rev_min, hw_rev_max;
    fwimage_version_t version;
    uint64_t build_time; /* seconds since 1970 UTC */
    uint32_t payload_size;
    uint32_t flags; /* 0 in format 1 */
    uint8_t key_id[FWIMAGE_KEY_ID_SIZE];
    uint8_t payload_sha256[32];
} fwimage_header_t;

/* A set of trusted public keys (borrowed arrays). */
typedef struct fwimage_keyring {
    const uint8_t (*keys)[FWIMAGE_PUBLIC_SIZE];
    size_t nkeys;
} fwimage_keyring_t;

/* Must run once before the other calls (sodium_init); 0 or FWIMAGE_EINVAL. Thread-safe. */
int fwimage_init(void);

/* The key id: the first 8 bytes of SHA-256 of the public key. */
void fwimage_key_id(const uint8_t pk[FWIMAGE_PUBLIC_SIZE], uint8_t id[FWIMAGE_KEY_ID_SIZE]);

/* Writes h as the 128 header bytes (little-endian fields, reserved bytes 0). */
void fwimage_header_encode(const fwimage_header_t *h, uint8_t out[FWIMAGE_HEADER_SIZE]);

/*
 * Reads the header at the start of buf (len bytes). Returns 0 and *h; FWIMAGE_ETRUNCATED when
 * len < 128; FWIMAGE_ECORRUPT for a bad magic, an unknown format version, a model that is not
 * printable ASCII, hw_rev_min > hw_rev_max, a payload size 0 or above FWIMAGE_PAYLOAD_MAX, or
 * reserved bytes not 0 - each with its sentence.
 */
int fwimage_header_decode(const uint8_t *buf, size_t len, fwimage_header_t *h, char *err,
                          size_t errlen);

/* Whole image size a header announces: header + payload + signature. */
size_t fwimage_total_size(const fwimage_header_t *h);

/*
 * Checks a whole image in memory: header (as fwimage_header_decode), length (shorter than
 * announced: ETRUNCATED; longer: ECORRUPT), the payload's SHA-256 (ECORRUPT), the signing key
 * among `keys` (EUNKNOWNKEY; a keyring with no keys skips the key and signature checks, for
 * `inspect`), and the signature over header and payload with that key (EBADSIG).
 * Returns 0 and *h (may be NULL), or the first failing code with its sentence.
 */
int fwimage_check(const uint8_t *img, size_t len, const fwimage_keyring_t *keys,
                  fwimage_header_t *h, char *err, size_t errlen);

/* The image is for this device: model equal (EWRONGMODEL), hw_rev in [min, max] (EWRONGHW). */
int fwimage_check_target(const fwimage_header_t *h, const char *model, unsigned hw_rev, char *err,
                         size_t errlen);

/* The image is not older than `running` (EDOWNGRADE) unless allow_downgrade. */
int fwimage_check_version(const fwimage_header_t *h, const fwimage_version_t *running,
                          int allow_downgrade, char *err, size_t errlen);

/*
 * Builds a signed image: h's format version, payload size, key id and payload hash are filled
 * in here from the payload and the key pair (the rest - model, hw revisions, version, build
 * time - comes from the caller). Returns 0 and *out (malloc'd, caller frees) with *outlen, or
 * FWIMAGE_EINVAL (empty or too large payload, bad model) / FWIMAGE_ENOMEM with *out = NULL.
 */
int fwimage_build(const fwimage_header_t *h, const uint8_t *payload, size_t payload_len,
                  const uint8_t sk[FWIMAGE_SECRET_SIZE], uint8_t **out, size_t *outlen, char *err,
                  size_t errlen);

/* "1.2.3" <-> version; parse returns 0 or FWIMAGE_EINVAL (each part 0..65535). */
int fwimage_version_parse(const char *text, fwimage_version_t *v);
void fwimage_version_format(const fwimage_version_t *v, char *buf, size_t len);
/* <0, 0, >0 like strcmp. */
int fwimage_version_cmp(const fwimage_version_t *a, const fwimage_version_t *b);

/*
 * Key files are one line of text: "acs-fw ed25519 public HEX64" / "acs-fw ed25519 secret
 * HEX128". fwimage_key_parse reads either (a bare 64-digit hex public key too, as site files
 * give it); *is_secret says which. Returns 0, or FWIMAGE_EINVAL with a sentence.
 * For a secret key, out must hold 64 bytes; for a public one 32.
 */
int fwimage_key_parse(const char *text, uint8_t *out, size_t outcap, int *is_secret, char *err,
                      size_t errlen);
/* Writes the line (with '\n') for a key into buf (>= 160 bytes for a secret key). */
void fwimage_key_format(const uint8_t *key, int is_secret, char *buf, size_t len);

#endif
