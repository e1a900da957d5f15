/* SPDX-License-Identifier: MIT */
/*
 * server.h - `fieldd serve`: the long-running service (event loop, HTTP API, database pool).
 */
#ifndef ACS_SERVER_H
#define ACS_SERVER_H

/* Run the service until SIGTERM/SIGINT. Return the process exit status. */
int server_main(int argc, char **argv);

#endif
