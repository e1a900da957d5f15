/* SPDX-License-Identifier: MIT */
/*
 * device.c - the unit-level operations of device.h: scan, identify, read a whole profile,
 * findings, event log, actions. Protocol details stay in transport.c; register knowledge
 * comes only from the profile.
 */
#include "device.h"

#include "acs_error.h"
#include "errbuf.h"
#include "range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most read requests a profile needs (four tables, a few blocks each). */
#define DEVICE_MAX_RANGES 64

static int read_fc(profile_table_t table)
{
    switch (table) {
    case PROFILE_COIL:
        return 1;
    case PROFILE_DISCRETE_INPUT:
        return 2;
    case PROFILE_INPUT_REGISTER:
        return 4;
    default:
        return 3;
    }
}

int device_scan(transport_t *t, int first, int last, device_scan_cb cb, void *arg,
                device_scan_result_t *out, size_t *found, char *err, size_t errlen)
{
    int max = transport_config(t)->kind == TRANSPORT_RTU ? 247 : 255;
    if (found != NULL)
        *found = 0;
    if (out == NULL || found == NULL || first < 1 || last > max || first > last) {
        errbuf_printf(err, errlen, "scan: units must be a range within 1-%d", max);
        return ACS_EINVAL;
    }
    int rc = transport_open(t, err, errlen);
    if (rc != 0)
        return rc;
    for (int u = first; u <= last; u++) {
        device_scan_result_t *r = &out[u - first];
        memset(r, 0, sizeof(*r));
        r->unit = u;
        transport_set_unit(t, u);
        uint16_t code = 0;
        r->status = transport_read(t, 4, PROFILE_MODEL_CODE_ADDRESS, 1, &code, r->message,
                                   sizeof(r->message));
        r->present = r->status == 0 || transport_last_exception(t) != 0;
        r->model_code = code;
        if (r->present)
            (*found)++;
        if (cb != NULL)
            cb(r, first, last, arg);
        /* A lost adapter or connection ends the scan: every further unit would fail too. */
        if (transport_fd(t) < 0) {
            errbuf_printf(err, errlen, "%s", r->message);
            return ACS_EIO;
        }
    }
    return 0;
}

/* Decode one register of p read alone. */
static int read_reg(transport_t *t, const profile_reg_t *reg, decode_value_t *v, char *err,
                    size_t errlen)
{
    uint16_t words[(PROFILE_STRING_MAX + 1) / 2 + 2];
    uint8_t bit = 0;
    int rc;
    if (reg->type == PROFILE_T_BOOL) {
        rc = transport_read(t, read_fc(reg->table), reg->address, 1, &bit, err, errlen);
        return rc != 0 ? rc : decode_bit(reg, bit, v, err, errlen);
    }
    rc = transport_read(t, read_fc(reg->table), reg->address, reg->words, words, err, errlen);
    return rc != 0 ? rc : decode_value(reg, words, reg->words, v, err, errlen);
}

int device_identify(transport_t *t, const profile_set_t *set, int unit, device_ident_t *out,
                    char *err, size_t errlen)
{
    transport_devid_t id;
    decode_value_t v;
    int rc;
    if (t == NULL || set == NULL || out == NULL)
        return ACS_EINVAL;
    memset(out, 0, sizeof(*out));
    out->unit = unit;
    if ((rc = transport_set_unit(t, unit)) != 0) {
        errbuf_printf(err, errlen, "unit %d is not a valid unit id", unit);
        return rc;
    }
    rc = transport_read_device_id(t, &id, err, errlen);
    if (rc == ACS_ETIMEDOUT || (rc != 0 && transport_fd(t) < 0))
        return rc; /* silent, or the link is gone: a fallback would fail the same way */
    if (rc == 0 && id.product_code[0] != '\0') {
        out->via_devid = 1;
        memcpy(out->vendor, id.vendor_name, sizeof(out->vendor));
        memcpy(out->product, id.product_code, sizeof(out->product));
        memcpy(out->revision, id.revision, sizeof(out->revision));
        out->profile = profile_set_by_product_code(set, id.product_code);
    }
    /* The model code register is read in both cases: it confirms FC 43's answer. */
    uint16_t code = 0;
    rc = transport_read(t, 4, PROFILE_MODEL_CODE_ADDRESS, 1, &code, err, errlen);
    if (rc != 0)
        return rc;
    out->model_code = code;
    if (out->profile == NULL)
        out->profile = profile_set_by_model_code(set, code);
    if (out->profile == NULL) {
        errbuf_printf(err, errlen,
                      "unit %d answers (model code %u%s%s) but no profile in %s matches it "
                      "(add a profile for this model)",
                      unit, (unsigned)code, out->product[0] ? ", product " : "", out->product,
                      profile_default_dir());
        return ACS_ENOTFOUND;
    }
    const profile_t *p = out->profile;
    if (!out->via_devid) {
        errbuf_printf(out->vendor, sizeof(out->vendor), "%s", p->ident.vendor_name);
        errbuf_printf(out->product, sizeof(out->product), "%s", p->model);
        const profile_reg_t *ma = profile_reg(p, "fw_major"), *mi = profile_reg(p, "fw_minor"),
                            *pa = profile_reg(p, "fw_patch");
        decode_value_t a, b, c;
        if (ma && mi && pa && read_reg(t, ma, &a, NULL, 0) == 0 &&
            read_reg(t, mi, &b, NULL, 0) == 0 && read_reg(t, pa, &c, NULL, 0) == 0)
            errbuf_printf(out->revision, sizeof(out->revision), "%lld.%lld.%lld", (long long)a.i,
                          (long long)b.i, (long long)c.i);
    }
    if (p->ident.serial_reg != NULL) {
        rc = read_reg(t, p->ident.serial_reg, &v, err, errlen);
        if (rc != 0)
            return rc;
        decode_format(&v, out->serial, sizeof(out->serial));
    }
    return 0;
}

