/* SPDX-License-Identifier: MIT */
/*
 * remote.h - fieldctl's connection to fieldd's HTTP API, and the commands that use it (sla,
 * calendars, report, webhooks, api). The service is named by --api URL or $FIELDCTL_API
 * (default http://127.0.0.1:8080), the caller by --token or $FIELDCTL_TOKEN or the first line
 * of --token-file / $FIELDCTL_TOKEN_FILE.
 */
#ifndef ACS_FIELDCTL_REMOTE_H
#define ACS_FIELDCTL_REMOTE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char base[512];  /* "http://127.0.0.1:8080", no trailing slash */
    char token[256]; /* "" when none */
    uint64_t timeout_ms;
} fctl_api_t;

typedef struct {
    int status; /* HTTP status */
    char *body; /* NUL-terminated, owned: fctl_resp_free */
    size_t len;
    char content_type[128];
} fctl_resp_t;

/*
 * One request, waited for (fieldctl has no loop of its own: this runs a private libuv loop
 * until the answer is in). body may be NULL. Returns 0 with *out filled whatever the HTTP
 * status, or ACS_EIO / ACS_ETIMEDOUT / ACS_EINVAL with a sentence in err naming the URL
 * (and *out zeroed).
 */
int fctl_api_call(const fctl_api_t *a, const char *method, const char *path, const char *body,
                  fctl_resp_t *out, char *err, size_t errlen);

void fctl_resp_free(fctl_resp_t *r);

/* `fieldctl sla|calendars|report|webhooks|api ...`: argv[0] is the command. Returns the exit
 * status: 0 done, 1 the service refused or could not be reached (the reason on stderr),
 * 2 usage. */
int fctl_api_main(int argc, char **argv);

/* The API commands fctl_api_main serves, for main.c's dispatch. */
int fctl_is_api_command(const char *cmd);

#endif
