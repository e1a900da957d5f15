/* SPDX-License-Identifier: MIT */
/*
 * simunit.c - one simulated controller: a register bank filled from its profile, the
 * behaviour behind the registers, and the faults it can be told to have (see simunit.h).
 *
 * The behaviour is keyed on register, event and action names of the profiles, so a model
 * gets whatever of it its map has:
 *   uptime            seconds since start (power loss or a reboot restart it)
 *   rtc_time          a clock that runs from the host's time; a write sets it
 *   event log         the profile's ring: count, head, select, record window, checksums
 *   unlock_entry/exit coil 1 releases a direction (entry_unlocked / exit_unlocked, state);
 *                     a simulated passage through a released direction counts it
 *                     (entry_passages / exit_passages) and logs passage_entry / passage_exit;
 *                     through a closed one it logs forced_passage; unlock_timeout closes it
 *   mode              normal, free_passage (both released), locked (unlocks ignored)
 *   beep, led_test    coils that clear themselves
 *   card reader       last_card_uid, last_card_bits, read_count, card_present, and a card_read
 *                     event with its decision (RC-50)
 *   reboot            the reboot action's value restarts the unit; another value is 03
 *   fault_bitmap      <name>_sensor stuck for 30 s sets <name>_sensor_stuck; a supply under
 *                     10 V sets supply_brownout; each logs fault_raised with the bit
 *
 * Written holding registers are checked against the profile: a value outside min/max or not
 * in an enumeration is refused with exception 03.
 */
#include "simunit.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acs_error.h"
#include "decode.h"
#include "simboot.h"

#define STUCK_MAX       8
#define SENSOR_STUCK_MS 30000
#define BROWNOUT_V      10.0

typedef struct stuck {
    const profile_reg_t *reg;
    uint16_t words[2];
} stuck_t;

struct simunit {
    const profile_t *p;
    char name[64];
    char serial[PROFILE_STRING_MAX + 1];
    char firmware[32];
    char server_text[160];
    uint8_t unit_id;
    int is_rtu;
    regbank_t bank;
    simpdu_device_t pdu;
    simunit_faults_t faults;

    /* state faults */
    stuck_t stuck[STUCK_MAX];
    size_t nstuck;
    int low_supply;
    int tamper;

    /* clocks */
    uint64_t now_ms;
    uint64_t boot_ms;
    uint32_t rtc_base; /* device clock at rtc_set_ms */
    uint64_t rtc_set_ms;

    /* event log ring */
    uint16_t *ring; /* capacity * record_words */
    uint32_t seq;
    uint16_t head, count;

    /* passage logic */
    uint64_t unlock_until_ms[2]; /* 0: closed */
    uint64_t beep_until_ms, led_until_ms, card_present_until_ms;
    uint64_t sensor_since_ms[2]; /* when entry/exit sensor became 1 (0: is 0) */
    uint32_t card_every_ms;
    uint64_t next_card_ms;
    uint32_t rng;
    unsigned card_decision_turn;

    simboot_t *boot;        /* the bootloader and its flash (simboot.h) */
    uint32_t lose_reply_in; /* lose-reply: the answer to this request from now is lost */
    char factory_fw[32];    /* the firmware text of the site file or profile */
};

/* ---- register access ------------------------------------------------------------------ */

static uint16_t *words_of(simunit_t *u, const profile_reg_t *r)
{
    regbank_table_t *t = &u->bank.t[r->table];
    return t->value + (r->address - t->start);
}

static const profile_reg_t *reg(const simunit_t *u, const char *name)
{
    return profile_reg(u->p, name);
}

static const stuck_t *stuck_of(const simunit_t *u, const profile_reg_t *r)
{
    for (size_t i = 0; i < u->nstuck; i++) {
        if (u->stuck[i].reg == r)
            return &u->stuck[i];
    }
    return NULL;
}

/* The model writes a register: a stuck one keeps its value. */
static void put_raw(simunit_t *u, const profile_reg_t *r, int64_t raw)
{
    if (r == NULL || stuck_of(u, r) != NULL)
        return;
    if (r->type == PROFILE_T_BOOL) {
        words_of(u, r)[0] = raw != 0;
        return;
    }
    uint16_t w[2];
    if (decode_encode_raw(r, raw, w, 2, NULL, 0) == 0)
        memcpy(words_of(u, r), w, r->words * sizeof(uint16_t));
}

static void put_number(simunit_t *u, const profile_reg_t *r, double v)
{
    if (r == NULL || stuck_of(u, r) != NULL || r->type == PROFILE_T_BOOL ||
        r->type == PROFILE_T_STRING)
        return;
    uint16_t w[2];
    if (decode_encode_number(r, v, w, 2, NULL, 0) == 0)
        memcpy(words_of(u, r), w, r->words * sizeof(uint16_t));
}

static int64_t get_raw(simunit_t *u, const profile_reg_t *r)
{
    if (r == NULL)
        return 0;
    if (r->type == PROFILE_T_BOOL)
        return words_of(u, r)[0];
    decode_value_t v;
    if (decode_value(r, words_of(u, r), r->words, &v, NULL, 0) != 0)
        return 0;
    return v.i;
}

static double get_number(simunit_t *u, const profile_reg_t *r)
{
    if (r == NULL)
        return 0;
    if (r->type == PROFILE_T_BOOL)
        return words_of(u, r)[0];
    decode_value_t v;
    if (decode_value(r, words_of(u, r), r->words, &v, NULL, 0) != 0)
        return 0;
    return v.real;
}

static void put_named(simunit_t *u, const char *name, int64_t raw)
{
    put_raw(u, reg(u, name), raw);
}

/* ---- clocks and event log --------------------------------------------------------------- */

static uint32_t rtc_now(const simunit_t *u)
{
    return u->rtc_base + (uint32_t)((u->now_ms - u->rtc_set_ms) / 1000);
}

