/* SPDX-License-Identifier: MIT */
/*
 * acs-fw - firmware images for acsfield controllers: make a signing key pair, pack a raw
 * binary or an Intel HEX file into a signed image, inspect and verify images, and update a
 * device over Modbus RTU or TCP with resume and rollback (the protocol client is fwflash.c,
 * the format fwimage.c; both are described in docs/firmware.md).
 *
 * Every refusal has its own exit status, so that scripts can tell them apart:
 *   0 ok | 1 other failure | 2 usage | 3 file not readable or writable
 *   10 truncated | 11 corrupted | 12 unknown key | 13 bad signature | 14 wrong model
 *   15 wrong hardware revision | 16 downgrade
 *   20 lost contact with the device (run again to resume) | 21 the device refused the image
 *   for another reason | 22 no bootloader on the device | 23 the device did not start it
 * A device's own refusal of a wrong model, revision, key, signature or payload exits with the
 * same status as the tool's (14, 15, 12, 13, 11), its message says "refused".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acs_error.h"
#include "fwflash.h"
#include "fwimage.h"
#include "ihex.h"
#include "transport.h"

enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_USAGE = 2,
    EXIT_FILE = 3,
    EXIT_TRUNCATED = 10,
    EXIT_CORRUPT = 11,
    EXIT_UNKNOWN_KEY = 12,
    EXIT_BAD_SIG = 13,
    EXIT_WRONG_MODEL = 14,
    EXIT_WRONG_HW = 15,
    EXIT_DOWNGRADE = 16,
    EXIT_LINK = 20,
    EXIT_REFUSED = 21,
    EXIT_NO_BOOT = 22,
    EXIT_REVERTED = 23,
};

#define KEYS_MAX 8
#define ERR_MAX  1024

static const char *const usage_text =
    "usage: acs-fw COMMAND [options]\n"
    "\n"
    "  keygen  --out NAME [--force]\n"
    "          a signing key pair: NAME.key (secret, mode 0600) and NAME.pub\n"
    "  pack    --key NAME.key --model MODEL --hw-rev N[-M] --version X.Y.Z\n"
    "          (--bin FILE | --hex FILE [--fill BYTE]) --out IMAGE [--build-time UNIX]\n"
    "          a signed image from a raw binary or an Intel HEX file\n"
    "  inspect IMAGE [--key PUB]... [--json]\n"
    "          the header; the signature too when keys are given\n"
    "  verify  IMAGE --key PUB [--key PUB]... [--model MODEL] [--hw-rev N]\n"
    "          [--running X.Y.Z [--allow-downgrade]]\n"
    "  flash   IMAGE --key PUB [--key PUB]... LINK [--unit N] [--allow-downgrade]\n"
    "          [--no-confirm] [--retries N] [--progress auto|bar|lines|none] [--stats]\n"
    "          update a device; an interrupted update resumes where the device stopped\n"
    "  status  LINK [--unit N] [--json]      the device's bootloader status\n"
    "  confirm LINK [--unit N]               keep the image running on trial\n"
    "  reset   LINK [--unit N]               restart (a trial image not confirmed reverts)\n"
    "  abort   LINK [--unit N]               drop a transfer or a staged image\n"
    "\n"
    "LINK: --tcp HOST:PORT, or --port DEV [--baud B] [--parity N|E|O] [--data-bits 7|8]\n"
    "      [--stop-bits 1|2] (default 19200 8E1); --timeout MS overrides the response timeout,\n"
    "      --turnaround MS the device's allowance in the RTU timeout (default 50).\n"
    "\n"
    "exit status: 0 ok, 1 failure, 2 usage, 3 file, 10 truncated, 11 corrupted, 12 unknown\n"
    "key, 13 bad signature, 14 wrong model, 15 wrong hardware revision, 16 downgrade,\n"
    "20 lost contact (run again to resume), 21 refused by the device, 22 no bootloader,\n"
    "23 the device did not start the new image. See docs/firmware.md.\n";

typedef struct opts {
    const char *cmd;
    const char *out, *key_path, *model, *version, *bin, *hex, *image, *running;
    const char *pub[KEYS_MAX];
    size_t npub;
    unsigned hw_min, hw_max;
    int have_hw, force, json, allow_downgrade, no_confirm, skip_checks, stats;
    uint64_t build_time;
    int have_build_time;
    int fill;
    unsigned retries;
    const char *progress;
    transport_config_t link;
    char host[256];
    int have_link;
    int unit;
} opts_t;

static int exit_for(int rc)
{
    switch (rc) {
    case 0:
        return EXIT_OK;
    case FWIMAGE_ETRUNCATED:
        return EXIT_TRUNCATED;
    case FWIMAGE_ECORRUPT:
        return EXIT_CORRUPT;
    case FWIMAGE_EUNKNOWNKEY:
        return EXIT_UNKNOWN_KEY;
    case FWIMAGE_EBADSIG:
        return EXIT_BAD_SIG;
    case FWIMAGE_EWRONGMODEL:
        return EXIT_WRONG_MODEL;
    case FWIMAGE_EWRONGHW:
        return EXIT_WRONG_HW;
    case FWIMAGE_EDOWNGRADE:
        return EXIT_DOWNGRADE;
    case FWFLASH_ELINK:
    case ACS_ETIMEDOUT:
        return EXIT_LINK;
    case FWFLASH_EREFUSED:
        return EXIT_REFUSED;
    case FWFLASH_ENOBOOT:
        return EXIT_NO_BOOT;
    case FWFLASH_EREVERTED:
        return EXIT_REVERTED;
    default:
        return EXIT_FAIL;
    }
}

/* A device's refusal, with the exit status of the same refusal by the tool. */
static int exit_for_device(int device_error)
{
    switch (-device_error) {
    case FWPROTO_EMODEL:
        return EXIT_WRONG_MODEL;
    case FWPROTO_EHWREV:
        return EXIT_WRONG_HW;
    case FWPROTO_EKEY:
        return EXIT_UNKNOWN_KEY;
    case FWPROTO_ESIG:
        return EXIT_BAD_SIG;
    case FWPROTO_EHASH:
    case FWPROTO_EHEADER:
        return EXIT_CORRUPT;
    default:
        return EXIT_REFUSED;
    }
}

