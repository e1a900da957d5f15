/* SPDX-License-Identifier: MIT */
/*
 * test_job_fsm.c - unit tests of the job lifecycle (core/job_fsm.h).
 *
 * As in test_ticket_fsm.c, the header's table is written out again as a full status x action
 * matrix and every pair is checked, together with the masks, the PostgreSQL literals, the
 * "allowed actions" lists (in the order the header's example shows) and the outcome sources.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "acs_error.h"
#include "job_fsm.h"

#define NO (-1) /* the action is refused from this state */

/* expected[from][action]: the state reached, or NO.
 * Columns: assign, en_route, on_site, done, needs_revisit, cancel. */
static const int expected[JOB_STATUS_COUNT][JOB_ACTION_COUNT] = {
    [JOB_PLANNED] = {JOB_ASSIGNED, NO, NO, NO, NO, JOB_CANCELLED},
    [JOB_ASSIGNED] = {JOB_ASSIGNED, JOB_EN_ROUTE, JOB_ON_SITE, NO, NO, JOB_CANCELLED},
    [JOB_EN_ROUTE] = {JOB_ASSIGNED, NO, JOB_ON_SITE, NO, NO, JOB_CANCELLED},
    [JOB_ON_SITE] = {NO, NO, NO, JOB_DONE, JOB_NEEDS_REVISIT, NO},
    [JOB_DONE] = {NO, NO, NO, NO, NO, NO},
    [JOB_NEEDS_REVISIT] = {NO, NO, NO, NO, NO, NO},
    [JOB_CANCELLED] = {NO, NO, NO, NO, NO, NO},
};

static const char *const status_names[JOB_STATUS_COUNT] = {
    "planned", "assigned", "en_route", "on_site", "done", "needs_revisit", "cancelled",
};

static const char *const action_names[JOB_ACTION_COUNT] = {
    "assign", "en_route", "on_site", "done", "needs_revisit", "cancel",
};

static const char *const literals[JOB_ACTION_COUNT] = {
    "{planned,assigned,en_route}", "{assigned}", "{assigned,en_route}", "{on_site}", "{on_site}",
    "{planned,assigned,en_route}",
};

/* Forward steps first, then reassignment, then cancel, as in the header's example. */
static const struct {
    const char *text;
    int count;
} allowed[JOB_STATUS_COUNT] = {
    [JOB_PLANNED] = {"assign, cancel", 2},
    [JOB_ASSIGNED] = {"en_route, on_site, assign, cancel", 4},
    [JOB_EN_ROUTE] = {"on_site, assign, cancel", 3},
    [JOB_ON_SITE] = {"done, needs_revisit", 2},
    [JOB_DONE] = {"none", 0},
    [JOB_NEEDS_REVISIT] = {"none", 0},
    [JOB_CANCELLED] = {"none", 0},
};

static void test_every_transition(void **state)
{
    (void)state;
    int allowed_pairs = 0;
    for (int from = 0; from < JOB_STATUS_COUNT; from++) {
        for (int act = 0; act < JOB_ACTION_COUNT; act++) {
            job_status_t to = (job_status_t)99;
            int rc = job_transition((job_status_t)from, (job_action_t)act, &to);
            if (expected[from][act] == NO) {
                assert_int_equal(rc, ACS_ECONFLICT);
                assert_int_equal(to, 99);
            } else {
                assert_int_equal(rc, 0);
                assert_int_equal(to, expected[from][act]);
                allowed_pairs++;
            }
        }
    }
    assert_int_equal(allowed_pairs, 11);
}

static void test_sources_mask(void **state)
{
    (void)state;
    for (int act = 0; act < JOB_ACTION_COUNT; act++) {
        unsigned mask = 0;
        for (int from = 0; from < JOB_STATUS_COUNT; from++) {
            if (expected[from][act] != NO)
                mask |= 1u << from;
        }
        assert_int_equal(job_action_sources((job_action_t)act), mask);
    }
    assert_int_equal(job_action_sources(JOB_ACTION_COUNT), 0);
    assert_int_equal(job_action_sources((job_action_t)-1), 0);
}

static void test_out_of_range(void **state)
{
    (void)state;
    job_status_t to = JOB_PLANNED;
    assert_int_equal(job_transition(JOB_STATUS_COUNT, JOB_ACT_ASSIGN, &to), ACS_EINVAL);
    assert_int_equal(job_transition((job_status_t)-1, JOB_ACT_ASSIGN, &to), ACS_EINVAL);
    assert_int_equal(job_transition(JOB_PLANNED, JOB_ACTION_COUNT, &to), ACS_EINVAL);
    assert_int_equal(job_transition(JOB_PLANNED, (job_action_t)-1, &to), ACS_EINVAL);
    assert_int_equal(job_transition(JOB_PLANNED, JOB_ACT_ASSIGN, NULL), ACS_EINVAL);
    assert_int_equal(to, JOB_PLANNED);
    assert_null(job_status_name(JOB_STATUS_COUNT));
    assert_null(job_action_name(JOB_ACTION_COUNT));
    assert_null(job_status_name((job_status_t)-1));
    assert_null(job_action_name((job_action_t)-1));
}