static void refresh_window(simunit_t *u)
{
    const profile_event_log_t *el = &u->p->event_log;
    if (!el->present)
        return;
    unsigned slot = (unsigned)get_raw(u, el->select);
    regbank_table_t *t = &u->bank.t[REGBANK_INPUT];
    for (unsigned i = 0; i < el->record_words; i++) {
        uint16_t v = slot < el->capacity ? u->ring[(size_t)slot * el->record_words + i] : 0;
        regbank_set(&u->bank, REGBANK_INPUT, (uint32_t)el->window_address + i, v);
    }
    (void)t;
}

static void refresh_live(simunit_t *u)
{
    put_named(u, "uptime", (int64_t)((u->now_ms - u->boot_ms) / 1000));
    put_named(u, "rtc_time", rtc_now(u));
    const profile_event_log_t *el = &u->p->event_log;
    if (el->present) {
        put_raw(u, el->count, u->count);
        put_raw(u, el->head, u->head);
        refresh_window(u);
    }
}

typedef struct event_arg {
    const char *field;
    int64_t raw;
} event_arg_t;

/* Appends a record to the ring: seq, timestamp, code, the given fields, and every other field
 * named like a register of the map copied from that register; then the checksum. */
static void log_event(simunit_t *u, const char *event_name, const event_arg_t *args, size_t nargs)
{
    const profile_event_log_t *el = &u->p->event_log;
    if (!el->present)
        return;
    const profile_event_t *ev = NULL;
    for (size_t i = 0; i < el->nevents; i++) {
        if (strcmp(el->events[i].name, event_name) == 0)
            ev = &el->events[i];
    }
    if (ev == NULL)
        return; /* this model does not log such an event */
    uint16_t rec[PROFILE_EVENT_WORDS_MAX] = {0};
    for (size_t i = 0; i < el->nfields; i++) {
        const profile_reg_t *f = &el->fields[i];
        int64_t raw = 0;
        int have = 0;
        if (f == el->seq) {
            raw = ++u->seq;
            have = 1;
        } else if (f == el->timestamp) {
            raw = rtc_now(u);
            have = 1;
        } else if (f == el->code) {
            raw = ev->code;
            have = 1;
        }
        for (size_t k = 0; !have && k < nargs; k++) {
            if (strcmp(args[k].field, f->name) == 0) {
                raw = args[k].raw;
                have = 1;
            }
        }
        if (!have) {
            const profile_reg_t *src = reg(u, f->name);
            if (src != NULL && src->type != PROFILE_T_STRING) {
                uint16_t w[2];
                if (decode_encode_number(f, get_number(u, src), w, 2, NULL, 0) == 0)
                    memcpy(rec + f->address, w, f->words * sizeof(uint16_t));
            }
            continue;
        }
        uint16_t w[2];
        if (decode_encode_raw(f, raw, w, 2, NULL, 0) == 0)
            memcpy(rec + f->address, w, f->words * sizeof(uint16_t));
    }
    decode_event_seal(u->p, rec, el->record_words);
    memcpy(u->ring + (size_t)u->head * el->record_words, rec, el->record_words * sizeof(uint16_t));
    u->head = (uint16_t)((u->head + 1) % el->capacity);
    if (u->count < el->capacity)
        u->count++;
    refresh_live(u);
}

/* ---- passage logic ---------------------------------------------------------------------- */

static const char *const dir_name[2] = {"entry", "exit"};

static int64_t mode_value(simunit_t *u, const char *name)
{
    const profile_reg_t *m = reg(u, "mode");
    const profile_enum_t *e = m != NULL ? profile_enum_by_name(m, name) : NULL;
    return e != NULL ? e->value : -1;
}

static int in_mode(simunit_t *u, const char *name)
{
    const profile_reg_t *m = reg(u, "mode");
    return m != NULL && get_raw(u, m) == mode_value(u, name);
}

static void set_state(simunit_t *u, const char *name)
{
    const profile_reg_t *s = reg(u, "state");
    const profile_enum_t *e = s != NULL ? profile_enum_by_name(s, name) : NULL;
    if (e != NULL)
        put_raw(u, s, e->value);
}

/* Recomputes the released flags and the state from mode, fire alarm and pending unlocks. */
static void update_passage_state(simunit_t *u)
{
    int fire = reg(u, "fire_alarm") != NULL && get_raw(u, reg(u, "fire_alarm"));
    int free_mode = in_mode(u, "free_passage") || fire;
    int released[2];
    for (int d = 0; d < 2; d++)
        released[d] = free_mode || u->unlock_until_ms[d] != 0;
    put_named(u, "entry_unlocked", released[0]);
    put_named(u, "exit_unlocked", released[1]);
    if (free_mode)
        set_state(u, "free");
    else if (in_mode(u, "locked"))
        set_state(u, "locked");
    else if (u->unlock_until_ms[0] != 0)
        set_state(u, "entry_released");
    else if (u->unlock_until_ms[1] != 0)
        set_state(u, "exit_released");
    else
        set_state(u, "idle");
}

static void unlock(simunit_t *u, int d)
{
    if (in_mode(u, "locked")) {
        put_named(u, d == 0 ? "unlock_entry" : "unlock_exit", 0);
        return;
    }
    double secs = reg(u, "unlock_timeout") != NULL ? get_number(u, reg(u, "unlock_timeout")) : 5;
    u->unlock_until_ms[d] = u->now_ms + (uint64_t)(secs * 1000.0) + 1;
    update_passage_state(u);
}

/* ---- reset ------------------------------------------------------------------------------ */

