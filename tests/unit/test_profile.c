/* SPDX-License-Identifier: MIT */
/*
 * test_profile.c - unit tests of the device profile loader (drivers/profile.h): the shipped
 * TC-200 and RC-50 profiles load and say what docs/profiles.md says they say; every bad
 * fixture under tests/unit/fixtures/profiles/bad/ is refused with its exact sentence; folders,
 * the ACS_PROFILES override, lookups and the NULL cases.
 *
 * The text after "malformed JSON at line L, column C:" comes from jansson 2.14 (Debian 12).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "profile.h"

#define FIX ACS_FIXTURES_DIR

static profile_set_t *shipped(void)
{
    char err[512] = "";
    profile_set_t *set = NULL;
    int rc = profile_set_load_dir(ACS_PROFILE_DIR, &set, err, sizeof(err));
    if (rc != 0)
        fail_msg("shipped profiles refused: %s", err);
    return set;
}

static void test_shipped_set(void **state)
{
    (void)state;
    profile_set_t *set = shipped();
    assert_int_equal(profile_set_count(set), 2);
    /* Name order: rc50.json, tc200.json. */
    assert_string_equal(profile_set_at(set, 0)->model, "RC-50");
    assert_string_equal(profile_set_at(set, 1)->model, "TC-200");
    assert_null(profile_set_at(set, 2));
    assert_ptr_equal(profile_set_by_model_code(set, 200), profile_set_at(set, 1));
    assert_ptr_equal(profile_set_by_model_code(set, 50), profile_set_at(set, 0));
    assert_null(profile_set_by_model_code(set, 999));
    assert_ptr_equal(profile_set_by_product_code(set, "tc-200"), profile_set_at(set, 1));
    assert_ptr_equal(profile_set_by_product_code(set, "RC-50"), profile_set_at(set, 0));
    assert_null(profile_set_by_product_code(set, "TC-2000"));
    assert_null(profile_set_by_product_code(set, NULL));
    profile_set_free(set);
}

