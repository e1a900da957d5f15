/* SPDX-License-Identifier: MIT */
/*
 * log.h - one-line log records on stderr: "2026-11-24T19:40:00.123Z fieldd warn: ...".
 * The level threshold comes from FIELDD_LOG (error, warn, info, debug; default info).
 */
#ifndef ACS_LOG_H
#define ACS_LOG_H

typedef enum { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level_t;

void log_init_from_env(void);
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