/* Every register to its profile default (strings: the unit's own values). */
static void load_defaults(simunit_t *u)
{
    const profile_t *p = u->p;
    for (size_t i = 0; i < p->nregs; i++) {
        const profile_reg_t *r = &p->regs[i];
        if (r->type == PROFILE_T_STRING) {
            const char *text = r->default_text;
            if (r == p->ident.serial_reg)
                text = u->serial;
            uint16_t w[PROFILE_STRING_MAX / 2 + 1];
            if (decode_encode_string(r, text, w, r->words, NULL, 0) == 0)
                memcpy(words_of(u, r), w, r->words * sizeof(uint16_t));
        } else {
            put_raw(u, r, r->default_raw);
        }
    }
    put_raw(u, p->ident.model_code_reg, p->ident.model_code);
    if (p->ident.serial_reg != NULL && p->ident.serial_reg->type != PROFILE_T_STRING)
        put_raw(u, p->ident.serial_reg, strtoll(u->serial, NULL, 10));
    unsigned v[3];
    if (sscanf(u->firmware, "%u.%u.%u", &v[0], &v[1], &v[2]) == 3) {
        put_named(u, "fw_major", v[0]);
        put_named(u, "fw_minor", v[1]);
        put_named(u, "fw_patch", v[2]);
    }
}

/* Start (or restart after a power loss or a reboot): volatile state to defaults, uptime 0,
 * the clock keeps running, a power_on event. The event log survives (it is non-volatile). */
static void boot(simunit_t *u)
{
    /* The bootloader picks the image first: the firmware registers show what runs. A power
     * cut during its own flash write leaves the unit off. */
    if (u->boot != NULL) {
        if (simboot_boot(u->boot, u->firmware, sizeof(u->firmware)) != 0) {
            u->faults.power_off = 1;
            u->pdu.running = 0;
            return;
        }
        snprintf(u->server_text, sizeof(u->server_text), "%s %s %s %s", u->p->ident.vendor_name,
                 u->p->model, u->serial, u->firmware);
    }
    uint32_t rtc = u->rtc_set_ms != 0 || u->rtc_base != 0 ? rtc_now(u) : (uint32_t)time(NULL);
    double low = u->low_supply ? get_number(u, reg(u, "supply_voltage")) : 0;
    load_defaults(u);
    u->boot_ms = u->now_ms;
    u->rtc_base = rtc;
    u->rtc_set_ms = u->now_ms;
    memset(u->unlock_until_ms, 0, sizeof(u->unlock_until_ms));
    memset(u->sensor_since_ms, 0, sizeof(u->sensor_since_ms));
    u->beep_until_ms = u->led_until_ms = u->card_present_until_ms = 0;
    if (u->low_supply)
        put_number(u, reg(u, "supply_voltage"), low);
    if (u->tamper)
        put_named(u, "tamper", 1);
    for (size_t i = 0; i < u->nstuck; i++)
        memcpy(words_of(u, u->stuck[i].reg), u->stuck[i].words,
               u->stuck[i].reg->words * sizeof(uint16_t));
    update_passage_state(u);
    refresh_live(u);
    log_event(u, "power_on", NULL, 0);
}

/* ---- Modbus hooks ----------------------------------------------------------------------- */

static int check_write(void *arg, regbank_table_id_t table, uint16_t addr, const uint16_t *vals,
                       uint16_t count)
{
    simunit_t *u = arg;
    if (table != REGBANK_HOLDING)
        return 0;
    for (uint16_t i = 0; i < count; i++) {
        const profile_reg_t *r =
            profile_reg_at_address(u->p, PROFILE_HOLDING_REGISTER, (uint16_t)(addr + i));
        if (r == NULL || r->words != 1)
            continue; /* 32-bit values are taken as they come */
        const profile_action_t *rb = profile_action(u->p, "reboot");
        if (rb != NULL && rb->reg == r) {
            if (vals[i] != 0 && vals[i] != rb->value)
                return SIMPDU_EX_ILLEGAL_VALUE;
            continue;
        }
        decode_value_t v;
        if (decode_value(r, vals + i, 1, &v, NULL, 0) != 0)
            return SIMPDU_EX_ILLEGAL_VALUE;
        if (r->nvalues > 0 && profile_enum_by_value(r, v.i) == NULL)
            return SIMPDU_EX_ILLEGAL_VALUE;
        if ((r->has_min && v.real < r->min - 1e-9) || (r->has_max && v.real > r->max + 1e-9))
            return SIMPDU_EX_ILLEGAL_VALUE;
        const profile_event_log_t *el = &u->p->event_log;
        if (el->present && r == el->select && vals[i] >= el->capacity)
            return SIMPDU_EX_ILLEGAL_VALUE;
    }
    return 0;
}

static int touches(const profile_reg_t *r, regbank_table_id_t table, uint16_t addr, uint16_t count)
{
    return r != NULL && (regbank_table_id_t)r->table == table && r->address < addr + count &&
           r->address + r->words > addr;
}

static void after_write(void *arg, regbank_table_id_t table, uint16_t addr, uint16_t count)
{
    simunit_t *u = arg;
    const char *unlock_coils[2] = {"unlock_entry", "unlock_exit"};
    for (int d = 0; d < 2; d++) {
        const profile_reg_t *c = reg(u, unlock_coils[d]);
        if (touches(c, table, addr, count) && get_raw(u, c))
            unlock(u, d);
    }
    if (touches(reg(u, "beep"), table, addr, count) && get_raw(u, reg(u, "beep")))
        u->beep_until_ms = u->now_ms + 200;
    if (touches(reg(u, "led_test"), table, addr, count) && get_raw(u, reg(u, "led_test")))
        u->led_until_ms = u->now_ms + 3000;
    const profile_reg_t *mode = reg(u, "mode");
    if (touches(mode, table, addr, count)) {
        event_arg_t a = {"detail", get_raw(u, mode)};
        log_event(u, "mode_changed", &a, 1);
        if (in_mode(u, "locked"))
            memset(u->unlock_until_ms, 0, sizeof(u->unlock_until_ms));
        update_passage_state(u);
    }
    const profile_reg_t *rtc = reg(u, "rtc_time");
    if (touches(rtc, table, addr, count)) {
        u->rtc_base = (uint32_t)get_raw(u, rtc);
        u->rtc_set_ms = u->now_ms;
    }
    const profile_event_log_t *el = &u->p->event_log;
    if (el->present && touches(el->select, table, addr, count))
        refresh_window(u);
    if (table == REGBANK_HOLDING && count > 0) {
        const char *cfg_regs[] = {"wiegand_format", "led_mode", "beeper_volume"};
        for (size_t i = 0; i < sizeof(cfg_regs) / sizeof(cfg_regs[0]); i++) {
            if (touches(reg(u, cfg_regs[i]), table, addr, count)) {
                log_event(u, "config_changed", NULL, 0);
                break;
            }
        }
    }
    const profile_action_t *rb = profile_action(u->p, "reboot");
    if (rb != NULL && touches(rb->reg, table, addr, count) && get_raw(u, rb->reg) == rb->value)
        boot(u);
}