static void test_tc200(void **state)
{
    (void)state;
    profile_set_t *set = shipped();
    const profile_t *p = profile_set_by_product_code(set, "TC-200");
    assert_non_null(p);
    assert_string_equal(p->kind, "turnstile_controller");
    assert_string_equal(p->ident.vendor_name, "acsfield reference hardware");
    assert_string_equal(p->ident.major_minor_revision, "2.4.0");
    assert_int_equal(p->ident.model_code, 200);
    assert_string_equal(p->ident.model_code_reg->name, "model_code");
    assert_int_equal(p->ident.model_code_reg->default_raw, 200);
    assert_string_equal(p->ident.serial_reg->name, "serial_number");

    /* Tables are sorted by address; counts per table. */
    assert_int_equal(profile_table_count(p, PROFILE_COIL), 4);
    assert_int_equal(profile_table_count(p, PROFILE_DISCRETE_INPUT), 7);
    assert_int_equal(profile_table_count(p, PROFILE_INPUT_REGISTER), 17);
    assert_int_equal(profile_table_count(p, PROFILE_HOLDING_REGISTER), 6);
    assert_int_equal(p->nregs, 34);
    for (int t = 0; t < PROFILE_NTABLES; t++) {
        for (size_t i = 1; i < profile_table_count(p, (profile_table_t)t); i++) {
            const profile_reg_t *a = profile_table_at(p, (profile_table_t)t, i - 1);
            const profile_reg_t *b = profile_table_at(p, (profile_table_t)t, i);
            assert_true(a->address + a->words <= b->address);
            assert_int_equal(b->table, t);
            assert_ptr_equal(&p->regs[b->index], b);
        }
    }
    assert_null(profile_table_at(p, PROFILE_COIL, 4));
    assert_int_equal(profile_table_count(p, (profile_table_t)9), 0);

    const profile_reg_t *v = profile_reg(p, "supply_voltage");
    assert_non_null(v);
    assert_int_equal(v->table, PROFILE_INPUT_REGISTER);
    assert_int_equal(v->address, 16);
    assert_int_equal(v->type, PROFILE_T_U16);
    assert_true(v->scale == 0.01);
    assert_string_equal(v->unit, "V");
    assert_int_equal(v->access, PROFILE_ACCESS_R);
    assert_int_equal(v->default_raw, 1205);

    const profile_reg_t *sn = profile_reg(p, "serial_number");
    assert_int_equal(sn->words, 8);
    assert_int_equal(sn->length, 16);
    assert_string_equal(sn->default_text, "TC200-2404-00001");

    assert_ptr_equal(profile_reg_at_address(p, PROFILE_INPUT_REGISTER, 22),
                     profile_reg(p, "entry_passages"));
    assert_ptr_equal(profile_reg_at_address(p, PROFILE_INPUT_REGISTER, 12), sn);
    assert_null(profile_reg_at_address(p, PROFILE_INPUT_REGISTER, 13));
    assert_null(profile_reg(p, "no_such_register"));

    const profile_reg_t *mode = profile_reg(p, "mode");
    assert_int_equal(mode->nvalues, 3);
    assert_int_equal(profile_enum_by_name(mode, "locked")->value, 2);
    assert_string_equal(profile_enum_by_value(mode, 1)->name, "free_passage");
    assert_null(profile_enum_by_value(mode, 3));

    const profile_reg_t *fb = profile_reg(p, "fault_bitmap");
    assert_int_equal(fb->type, PROFILE_T_BITFIELD);
    assert_int_equal(profile_bit(fb, "motor_stall")->bit, 1);
    assert_null(profile_bit(fb, "nope"));

    const profile_fault_t *f = profile_fault(p, "TC_MOTOR_OVERCURRENT");
    assert_non_null(f);
    assert_int_equal(f->severity, PROFILE_SEV_CRITICAL);
    assert_ptr_equal(f->reg, fb);
    assert_string_equal(f->bit->name, "motor_overcurrent");
    const profile_fault_t *t = profile_fault(p, "TC_TAMPER");
    assert_null(t->bit);
    assert_int_equal(t->active_value, 1);

    assert_int_equal(p->nrules, 9);
    assert_string_equal(p->rules[0].code, "TC_SUPPLY_VOLTAGE");
    assert_true(p->rules[0].has_min && p->rules[0].min == 11.5);
    assert_true(p->rules[0].has_max && p->rules[0].max == 13.5);
    assert_int_equal(p->rules[7].kind, PROFILE_RULE_EQUALS);
    assert_int_equal(p->rules[7].equals, 1);

    const profile_event_log_t *el = &p->event_log;
    assert_true(el->present);
    assert_int_equal(el->capacity, 256);
    assert_int_equal(el->record_words, 8);
    assert_int_equal(el->window_address, 100);
    assert_string_equal(el->count->name, "event_count");
    assert_string_equal(el->head->name, "event_head");
    assert_string_equal(el->select->name, "event_select");
    assert_int_equal(el->seq->address, 0);
    assert_int_equal(el->timestamp->address, 2);
    assert_int_equal(el->code->address, 4);
    assert_ptr_equal(profile_event_field(p, "supply_voltage"), &el->fields[4]);
    assert_string_equal(profile_event(p, 5)->name, "forced_passage");
    assert_null(profile_event(p, 0));
    assert_string_equal(el->corrupt_code, "TC_EVENT_LOG_CORRUPT");

    const profile_action_t *a = profile_action(p, "free_passage");
    assert_int_equal(a->safety, PROFILE_SAFETY_DISRUPTIVE);
    assert_ptr_equal(a->reg, mode);
    assert_int_equal(a->value, 1);
    a = profile_action(p, "unlock_entry_once");
    assert_int_equal(a->safety, PROFILE_SAFETY_ACCESS);
    assert_int_equal(a->reg->table, PROFILE_COIL);
    assert_int_equal(a->value, 1);
    assert_int_equal(profile_action(p, "reboot")->value, 23205);
    assert_int_equal(profile_action(p, "beep")->safety, PROFILE_SAFETY_SAFE);
    assert_null(profile_action(p, "self_destruct"));
    profile_set_free(set);
}

static void test_rc50(void **state)
{
    (void)state;
    profile_set_t *set = shipped();
    const profile_t *p = profile_set_by_model_code(set, 50);
    assert_string_equal(p->kind, "reader_controller");
    const profile_reg_t *v = profile_reg(p, "supply_voltage");
    assert_int_equal(v->type, PROFILE_T_FLOAT32);
    assert_int_equal(v->word_order, PROFILE_LOW_FIRST);
    assert_int_equal(v->words, 2);
    assert_int_equal(profile_reg(p, "wiegand_format")->default_raw, 26);
    assert_int_equal(p->event_log.record_words, 10);
    const profile_reg_t *d = profile_event_field(p, "decision");
    assert_int_equal(d->address, 7);
    assert_string_equal(profile_enum_by_value(d, 1)->name, "granted");
    assert_int_equal(p->event_log.nfields, 6);
    profile_set_free(set);
}

