/* SPDX-License-Identifier: MIT */
/*
 * test_ticket_fsm.c - unit tests of the ticket lifecycle (core/ticket_fsm.h).
 *
 * The expected transitions are written out again here, from the table in the header, as a
 * full status x action matrix; every pair is checked against ticket_transition and against
 * the masks, literals and "allowed actions" lists derived from the module's own table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "acs_error.h"
#include "ticket_fsm.h"

#define NO (-1) /* the action is refused from this state */

/* expected[from][action]: the state reached, or NO. */
static const int expected[TICKET_STATUS_COUNT][TICKET_ACTION_COUNT] = {
    /*                       acknowledge          start               wait
                             resume               resolve             close   reopen */
    [TICKET_NEW] = {TICKET_ACKNOWLEDGED, TICKET_IN_PROGRESS, NO, NO, NO, NO, NO},
    [TICKET_ACKNOWLEDGED] = {NO, TICKET_IN_PROGRESS, NO, NO, TICKET_RESOLVED, NO, NO},
    [TICKET_IN_PROGRESS] = {NO, NO, TICKET_WAITING_CLIENT, NO, TICKET_RESOLVED, NO, NO},
    [TICKET_WAITING_CLIENT] = {NO, NO, NO, TICKET_IN_PROGRESS, TICKET_RESOLVED, NO, NO},
    [TICKET_RESOLVED] = {NO, NO, NO, NO, NO, TICKET_CLOSED, TICKET_IN_PROGRESS},
    [TICKET_CLOSED] = {NO, NO, NO, NO, NO, NO, TICKET_IN_PROGRESS},
};

static const char *const status_names[TICKET_STATUS_COUNT] = {
    "new", "acknowledged", "in_progress", "waiting_client", "resolved", "closed",
};

static const char *const action_names[TICKET_ACTION_COUNT] = {
    "acknowledge", "start", "wait", "resume", "resolve", "close", "reopen",
};

static const char *const literals[TICKET_ACTION_COUNT] = {
    "{new}",
    "{new,acknowledged}",
    "{in_progress}",
    "{waiting_client}",
    "{acknowledged,in_progress,waiting_client}",
    "{resolved}",
    "{resolved,closed}",
};

static const struct {
    const char *text;
    int count;
} allowed[TICKET_STATUS_COUNT] = {
    {"acknowledge, start", 2}, {"start, resolve", 2}, {"wait, resolve", 2},
    {"resume, resolve", 2},    {"close, reopen", 2},  {"reopen", 1},
};

static void test_every_transition(void **state)
{
    (void)state;
    int allowed_pairs = 0;
    for (int from = 0; from < TICKET_STATUS_COUNT; from++) {
        for (int act = 0; act < TICKET_ACTION_COUNT; act++) {
            ticket_status_t to = (ticket_status_t)99;
            int rc = ticket_transition((ticket_status_t)from, (ticket_action_t)act, &to);
            if (expected[from][act] == NO) {
                assert_int_equal(rc, ACS_ECONFLICT);
                assert_int_equal(to, 99); /* unchanged */
            } else {
                assert_int_equal(rc, 0);
                assert_int_equal(to, expected[from][act]);
                allowed_pairs++;
            }
        }
    }
    assert_int_equal(allowed_pairs, 11); /* the header's table has 11 arrows */
}

static void test_sources_mask(void **state)
{
    (void)state;
    for (int act = 0; act < TICKET_ACTION_COUNT; act++) {
        unsigned mask = 0;
        for (int from = 0; from < TICKET_STATUS_COUNT; from++) {
            if (expected[from][act] != NO)
                mask |= 1u << from;
        }
        assert_int_equal(ticket_action_sources((ticket_action_t)act), mask);
    }
    assert_int_equal(ticket_action_sources(TICKET_ACTION_COUNT), 0);
    assert_int_equal(ticket_action_sources((ticket_action_t)-1), 0);
}

static void test_out_of_range(void **state)
{
    (void)state;
    ticket_status_t to = TICKET_NEW;
    assert_int_equal(ticket_transition(TICKET_STATUS_COUNT, TICKET_ACT_START, &to), ACS_EINVAL);
    assert_int_equal(ticket_transition((ticket_status_t)-1, TICKET_ACT_START, &to), ACS_EINVAL);
    assert_int_equal(ticket_transition(TICKET_NEW, TICKET_ACTION_COUNT, &to), ACS_EINVAL);
    assert_int_equal(ticket_transition(TICKET_NEW, (ticket_action_t)-1, &to), ACS_EINVAL);
    assert_int_equal(ticket_transition(TICKET_NEW, TICKET_ACT_START, NULL), ACS_EINVAL);
    assert_int_equal(to, TICKET_NEW);
    assert_null(ticket_status_name(TICKET_STATUS_COUNT));
    assert_null(ticket_status_name((ticket_status_t)-1));
    assert_null(ticket_action_name(TICKET_ACTION_COUNT));
    assert_null(ticket_action_name((ticket_action_t)-1));
}