static void before_read(void *arg, regbank_table_id_t table, uint16_t addr, uint16_t count)
{
    (void)table;
    (void)addr;
    (void)count;
    refresh_live(arg);
}

/* ---- life cycle ------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int say(char *msg, size_t len, const char *fmt, ...)
{
    if (msg != NULL && len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, len, fmt, ap);
        va_end(ap);
    }
    return 0;
}

int simunit_new(const profile_t *p, const simunit_config_t *cfg, uint64_t now_ms, simunit_t **out,
                char *err, size_t errlen)
{
    *out = NULL;
    simunit_t *u = calloc(1, sizeof(*u));
    if (u == NULL)
        goto nomem;
    u->p = p;
    u->unit_id = cfg->unit_id;
    u->is_rtu = cfg->is_rtu;
    u->now_ms = now_ms;
    u->card_every_ms = cfg->card_every_ms;
    u->next_card_ms = now_ms + cfg->card_every_ms;
    u->rng = 0x9E3779B9u ^ ((uint32_t)cfg->unit_id * 2654435761u);
    snprintf(u->name, sizeof(u->name), "%s", cfg->name);
    snprintf(u->firmware, sizeof(u->firmware), "%s",
             cfg->firmware != NULL ? cfg->firmware : p->ident.major_minor_revision);
    const profile_reg_t *sr = p->ident.serial_reg;
    if (cfg->serial != NULL) {
        size_t max = sr != NULL && sr->type == PROFILE_T_STRING ? sr->length : 10;
        if (strlen(cfg->serial) > max) {
            snprintf(err, errlen,
                     "%s.serial: \"%s\" is longer than the %zu characters of %s's "
                     "serial number register",
                     cfg->where, cfg->serial, max, p->model);
            simunit_free(u);
            return ACS_EINVAL;
        }
        snprintf(u->serial, sizeof(u->serial), "%s", cfg->serial);
    } else if (sr != NULL && sr->type == PROFILE_T_STRING && sr->default_text[0] != '\0') {
        /* The profile's default serial with the unit id in its last digits. */
        snprintf(u->serial, sizeof(u->serial), "%s", sr->default_text);
        size_t n = strlen(u->serial);
        if (n >= 3)
            snprintf(u->serial + n - 3, sizeof(u->serial) - (n - 3), "%03u", cfg->unit_id);
    } else {
        snprintf(u->serial, sizeof(u->serial), "%u", 100000u + cfg->unit_id);
    }

    regbank_init(&u->bank);
    for (size_t i = 0; i < p->nregs; i++) {
        const profile_reg_t *r = &p->regs[i];
        if (regbank_define(&u->bank, (regbank_table_id_t)r->table, r->address, r->words,
                           r->access == PROFILE_ACCESS_RW) != 0)
            goto nomem;
    }
    const profile_event_log_t *el = &p->event_log;
    if (el->present) {
        if (regbank_define(&u->bank, REGBANK_INPUT, el->window_address, el->record_words, 0) != 0)
            goto nomem;
        u->ring = calloc((size_t)el->capacity * el->record_words, sizeof(uint16_t));
        if (u->ring == NULL)
            goto nomem;
    }
    snprintf(u->server_text, sizeof(u->server_text), "%s %s %s %s", p->ident.vendor_name, p->model,
             u->serial, u->firmware);
    u->pdu.bank = &u->bank;
    u->pdu.ident[0] = p->ident.vendor_name;
    u->pdu.ident[1] = p->ident.product_code;
    u->pdu.ident[2] = u->firmware;
    u->pdu.ident[4] = p->title;
    u->pdu.ident[5] = p->model;
    u->pdu.server_id = cfg->unit_id;
    u->pdu.server_text = u->server_text;
    u->pdu.running = 1;
    u->pdu.hooks.check_write = check_write;
    u->pdu.hooks.after_write = after_write;
    u->pdu.hooks.before_read = before_read;
    u->pdu.hooks.arg = u;
    snprintf(u->factory_fw, sizeof(u->factory_fw), "%s", u->firmware);
    simboot_config_t bc = {
        .where = cfg->where,
        .model = p->model,
        .hw_rev = cfg->hw_rev != 0 ? cfg->hw_rev : 1,
        .key = cfg->fw_key,
        .factory = u->factory_fw,
        .flash_path = cfg->flash_path,
    };
    int brc = simboot_new(&bc, &u->boot, err, errlen);
    if (brc != 0) {
        simunit_free(u);
        return brc;
    }
    boot(u);
    *out = u;
    return 0;

nomem:
    simunit_free(u);
    snprintf(err, errlen, "%s: out of memory", cfg->where);
    return ACS_ENOMEM;
}

void simunit_free(simunit_t *u)
{
    if (u == NULL)
        return;
    regbank_close(&u->bank);
    simboot_free(u->boot);
    free(u->ring);
    free(u);
}

