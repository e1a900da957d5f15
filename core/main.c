/* SPDX-License-Identifier: MIT */
/*
 * main.c - the fieldd command: dispatches to the service (`serve`) and to the administrative
 * subcommands (`migrate`, `user`, `seed-demo`).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "server.h"

static void usage(FILE *out)
{
    fputs("usage: fieldd COMMAND [OPTIONS]\n"
          "\n"
          "commands:\n"
          "  serve        run the service (FIELDD_LISTEN, FIELDD_DB)\n"
          "  migrate      apply pending database migrations (--status to list them)\n"
          "  user add     create a user and print a bearer token once\n"
          "               (--name N --role admin|head|dispatcher|engineer|senior\n"
          "                [--skills a,b] [--region R] [--email E] [--phone P])\n"
          "  user token   issue another token for a user (--id UUID [--label L])\n"
          "  user revoke  revoke all tokens of a user (--id UUID)\n"
          "  user list    list the users\n"
          "  seed-demo    load demo data and print the demo users' tokens\n"
          "               ([--tokens-file PATH])\n"
          "  calendar import  import holidays into a business calendar from an .ics file\n"
          "               (--calendar ID --file FILE.ics [--replace-year YYYY])\n"
          "\n"
          "environment:\n"
          "  FIELDD_DB       libpq connection string or URI (default: libpq's defaults)\n"
          "  FIELDD_LISTEN   address:port to listen on (default 127.0.0.1:8080)\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return server_main(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0)
        return cli_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return cli_user(argc - 1, argv + 1);
    if (strcmp(cmd, "seed-demo") == 0)
        return cli_seed_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "calendar") == 0)
        return cli_calendar(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "fieldd: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return 2;
}