void device_reading_free(device_reading_t *r)
{
    if (r == NULL)
        return;
    free(r->values);
    r->values = NULL;
    r->nvalues = 0;
}

int device_read(transport_t *t, const profile_t *p, int unit, device_reading_t *out, char *err,
                size_t errlen)
{
    range_t ranges[DEVICE_MAX_RANGES];
    size_t nranges = 0;
    uint16_t *words = NULL;
    uint8_t *bits = NULL;
    int rc = ACS_EINVAL;
    if (out == NULL)
        return ACS_EINVAL;
    memset(out, 0, sizeof(*out));
    if (t == NULL || p == NULL)
        goto fail;
    out->profile = p;
    if ((rc = transport_set_unit(t, unit)) != 0)
        goto fail;
    rc = range_plan_profile(p, NULL, ranges, DEVICE_MAX_RANGES, &nranges);
    if (rc != 0) {
        errbuf_printf(err, errlen, "%s: cannot plan the reads", p->path);
        goto fail;
    }
    rc = ACS_ENOMEM;
    out->values = calloc(p->nregs ? p->nregs : 1, sizeof(*out->values));
    words = malloc(RANGE_MAX_REGISTERS * sizeof(*words));
    bits = malloc(RANGE_MAX_BITS);
    if (out->values == NULL || words == NULL || bits == NULL)
        goto fail;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    out->at = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    for (size_t i = 0; i < nranges; i++) {
        const range_t *rg = &ranges[i];
        int is_bits = rg->table == PROFILE_COIL || rg->table == PROFILE_DISCRETE_INPUT;
        char msg[DEVICE_MESSAGE_MAX];
        out->nrequests++;
        rc = transport_read(t, read_fc(rg->table), rg->address, rg->count,
                            is_bits ? (void *)bits : (void *)words, msg, sizeof(msg));
        if (rc != 0 && transport_last_exception(t) == 0) {
            /* No answer at all: the unit is gone, the rest would only time out. */
            errbuf_printf(err, errlen, "%s", msg);
            goto fail;
        }
        if (rc != 0) {
            out->nfailed++;
            if (out->error[0] == '\0')
                errbuf_printf(out->error, sizeof(out->error), "%s (%s %u-%u)", msg,
                              profile_table_name(rg->table), (unsigned)rg->address,
                              (unsigned)(rg->address + rg->count - 1));
            continue;
        }
        for (size_t k = 0; k < p->nregs; k++) {
            const profile_reg_t *reg = &p->regs[k];
            if (reg->table != rg->table || reg->address < rg->address ||
                reg->address + reg->words > rg->address + rg->count)
                continue;
            if (decode_from_block(reg, is_bits ? (const void *)bits : (const void *)words,
                                  rg->address, rg->count, &out->values[out->nvalues], NULL, 0) == 0)
                out->nvalues++;
        }
    }
    free(words);
    free(bits);
    return 0;
fail:
    free(words);
    free(bits);
    if (rc == ACS_ENOMEM)
        errbuf_printf(err, errlen, "reading unit %d: out of memory", unit);
    device_reading_free(out);
    return rc;
}

