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

/* fieldd user add --name N --role R [--skills a,b] [--region R] [--email E] [--phone P]:
 * create a user and print `user_id:` and `token:` lines, the token only this once.
 * fieldd user token --id UUID [--label L]: issue a further token.
 * fieldd user revoke --id UUID: revoke all of a user's tokens (`revoked: N`).
 * fieldd user list: every user, one per line (cli_user.c). */
int cli_user(int argc, char **argv);

/* fieldd seed-demo [--tokens-file PATH]: load the demo data set into an empty, migrated
 * database and print `<role> <name>: <token>` for each demo user (seed.c). */
int cli_seed_demo(int argc, char **argv);

/* fieldd calendar import --calendar ID --file FILE.ics [--replace-year YYYY]: import holidays,
 * transferred working days and shortened days into a business calendar (cli_calendar.c). */
int cli_calendar(int argc, char **argv);

#endif
