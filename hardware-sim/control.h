/* SPDX-License-Identifier: MIT */
/*
 * control.h - the control channel of acs-sim: a line-based text protocol on a loopback TCP
 * port, printed at start as "control tcp 127.0.0.1:PORT". Tests and people use it to inject
 * faults and simulated inputs while the simulator runs. Protocol in docs/simulator.md.
 */
#ifndef ACS_SIM_CONTROL_H
#define ACS_SIM_CONTROL_H

#include <stddef.h>

#include "sim.h"

/* Listens on host:port (port 0: a free one). Returns 0 and *out, or a negative code with a
 * sentence in err. The address is in control_address(). */
int control_start(sim_t *sim, const char *host, int port, control_t **out, char *err,
                  size_t errlen);

const char *control_address(const control_t *c);

/* Closes the listener and every connection; the control object frees itself once its handles
 * are closed, then calls done(arg). */
void control_close(control_t *c, void (*done)(void *), void *arg);

#endif