int device_findings(const device_reading_t *r, const decode_event_t *events, size_t nevents,
                    health_finding_t **out, size_t *n)
{
    if (r == NULL || r->profile == NULL || out == NULL || n == NULL)
        return ACS_EINVAL;
    *out = NULL;
    *n = 0;
    size_t cap = health_max_findings(r->profile);
    health_finding_t *f = calloc(cap ? cap : 1, sizeof(*f));
    if (f == NULL)
        return ACS_ENOMEM;
    health_snapshot_t now = {.values = r->values, .nvalues = r->nvalues, .at = r->at};
    int rc = health_evaluate(r->profile, &now, NULL, f, cap, n);
    if (rc == 0 && events != NULL && nevents > 0)
        rc = health_check_events(r->profile, events, nevents, f, cap, n);
    if (rc != 0) {
        free(f);
        *n = 0;
        return rc;
    }
    *out = f;
    return 0;
}

int device_read_events(transport_t *t, const profile_t *p, int unit, size_t max,
                       decode_event_t **out, size_t *n, char *err, size_t errlen)
{
    decode_event_t *ev = NULL;
    decode_value_t cv, hv;
    int rc = ACS_EINVAL;
    if (out != NULL)
        *out = NULL;
    if (n != NULL)
        *n = 0;
    if (t == NULL || p == NULL || out == NULL || n == NULL)
        goto fail;
    const profile_event_log_t *log = &p->event_log;
    if (!log->present) {
        errbuf_printf(err, errlen, "%s has no event log", p->model);
        rc = ACS_ENOTFOUND;
        goto fail;
    }
    if ((rc = transport_set_unit(t, unit)) != 0)
        goto fail;
    if ((rc = read_reg(t, log->count, &cv, err, errlen)) != 0 ||
        (rc = read_reg(t, log->head, &hv, err, errlen)) != 0)
        goto fail;
    unsigned count = (unsigned)cv.i, head = (unsigned)hv.i;
    if (count > log->capacity || head >= log->capacity) {
        errbuf_printf(err, errlen,
                      "unit %d: event log header is impossible (count %u, head %u, capacity %u): "
                      "the log is corrupt; clear it on the device",
                      unit, count, head, (unsigned)log->capacity);
        rc = ACS_EIO;
        goto fail;
    }
    size_t take = count < max ? count : max;
    rc = ACS_ENOMEM;
    ev = calloc(take ? take : 1, sizeof(*ev));
    if (ev == NULL)
        goto fail;
    for (size_t k = 0; k < take; k++) {
        unsigned slot = 0;
        uint16_t words[PROFILE_EVENT_WORDS_MAX];
        if ((rc = decode_event_slot(p, head, count, (unsigned)(count - take + k), &slot)) != 0)
            goto fail;
        uint16_t sel = (uint16_t)slot;
        if ((rc = transport_write(t, 6, log->select->address, 1, &sel, err, errlen)) != 0)
            goto fail;
        if ((rc = transport_read(t, 4, log->window_address, log->record_words, words, err,
                                 errlen)) != 0)
            goto fail;
        if ((rc = decode_event(p, words, log->record_words, &ev[k], err, errlen)) != 0)
            goto fail;
    }
    *out = ev;
    *n = take;
    return 0;
fail:
    free(ev);
    return rc;
}

int device_action(transport_t *t, const profile_t *p, int unit, const char *name, int confirmed,
                  char *err, size_t errlen)
{
    if (t == NULL || p == NULL || name == NULL)
        return ACS_EINVAL;
    const profile_action_t *a = profile_action(p, name);
    if (a == NULL) {
        errbuf_printf(err, errlen, "%s has no action \"%s\"", p->model, name);
        return ACS_ENOTFOUND;
    }
    if (!confirmed) {
        errbuf_printf(err, errlen,
                      "action %s (%s: %s) was not run: it needs an explicit confirmation "
                      "(--confirm)",
                      a->name, profile_safety_name(a->safety), a->title);
        return ACS_EFORBIDDEN;
    }
    int rc = transport_set_unit(t, unit);
    if (rc != 0)
        return rc;
    if (a->reg->table == PROFILE_COIL) {
        uint8_t bit = a->value ? 1 : 0;
        return transport_write(t, 5, a->reg->address, 1, &bit, err, errlen);
    }
    uint16_t words[2];
    rc = decode_encode_raw(a->reg, a->value, words, 2, err, errlen);
    if (rc != 0)
        return rc;
    if (a->reg->words == 1)
        return transport_write(t, 6, a->reg->address, 1, words, err, errlen);
    return transport_write(t, 16, a->reg->address, a->reg->words, words, err, errlen);
}