/* ---- files ------------------------------------------------------------------------------ */

/* Reads a whole file (at most max bytes). Returns 0, or EXIT_FILE with a message printed. */
static int read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "acs-fw: cannot open %s: %s\n", path, strerror(errno));
        return EXIT_FILE;
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap > max) {
            fclose(f);
            free(buf);
            fprintf(stderr, "acs-fw: %s is larger than %zu bytes\n", path, max);
            return EXIT_FILE;
        }
        uint8_t *bigger = realloc(buf, cap * 2 + 1);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        fprintf(stderr, "acs-fw: cannot read %s: %s\n", path,
                buf == NULL ? "out of memory" : strerror(errno));
        return EXIT_FILE;
    }
    buf[n] = '\0'; /* text files (keys, Intel HEX) are read as strings */
    *out = buf;
    *len = n;
    return 0;
}

/* Writes a file through a temporary name, so that a failed write leaves no half file. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode, int force)
{
    if (!force && access(path, F_OK) == 0) {
        fprintf(stderr, "acs-fw: %s exists (add --force to replace it)\n", path);
        return EXIT_FILE;
    }
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "acs-fw: cannot create %s: %s\n", tmp, strerror(errno));
        return EXIT_FILE;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "acs-fw: cannot write %s: %s\n", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return EXIT_FILE;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "acs-fw: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return EXIT_FILE;
    }
    return 0;
}

static int load_key(const char *path, int want_secret, uint8_t *out)
{
    uint8_t *text;
    size_t len;
    int rc = read_file(path, 4096, &text, &len);
    if (rc != 0)
        return rc;
    char why[256];
    int secret = 0;
    rc = fwimage_key_parse((const char *)text, out, want_secret ? 64 : 32, &secret, why,
                           sizeof(why));
    free(text);
    if (rc == 0 && secret != want_secret) {
        snprintf(why, sizeof(why), "a %s key where a %s key was expected",
                 secret ? "secret" : "public", want_secret ? "secret (.key)" : "public (.pub)");
        rc = FWIMAGE_EINVAL;
    }
    if (rc != 0) {
        fprintf(stderr, "acs-fw: %s: %s\n", path, why);
        return EXIT_USAGE;
    }
    return 0;
}

static int load_keyring(const opts_t *o, uint8_t keys[KEYS_MAX][32])
{
    for (size_t i = 0; i < o->npub; i++) {
        int rc = load_key(o->pub[i], 0, keys[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void hexstr(const uint8_t *b, size_t n, char *out, size_t cap)
{
    sodium_bin2hex(out, cap, b, n);
}

/* ---- keygen, pack, inspect, verify ---------------------------------------------------- */

static int cmd_keygen(const opts_t *o)
{
    if (o->out == NULL) {
        fprintf(stderr, "acs-fw keygen: --out NAME is required (writes NAME.key and NAME.pub)\n");
        return EXIT_USAGE;
    }
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char path[4096], line[200];
    snprintf(path, sizeof(path), "%s.key", o->out);
    fwimage_key_format(sk, 1, line, sizeof(line));
    sodium_memzero(sk, sizeof(sk));
    int rc = write_file(path, line, strlen(line), 0600, o->force);
    sodium_memzero(line, sizeof(line));
    if (rc != 0)
        return rc;
    snprintf(path, sizeof(path), "%s.pub", o->out);
    fwimage_key_format(pk, 0, line, sizeof(line));
    if ((rc = write_file(path, line, strlen(line), 0644, o->force)) != 0)
        return rc;
    uint8_t id[8];
    char idhex[17];
    fwimage_key_id(pk, id);
    hexstr(id, 8, idhex, sizeof(idhex));
    printf("secret key: %s.key (keep it off devices and out of version control)\n", o->out);
    printf("public key: %s.pub\nkey id: %s\n", o->out, idhex);
    return 0;
}

