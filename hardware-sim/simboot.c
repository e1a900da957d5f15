/* SPDX-License-Identifier: MIT */
/*
 * simboot.c - the bootloader's Modbus registers (see simboot.h and firmware-tools/fwproto.h)
 * over the slot logic of fwslot.c, and the flash file.
 *
 * The flash file mirrors the simulated flash byte for byte (fwslot.h gives the layout): each
 * flash write, torn ones included, is written at its offset with pwrite, so a simulator that
 * is stopped or killed and started again finds the flash as the last write left it.
 */
#include "simboot.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acs_error.h"
#include "fwslot.h"
#include "mbframe.h"
#include "simpdu.h"

struct simboot {
    fwslot_t *fs;
    char model[FWIMAGE_MODEL_MAX + 1];
    unsigned hw_rev;
    uint8_t key_id[8];
    char factory[32];
    int fd; /* flash file, or -1 */
    int reset;
};

static void persist(void *arg, size_t offset, const uint8_t *bytes, size_t len)
{
    simboot_t *b = arg;
    if (b->fd < 0)
        return;
    while (len > 0) {
        ssize_t n = pwrite(b->fd, bytes, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr,
                    "acs-sim: flash file write failed: %s (the flash is kept in "
                    "memory only from now on)\n",
                    strerror(errno));
            close(b->fd);
            b->fd = -1;
            return;
        }
        bytes += n;
        len -= (size_t)n;
        offset += (size_t)n;
    }
}