const char *simunit_name(const simunit_t *u)
{
    return u->name;
}

uint8_t simunit_id(const simunit_t *u)
{
    return u->unit_id;
}

const profile_t *simunit_profile(const simunit_t *u)
{
    return u->p;
}

const simunit_faults_t *simunit_faults(const simunit_t *u)
{
    return &u->faults;
}

/* ---- time ------------------------------------------------------------------------------- */

static uint32_t next_random(simunit_t *u)
{
    uint32_t x = u->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    u->rng = x;
    return x;
}

static void raise_fault_bit(simunit_t *u, const char *bit_name)
{
    const profile_reg_t *fb = reg(u, "fault_bitmap");
    const profile_bit_t *b = fb != NULL ? profile_bit(fb, bit_name) : NULL;
    if (b == NULL || (get_raw(u, fb) >> b->bit) & 1)
        return;
    put_raw(u, fb, get_raw(u, fb) | (1 << b->bit));
    event_arg_t a = {"detail", b->bit};
    log_event(u, "fault_raised", &a, 1);
}

static void clear_fault_bit(simunit_t *u, const char *bit_name)
{
    const profile_reg_t *fb = reg(u, "fault_bitmap");
    const profile_bit_t *b = fb != NULL ? profile_bit(fb, bit_name) : NULL;
    if (b == NULL || !((get_raw(u, fb) >> b->bit) & 1))
        return;
    put_raw(u, fb, get_raw(u, fb) & ~(1 << b->bit));
    event_arg_t a = {"detail", b->bit};
    log_event(u, "fault_cleared", &a, 1);
}

void simunit_tick(simunit_t *u, uint64_t now_ms)
{
    u->now_ms = now_ms;
    if (u->faults.power_off)
        return;
    for (int d = 0; d < 2; d++) {
        if (u->unlock_until_ms[d] != 0 && now_ms >= u->unlock_until_ms[d]) {
            u->unlock_until_ms[d] = 0;
            put_named(u, d == 0 ? "unlock_entry" : "unlock_exit", 0);
            log_event(u, "unlock_timeout", NULL, 0);
            update_passage_state(u);
        }
        char name[32];
        snprintf(name, sizeof(name), "%s_sensor", dir_name[d]);
        const profile_reg_t *s = reg(u, name);
        if (s != NULL && get_raw(u, s)) {
            if (u->sensor_since_ms[d] == 0)
                u->sensor_since_ms[d] = now_ms;
            else if (now_ms - u->sensor_since_ms[d] >= SENSOR_STUCK_MS) {
                snprintf(name, sizeof(name), "%s_sensor_stuck", dir_name[d]);
                raise_fault_bit(u, name);
            }
        } else {
            u->sensor_since_ms[d] = 0;
        }
    }
    if (u->beep_until_ms != 0 && now_ms >= u->beep_until_ms) {
        u->beep_until_ms = 0;
        put_named(u, "beep", 0);
    }
    if (u->led_until_ms != 0 && now_ms >= u->led_until_ms) {
        u->led_until_ms = 0;
        put_named(u, "led_test", 0);
    }
    if (u->card_present_until_ms != 0 && now_ms >= u->card_present_until_ms) {
        u->card_present_until_ms = 0;
        put_named(u, "card_present", 0);
    }
    const profile_reg_t *sv = reg(u, "supply_voltage");
    if (sv != NULL && get_number(u, sv) < BROWNOUT_V)
        raise_fault_bit(u, "supply_brownout");
    if (u->card_every_ms > 0 && now_ms >= u->next_card_ms) {
        u->next_card_ms = now_ms + u->card_every_ms;
        if (reg(u, "last_card_uid") != NULL)
            simunit_card(u, next_random(u) & 0xFFFFFF, NULL, 0);
    }
    refresh_live(u);
}

/* ---- requests --------------------------------------------------------------------------- */

static size_t request(simunit_t *u, const uint8_t *pdu, size_t len, int broadcast, uint8_t *resp);

size_t simunit_request(simunit_t *u, const uint8_t *pdu, size_t len, int broadcast, uint8_t *resp)
{
    if (u->faults.power_off || u->faults.no_answer)
        return 0;
    /* lose-reply: the request is carried out, its answer is lost on the line. */
    int lose = !broadcast && u->lose_reply_in != 0 && --u->lose_reply_in == 0;
    size_t n = request(u, pdu, len, broadcast, resp);
    return lose ? 0 : n;
}

static size_t request(simunit_t *u, const uint8_t *pdu, size_t len, int broadcast, uint8_t *resp)
{
    if (u->faults.exception != 0 && !broadcast)
        return simpdu_exception(pdu[0], u->faults.exception, resp);
    if (u->boot != NULL && !broadcast && simboot_claims(pdu, len)) {
        size_t bn = simboot_request(u->boot, pdu, len, resp);
        if (!simboot_powered(u->boot)) {
            /* Power was cut during a flash write: no answer, off until power on. */
            u->faults.power_off = 1;
            u->pdu.running = 0;
            return 0;
        }
        if (simboot_take_reset(u->boot))
            boot(u); /* the answer was built before the restart, as a device sends it */
        return u->faults.power_off ? 0 : bn;
    }
    size_t n = simpdu_handle(&u->pdu, pdu, len, resp);
    return broadcast ? 0 : n;
}

/* ---- faults ----------------------------------------------------------------------------- */

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (s == NULL || *s == '\0')
        return ACS_EINVAL;
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (*end != '\0' || v > max || *s == '-')
        return ACS_EINVAL;
    *out = v;
    return 0;
}

static int fault_is(const char *name, const char *want)
{
    for (; *name && *want; name++, want++) {
        char a = *name == '_' ? '-' : *name;
        if (a != *want)
            return 0;
    }
    return *name == *want;
}