static void test_names_and_parse(void **state)
{
    (void)state;
    for (int s = 0; s < JOB_STATUS_COUNT; s++) {
        assert_string_equal(job_status_name((job_status_t)s), status_names[s]);
        job_status_t out = (job_status_t)99;
        assert_int_equal(job_status_parse(status_names[s], &out), 0);
        assert_int_equal(out, s);
    }
    for (int a = 0; a < JOB_ACTION_COUNT; a++) {
        assert_string_equal(job_action_name((job_action_t)a), action_names[a]);
        job_action_t out = (job_action_t)99;
        assert_int_equal(job_action_parse(action_names[a], &out), 0);
        assert_int_equal(out, a);
    }
    static const char *const bad[] = {"", "Planned", "en-route", "canceled", "on_site "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        job_status_t s = JOB_DONE;
        job_action_t a = JOB_ACT_DONE;
        assert_int_equal(job_status_parse(bad[i], &s), ACS_EINVAL);
        assert_int_equal(job_action_parse(bad[i], &a), ACS_EINVAL);
        assert_int_equal(s, JOB_DONE);
        assert_int_equal(a, JOB_ACT_DONE);
    }
    /* "cancel" is the action, "cancelled" the state. */
    job_status_t s = JOB_DONE;
    job_action_t a = JOB_ACT_DONE;
    assert_int_equal(job_status_parse("cancel", &s), ACS_EINVAL);
    assert_int_equal(job_action_parse("cancelled", &a), ACS_EINVAL);
    assert_int_equal(job_status_parse(NULL, &s), ACS_EINVAL);
    assert_int_equal(job_action_parse(NULL, &a), ACS_EINVAL);
    assert_int_equal(job_status_parse("done", NULL), ACS_EINVAL);
    assert_int_equal(job_action_parse("done", NULL), ACS_EINVAL);
}

/* Check that fn(buf, len) writes `want` when buf is large enough (including exactly), and
 * refuses with "" for every shorter buffer without writing past len. */
static void check_sized(int (*fn)(int arg, char *buf, size_t len), int arg, const char *want,
                        int want_rc)
{
    char buf[128];
    size_t n = strlen(want);
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(fn(arg, buf, sizeof(buf)), want_rc);
    assert_string_equal(buf, want);
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(fn(arg, buf, n + 1), want_rc);
    assert_string_equal(buf, want);
    for (size_t len = 1; len <= n; len++) {
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(fn(arg, buf, len), ACS_EINVAL);
        assert_string_equal(buf, "");
        assert_int_equal(buf[len], 'x');
    }
}

static int literal_fn(int arg, char *buf, size_t len)
{
    return job_action_sources_literal((job_action_t)arg, buf, len);
}

static int allowed_fn(int arg, char *buf, size_t len)
{
    return job_allowed_actions((job_status_t)arg, buf, len);
}

static int outcome_fn(int arg, char *buf, size_t len)
{
    (void)arg;
    return job_outcome_sources_literal(buf, len);
}

static void test_sources_literal(void **state)
{
    (void)state;
    for (int act = 0; act < JOB_ACTION_COUNT; act++)
        check_sized(literal_fn, act, literals[act], (int)strlen(literals[act]));
    char buf[64];
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(job_action_sources_literal(JOB_ACTION_COUNT, buf, sizeof(buf)), ACS_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(job_action_sources_literal(JOB_ACT_ASSIGN, NULL, 0), ACS_EINVAL);
}

static void test_allowed_actions(void **state)
{
    (void)state;
    for (int from = 0; from < JOB_STATUS_COUNT; from++) {
        /* The count and the set of names also follow from the matrix. */
        int count = 0;
        for (int act = 0; act < JOB_ACTION_COUNT; act++) {
            if (expected[from][act] == NO)
                continue;
            count++;
            assert_non_null(strstr(allowed[from].text, action_names[act]));
        }
        assert_int_equal(count, allowed[from].count);
        check_sized(allowed_fn, from, allowed[from].text, count);
    }
    char buf[64];
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(job_allowed_actions(JOB_STATUS_COUNT, buf, sizeof(buf)), ACS_EINVAL);
    assert_string_equal(buf, "");
}

static void test_outcome_sources(void **state)
{
    (void)state;
    assert_int_equal(job_outcome_sources(),
                     (1u << JOB_ON_SITE) | (1u << JOB_DONE) | (1u << JOB_NEEDS_REVISIT));
    check_sized(outcome_fn, 0, "{on_site,done,needs_revisit}", 28);
    assert_int_equal(job_outcome_sources_literal(NULL, 0), ACS_EINVAL);
}

static void test_kinds(void **state)
{
    (void)state;
    assert_int_equal(job_kind_valid("visit"), 1);
    assert_int_equal(job_kind_valid("installation"), 1);
    assert_int_equal(job_kind_valid("commissioning"), 1);
    assert_int_equal(job_kind_valid("Visit"), 0);
    assert_int_equal(job_kind_valid("repair"), 0);
    assert_int_equal(job_kind_valid(""), 0);
    assert_int_equal(job_kind_valid(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_transition), cmocka_unit_test(test_sources_mask),
        cmocka_unit_test(test_out_of_range),     cmocka_unit_test(test_names_and_parse),
        cmocka_unit_test(test_sources_literal),  cmocka_unit_test(test_allowed_actions),
        cmocka_unit_test(test_outcome_sources),  cmocka_unit_test(test_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
