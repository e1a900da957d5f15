/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the administrative subcommands of fieldd that run outside the event loop.
 *
 * Each is given argv after its own name (argv[0] is the subcommand) and returns the process
 * exit status: 0 on success, 1 on an error it has described on stderr, 2 on bad usage.
 * They use blocking libpq: they are command-line tools, never called from the service loop.
 * The database is taken from FIELDD_DB (a libpq conninfo string or URI).
 */
#ifndef ACS_CLI_H
#define ACS_CLI_H

/* fieldd migrate [--dir DIR] [--status]: apply pending migrations (migrate.c). */
int cli_migrate(int argc, char **argv);

/* fieldd user add --name N --role R [--skills a,b] [--region R]: create a user and print one
 * bearer token once (cli_user.c). fieldd user token --id UUID: issue a further token. */
int cli_user(int argc, char **argv);

/* fieldd seed-demo: load the demo data set and print the demo users' tokens (seed.c). */
int cli_seed_demo(int argc, char **argv);

#endif
