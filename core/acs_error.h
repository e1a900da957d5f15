/* SPDX-License-Identifier: MIT */
/*
 * acs_error.h - the one error convention of acsfield.
 *
 * Every function that can fail returns int: 0 on success, a negative ACS_E* code on failure.
 * The codes live in one table (ACS_ERRNO_MAP) so that acs_strerror() and acs_err_name() stay
 * in step with them. Each library's own convention (libpq status, libmodbus -1 + errno,
 * libserialport SP_ERR_*) is translated into these codes where that library is called.
 */
#ifndef ACS_ERROR_H
#define ACS_ERROR_H

#define ACS_ERRNO_MAP(XX)                                                                          \
    XX(EINVAL, -1, "invalid argument")                                                             \
    XX(ENOMEM, -2, "out of memory")                                                                \
    XX(ENOTFOUND, -3, "not found")                                                                 \
    XX(ECONFLICT, -4, "conflicts with the current state")                                          \
    XX(EFORBIDDEN, -5, "not allowed for this role")                                                \
    XX(EUNAUTH, -6, "not authenticated")                                                           \
    XX(EDBDOWN, -7, "database unavailable")                                                        \
    XX(EDBQUERY, -8, "database query failed")                                                      \
    XX(ETIMEDOUT, -9, "timed out")                                                                 \
    XX(ECANCELED, -10, "operation canceled")                                                       \
    XX(EIO, -11, "input/output error")                                                             \
    XX(ECHANGED, -12, "applied migration was changed")                                             \
    XX(ESHUTDOWN, -13, "service is shutting down")                                                 \
    XX(ETOOBIG, -14, "too large")                                                                  \
    XX(EBUSY, -15, "resource busy")

enum acs_errno {
#define XX(name, value, text) ACS_##name = (value),
    ACS_ERRNO_MAP(XX)
#undef XX
};

/* Returns a static English sentence fragment for an ACS_E* code ("unknown error" otherwise). */
const char *acs_strerror(int err);

/* Returns the symbolic name of an ACS_E* code ("EDBDOWN"), or "EUNKNOWN". */
const char *acs_err_name(int err);

#endif