static int cmd_pack(const opts_t *o)
{
    if (o->key_path == NULL || o->model == NULL || !o->have_hw || o->version == NULL ||
        o->out == NULL || (o->bin == NULL) == (o->hex == NULL)) {
        fprintf(stderr, "acs-fw pack: needs --key, --model, --hw-rev, --version, --out and one "
                        "of --bin or --hex (acs-fw --help)\n");
        return EXIT_USAGE;
    }
    fwimage_header_t h;
    memset(&h, 0, sizeof(h));
    if (strlen(o->model) > FWIMAGE_MODEL_MAX) {
        fprintf(stderr, "acs-fw pack: --model \"%s\" is longer than %d characters\n", o->model,
                FWIMAGE_MODEL_MAX);
        return EXIT_USAGE;
    }
    snprintf(h.model, sizeof(h.model), "%s", o->model);
    h.hw_rev_min = (uint16_t)o->hw_min;
    h.hw_rev_max = (uint16_t)o->hw_max;
    if (fwimage_version_parse(o->version, &h.version) != 0) {
        fprintf(stderr, "acs-fw pack: --version \"%s\" is not MAJOR.MINOR.PATCH (0..65535 each)\n",
                o->version);
        return EXIT_USAGE;
    }
    h.build_time = o->have_build_time ? o->build_time : (uint64_t)time(NULL);
    uint8_t sk[64];
    int rc = load_key(o->key_path, 1, sk);
    if (rc != 0)
        return rc;
    uint8_t *input = NULL, *payload, *img = NULL;
    size_t ilen, plen, len;
    ihex_result_t hx;
    memset(&hx, 0, sizeof(hx));
    const char *src = o->bin != NULL ? o->bin : o->hex;
    if ((rc = read_file(src, FWIMAGE_PAYLOAD_MAX * 4u, &input, &ilen)) != 0)
        goto out;
    char why[512];
    if (o->hex != NULL) {
        if (ihex_parse((const char *)input, ilen, (uint8_t)o->fill, &hx, why, sizeof(why)) != 0) {
            fprintf(stderr, "acs-fw pack: %s: %s\n", src, why);
            rc = EXIT_CORRUPT;
            goto out;
        }
        payload = hx.data;
        plen = hx.len;
    } else {
        payload = input;
        plen = ilen;
    }
    if (fwimage_build(&h, payload, plen, sk, &img, &len, why, sizeof(why)) != 0) {
        fprintf(stderr, "acs-fw pack: %s: %s\n", src, why);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = write_file(o->out, img, len, 0644, 1)) != 0)
        goto out;
    printf("%s: %s %s for hardware revisions %u..%u, %zu payload bytes", o->out, h.model,
           o->version, h.hw_rev_min, h.hw_rev_max, plen);
    if (o->hex != NULL)
        printf(" from 0x%08X (%zu records, %zu gap bytes filled with 0x%02X)", hx.base,
               hx.data_records, hx.gap_bytes, (unsigned)o->fill);
    printf(", %zu bytes signed\n", len);
out:
    sodium_memzero(sk, sizeof(sk));
    ihex_result_free(&hx);
    free(input);
    free(img);
    return rc;
}

static void fmt_time(uint64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%llu", (unsigned long long)t);
}