static int set_tamper(simunit_t *u, int on, char *msg, size_t msglen)
{
    const profile_reg_t *t = reg(u, "tamper");
    if (t == NULL) {
        say(msg, msglen, "%s has no tamper input", u->p->model);
        return ACS_EINVAL;
    }
    if (u->tamper != on) {
        u->tamper = on;
        put_raw(u, t, on);
        log_event(u, on ? "tamper_open" : "tamper_closed", NULL, 0);
    }
    return say(msg, msglen, "tamper %s", on ? "open" : "closed");
}

static int set_low_supply(simunit_t *u, int on, const char *arg, char *msg, size_t msglen)
{
    const profile_reg_t *sv = reg(u, "supply_voltage");
    if (sv == NULL) {
        say(msg, msglen, "%s has no supply_voltage register", u->p->model);
        return ACS_EINVAL;
    }
    if (!on) {
        u->low_supply = 0;
        put_raw(u, sv, sv->default_raw);
        clear_fault_bit(u, "supply_brownout");
        return say(msg, msglen, "supply back to %g V", get_number(u, sv));
    }
    double v = 9.6;
    if (arg != NULL) {
        char *end;
        v = strtod(arg, &end);
        if (*end != '\0' || !(v >= 0 && v < 100)) {
            say(msg, msglen, "low-supply takes a voltage such as 9.6, not \"%s\"", arg);
            return ACS_EINVAL;
        }
    }
    uint16_t w[2];
    char why[160];
    if (decode_encode_number(sv, v, w, 2, why, sizeof(why)) != 0) {
        say(msg, msglen, "%s", why);
        return ACS_EINVAL;
    }
    u->low_supply = 1;
    memcpy(words_of(u, sv), w, sv->words * sizeof(uint16_t));
    return say(msg, msglen, "supply_voltage now %g V", get_number(u, sv));
}

static int set_stuck(simunit_t *u, int on, const char *arg, char *msg, size_t msglen)
{
    char regname[PROFILE_NAME_MAX + 1] = "";
    const char *value = NULL;
    if (arg != NULL) {
        const char *sp = strchr(arg, ' ');
        size_t n = sp != NULL ? (size_t)(sp - arg) : strlen(arg);
        if (n >= sizeof(regname))
            n = sizeof(regname) - 1;
        memcpy(regname, arg, n);
        regname[n] = '\0';
        if (sp != NULL) {
            while (*sp == ' ')
                sp++;
            value = *sp ? sp : NULL;
        }
    }
    if (!on) {
        if (regname[0] == '\0') {
            u->nstuck = 0;
            return say(msg, msglen, "no sensor stuck");
        }
        for (size_t i = 0; i < u->nstuck; i++) {
            if (strcmp(u->stuck[i].reg->name, regname) == 0) {
                u->stuck[i] = u->stuck[--u->nstuck];
                return say(msg, msglen, "%s follows the simulation again", regname);
            }
        }
        return say(msg, msglen, "%s was not stuck", regname);
    }
    const profile_reg_t *r = reg(u, regname);
    if (r == NULL || (r->table != PROFILE_DISCRETE_INPUT && r->table != PROFILE_INPUT_REGISTER) ||
        r->type == PROFILE_T_STRING) {
        say(msg, msglen,
            "stuck-sensor takes a discrete input or numeric input register of %s "
            "and an optional value (e.g. stuck-sensor entry_sensor 1), not \"%s\"",
            u->p->model, arg != NULL ? arg : "");
        return ACS_EINVAL;
    }
    uint16_t w[2] = {0, 0};
    char why[200];
    if (value == NULL) {
        if (r->type == PROFILE_T_BOOL)
            w[0] = 1; /* a passage sensor stuck "interrupted" */
        else
            memcpy(w, words_of(u, r), r->words * sizeof(uint16_t));
    } else if (decode_parse(r, value, w, 2, why, sizeof(why)) != 0) {
        say(msg, msglen, "%s", why);
        return ACS_EINVAL;
    }
    stuck_t *s = (stuck_t *)stuck_of(u, r);
    if (s == NULL) {
        if (u->nstuck == STUCK_MAX) {
            say(msg, msglen, "at most %d registers can be stuck at once", STUCK_MAX);
            return ACS_EINVAL;
        }
        s = &u->stuck[u->nstuck++];
    }
    s->reg = r;
    memcpy(s->words, w, sizeof(w));
    memcpy(words_of(u, r), w, r->words * sizeof(uint16_t));
    char text[DECODE_FORMAT_MAX];
    simunit_get(u, r->name, text, sizeof(text));
    return say(msg, msglen, "%s stuck at %s", r->name, text);
}

static int corrupt_event(simunit_t *u, const char *arg, char *msg, size_t msglen)
{
    const profile_event_log_t *el = &u->p->event_log;
    if (!el->present) {
        say(msg, msglen, "%s has no event log", u->p->model);
        return ACS_EINVAL;
    }
    unsigned long slot;
    if (arg != NULL) {
        if (parse_uint(arg, el->capacity - 1u, &slot) != 0) {
            say(msg, msglen, "corrupt-event takes a slot 0..%u", el->capacity - 1u);
            return ACS_EINVAL;
        }
    } else {
        if (u->count == 0) {
            say(msg, msglen, "the event log is empty");
            return ACS_EINVAL;
        }
        slot = (u->head + el->capacity - 1u) % el->capacity; /* the newest record */
    }
    /* Flip bits of the code word, as a failing log memory would; the checksum no longer
     * matches. */
    uint16_t *rec = u->ring + slot * el->record_words;
    rec[el->code->address] ^= 0x5A5A;
    refresh_window(u);
    return say(msg, msglen, "event log slot %lu corrupted", slot);
}

