/* SPDX-License-Identifier: MIT */
/*
 * log.c - the log records of log.h. Each record is written with one fputs so that lines from
 * several threads do not interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static log_level_t log_threshold = LOG_INFO;

void log_init_from_env(void)
{
    const char *v = getenv("FIELDD_LOG");
    if (v == NULL)
        return;
    if (strcmp(v, "error") == 0)
        log_threshold = LOG_ERROR;
    else if (strcmp(v, "warn") == 0)
        log_threshold = LOG_WARN;
    else if (strcmp(v, "debug") == 0)
        log_threshold = LOG_DEBUG;
    else
        log_threshold = LOG_INFO;
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    if (level > log_threshold)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ fieldd %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[level]);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    while (len > 0 && line[len - 1] == '\n')
        line[--len] = '\0';
    line[len++] = '\n';
    line[len] = '\0';
    fputs(line, stderr);
}