static int cmd_inspect_verify(const opts_t *o, int verify)
{
    if (o->image == NULL) {
        fprintf(stderr, "acs-fw %s: which image? (acs-fw %s IMAGE ...)\n", o->cmd, o->cmd);
        return EXIT_USAGE;
    }
    if (verify && o->npub == 0) {
        fprintf(stderr, "acs-fw verify: give the trusted public key(s) with --key FILE.pub\n");
        return EXIT_USAGE;
    }
    uint8_t keys[KEYS_MAX][32];
    int rc = load_keyring(o, keys);
    if (rc != 0)
        return rc;
    uint8_t *img;
    size_t len;
    if ((rc = read_file(o->image, FWIMAGE_PAYLOAD_MAX * 2u, &img, &len)) != 0)
        return rc;
    fwimage_keyring_t ring = {(const uint8_t(*)[32])keys, o->npub};
    fwimage_header_t h;
    char why[512] = "";
    int crc = fwimage_check(img, len, &ring, NULL, why, sizeof(why));
    /* The header is shown whenever it can be read, also for a broken image. */
    int header_ok = fwimage_header_decode(img, len, &h, NULL, 0) == 0;
    if (verify && crc == 0 && o->model != NULL)
        crc = fwimage_check_target(&h, o->model, o->have_hw ? o->hw_min : h.hw_rev_min, why,
                                   sizeof(why));
    else if (verify && crc == 0 && o->have_hw)
        crc = fwimage_check_target(&h, h.model, o->hw_min, why, sizeof(why));
    if (verify && crc == 0 && o->running != NULL) {
        fwimage_version_t run;
        if (fwimage_version_parse(o->running, &run) != 0) {
            fprintf(stderr, "acs-fw verify: --running \"%s\" is not MAJOR.MINOR.PATCH\n",
                    o->running);
            free(img);
            return EXIT_USAGE;
        }
        crc = fwimage_check_version(&h, &run, o->allow_downgrade, why, sizeof(why));
    }
    char ver[32] = "", built[40] = "", idhex[17] = "", sha[65] = "";
    if (header_ok) {
        fwimage_version_format(&h.version, ver, sizeof(ver));
        fmt_time(h.build_time, built, sizeof(built));
        hexstr(h.key_id, 8, idhex, sizeof(idhex));
        hexstr(h.payload_sha256, 32, sha, sizeof(sha));
    }
    const char *sig = o->npub == 0 ? "not checked (no --key)"
                      : crc == 0 || crc == FWIMAGE_EWRONGMODEL || crc == FWIMAGE_EWRONGHW ||
                              crc == FWIMAGE_EDOWNGRADE
                          ? "ok"
                      : crc == FWIMAGE_EBADSIG     ? "BAD"
                      : crc == FWIMAGE_EUNKNOWNKEY ? "unknown key"
                                                   : "not checked";
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "file", json_string(o->image));
        json_object_set_new(j, "size", json_integer((json_int_t)len));
        json_object_set_new(j, "ok", json_boolean(crc == 0));
        if (crc != 0) {
            json_object_set_new(j, "error", json_string(fwimage_err_name(crc)));
            json_object_set_new(j, "message", json_string(why));
        }
        if (header_ok) {
            json_object_set_new(j, "format_version", json_integer(h.format_version));
            json_object_set_new(j, "model", json_string(h.model));
            json_object_set_new(j, "hw_rev_min", json_integer(h.hw_rev_min));
            json_object_set_new(j, "hw_rev_max", json_integer(h.hw_rev_max));
            json_object_set_new(j, "version", json_string(ver));
            json_object_set_new(j, "build_time", json_integer((json_int_t)h.build_time));
            json_object_set_new(j, "build_time_utc", json_string(built));
            json_object_set_new(j, "payload_size", json_integer(h.payload_size));
            json_object_set_new(j, "payload_sha256", json_string(sha));
            json_object_set_new(j, "key_id", json_string(idhex));
        }
        json_object_set_new(j, "signature", json_string(sig));
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        free(text);
        json_decref(j);
    } else if (header_ok) {
        printf("file:            %s (%zu bytes)\n", o->image, len);
        printf("format:          %u\n", h.format_version);
        printf("model:           %s\n", h.model);
        printf("hardware:        revisions %u..%u\n", h.hw_rev_min, h.hw_rev_max);
        printf("version:         %s\n", ver);
        printf("built:           %s\n", built);
        printf("payload:         %u bytes, SHA-256 %s\n", (unsigned)h.payload_size, sha);
        printf("signed by key:   %s\n", idhex);
        printf("signature:       %s\n", sig);
    }
    if (crc != 0 && !o->json)
        fprintf(stderr, "acs-fw %s: %s: %s: %s\n", o->cmd, o->image, fwimage_strerror(crc), why);
    else if (verify && !o->json)
        printf("%s: ok\n", o->image);
    free(img);
    return exit_for(crc);
}

/* ---- device commands ------------------------------------------------------------------- */

static int open_link(opts_t *o, transport_t **t)
{
    char err[ERR_MAX];
    if (!o->have_link) {
        fprintf(stderr, "acs-fw %s: give the link: --tcp HOST:PORT or --port DEV\n", o->cmd);
        return EXIT_USAGE;
    }
    if (transport_new(&o->link, t, err, sizeof(err)) != 0) {
        fprintf(stderr, "acs-fw %s: %s\n", o->cmd, err);
        return EXIT_USAGE;
    }
    transport_set_unit(*t, o->unit);
    int rc = transport_open(*t, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "acs-fw %s: %s\n", o->cmd, err);
        transport_free(*t);
        *t = NULL;
        return EXIT_FAIL;
    }
    return 0;
}

typedef struct progress_view {
    int mode; /* 0 none, 1 bar, 2 lines */
    double start;
    double drawn_at; /* the bar is redrawn at most every 100 ms */
    int last_decile;
    int bar_drawn;
} progress_view_t;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_progress(const fwflash_progress_t *p, void *arg)
{
    progress_view_t *v = arg;
    if (v->mode == 0)
        return;
    if (p->text != NULL) {
        if (v->bar_drawn)
            fputc('\n', stderr);
        v->bar_drawn = 0;
        fprintf(stderr, "%s\n", p->text);
        return;
    }
    if (p->step != FWFLASH_STEP_TRANSFER || p->total == 0)
        return;
    double secs = mono() - v->start;
    double rate = secs > 0 ? (p->done - p->resumed_from) / secs : 0;
    int pct = (int)(100.0 * p->done / p->total);
    if (v->mode == 1) {
        if (p->done != p->total && mono() - v->drawn_at < 0.1)
            return;
        v->drawn_at = mono();
        char bar[41];
        int fill = pct * 40 / 100;
        for (int i = 0; i < 40; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[40] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %u/%u bytes %.1f KiB/s", bar, pct, p->done, p->total,
                rate / 1024.0);
        v->bar_drawn = 1;
        if (p->done == p->total) {
            fputc('\n', stderr);
            v->bar_drawn = 0;
        }
    } else if (pct / 10 != v->last_decile || p->done == p->total) {
        v->last_decile = pct / 10;
        fprintf(stderr, "transfer %d%% (%u of %u bytes, %.1f KiB/s)\n", pct, p->done, p->total,
                rate / 1024.0);
    }
}

