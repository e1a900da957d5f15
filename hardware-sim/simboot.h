/* SPDX-License-Identifier: MIT */
/*
 * simboot.h - the bootloader of a simulated controller on Modbus: the status, command and data
 * register blocks of the protocol (firmware-tools/fwproto.h, docs/firmware.md) in front of
 * the flash and slot logic of fwslot.h, and the flash kept in a file per unit so that a
 * transfer survives a simulator restart as it survives a power cut.
 *
 * simunit.c owns one per unit: it hands over the requests simboot_claims, restarts the unit
 * when a RESET command asks for it (simboot_take_reset) and powers the unit off when a flash
 * write was cut (simboot_powered). All calls run on the loop thread.
 */
#ifndef ACS_SIM_SIMBOOT_H
#define ACS_SIM_SIMBOOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct simboot simboot_t;

typedef struct simboot_config {
    const char *where;      /* "site.json: buses[0].units[1]" for messages */
    const char *model;      /* the unit's model (ProductCode) */
    unsigned hw_rev;        /* its hardware revision */
    const uint8_t *key;     /* its firmware public key (32 bytes) or NULL: trusts no image */
    const char *factory;    /* the version it shipped with ("2.4.0") */
    const char *flash_path; /* file that keeps the flash, or NULL: in memory only */
} simboot_config_t;

/* Creates the bootloader (reading the flash file when there is one). The unit is not booted:
 * call simboot_boot. Returns 0 and *out, or ACS_EIO / ACS_ENOMEM with a sentence in err. */
int simboot_new(const simboot_config_t *cfg, simboot_t **out, char *err, size_t errlen);

/* Frees it (closing the flash file). NULL is a no-op. */
void simboot_free(simboot_t *b);

/* Whether a request PDU is for the bootloader's registers (FC 03 in 0xF000..0xF1FF, FC 06 or
 * FC 16 to the command or data block). */
int simboot_claims(const uint8_t *pdu, size_t len);

/* Answers a claimed request into resp (MBFRAME_PDU_MAX bytes); returns the response length,
 * or 0 when power was cut during the request (no answer). */
size_t simboot_request(simboot_t *b, const uint8_t *pdu, size_t len, uint8_t *resp);

/* A RESET command was accepted since the last call: the unit must restart. */
int simboot_take_reset(simboot_t *b);

/* Power on or reset: runs the boot logic and writes the running version into version
 * ("2.5.0"; the factory text for the factory image). Returns 0, or ACS_EIO when power was
 * cut during the boot's own flash write (the unit stays off). */
int simboot_boot(simboot_t *b, char *version, size_t vlen);

int simboot_powered(const simboot_t *b);
void simboot_power_off(simboot_t *b);

/* "flash-cut N": cut power at the N-th flash write from now (1..1000000000); NULL or "0"
 * cancels. Returns 0 with a confirmation in msg, or ACS_EINVAL with the reason. */
int simboot_cut_at(simboot_t *b, const char *arg, char *msg, size_t msglen);

/* One line: state, running slot and version, trial, transfer progress, flash writes. */
void simboot_describe(const simboot_t *b, char *msg, size_t msglen);

/*
 * A firmware public key as a site file or the command line gives it: 64 hex digits, an
 * acs-fw .pub line, or the path of a .pub file (relative to base_dir when not absolute).
 * Returns 0 and pk, or ACS_EINVAL / ACS_ENOTFOUND with a sentence.
 */
int simboot_load_key(const char *value, const char *base_dir, uint8_t pk[32], char *err,
                     size_t errlen);

#endif