int simunit_fault(simunit_t *u, const char *name, const char *arg, int on, char *msg, size_t msglen)
{
    simunit_faults_t *f = &u->faults;
    unsigned long v = 0;
    if (fault_is(name, "no-answer")) {
        f->no_answer = on;
        return say(msg, msglen, "no-answer %s", on ? "on" : "off");
    }
    if (fault_is(name, "late")) {
        if (on && parse_uint(arg, 600000, &v) != 0) {
            say(msg, msglen, "late takes a delay in ms, 0..600000");
            return ACS_EINVAL;
        }
        f->late_ms = on ? (uint32_t)v : 0;
        return say(msg, msglen, "answers %u ms late", f->late_ms);
    }
    if (fault_is(name, "bad-crc")) {
        if (!u->is_rtu) {
            say(msg, msglen, "bad-crc applies to RTU units; Modbus TCP has no CRC");
            return ACS_EINVAL;
        }
        f->bad_crc = on;
        return say(msg, msglen, "bad-crc %s", on ? "on" : "off");
    }
    if (fault_is(name, "wrong-unit")) {
        v = u->unit_id % 247u + 1u;
        if (on && arg != NULL && (parse_uint(arg, 255, &v) != 0 || v == u->unit_id)) {
            say(msg, msglen, "wrong-unit takes a unit id 0..255 other than %u", u->unit_id);
            return ACS_EINVAL;
        }
        f->wrong_unit = on;
        f->wrong_unit_id = (uint8_t)v;
        return on ? say(msg, msglen, "answers as unit %lu", v) : say(msg, msglen, "own unit id");
    }
    if (fault_is(name, "exception")) {
        if (on && (parse_uint(arg, 255, &v) != 0 || v == 0)) {
            say(msg, msglen,
                "exception takes a code 1..255 (1 illegal function, 2 illegal "
                "data address, 3 illegal data value, 4 device failure, 6 busy)");
            return ACS_EINVAL;
        }
        f->exception = on ? (uint8_t)v : 0;
        return say(msg, msglen, "exception %lu", on ? v : 0);
    }
    if (fault_is(name, "power-loss") || fault_is(name, "power-off")) {
        simunit_power(u, !on);
        return say(msg, msglen, "power %s", on ? "off" : "on");
    }
    if (fault_is(name, "lose-reply")) {
        v = 1;
        if (on && arg != NULL && (parse_uint(arg, 1000000, &v) != 0 || v == 0)) {
            say(msg, msglen,
                "lose-reply takes which request from now loses its answer: 1..1000000");
            return ACS_EINVAL;
        }
        u->lose_reply_in = on ? (uint32_t)v : 0;
        return on ? say(msg, msglen, "the answer to request %lu from now will be lost", v)
                  : say(msg, msglen, "no answer will be lost");
    }
    if (fault_is(name, "flash-cut")) {
        if (on && arg == NULL) {
            say(msg, msglen,
                "flash-cut takes the flash write to cut power at, counted from now "
                "(flash-cut 1: the next one)");
            return ACS_EINVAL;
        }
        return simboot_cut_at(u->boot, on ? arg : NULL, msg, msglen);
    }
    if (fault_is(name, "tamper"))
        return set_tamper(u, on, msg, msglen);
    if (fault_is(name, "low-supply"))
        return set_low_supply(u, on, arg, msg, msglen);
    if (fault_is(name, "stuck-sensor"))
        return set_stuck(u, on, arg, msg, msglen);
    if (fault_is(name, "corrupt-event")) {
        if (!on)
            return say(msg, msglen, "a corrupt record stays until it is overwritten");
        return corrupt_event(u, arg, msg, msglen);
    }
    say(msg, msglen,
        "unknown fault \"%s\" (no-answer, late, bad-crc, wrong-unit, exception, stuck-sensor, "
        "low-supply, tamper, corrupt-event, power-loss, flash-cut, lose-reply)",
        name);
    return ACS_EINVAL;
}

void simunit_clear_faults(simunit_t *u)
{
    set_tamper(u, 0, NULL, 0);
    if (u->low_supply)
        set_low_supply(u, 0, NULL, NULL, 0);
    u->nstuck = 0;
    simboot_cut_at(u->boot, NULL, NULL, 0);
    u->lose_reply_in = 0;
    int was_off = u->faults.power_off;
    memset(&u->faults, 0, sizeof(u->faults));
    if (was_off) {
        u->faults.power_off = 1;
        simunit_power(u, 1);
    }
}

void simunit_power(simunit_t *u, int on)
{
    if (on && u->faults.power_off) {
        u->faults.power_off = 0;
        boot(u);
    } else if (!on) {
        u->faults.power_off = 1;
        simboot_power_off(u->boot);
    }
    u->pdu.running = !u->faults.power_off;
}

/* ---- simulated inputs ------------------------------------------------------------------- */

int simunit_card(simunit_t *u, uint32_t card, char *msg, size_t msglen)
{
    const profile_reg_t *uid = reg(u, "last_card_uid");
    if (uid == NULL) {
        say(msg, msglen, "%s has no card reader", u->p->model);
        return ACS_EINVAL;
    }
    if (u->faults.power_off) {
        say(msg, msglen, "%s is powered off", u->name);
        return ACS_EINVAL;
    }
    /* The panel's decision: cards ending in 0-6 of 10 are known, the rest are not; a simple
     * rule that a test can predict. */
    static const char *const decisions[] = {"granted", "denied_unknown"};
    const char *decision = card % 10u < 7u ? decisions[0] : decisions[1];
    const profile_reg_t *fmt = reg(u, "wiegand_format");
    int64_t bits = 26;
    if (fmt != NULL) {
        const profile_enum_t *e = profile_enum_by_value(fmt, get_raw(u, fmt));
        if (e != NULL && sscanf(e->name, "wiegand%" SCNd64, &bits) != 1)
            bits = 26;
    }
    put_raw(u, uid, card);
    put_named(u, "last_card_bits", bits);
    const profile_reg_t *rc = reg(u, "read_count");
    put_raw(u, rc, get_raw(u, rc) + 1);
    put_named(u, "card_present", 1);
    u->card_present_until_ms = u->now_ms + 500;
    int64_t dv = 0;
    const profile_reg_t *df = profile_event_field(u->p, "decision");
    if (df != NULL) {
        const profile_enum_t *e = profile_enum_by_name(df, decision);
        dv = e != NULL ? e->value : 0;
    }
    event_arg_t a[] = {{"card_uid", card}, {"decision", dv}, {"card_bits", bits}};
    log_event(u, "card_read", a, 3);
    return say(msg, msglen, "card %u read: %s", card, decision);
}

