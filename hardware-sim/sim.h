/* SPDX-License-Identifier: MIT */
/*
 * sim.h - the acs-sim process: its loop, its site, its buses and units, and the calls the
 * control channel makes on them. One thread; every callback runs on the loop.
 */
#ifndef ACS_SIM_SIM_H
#define ACS_SIM_SIM_H

#include <stddef.h>
#include <uv.h>

#include "profile.h"
#include "simbus.h"
#include "simunit.h"
#include "site.h"

typedef struct control control_t;

typedef struct sim {
    uv_loop_t *loop;
    site_t *site;
    profile_set_t *profiles;
    simunit_t **units; /* all units, in site order */
    size_t nunits;
    simbus_t **buses;
    size_t nbuses;
    control_t *control;
    uv_timer_t tick;
    uv_signal_t sigterm, sigint;
    int stopping;
    size_t buses_open;
} sim_t;

/* The unit a control command names: "BUS/UNIT_ID", "BUS" (a bus with one unit) or a serial
 * number. NULL when none matches. */
simunit_t *sim_find_unit(sim_t *sim, const char *ref);

/* Starts the orderly shutdown (same as SIGTERM). */
void sim_stop(sim_t *sim);

/* Milliseconds of the loop clock, as the units see it. */
uint64_t sim_now_ms(const sim_t *sim);

#endif
