/* SPDX-License-Identifier: MIT */
/*
 * fsm.c - formatting shared by the table-driven state machines of fsm.h.
 */
#include "fsm.h"

#include <string.h>

#include "acs_error.h"

int fsm_index(const char *const *names, int n, const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(name, names[i]) == 0)
            return i;
    }
    return -1;
}

/* Append `s` at *pos in buf, keeping room for the NUL. Return 0, or -1 if it does not fit. */
static int append(char *buf, size_t len, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + n + 1 > len)
        return -1;
    memcpy(buf + *pos, s, n + 1);
    *pos += n;
    return 0;
}

int fsm_mask_literal(const fsm_t *m, unsigned mask, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return ACS_EINVAL;
    buf[0] = '\0';
    size_t pos = 0;
    const char *sep = "";
    if (append(buf, len, &pos, "{") < 0)
        goto fail;
    for (int s = 0; s < m->nstatus; s++) {
        if ((mask & FSM_BIT(s)) == 0)
            continue;
        if (append(buf, len, &pos, sep) < 0 || append(buf, len, &pos, m->status_names[s]) < 0)
            goto fail;
        sep = ",";
    }
    if (append(buf, len, &pos, "}") < 0)
        goto fail;
    return (int)pos;
fail:
    buf[0] = '\0';
    return ACS_EINVAL;
}

int fsm_allowed_actions(const fsm_t *m, int from, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return ACS_EINVAL;
    buf[0] = '\0';
    if (from < 0 || from >= m->nstatus)
        return ACS_EINVAL;
    size_t pos = 0;
    int count = 0;
    for (int i = 0; i < m->naction; i++) {
        int a = m->display_order != NULL ? m->display_order[i] : i;
        if ((m->transitions[a].sources & FSM_BIT(from)) == 0)
            continue;
        if (append(buf, len, &pos, count > 0 ? ", " : "") < 0 ||
            append(buf, len, &pos, m->action_names[a]) < 0)
            goto fail;
        count++;
    }
    if (count == 0 && append(buf, len, &pos, "none") < 0)
        goto fail;
    return count;
fail:
    buf[0] = '\0';
    return ACS_EINVAL;
}