int simunit_passage(simunit_t *u, int direction, char *msg, size_t msglen)
{
    char counter[32];
    snprintf(counter, sizeof(counter), "%s_passages", dir_name[direction & 1]);
    const profile_reg_t *cnt = reg(u, counter);
    if (cnt == NULL) {
        say(msg, msglen, "%s has no passage counter", u->p->model);
        return ACS_EINVAL;
    }
    if (u->faults.power_off) {
        say(msg, msglen, "%s is powered off", u->name);
        return ACS_EINVAL;
    }
    int d = direction & 1;
    char released_name[32];
    snprintf(released_name, sizeof(released_name), "%s_unlocked", dir_name[d]);
    const profile_reg_t *rel = reg(u, released_name);
    int released = rel != NULL && get_raw(u, rel);
    if (!released) {
        log_event(u, "forced_passage", NULL, 0);
        return say(msg, msglen, "%s was not released: forced passage logged", dir_name[d]);
    }
    put_raw(u, cnt, get_raw(u, cnt) + 1);
    u->unlock_until_ms[d] = 0;
    put_named(u, d == 0 ? "unlock_entry" : "unlock_exit", 0);
    char ev[32];
    snprintf(ev, sizeof(ev), "passage_%s", dir_name[d]);
    log_event(u, ev, NULL, 0);
    update_passage_state(u);
    return say(msg, msglen, "%s passage %lld", dir_name[d], (long long)get_raw(u, cnt));
}

int simunit_set(simunit_t *u, const char *name, const char *text, char *msg, size_t msglen)
{
    const profile_reg_t *r = reg(u, name);
    if (r == NULL) {
        say(msg, msglen, "no register \"%s\" in profile %s", name, u->p->model);
        return ACS_EINVAL;
    }
    uint16_t w[PROFILE_STRING_MAX / 2 + 1];
    char why[200];
    if (decode_parse(r, text, w, sizeof(w) / sizeof(w[0]), why, sizeof(why)) != 0) {
        say(msg, msglen, "%s", why);
        return ACS_EINVAL;
    }
    if (stuck_of(u, r) != NULL) {
        say(msg, msglen, "%s is stuck (clear stuck-sensor first)", name);
        return ACS_EINVAL;
    }
    memcpy(words_of(u, r), w, r->words * sizeof(uint16_t));
    after_write(u, (regbank_table_id_t)r->table, r->address, r->words);
    if (strcmp(name, "fire_alarm") == 0)
        log_event(u, get_raw(u, r) ? "fire_alarm_on" : "fire_alarm_off", NULL, 0);
    update_passage_state(u);
    return simunit_get(u, name, msg, msglen);
}

int simunit_get(simunit_t *u, const char *name, char *msg, size_t msglen)
{
    const profile_reg_t *r = reg(u, name);
    if (r == NULL) {
        say(msg, msglen, "no register \"%s\" in profile %s", name, u->p->model);
        return ACS_EINVAL;
    }
    refresh_live(u);
    decode_value_t v;
    int rc = r->type == PROFILE_T_BOOL ? decode_bit(r, (uint8_t)words_of(u, r)[0], &v, NULL, 0)
                                       : decode_value(r, words_of(u, r), r->words, &v, NULL, 0);
    if (rc != 0) {
        say(msg, msglen, "%s cannot be decoded", name);
        return ACS_EINVAL;
    }
    char text[DECODE_FORMAT_MAX];
    decode_format(&v, text, sizeof(text));
    return say(msg, msglen, "%s", text);
}

void simunit_describe(const simunit_t *u, char *msg, size_t msglen)
{
    const simunit_faults_t *f = &u->faults;
    char faults[256] = "";
    size_t at = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        int n_ = snprintf(faults + at, sizeof(faults) - at, __VA_ARGS__);                          \
        if (n_ > 0 && (size_t)n_ < sizeof(faults) - at)                                            \
            at += (size_t)n_;                                                                      \
    } while (0)
    if (f->power_off)
        ADD(" power-loss");
    if (f->no_answer)
        ADD(" no-answer");
    if (f->late_ms)
        ADD(" late=%u", f->late_ms);
    if (f->bad_crc)
        ADD(" bad-crc");
    if (f->wrong_unit)
        ADD(" wrong-unit=%u", f->wrong_unit_id);
    if (f->exception)
        ADD(" exception=%u", f->exception);
    if (u->low_supply)
        ADD(" low-supply");
    if (u->tamper)
        ADD(" tamper");
    for (size_t i = 0; i < u->nstuck; i++)
        ADD(" stuck-sensor=%s", u->stuck[i].reg->name);
    if (u->lose_reply_in)
        ADD(" lose-reply=%u", u->lose_reply_in);
#undef ADD
    snprintf(msg, msglen, "%s unit=%u model=%s serial=%s firmware=%s faults=%s", u->name,
             u->unit_id, u->p->model, u->serial, u->firmware, at > 0 ? faults + 1 : "none");
}

void simunit_firmware(const simunit_t *u, char *msg, size_t msglen)
{
    char d[256];
    simboot_describe(u->boot, d, sizeof(d));
    snprintf(msg, msglen, "%s model=%s firmware=%s %s", u->name, u->p->model, u->firmware, d);
}