/* Each bad fixture and the exact sentence it must get. */
static const struct {
    const char *file;
    const char *message;
} bad[] = {
    {"unknown_type.json", "registers[12].type: unknown type \"u17\" (u16, i16, u32, i32, float32, "
                          "string, bitfield, bool)"},
    {"overlap.json", "registers[2].address: \"status\" (input register 2) overlaps \"serial\" "
                     "(input registers 1-2, registers[1])"},
    {"unknown_key.json", "registers[1].scal: unknown key (name, table, address, type, word_order, "
                         "scale, unit, access, description, length, bits, values, min, max, "
                         "default)"},
    {"past_end.json",
     "registers[2].address: u32 at 65535 needs 2 registers and runs past address 65535"},
    {"scale_zero.json", "registers[2].scale: must be a positive number from 1e-9 to 1e9"},
    {"scale_string.json", "registers[2].scale: only numeric types have a scale, not string"},
    {"no_word_order.json", "registers[2].word_order: required for i32 (high_first, low_first)"},
    {"rw_input.json", "registers[2].access: input registers are read-only (\"r\")"},
    {"bool_register.json", "registers[2].type: bool is only for coils and discrete inputs"},
    {"duplicate_name.json", "registers[2].name: \"serial\" is already used by registers[1]"},
    {"duplicate_bit.json",
     "registers[2].bits[1].bit: bit 0 is already named by registers[2].bits[0]"},
    {"bad_fault_ref.json", "faults[0].register: no register is named \"nope\""},
    {"bad_severity.json", "faults[0].severity: unknown severity \"fatal\" (info, warning, "
                          "critical)"},
    {"rule_no_bounds.json", "rules[0]: a threshold rule needs \"min\", \"max\" or both"},
    {"action_readonly.json", "actions[0].register: \"model_code\" is not writable (access \"r\")"},
    {"default_range.json", "registers[2].default: 700 is outside 0 to 655.35 (u16, scale 0.01)"},
    {"bad_code.json", "rules[0].code: \"mini-rule\" is not a valid finding code ([A-Z][A-Z0-9_]*, "
                      "2 to 64 bytes)"},
    {"model_code_address.json", "identification.model_code_register: \"model_code\" must be the "
                                "plain u16 input register at address 0"},
    {"event_field_checksum.json", "event_log.fields[3].offset: \"extra\" ends at word 5, but word "
                                  "5 is the checksum (the last of 6 record_words)"},
    {"event_window_overlap.json", "event_log.window_address: the record window (input registers "
                                  "2-7) overlaps \"serial\""},
    {"malformed.json", "malformed JSON at line 4, column 9: '}' expected near '\"title\"'"},
};

static void test_bad_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[512], want[1024], err[1024];
        profile_t *p = (profile_t *)&path; /* must be reset to NULL */
        snprintf(path, sizeof(path), "%s/bad/%s", FIX, bad[i].file);
        snprintf(want, sizeof(want), "%s: %s", path, bad[i].message);
        int rc = profile_load(path, &p, err, sizeof(err));
        if (rc != ACS_EINVAL)
            fail_msg("%s: rc %d, %s", bad[i].file, rc, err);
        assert_null(p);
        assert_string_equal(err, want);
    }
}

