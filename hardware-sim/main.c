/* SPDX-License-Identifier: MIT */
/*
 * main.c - `acs-sim --site FILE`: loads the site file and the device profiles, builds the
 * units, opens every bus (Modbus TCP listeners, RTU pseudo-terminals) and the control
 * channel, prints one line per bus and one for the control channel on stdout:
 *
 *   tcp 127.0.0.1:40211
 *   rtu /dev/pts/7
 *   control tcp 127.0.0.1:40212
 *
 * then serves until SIGTERM or SIGINT (or the control command "stop") and exits 0 after
 * closing everything. A bad site file exits 2 with one sentence naming the file, the field
 * and the reason; a failure to open a bus exits 1.
 *
 *   STARTING --all buses open--> SERVING --signal / stop--> CLOSING (buses, control, timers,
 *   signals closed) --loop empty--> exit 0
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "control.h"
#include "sim.h"
#include "simboot.h"

#define TICK_MS 100

/* --flash-dir and --firmware-key (NULL: the site file's). */
static const char *opt_flash_dir;
static const char *opt_firmware_key;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: acs-sim --site FILE [--profiles DIR] [--flash-dir DIR] [--firmware-key KEY]\n"
            "  Simulated turnstile and reader controllers on Modbus TCP and Modbus RTU\n"
            "  (pseudo-terminals). The site file lists the buses and units; see\n"
            "  docs/simulator.md. Profiles come from DIR, else the site's \"profiles\",\n"
            "  else $ACS_PROFILES, else the source tree's drivers/profiles.\n"
            "  --flash-dir DIR keeps each unit's bootloader flash in DIR/BUS-UNIT.flash\n"
            "  (else the site's \"flash_dir\", else in memory); --firmware-key KEY is the\n"
            "  firmware public key (a .pub file of acs-fw keygen or 64 hex digits) of the\n"
            "  units without their own \"firmware_key\" (see docs/firmware.md).\n");
}

uint64_t sim_now_ms(const sim_t *sim)
{
    return uv_now(sim->loop);
}

simunit_t *sim_find_unit(sim_t *sim, const char *ref)
{
    const char *slash = strchr(ref, '/');
    for (size_t b = 0; b < sim->nbuses; b++) {
        simbus_t *bus = sim->buses[b];
        size_t nlen = strlen(bus->cfg->name);
        if (strncmp(ref, bus->cfg->name, nlen) != 0)
            continue;
        if (ref[nlen] == '\0' && bus->nunits == 1)
            return bus->units[0];
        if (slash == ref + nlen) {
            char *end;
            long id = strtol(slash + 1, &end, 10);
            if (*end != '\0' || slash[1] == '\0')
                continue;
            for (size_t i = 0; i < bus->nunits; i++) {
                if (simunit_id(bus->units[i]) == id)
                    return bus->units[i];
            }
        }
    }
    for (size_t i = 0; i < sim->nunits; i++) {
        char d[512];
        simunit_describe(sim->units[i], d, sizeof(d));
        const char *s = strstr(d, " serial=");
        if (s != NULL && strncmp(s + 8, ref, strlen(ref)) == 0 && s[8 + strlen(ref)] == ' ')
            return sim->units[i];
    }
    return NULL;
}

static void on_tick(uv_timer_t *t)
{
    sim_t *sim = t->data;
    uint64_t now = uv_now(sim->loop);
    for (size_t i = 0; i < sim->nunits; i++)
        simunit_tick(sim->units[i], now);
}

static void on_bus_closed(simbus_t *bus, void *arg)
{
    (void)bus;
    sim_t *sim = arg;
    sim->buses_open--;
}

static void on_control_closed(void *arg)
{
    sim_t *sim = arg;
    sim->control = NULL;
}