typedef struct wire_count {
    unsigned long long tx, rx, frames;
} wire_count_t;

static void on_frame(const transport_frame_t *f, void *arg)
{
    wire_count_t *w = arg;
    if (f->dir == TRANSPORT_TX)
        w->tx += f->len;
    else
        w->rx += f->len;
    w->frames++;
}

static void print_status(const fwflash_device_t *d)
{
    char run[32], other[32] = "none", key[17], id[17];
    fwimage_version_format(&d->running, run, sizeof(run));
    if (d->other_valid)
        fwimage_version_format(&d->other, other, sizeof(other));
    hexstr(d->key_id, 8, key, sizeof(key));
    hexstr(d->dl_id, 8, id, sizeof(id));
    printf("model:           %s, hardware revision %u\n", d->model, d->hw_rev);
    printf("running:         %s in slot %s%s\n", run,
           d->run_slot < 0 ? "-" : (d->run_slot == 0 ? "A" : "B"),
           d->flags & FWPROTO_FLAG_TRIAL ? " (on trial: reverts at the next reset unless "
                                           "confirmed)"
                                         : "");
    printf("other slot:      %s\n", other);
    printf("state:           %s%s\n", fwproto_state_name(d->state),
           d->flags & FWPROTO_FLAG_UNLOCKED ? " (update mode)" : "");
    if (d->flags & FWPROTO_FLAG_DOWNLOAD)
        printf("transfer:        %u of %u bytes acknowledged (id %s)\n", d->dl_acked, d->dl_size,
               id);
    printf("last error:      %d%s%s\n", d->error, d->error ? " " : "",
           d->error ? fwproto_strerror(d->error) : "");
    printf("trusted key:     %s\n", key);
    printf("flash writes:    %u\n", d->writes);
}

static json_t *status_json(const fwflash_device_t *d)
{
    char run[32], other[32], key[17], id[17];
    fwimage_version_format(&d->running, run, sizeof(run));
    fwimage_version_format(&d->other, other, sizeof(other));
    hexstr(d->key_id, 8, key, sizeof(key));
    hexstr(d->dl_id, 8, id, sizeof(id));
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(d->model));
    json_object_set_new(j, "hw_rev", json_integer(d->hw_rev));
    json_object_set_new(j, "running", json_string(run));
    json_object_set_new(j, "slot",
                        d->run_slot < 0 ? json_null() : json_string(d->run_slot == 0 ? "A" : "B"));
    json_object_set_new(j, "trial", json_boolean(d->flags & FWPROTO_FLAG_TRIAL));
    json_object_set_new(j, "other", d->other_valid ? json_string(other) : json_null());
    json_object_set_new(j, "state", json_string(fwproto_state_name(d->state)));
    json_object_set_new(j, "unlocked", json_boolean(d->flags & FWPROTO_FLAG_UNLOCKED));
    json_object_set_new(j, "transfer", json_boolean(d->flags & FWPROTO_FLAG_DOWNLOAD));
    json_object_set_new(j, "pending", json_boolean(d->flags & FWPROTO_FLAG_PENDING));
    json_object_set_new(j, "dl_size", json_integer(d->dl_size));
    json_object_set_new(j, "dl_acked", json_integer(d->dl_acked));
    json_object_set_new(j, "dl_id", json_string(id));
    json_object_set_new(j, "error", json_integer(d->error));
    json_object_set_new(j, "key_id", json_string(key));
    json_object_set_new(j, "writes", json_integer(d->writes));
    json_object_set_new(j, "chunk_max", json_integer(d->chunk_max));
    return j;
}

static int cmd_device(opts_t *o)
{
    transport_t *t;
    int rc = open_link(o, &t);
    if (rc != 0)
        return rc;
    char err[ERR_MAX];
    int status = 0;
    if (strcmp(o->cmd, "status") == 0) {
        fwflash_device_t d;
        rc = fwflash_read_status(t, &d, err, sizeof(err));
        if (rc == 0 && o->json) {
            json_t *j = status_json(&d);
            char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", text);
            free(text);
            json_decref(j);
        } else if (rc == 0) {
            print_status(&d);
        }
    } else if (strcmp(o->cmd, "confirm") == 0) {
        rc = fwflash_confirm(t, err, sizeof(err));
        if (rc == 0)
            printf("confirmed: the running image stays after a reset\n");
    } else if (strcmp(o->cmd, "reset") == 0) {
        rc = fwflash_reset(t, err, sizeof(err));
        if (rc == 0)
            printf("restarted\n");
    } else {
        rc = fwflash_abort(t, err, sizeof(err));
        if (rc == 0)
            printf("transfer and staged image dropped\n");
    }
    if (rc != 0) {
        fprintf(stderr, "acs-fw %s: %s\n", o->cmd, err);
        status = exit_for(rc);
    }
    transport_free(t);
    return status;
}