static void test_names_and_parse(void **state)
{
    (void)state;
    for (int s = 0; s < TICKET_STATUS_COUNT; s++) {
        assert_string_equal(ticket_status_name((ticket_status_t)s), status_names[s]);
        ticket_status_t out = (ticket_status_t)99;
        assert_int_equal(ticket_status_parse(status_names[s], &out), 0);
        assert_int_equal(out, s);
    }
    for (int a = 0; a < TICKET_ACTION_COUNT; a++) {
        assert_string_equal(ticket_action_name((ticket_action_t)a), action_names[a]);
        ticket_action_t out = (ticket_action_t)99;
        assert_int_equal(ticket_action_parse(action_names[a], &out), 0);
        assert_int_equal(out, a);
    }

    static const char *const bad[] = {"", "New", "new ", "waiting", "in-progress", "resolved\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ticket_status_t s = TICKET_CLOSED;
        ticket_action_t a = TICKET_ACT_REOPEN;
        assert_int_equal(ticket_status_parse(bad[i], &s), ACS_EINVAL);
        assert_int_equal(ticket_action_parse(bad[i], &a), ACS_EINVAL);
        assert_int_equal(s, TICKET_CLOSED);
        assert_int_equal(a, TICKET_ACT_REOPEN);
    }
    /* A status is not an action and the other way round. */
    ticket_action_t a = TICKET_ACT_REOPEN;
    assert_int_equal(ticket_action_parse("resolved", &a), ACS_EINVAL);
    ticket_status_t s = TICKET_CLOSED;
    assert_int_equal(ticket_status_parse("resolve", &s), ACS_EINVAL);
    assert_int_equal(ticket_status_parse(NULL, &s), ACS_EINVAL);
    assert_int_equal(ticket_action_parse(NULL, &a), ACS_EINVAL);
    assert_int_equal(ticket_status_parse("new", NULL), ACS_EINVAL);
    assert_int_equal(ticket_action_parse("start", NULL), ACS_EINVAL);
}

static void test_sources_literal(void **state)
{
    (void)state;
    char buf[128];
    for (int act = 0; act < TICKET_ACTION_COUNT; act++) {
        size_t n = strlen(literals[act]);
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(ticket_action_sources_literal((ticket_action_t)act, buf, sizeof(buf)),
                         (int)n);
        assert_string_equal(buf, literals[act]);

        /* Exactly large enough, then one byte short: refused and left empty. */
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(ticket_action_sources_literal((ticket_action_t)act, buf, n + 1), (int)n);
        assert_string_equal(buf, literals[act]);
        for (size_t len = 1; len <= n; len++) {
            memset(buf, 'x', sizeof(buf));
            assert_int_equal(ticket_action_sources_literal((ticket_action_t)act, buf, len),
                             ACS_EINVAL);
            assert_string_equal(buf, "");
            assert_int_equal(buf[len], 'x'); /* nothing written past len */
        }
    }
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(ticket_action_sources_literal(TICKET_ACTION_COUNT, buf, sizeof(buf)),
                     ACS_EINVAL);
    assert_string_equal(buf, "");
    buf[0] = 'x';
    assert_int_equal(ticket_action_sources_literal(TICKET_ACT_START, buf, 0), ACS_EINVAL);
    assert_int_equal(buf[0], 'x');
    assert_int_equal(ticket_action_sources_literal(TICKET_ACT_START, NULL, 10), ACS_EINVAL);
}

static void test_allowed_actions(void **state)
{
    (void)state;
    char buf[128];
    for (int from = 0; from < TICKET_STATUS_COUNT; from++) {
        /* The expected list follows from the matrix as well as from the literal table. */
        char derived[128] = "";
        int count = 0;
        for (int act = 0; act < TICKET_ACTION_COUNT; act++) {
            if (expected[from][act] == NO)
                continue;
            if (count++ > 0)
                strcat(derived, ", ");
            strcat(derived, action_names[act]);
        }
        assert_string_equal(derived, allowed[from].text);
        assert_int_equal(count, allowed[from].count);

        size_t n = strlen(allowed[from].text);
        assert_int_equal(ticket_allowed_actions((ticket_status_t)from, buf, sizeof(buf)), count);
        assert_string_equal(buf, allowed[from].text);
        assert_int_equal(ticket_allowed_actions((ticket_status_t)from, buf, n + 1), count);
        assert_string_equal(buf, allowed[from].text);
        for (size_t len = 1; len <= n; len++) {
            memset(buf, 'x', sizeof(buf));
            assert_int_equal(ticket_allowed_actions((ticket_status_t)from, buf, len), ACS_EINVAL);
            assert_string_equal(buf, "");
            assert_int_equal(buf[len], 'x');
        }
    }
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(ticket_allowed_actions(TICKET_STATUS_COUNT, buf, sizeof(buf)), ACS_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(ticket_allowed_actions(TICKET_NEW, NULL, 0), ACS_EINVAL);
}

static void test_categories(void **state)
{
    (void)state;
    assert_int_equal(ticket_category_valid("emergency"), 1);
    assert_int_equal(ticket_category_valid("standard"), 1);
    assert_int_equal(ticket_category_valid("consultation"), 1);
    assert_int_equal(ticket_category_valid("Emergency"), 0);
    assert_int_equal(ticket_category_valid("urgent"), 0);
    assert_int_equal(ticket_category_valid(""), 0);
    assert_int_equal(ticket_category_valid("standard "), 0);
    assert_int_equal(ticket_category_valid(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_transition), cmocka_unit_test(test_sources_mask),
        cmocka_unit_test(test_out_of_range),     cmocka_unit_test(test_names_and_parse),
        cmocka_unit_test(test_sources_literal),  cmocka_unit_test(test_allowed_actions),
        cmocka_unit_test(test_categories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