static void test_good_fixtures(void **state)
{
    (void)state;
    char err[512];
    profile_t *p = NULL;
    assert_int_equal(profile_load(FIX "/good/mini.json", &p, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_string_equal(p->path, FIX "/good/mini.json");
    assert_string_equal(p->model, "MINI-1");
    assert_false(p->event_log.present);
    assert_int_equal(p->nfaults, 0);
    assert_int_equal(p->nrules, 0);
    assert_int_equal(p->nactions, 0);
    assert_int_equal(profile_table_count(p, PROFILE_COIL), 0);
    assert_null(p->table_regs[PROFILE_COIL]);
    profile_free(p);
    profile_free(NULL);

    profile_set_t *set = NULL;
    assert_int_equal(profile_set_load_dir(FIX "/good", &set, err, sizeof(err)), 0);
    assert_int_equal(profile_set_count(set), 2);
    profile_set_free(set);
    profile_set_free(NULL);
    assert_int_equal(profile_set_count(NULL), 0);
}

static void test_parse_inline(void **state)
{
    (void)state;
    char err[512];
    profile_t *p = NULL;
    const char *text = "[1, 2]";
    assert_int_equal(profile_parse(text, strlen(text), "inline", &p, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "inline: a profile must be a JSON object");
    text = "{\"format\": 2}";
    assert_int_equal(profile_parse(text, strlen(text), "inline", &p, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "inline: format: must be an integer from 1 to 1");
    text = "{\"format\": 1, \"format\": 1}";
    assert_int_equal(profile_parse(text, strlen(text), "inline", &p, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "inline: malformed JSON at line 1, column 22: duplicate object key "
                             "near '\"format\"'");
    text = "{\"format\": 1, \"kind\": \"door\"}";
    assert_int_equal(profile_parse(text, strlen(text), "inline", &p, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "inline: kind: unknown kind \"door\" (turnstile_controller, "
                             "reader_controller)");
    text = "{\"format\": 1, \"kind\": \"reader_controller\", \"title\": \"x\"}";
    assert_int_equal(profile_parse(text, strlen(text), "inline", &p, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "inline: registers: required key is missing");
    assert_null(p);
    /* A small buffer gets a cut sentence, never an overflow. */
    char small[12];
    assert_int_equal(profile_parse(text, strlen(text), "inline", &p, small, sizeof(small)),
                     ACS_EINVAL);
    assert_string_equal(small, "inline: reg");
    assert_int_equal(profile_parse(text, strlen(text), "inline", &p, NULL, 0), ACS_EINVAL);
    assert_int_equal(profile_parse(NULL, 0, "inline", &p, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(profile_parse(text, strlen(text), "inline", NULL, err, sizeof(err)),
                     ACS_EINVAL);
}

static void test_missing_and_dup(void **state)
{
    (void)state;
    char err[1024];
    profile_t *p = NULL;
    assert_int_equal(profile_load(FIX "/nope.json", &p, err, sizeof(err)), ACS_ENOTFOUND);
    assert_string_equal(err, FIX "/nope.json: cannot open: No such file or directory");
    assert_null(p);

    profile_set_t *set = (profile_set_t *)&p;
    assert_int_equal(profile_set_load_dir(FIX "/nope", &set, err, sizeof(err)), ACS_ENOTFOUND);
    assert_string_equal(err,
                        FIX "/nope: cannot open the profile folder: No such file or directory");
    assert_null(set);

    assert_int_equal(profile_set_load_dir(FIX "/dup", &set, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, FIX "/dup/b.json: identification.model_code: 7 is already used by " FIX
                                 "/dup/a.json");
    assert_null(set);

    /* A folder with a bad file is refused as that file is. */
    assert_int_equal(profile_set_load_dir(FIX "/bad", &set, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, FIX "/bad/action_readonly.json: actions[0].register: \"model_code\" "
                                 "is not writable (access \"r\")");
}

static void test_default_dir(void **state)
{
    (void)state;
    char err[512];
    profile_set_t *set = NULL;
    unsetenv(PROFILE_ENV);
    assert_string_equal(profile_default_dir(), ACS_PROFILE_DIR);
    assert_int_equal(profile_set_load_default(&set, err, sizeof(err)), 0);
    assert_int_equal(profile_set_count(set), 2);
    profile_set_free(set);

    setenv(PROFILE_ENV, "", 1);
    assert_string_equal(profile_default_dir(), ACS_PROFILE_DIR);

    setenv(PROFILE_ENV, FIX "/good", 1);
    assert_string_equal(profile_default_dir(), FIX "/good");
    assert_int_equal(profile_set_load_default(&set, err, sizeof(err)), 0);
    assert_non_null(profile_set_by_product_code(set, "MINI-1"));
    assert_non_null(profile_set_by_product_code(set, "TYPES-1"));
    profile_set_free(set);
    unsetenv(PROFILE_ENV);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(profile_table_name(PROFILE_HOLDING_REGISTER), "holding");
    assert_string_equal(profile_table_name((profile_table_t)7), "?");
    assert_string_equal(profile_type_name(PROFILE_T_FLOAT32), "float32");
    assert_string_equal(profile_type_name(PROFILE_T_BOOL), "bool");
    assert_string_equal(profile_word_order_name(PROFILE_LOW_FIRST), "low_first");
    assert_string_equal(profile_access_name(PROFILE_ACCESS_RW), "rw");
    assert_string_equal(profile_severity_name(PROFILE_SEV_CRITICAL), "critical");
    assert_string_equal(profile_safety_name(PROFILE_SAFETY_ACCESS), "access");
    assert_string_equal(profile_rule_kind_name(PROFILE_RULE_DECREASE), "decrease");
    assert_null(profile_reg(NULL, "x"));
    assert_null(profile_bit(NULL, "x"));
    assert_null(profile_action(NULL, "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_set),
        cmocka_unit_test(test_tc200),
        cmocka_unit_test(test_rc50),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_good_fixtures),
        cmocka_unit_test(test_parse_inline),
        cmocka_unit_test(test_missing_and_dup),
        cmocka_unit_test(test_default_dir),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