static int cmd_flash(opts_t *o)
{
    if (o->image == NULL) {
        fprintf(stderr, "acs-fw flash: which image? (acs-fw flash IMAGE --key PUB LINK)\n");
        return EXIT_USAGE;
    }
    if (o->npub == 0 && !o->skip_checks) {
        fprintf(stderr, "acs-fw flash: give the trusted public key(s) with --key FILE.pub\n");
        return EXIT_USAGE;
    }
    progress_view_t view = {.mode = 2, .last_decile = -1};
    const char *pm = o->progress != NULL ? o->progress : "auto";
    if (strcmp(pm, "auto") == 0)
        view.mode = isatty(STDERR_FILENO) ? 1 : 2;
    else if (strcmp(pm, "bar") == 0)
        view.mode = 1;
    else if (strcmp(pm, "lines") == 0)
        view.mode = 2;
    else if (strcmp(pm, "none") == 0)
        view.mode = 0;
    else {
        fprintf(stderr, "acs-fw flash: --progress takes auto, bar, lines or none\n");
        return EXIT_USAGE;
    }
    uint8_t keys[KEYS_MAX][32];
    int rc = load_keyring(o, keys);
    if (rc != 0)
        return rc;
    uint8_t *img;
    size_t len;
    if ((rc = read_file(o->image, FWIMAGE_PAYLOAD_MAX * 2u, &img, &len)) != 0)
        return rc;
    transport_t *t;
    if ((rc = open_link(o, &t)) != 0) {
        free(img);
        return rc;
    }
    wire_count_t wire = {0, 0, 0};
    transport_set_frame_cb(t, on_frame, &wire);
    fwimage_keyring_t ring = {(const uint8_t(*)[32])keys, o->npub};
    fwflash_options_t fo = {
        .keys = &ring,
        .allow_downgrade = o->allow_downgrade,
        .no_confirm = o->no_confirm,
        .skip_checks = o->skip_checks,
        .retries = o->retries,
        .progress = on_progress,
        .progress_arg = &view,
    };
    fwflash_result_t res;
    char err[ERR_MAX];
    view.start = mono();
    rc = fwflash_run(t, img, len, &fo, &res, err, sizeof(err));
    double secs = mono() - view.start;
    if (view.bar_drawn)
        fputc('\n', stderr);
    int status;
    if (rc != 0) {
        fprintf(stderr, "acs-fw flash: %s\n", err);
        status = rc == FWFLASH_EREFUSED ? exit_for_device(res.device_error) : exit_for(rc);
    } else {
        char before[32], after[32];
        fwimage_version_format(&res.before.running, before, sizeof(before));
        fwimage_version_format(&res.after.running, after, sizeof(after));
        if (res.already)
            printf("the device already runs %s: nothing sent\n", after);
        else
            printf("updated %s -> %s (slot %s, %s)%s\n", before, after,
                   res.after.run_slot == 0 ? "A" : "B",
                   res.confirmed ? "confirmed"
                                 : "on trial: reverts at the next reset unless "
                                   "confirmed",
                   res.resumed_from > 0 ? "; resumed" : "");
        if (res.resumed_from > 0)
            printf("resumed at byte %u of %zu\n", res.resumed_from, len);
        printf("running version: %s\n", after);
        status = 0;
    }
    if (o->stats) {
        const transport_config_t *c = transport_config(t);
        printf("stats: %u image bytes in %u chunks, %u retries, %.3f s\n", res.bytes_sent,
               res.chunks, res.retries, secs);
        printf("stats: wire %llu bytes out, %llu bytes in, %llu frames\n", wire.tx, wire.rx,
               wire.frames);
        if (c->kind == TRANSPORT_RTU) {
            unsigned bits =
                1u + (unsigned)c->data_bits + (c->parity != 'N') + (unsigned)c->stop_bits;
            double limit = (double)(wire.tx + wire.rx) * bits / c->baud;
            printf("stats: line-rate limit %.3f s for those bytes at %d baud (%u bits a byte); "
                   "ratio %.2f\n",
                   limit, c->baud, bits, limit > 0 ? secs / limit : 0);
        }
    }
    transport_free(t);
    free(img);
    return status;
}