void sim_stop(sim_t *sim)
{
    if (sim->stopping)
        return;
    sim->stopping = 1;
    for (size_t i = 0; i < sim->nbuses; i++)
        simbus_close(sim->buses[i], on_bus_closed, sim);
    if (sim->control != NULL)
        control_close(sim->control, on_control_closed, sim);
    uv_close((uv_handle_t *)&sim->tick, NULL);
    uv_close((uv_handle_t *)&sim->sigterm, NULL);
    uv_close((uv_handle_t *)&sim->sigint, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    sim_stop(s->data);
}

/* Builds the units of every bus. Returns 0, 2 for a site error (message printed), 1 else. */
static int build_units(sim_t *sim)
{
    site_t *site = sim->site;
    size_t total = 0;
    for (size_t b = 0; b < site->nbuses; b++)
        total += site->buses[b].nunits;
    sim->units = calloc(total, sizeof(*sim->units));
    sim->buses = calloc(site->nbuses, sizeof(*sim->buses));
    if (sim->units == NULL || sim->buses == NULL) {
        fprintf(stderr, "acs-sim: out of memory\n");
        return 1;
    }
    char err[512];
    uint64_t now = uv_now(sim->loop);
    /* The bootloader's flash folder and the default firmware key. */
    const char *flash_dir = opt_flash_dir != NULL ? opt_flash_dir : site->flash_dir;
    if (flash_dir != NULL && mkdir(flash_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "acs-sim: cannot create the flash folder %s: %s\n", flash_dir,
                strerror(errno));
        return 2;
    }
    char site_dir[4096];
    const char *slash = strrchr(site->path, '/');
    snprintf(site_dir, sizeof(site_dir), "%.*s", slash != NULL ? (int)(slash - site->path) : 0,
             site->path);
    uint8_t default_key[32];
    int have_default_key = 0;
    if (opt_firmware_key != NULL || site->firmware_key != NULL) {
        int rc = simboot_load_key(opt_firmware_key != NULL ? opt_firmware_key : site->firmware_key,
                                  opt_firmware_key != NULL ? NULL : site_dir, default_key, err,
                                  sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "acs-sim: %s: %s\n",
                    opt_firmware_key != NULL ? "--firmware-key" : "firmware_key", err);
            return 2;
        }
        have_default_key = 1;
    }
    for (size_t b = 0; b < site->nbuses; b++) {
        const site_bus_t *bus = &site->buses[b];
        simunit_t **first = sim->units + sim->nunits;
        for (size_t i = 0; i < bus->nunits; i++) {
            const site_unit_t *su = &bus->units[i];
            char where[512], name[64];
            snprintf(where, sizeof(where), "%s: %s", site->path, su->where);
            snprintf(name, sizeof(name), "%s/%d", bus->name, su->unit_id);
            const profile_t *p = profile_set_by_product_code(sim->profiles, su->model);
            if (p == NULL) {
                fprintf(stderr, "acs-sim: %s.model: no profile for \"%s\" in %s (models:", where,
                        su->model, profile_default_dir());
                for (size_t k = 0; k < profile_set_count(sim->profiles); k++)
                    fprintf(stderr, " %s", profile_set_at(sim->profiles, k)->model);
                fprintf(stderr, ")\n");
                return 2;
            }
            uint8_t unit_key[32];
            if (su->firmware_key != NULL &&
                simboot_load_key(su->firmware_key, site_dir, unit_key, err, sizeof(err)) != 0) {
                fprintf(stderr, "acs-sim: %s.firmware_key: %s\n", where, err);
                return 2;
            }
            char flash_path[4200];
            if (flash_dir != NULL)
                snprintf(flash_path, sizeof(flash_path), "%s/%s-%d.flash", flash_dir, bus->name,
                         su->unit_id);
            simunit_config_t cfg = {
                .where = where,
                .name = name,
                .unit_id = (uint8_t)su->unit_id,
                .serial = su->serial,
                .firmware = su->firmware,
                .card_every_ms = su->card_every_ms,
                .is_rtu = bus->kind == SITE_BUS_RTU,
                .hw_rev = (unsigned)su->hw_rev,
                .fw_key = su->firmware_key != NULL ? unit_key
                          : have_default_key       ? default_key
                                                   : NULL,
                .flash_path = flash_dir != NULL ? flash_path : NULL,
            };
            simunit_t *u;
            int rc = simunit_new(p, &cfg, now, &u, err, sizeof(err));
            if (rc != 0) {
                fprintf(stderr, "acs-sim: %s\n", err);
                return rc == ACS_EINVAL ? 2 : 1;
            }
            sim->units[sim->nunits++] = u;
            /* Initial state, then faults, as the site file gives them. */
            const char *key;
            json_t *v;
            char text[256], msg[512];
            if (su->state != NULL) {
                json_object_foreach(su->state, key, v)
                {
                    if (site_value_text(v, text, sizeof(text)) != 0 ||
                        simunit_set(u, key, text, msg, sizeof(msg)) != 0) {
                        fprintf(stderr, "acs-sim: %s.state.%s: %s\n", where, key,
                                site_value_text(v, text, sizeof(text)) != 0
                                    ? "must be a number, true/false, a string or a list of "
                                      "bit names"
                                    : msg);
                        return 2;
                    }
                }
            }
            if (su->faults != NULL) {
                json_object_foreach(su->faults, key, v)
                {
                    if (json_is_false(v))
                        continue;
                    int has_arg = !json_is_true(v);
                    if (has_arg && site_value_text(v, text, sizeof(text)) != 0) {
                        fprintf(stderr,
                                "acs-sim: %s.faults.%s: must be true, a number or a "
                                "string\n",
                                where, key);
                        return 2;
                    }
                    if (simunit_fault(u, key, has_arg ? text : NULL, 1, msg, sizeof(msg)) != 0) {
                        fprintf(stderr, "acs-sim: %s.faults.%s: %s\n", where, key, msg);
                        return 2;
                    }
                }
            }
        }
        if (simbus_new(sim->loop, bus, first, bus->nunits, &sim->buses[sim->nbuses]) != 0) {
            fprintf(stderr, "acs-sim: out of memory\n");
            return 1;
        }
        sim->nbuses++;
    }
    return 0;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int main(int argc, char **argv)
{
    const char *site_path = NULL, *profiles_dir = NULL;
    static const struct option opts[] = {
        {"site", required_argument, NULL, 's'},
        {"profiles", required_argument, NULL, 'p'},
        {"flash-dir", required_argument, NULL, 'F'},
        {"firmware-key", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "s:p:h", opts, NULL)) != -1) {
        switch (o) {
        case 's':
            site_path = optarg;
            break;
        case 'p':
            profiles_dir = optarg;
            break;
        case 'F':
            opt_flash_dir = optarg;
            break;
        case 'K':
            opt_firmware_key = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (site_path == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    char err[1024];
    uv_loop_t loop;
    sim_t sim;
    memset(&sim, 0, sizeof(sim));
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "acs-sim: cannot create the event loop\n");
        return 1;
    }
    sim.loop = &loop;

    int rc = site_load(site_path, &sim.site, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "acs-sim: %s\n", err);
        status = rc == ACS_ENOMEM ? 1 : 2;
        goto out;
    }
    if (profiles_dir == NULL)
        profiles_dir = sim.site->profiles_dir;
    rc = profiles_dir != NULL ? profile_set_load_dir(profiles_dir, &sim.profiles, err, sizeof(err))
                              : profile_set_load_default(&sim.profiles, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "acs-sim: device profiles: %s\n", err);
        goto out;
    }
    status = build_units(&sim);
    if (status != 0)
        goto out;

    uv_timer_init(&loop, &sim.tick);
    sim.tick.data = &sim;
    uv_signal_init(&loop, &sim.sigterm);
    uv_signal_init(&loop, &sim.sigint);
    sim.sigterm.data = sim.sigint.data = &sim;
    uv_signal_start(&sim.sigterm, on_signal, SIGTERM);
    uv_signal_start(&sim.sigint, on_signal, SIGINT);

    for (size_t b = 0; b < sim.nbuses; b++) {
        sim.buses_open++;
        if (simbus_start(sim.buses[b], err, sizeof(err)) != 0) {
            fprintf(stderr, "acs-sim: %s\n", err);
            status = 1;
            sim_stop(&sim);
            break;
        }
    }
    if (!sim.stopping && sim.site->control_enabled &&
        control_start(&sim, sim.site->control_host, sim.site->control_port, &sim.control, err,
                      sizeof(err)) != 0) {
        fprintf(stderr, "acs-sim: %s\n", err);
        status = 1;
        sim_stop(&sim);
    }
    if (!sim.stopping) {
        for (size_t b = 0; b < sim.nbuses; b++)
            printf("%s\n", simbus_address(sim.buses[b]));
        if (sim.control != NULL)
            printf("control %s\n", control_address(sim.control));
        fflush(stdout);
        fprintf(stderr, "acs-sim: serving %zu units on %zu buses of site %s\n", sim.nunits,
                sim.nbuses, sim.site->path);
        uv_timer_start(&sim.tick, on_tick, TICK_MS, TICK_MS);
        status = 0;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (status == 0)
        fprintf(stderr, "acs-sim: stopped\n");

out:
    uv_walk(&loop, close_any, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        fprintf(stderr, "acs-sim: event loop closed with handles open\n");
    for (size_t b = 0; b < sim.nbuses; b++)
        simbus_free(sim.buses[b]);
    free(sim.buses);
    for (size_t i = 0; i < sim.nunits; i++)
        simunit_free(sim.units[i]);
    free(sim.units);
    profile_set_free(sim.profiles);
    site_free(sim.site);
    return status;
}
