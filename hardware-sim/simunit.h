/* SPDX-License-Identifier: MIT */
/*
 * simunit.h - one simulated controller (a TC-200 turnstile controller, an RC-50 reader
 * controller, any model with a profile in drivers/profiles/): its register bank built from the
 * profile, the behaviour that makes it plausible (uptime, passages, card reads, the event log
 * ring), and the faults it can be told to have.
 *
 * A unit knows nothing about sockets or pseudo-terminals: a bus (simbus.h) hands it request
 * PDUs and asks it how to misbehave (simunit_faults_t); the control channel and the site file
 * change its state through the simunit_* calls below. All calls run on the loop thread.
 */
#ifndef ACS_SIM_SIMUNIT_H
#define ACS_SIM_SIMUNIT_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "regbank.h"
#include "simpdu.h"

/* Frame-level faults, applied by the bus that carries the unit's replies. */
typedef struct simunit_faults {
    int no_answer;    /* swallow every request */
    uint32_t late_ms; /* answer this many ms late (0: on time) */
    int bad_crc;      /* RTU: send the reply with its CRC inverted */
    int wrong_unit;   /* answer with wrong_unit_id instead of the unit's own id */
    uint8_t wrong_unit_id;
    uint8_t exception; /* answer every request with this exception code (0: none) */
    int power_off;     /* power loss: no answer at all until power on */
} simunit_faults_t;

/* What a unit is to be, from the site file (site.h fills it; the strings are borrowed). */
typedef struct simunit_config {
    const char *where; /* "demo.json: buses[1].units[0]" for messages */
    const char *name;  /* "line1/3": how the control channel names the unit */
    uint8_t unit_id;
    const char *serial;     /* NULL: made up from the model and unit id */
    const char *firmware;   /* NULL: the profile's MajorMinorRevision */
    uint32_t card_every_ms; /* simulated card read period; 0: only on demand */
    int is_rtu;
    /* The bootloader (simboot.h): hardware revision (0 means 1), firmware public key (32
     * bytes; NULL: the unit trusts no image) and the file that keeps its flash (NULL: memory
     * only). */
    unsigned hw_rev;
    const uint8_t *fw_key;
    const char *flash_path;
} simunit_config_t;

typedef struct simunit simunit_t;

/*
 * Builds a unit of profile p (borrowed: it must outlive the unit). Returns 0 and *out, or a
 * negative ACS_E* code with *out = NULL and a sentence in err naming cfg->where.
 */
int simunit_new(const profile_t *p, const simunit_config_t *cfg, uint64_t now_ms, simunit_t **out,
                char *err, size_t errlen);

/* Frees a unit. NULL is a no-op. */
void simunit_free(simunit_t *u);

const char *simunit_name(const simunit_t *u);
uint8_t simunit_id(const simunit_t *u);
const profile_t *simunit_profile(const simunit_t *u);
const simunit_faults_t *simunit_faults(const simunit_t *u);

/* Advances the unit's clock: uptime, passages in progress, periodic card reads. */
void simunit_tick(simunit_t *u, uint64_t now_ms);

/*
 * Answers one request PDU into resp (MBFRAME_PDU_MAX bytes), taking the forced-exception
 * fault into account. Returns the response length, or 0 when the unit does not answer (no
 * answer, power off). Broadcast requests (unit 0 on RTU) are executed by the caller passing
 * broadcast = 1; they never get an answer.
 */
size_t simunit_request(simunit_t *u, const uint8_t *pdu, size_t len, int broadcast, uint8_t *resp);

/*
 * Sets (on = 1) or clears (on = 0) one fault by name, with its argument text (NULL when none):
 *   no-answer | late MS | bad-crc | wrong-unit [ID] | exception CODE | stuck-sensor REG [VALUE]
 *   | low-supply [VOLTS] | tamper | corrupt-event [SLOT] | power-loss | flash-cut N
 *   | lose-reply [N]
 * ("_" may stand for "-"). Returns 0 with a short confirmation in msg, or ACS_EINVAL with the
 * reason in msg.
 */
int simunit_fault(simunit_t *u, const char *name, const char *arg, int on, char *msg,
                  size_t msglen);

/* The unit's bootloader state in one line (simboot_describe). */
void simunit_firmware(const simunit_t *u, char *msg, size_t msglen);

/* Clears every fault (power comes back too). */
void simunit_clear_faults(simunit_t *u);

/* Power on or off. Power on after a loss restarts the unit: uptime from 0, volatile state to
 * its defaults, a power-up event in the log. */
void simunit_power(simunit_t *u, int on);

/*
 * Simulated inputs: a card presented (the decision is logged as an event and returned in
 * msg), a person passing (direction 0 entry, 1 exit; it is counted and logged only if the
 * passage was unlocked, otherwise it is logged as a forced passage). Return 0, or ACS_EINVAL
 * with a reason in msg (no such feature on this model).
 */
int simunit_card(simunit_t *u, uint32_t card, char *msg, size_t msglen);
int simunit_passage(simunit_t *u, int direction, char *msg, size_t msglen);

/* Sets a register by name from text as decode_parse reads it ("12.5", "on", "a,b", "x");
 * an integer register that is stuck keeps its stuck value. Returns 0 or ACS_EINVAL + msg. */
int simunit_set(simunit_t *u, const char *reg, const char *text, char *msg, size_t msglen);

/* Formats a register's current value ("supply_voltage = 12.1 V"). */
int simunit_get(simunit_t *u, const char *reg, char *msg, size_t msglen);

/* Writes a one-line summary of the unit (model, id, serial, power, faults) into msg. */
void simunit_describe(const simunit_t *u, char *msg, size_t msglen);

#endif