/* ---- options ---------------------------------------------------------------------------- */

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (fwimage_init() != 0) {
        fprintf(stderr, "acs-fw: libsodium failed to initialise\n");
        return EXIT_FAIL;
    }
    opts_t o;
    memset(&o, 0, sizeof(o));
    o.cmd = argv[1];
    o.fill = 0xFF;
    o.unit = 1;
    o.link.baud = 19200;
    o.link.parity = 'E';
    o.link.data_bits = 8;
    o.link.stop_bits = 1;
    static const char *const cmds[] = {"keygen", "pack",    "inspect", "verify", "flash",
                                       "status", "confirm", "reset",   "abort",  NULL};
    int known = 0;
    for (size_t i = 0; cmds[i] != NULL; i++)
        known |= strcmp(o.cmd, cmds[i]) == 0;
    if (!known) {
        fprintf(stderr, "acs-fw: unknown command \"%s\" (acs-fw --help lists them)\n", o.cmd);
        return EXIT_USAGE;
    }
    enum {
        O_OUT = 256,
        O_KEY,
        O_MODEL,
        O_HW,
        O_VERSION,
        O_BIN,
        O_HEX,
        O_FILL,
        O_BUILD,
        O_FORCE,
        O_JSON,
        O_RUNNING,
        O_ALLOW,
        O_NOCONFIRM,
        O_SKIP,
        O_RETRIES,
        O_PROGRESS,
        O_STATS,
        O_TCP,
        O_PORT,
        O_BAUD,
        O_PARITY,
        O_DATA,
        O_STOP,
        O_TIMEOUT,
        O_UNIT,
        O_TURNAROUND,
    };
    static const struct option opts[] = {
        {"out", required_argument, NULL, O_OUT},
        {"key", required_argument, NULL, O_KEY},
        {"model", required_argument, NULL, O_MODEL},
        {"hw-rev", required_argument, NULL, O_HW},
        {"version", required_argument, NULL, O_VERSION},
        {"bin", required_argument, NULL, O_BIN},
        {"hex", required_argument, NULL, O_HEX},
        {"fill", required_argument, NULL, O_FILL},
        {"build-time", required_argument, NULL, O_BUILD},
        {"force", no_argument, NULL, O_FORCE},
        {"json", no_argument, NULL, O_JSON},
        {"running", required_argument, NULL, O_RUNNING},
        {"allow-downgrade", no_argument, NULL, O_ALLOW},
        {"no-confirm", no_argument, NULL, O_NOCONFIRM},
        {"skip-checks", no_argument, NULL, O_SKIP},
        {"retries", required_argument, NULL, O_RETRIES},
        {"progress", required_argument, NULL, O_PROGRESS},
        {"stats", no_argument, NULL, O_STATS},
        {"tcp", required_argument, NULL, O_TCP},
        {"port", required_argument, NULL, O_PORT},
        {"baud", required_argument, NULL, O_BAUD},
        {"parity", required_argument, NULL, O_PARITY},
        {"data-bits", required_argument, NULL, O_DATA},
        {"stop-bits", required_argument, NULL, O_STOP},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"unit", required_argument, NULL, O_UNIT},
        {"turnaround", required_argument, NULL, O_TURNAROUND},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 2;
    int c;
    unsigned long v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_OUT:
            o.out = optarg;
            break;
        case O_KEY:
            if (strcmp(o.cmd, "pack") == 0) {
                o.key_path = optarg;
            } else if (o.npub == KEYS_MAX) {
                fprintf(stderr, "acs-fw: at most %d --key options\n", KEYS_MAX);
                return EXIT_USAGE;
            } else {
                o.pub[o.npub++] = optarg;
            }
            break;
        case O_MODEL:
            o.model = optarg;
            break;
        case O_HW: {
            unsigned long a, b;
            char first[32];
            const char *dash = strchr(optarg, '-');
            snprintf(first, sizeof(first), "%.*s",
                     dash != NULL ? (int)(dash - optarg) : (int)strlen(optarg), optarg);
            if (parse_uint(first, 65535, &a) != 0 ||
                (dash != NULL && parse_uint(dash + 1, 65535, &b) != 0) || (dash != NULL && b < a)) {
                fprintf(stderr, "acs-fw: --hw-rev takes N or N-M (0..65535, N <= M), not \"%s\"\n",
                        optarg);
                return EXIT_USAGE;
            }
            o.hw_min = (unsigned)a;
            o.hw_max = dash != NULL ? (unsigned)b : (unsigned)a;
            o.have_hw = 1;
            break;
        }
        case O_VERSION:
            o.version = optarg;
            break;
        case O_BIN:
            o.bin = optarg;
            break;
        case O_HEX:
            o.hex = optarg;
            break;
        case O_FILL:
            if (parse_uint(optarg, 255, &v) != 0) {
                fprintf(stderr, "acs-fw: --fill takes a byte 0..255 (0xFF)\n");
                return EXIT_USAGE;
            }
            o.fill = (int)v;
            break;
        case O_BUILD: {
            char *end;
            errno = 0;
            unsigned long long t = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || errno != 0) {
                fprintf(stderr, "acs-fw: --build-time takes seconds since 1970\n");
                return EXIT_USAGE;
            }
            o.build_time = t;
            o.have_build_time = 1;
            break;
        }
        case O_FORCE:
            o.force = 1;
            break;
        case O_JSON:
            o.json = 1;
            break;
        case O_RUNNING:
            o.running = optarg;
            break;
        case O_ALLOW:
            o.allow_downgrade = 1;
            break;
        case O_NOCONFIRM:
            o.no_confirm = 1;
            break;
        case O_SKIP:
            o.skip_checks = 1;
            break;
        case O_RETRIES:
            if (parse_uint(optarg, 100, &v) != 0 || v == 0) {
                fprintf(stderr, "acs-fw: --retries takes 1..100\n");
                return EXIT_USAGE;
            }
            o.retries = (unsigned)v;
            break;
        case O_PROGRESS:
            o.progress = optarg;
            break;
        case O_STATS:
            o.stats = 1;
            break;
        case O_TCP: {
            const char *colon = strrchr(optarg, ':');
            if (colon == NULL || colon == optarg || parse_uint(colon + 1, 65535, &v) != 0 ||
                v == 0 || (size_t)(colon - optarg) >= sizeof(o.host)) {
                fprintf(stderr, "acs-fw: --tcp takes HOST:PORT, not \"%s\"\n", optarg);
                return EXIT_USAGE;
            }
            snprintf(o.host, sizeof(o.host), "%.*s", (int)(colon - optarg), optarg);
            o.link.kind = TRANSPORT_TCP;
            o.link.host = o.host;
            o.link.port = (int)v;
            o.have_link++;
            break;
        }
        case O_PORT:
            o.link.kind = TRANSPORT_RTU;
            o.link.device = optarg;
            o.have_link++;
            break;
        case O_BAUD:
            if (parse_uint(optarg, 921600, &v) != 0 || v < 1200) {
                fprintf(stderr, "acs-fw: --baud takes 1200..921600\n");
                return EXIT_USAGE;
            }
            o.link.baud = (int)v;
            break;
        case O_PARITY:
            if (strlen(optarg) != 1 || strchr("NEOneo", optarg[0]) == NULL) {
                fprintf(stderr, "acs-fw: --parity takes N, E or O\n");
                return EXIT_USAGE;
            }
            o.link.parity = (char)(optarg[0] & ~0x20);
            break;
        case O_DATA:
            if (parse_uint(optarg, 8, &v) != 0 || v < 7) {
                fprintf(stderr, "acs-fw: --data-bits takes 7 or 8\n");
                return EXIT_USAGE;
            }
            o.link.data_bits = (int)v;
            break;
        case O_STOP:
            if (parse_uint(optarg, 2, &v) != 0 || v < 1) {
                fprintf(stderr, "acs-fw: --stop-bits takes 1 or 2\n");
                return EXIT_USAGE;
            }
            o.link.stop_bits = (int)v;
            break;
        case O_TIMEOUT:
            if (parse_uint(optarg, 600000, &v) != 0 || v == 0) {
                fprintf(stderr, "acs-fw: --timeout takes milliseconds 1..600000\n");
                return EXIT_USAGE;
            }
            o.link.timeout_ms = (unsigned)v;
            break;
        case O_TURNAROUND:
            if (parse_uint(optarg, 60000, &v) != 0 || v == 0) {
                fprintf(stderr, "acs-fw: --turnaround takes milliseconds 1..60000\n");
                return EXIT_USAGE;
            }
            o.link.turnaround_ms = (unsigned)v;
            break;
        case O_UNIT:
            if (parse_uint(optarg, 255, &v) != 0) {
                fprintf(stderr, "acs-fw: --unit takes 0..255\n");
                return EXIT_USAGE;
            }
            o.unit = (int)v;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fprintf(stderr, "acs-fw %s: see acs-fw --help\n", o.cmd);
            return EXIT_USAGE;
        }
    }
    if (o.have_link > 1) {
        fprintf(stderr, "acs-fw %s: give one link: --tcp or --port, not both\n", o.cmd);
        return EXIT_USAGE;
    }
    int need_image = strcmp(o.cmd, "inspect") == 0 || strcmp(o.cmd, "verify") == 0 ||
                     strcmp(o.cmd, "flash") == 0;
    if (need_image && optind < argc)
        o.image = argv[optind++];
    if (optind != argc) {
        fprintf(stderr, "acs-fw %s: unexpected argument \"%s\"\n", o.cmd, argv[optind]);
        return EXIT_USAGE;
    }
    if (strcmp(o.cmd, "keygen") == 0)
        return cmd_keygen(&o);
    if (strcmp(o.cmd, "pack") == 0)
        return cmd_pack(&o);
    if (strcmp(o.cmd, "inspect") == 0)
        return cmd_inspect_verify(&o, 0);
    if (strcmp(o.cmd, "verify") == 0)
        return cmd_inspect_verify(&o, 1);
    if (strcmp(o.cmd, "flash") == 0)
        return cmd_flash(&o);
    return cmd_device(&o);
}
