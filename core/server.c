/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include "server.h"

int server_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "fieldd serve: not built yet\n");
    return 1;
}