int simboot_new(const simboot_config_t *cfg, simboot_t **out, char *err, size_t errlen)
{
    *out = NULL;
    uint8_t *flash = NULL;
    size_t have = 0;
    simboot_t *b = calloc(1, sizeof(*b));
    if (b == NULL)
        goto nomem;
    b->fd = -1;
    snprintf(b->model, sizeof(b->model), "%s", cfg->model);
    b->hw_rev = cfg->hw_rev;
    snprintf(b->factory, sizeof(b->factory), "%s", cfg->factory != NULL ? cfg->factory : "0.0.0");
    if (cfg->key != NULL)
        fwimage_key_id(cfg->key, b->key_id);
    if (cfg->flash_path != NULL) {
        b->fd = open(cfg->flash_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (b->fd < 0) {
            snprintf(err, errlen, "%s: cannot open the flash file %s: %s (check flash_dir)",
                     cfg->where, cfg->flash_path, strerror(errno));
            free(b);
            return ACS_EIO;
        }
        flash = calloc(1, FWSLOT_FLASH_SIZE);
        if (flash == NULL)
            goto nomem;
        while (have < FWSLOT_FLASH_SIZE) {
            ssize_t n = pread(b->fd, flash + have, FWSLOT_FLASH_SIZE - have, (off_t)have);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            have += (size_t)n;
        }
    }
    fwslot_config_t fc = {
        .model = cfg->model,
        .hw_rev = cfg->hw_rev,
        .key = cfg->key,
        .persist = persist,
        .persist_arg = b,
    };
    if (fwimage_version_parse(b->factory, &fc.factory) != 0)
        memset(&fc.factory, 0, sizeof(fc.factory));
    int rc = fwslot_new(&fc, flash, have, &b->fs);
    free(flash);
    flash = NULL;
    if (rc == ACS_ENOMEM)
        goto nomem;
    if (rc != 0) {
        snprintf(err, errlen, "%s: the bootloader needs a model", cfg->where);
        simboot_free(b);
        return rc;
    }
    *out = b;
    return 0;

nomem:
    free(flash);
    simboot_free(b);
    snprintf(err, errlen, "%s: out of memory for the simulated flash", cfg->where);
    return ACS_ENOMEM;
}

void simboot_free(simboot_t *b)
{
    if (b == NULL)
        return;
    if (b->fd >= 0)
        close(b->fd);
    fwslot_free(b->fs);
    free(b);
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int simboot_claims(const uint8_t *pdu, size_t len)
{
    if (len < 5)
        return 0;
    uint16_t addr = be16(pdu + 1);
    switch (pdu[0]) {
    case 0x03:
        return addr >= FWPROTO_REG_STATUS && addr < 0xF200;
    case 0x06:
        return addr == FWPROTO_REG_COMMAND;
    case 0x10:
        return addr == FWPROTO_REG_COMMAND || addr == FWPROTO_REG_DATA;
    default:
        return 0;
    }
}

static void status_regs(const simboot_t *b, uint16_t r[FWPROTO_STATUS_REGS])
{
    fwslot_status_t st;
    fwslot_status(b->fs, &st);
    memset(r, 0, FWPROTO_STATUS_REGS * sizeof(uint16_t));
#define R(addr) r[(addr)-FWPROTO_REG_STATUS]
    R(FWPROTO_REG_MAGIC) = FWPROTO_MAGIC;
    R(FWPROTO_REG_STATE) = (uint16_t)st.state;
    R(FWPROTO_REG_ERROR) = (uint16_t)st.error;
    R(FWPROTO_REG_FLAGS) =
        (uint16_t)((st.unlocked ? FWPROTO_FLAG_UNLOCKED : 0) | (st.trial ? FWPROTO_FLAG_TRIAL : 0) |
                   (st.download ? FWPROTO_FLAG_DOWNLOAD : 0) |
                   (st.pending ? FWPROTO_FLAG_PENDING : 0));
    R(FWPROTO_REG_DL_SIZE) = (uint16_t)(st.dl_size >> 16);
    R(FWPROTO_REG_DL_SIZE + 1) = (uint16_t)st.dl_size;
    R(FWPROTO_REG_DL_ACKED) = (uint16_t)(st.dl_acked >> 16);
    R(FWPROTO_REG_DL_ACKED + 1) = (uint16_t)st.dl_acked;
    for (int i = 0; i < 4; i++)
        R(FWPROTO_REG_DL_ID + i) = (uint16_t)(st.dl_id[2 * i] << 8 | st.dl_id[2 * i + 1]);
    R(FWPROTO_REG_CHUNK_MAX) = FWPROTO_CHUNK_MAX;
    R(FWPROTO_REG_RUN_SLOT) = st.running_slot < 0 ? 0xFFFF : (uint16_t)st.running_slot;
    R(FWPROTO_REG_RUN_VER) = st.running.major;
    R(FWPROTO_REG_RUN_VER + 1) = st.running.minor;
    R(FWPROTO_REG_RUN_VER + 2) = st.running.patch;
    for (int i = 0; i < 3; i++)
        R(FWPROTO_REG_OTHER_VER + i) = 0xFFFF;
    if (st.other_valid) {
        R(FWPROTO_REG_OTHER_VER) = st.other.major;
        R(FWPROTO_REG_OTHER_VER + 1) = st.other.minor;
        R(FWPROTO_REG_OTHER_VER + 2) = st.other.patch;
    }
    R(FWPROTO_REG_HW_REV) = (uint16_t)b->hw_rev;
    uint8_t model[16] = {0};
    memcpy(model, b->model, strlen(b->model));
    for (int i = 0; i < 8; i++)
        R(FWPROTO_REG_MODEL + i) = (uint16_t)(model[2 * i] << 8 | model[2 * i + 1]);
    for (int i = 0; i < 4; i++)
        R(FWPROTO_REG_KEY_ID + i) = (uint16_t)(b->key_id[2 * i] << 8 | b->key_id[2 * i + 1]);
    R(FWPROTO_REG_WRITES) = (uint16_t)(st.writes >> 16);
    R(FWPROTO_REG_WRITES + 1) = (uint16_t)st.writes;
    R(FWPROTO_REG_SLOT_KIB) = FWSLOT_SLOT_SIZE / 1024u;
#undef R
}

static size_t read_status(simboot_t *b, const uint8_t *pdu, size_t len, uint8_t *resp)
{
    if (len != 5)
        return simpdu_exception(pdu[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint16_t addr = be16(pdu + 1), n = be16(pdu + 3);
    if (n < 1 || n > 125)
        return simpdu_exception(pdu[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    if ((uint32_t)addr + n > FWPROTO_REG_STATUS + FWPROTO_STATUS_REGS)
        return simpdu_exception(pdu[0], SIMPDU_EX_ILLEGAL_ADDRESS, resp);
    uint16_t r[FWPROTO_STATUS_REGS];
    status_regs(b, r);
    resp[0] = pdu[0];
    resp[1] = (uint8_t)(2 * n);
    for (uint16_t i = 0; i < n; i++)
        put16(resp + 2 + 2 * i, r[addr - FWPROTO_REG_STATUS + i]);
    return 2 + 2u * n;
}

/* The outcome of an operation as a Modbus answer: echo, exception 04, or silence. */
static size_t answer(int rc, const uint8_t *pdu, uint8_t *resp)
{
    if (rc == FWPROTO_EPOWER)
        return 0;
    if (rc == FWPROTO_ECOMMAND)
        return simpdu_exception(pdu[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    if (rc != 0)
        return simpdu_exception(pdu[0], SIMPDU_EX_DEVICE_FAILURE, resp);
    memcpy(resp, pdu, 5);
    return 5;
}

static int command(simboot_t *b, const uint16_t *w, size_t n)
{
    switch (w[0]) {
    case FWPROTO_CMD_ENTER:
        if (n != 3)
            break;
        return fwslot_enter(b->fs, (uint32_t)w[1] << 16 | w[2]);
    case FWPROTO_CMD_BEGIN: {
        if (n != 7)
            break;
        uint8_t id[8];
        for (int i = 0; i < 4; i++) {
            id[2 * i] = (uint8_t)(w[3 + i] >> 8);
            id[2 * i + 1] = (uint8_t)w[3 + i];
        }
        return fwslot_begin(b->fs, (uint32_t)w[1] << 16 | w[2], id);
    }
    case FWPROTO_CMD_VERIFY:
        if (n == 1)
            return fwslot_verify(b->fs);
        break;
    case FWPROTO_CMD_RESET:
        if (n == 1) {
            b->reset = 1;
            return 0;
        }
        break;
    case FWPROTO_CMD_CONFIRM:
        if (n == 1)
            return fwslot_confirm(b->fs);
        break;
    case FWPROTO_CMD_ABORT:
        if (n == 1)
            return fwslot_abort(b->fs);
        break;
    default:
        break;
    }
    return FWPROTO_ECOMMAND;
}

size_t simboot_request(simboot_t *b, const uint8_t *pdu, size_t len, uint8_t *resp)
{
    if (!simboot_powered(b))
        return 0;
    if (pdu[0] == 0x03)
        return read_status(b, pdu, len, resp);
    uint16_t addr = be16(pdu + 1);
    if (pdu[0] == 0x06) {
        if (len != 5)
            return simpdu_exception(pdu[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
        uint16_t w = be16(pdu + 3);
        return answer(command(b, &w, 1), pdu, resp);
    }
    /* FC 16: the same checks as simpdu's, then the block's own. */
    if (len < 6)
        return simpdu_exception(pdu[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint16_t n = be16(pdu + 3);
    uint8_t bytes = pdu[5];
    if (n < 1 || n > 123 || bytes != 2u * n || len != 6u + bytes)
        return simpdu_exception(pdu[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    if (addr == FWPROTO_REG_COMMAND) {
        uint16_t w[123];
        for (uint16_t i = 0; i < n; i++)
            w[i] = be16(pdu + 6 + 2 * i);
        return answer(command(b, w, n), pdu, resp);
    }
    if (n < 4)
        return simpdu_exception(pdu[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint32_t offset = (uint32_t)be16(pdu + 6) << 16 | be16(pdu + 8);
    uint16_t crc = be16(pdu + 10);
    size_t dlen = 2u * (n - 3u);
    /* The last chunk of an odd-sized image carries one byte of padding. */
    uint32_t size = fwslot_download_size(b->fs);
    if (size > 0 && offset < size && size - offset < dlen)
        dlen = size - offset;
    return answer(fwslot_chunk(b->fs, offset, pdu + 12, dlen, crc), pdu, resp);
}

int simboot_take_reset(simboot_t *b)
{
    int r = b->reset;
    b->reset = 0;
    return r;
}

int simboot_boot(simboot_t *b, char *version, size_t vlen)
{
    b->reset = 0;
    if (fwslot_boot(b->fs) != 0)
        return ACS_EIO;
    fwslot_status_t st;
    fwslot_status(b->fs, &st);
    if (st.running_slot < 0 || st.running_factory)
        snprintf(version, vlen, "%s", st.running_slot < 0 ? "0.0.0" : b->factory);
    else
        fwimage_version_format(&st.running, version, vlen);
    return 0;
}

int simboot_powered(const simboot_t *b)
{
    return fwslot_powered(b->fs);
}

void simboot_power_off(simboot_t *b)
{
    fwslot_power_off(b->fs);
}

int simboot_cut_at(simboot_t *b, const char *arg, char *msg, size_t msglen)
{
    unsigned long n = 0;
    if (arg != NULL) {
        char *end;
        n = strtoul(arg, &end, 10);
        if (!isdigit((unsigned char)arg[0]) || *end != '\0' || n > 1000000000ul) {
            snprintf(msg, msglen,
                     "flash-cut takes the flash write to cut power at, counted from now: "
                     "1..1000000000 (0 cancels)");
            return ACS_EINVAL;
        }
    }
    fwslot_cut_power_at(b->fs, (uint32_t)n);
    if (msg == NULL || msglen == 0)
        return 0;
    if (n == 0)
        snprintf(msg, msglen, "no power cut planned");
    else
        snprintf(msg, msglen, "power will be cut at flash write %lu from now", n);
    return 0;
}

void simboot_describe(const simboot_t *b, char *msg, size_t msglen)
{
    fwslot_status_t st;
    fwslot_status(b->fs, &st);
    char run[48] = "none", other[32] = "none";
    if (st.running_slot >= 0) {
        if (st.running_factory)
            snprintf(run, sizeof(run), "%s(factory)", b->factory);
        else
            fwimage_version_format(&st.running, run, sizeof(run));
    }
    if (st.other_valid)
        fwimage_version_format(&st.other, other, sizeof(other));
    snprintf(msg, msglen,
             "state=%s power=%s slot=%s running=%s trial=%s other=%s transfer=%lu/%lu "
             "error=%d writes=%lu",
             fwproto_state_name(st.state), st.powered ? "on" : "off",
             st.running_slot < 0 ? "-" : (st.running_slot == 0 ? "A" : "B"), run,
             st.trial ? "yes" : "no", other, (unsigned long)st.dl_acked, (unsigned long)st.dl_size,
             st.error, (unsigned long)st.writes);
}

int simboot_load_key(const char *value, const char *base_dir, uint8_t pk[32], char *err,
                     size_t errlen)
{
    char why[256];
    int secret = 0;
    if (fwimage_key_parse(value, pk, 32, &secret, why, sizeof(why)) == 0)
        return 0;
    char path[4096];
    if (value[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
        snprintf(path, sizeof(path), "%s", value);
    else
        snprintf(path, sizeof(path), "%s/%s", base_dir, value);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen,
                 "\"%s\" is neither 64 hex digits nor a readable .pub file (%s: %s; make one "
                 "with acs-fw keygen)",
                 value, path, strerror(errno));
        return ACS_ENOTFOUND;
    }
    char line[512];
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    if (fwimage_key_parse(line, pk, 32, &secret, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return ACS_EINVAL;
    }
    return 0;
}
