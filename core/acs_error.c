/* SPDX-License-Identifier: MIT */
/*
 * acs_error.c - text for the error codes of acs_error.h.
 */
#include "acs_error.h"

const char *acs_strerror(int err)
{
    switch (err) {
#define XX(name, value, text)                                                                      \
    case ACS_##name:                                                                               \
        return text;
        ACS_ERRNO_MAP(XX)
#undef XX
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

const char *acs_err_name(int err)
{
    switch (err) {
#define XX(name, value, text)                                                                      \
    case ACS_##name:                                                                               \
        return #name;
        ACS_ERRNO_MAP(XX)
#undef XX
    default:
        return "EUNKNOWN";
    }
}
