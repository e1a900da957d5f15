/* SPDX-License-Identifier: MIT */
/*
 * bare_h2o.c - the smallest useful h2o-on-libuv HTTP server, the yardstick for fieldd.
 *
 * It answers every GET with the same small JSON body that fieldd's /healthz returns
 * (`{"status":"ok"}`), on one libuv loop in one thread, just like fieldd. bench/run measures
 * it next to fieldd so that the ratio fieldd/bare shows what fieldd's own code costs on top
 * of h2o and libuv, independently of the machine the benchmark runs on.
 *
 * usage: bench_bare_h2o PORT        (listens on 127.0.0.1:PORT; SIGINT/SIGTERM stop it)
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <h2o.h>
#include <uv.h>

static const char body[] = "{\"status\":\"ok\"}";

static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;
static uv_tcp_t listener;
static uv_signal_t sigint_watcher;
static uv_signal_t sigterm_watcher;

/* The whole body is sent at once, so the generator has nothing to proceed or stop. */
static h2o_generator_t generator = {NULL, NULL};

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    /* Anything but GET falls through to h2o's own 404, as in fieldd's router. */
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))
        return -1;

    h2o_iovec_t buf = h2o_iovec_init(body, sizeof(body) - 1);
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = buf.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_start_response(req, &generator);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
    return 0;
}

static void on_accept(uv_stream_t *server, int status)
{
    if (status != 0) {
        fprintf(stderr, "bench_bare_h2o: accept failed: %s\n", uv_strerror(status));
        return;
    }
    uv_tcp_t *conn = malloc(sizeof(*conn));
    if (conn == NULL) {
        fputs("bench_bare_h2o: out of memory accepting a connection\n", stderr);
        return;
    }
    uv_tcp_init(server->loop, conn);
    if (uv_accept(server, (uv_stream_t *)conn) != 0) {
        /* The handle is initialised, so it must be closed; free() runs in the close callback. */
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    /* From here h2o owns the connection and frees it through the close callback. */
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free);
    h2o_accept(&accept_ctx, sock);
}

static void on_signal(uv_signal_t *watcher, int signum)
{
    (void)signum;
    uv_stop(watcher->loop);
}

static int parse_port(const char *text, int *port)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1 || value > 65535)
        return -1;
    *port = (int)value;
    return 0;
}

int main(int argc, char **argv)
{
    int port = 0;
    if (argc != 2 || parse_port(argv[1], &port) != 0) {
        fputs("usage: bench_bare_h2o PORT   (1-65535; listens on 127.0.0.1:PORT)\n", stderr);
        return 2;
    }

    uv_loop_t *loop = uv_default_loop();

    h2o_config_init(&config);
    h2o_hostconf_t *hostconf =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof(*handler));
    handler->on_req = on_req;

    h2o_context_init(&ctx, loop, &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;

    struct sockaddr_in addr;
    int rc = uv_ip4_addr("127.0.0.1", port, &addr);
    if (rc == 0)
        rc = uv_tcp_init(loop, &listener);
    if (rc == 0)
        rc = uv_tcp_bind(&listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&listener, SOMAXCONN, on_accept);
    if (rc != 0) {
        fprintf(stderr, "bench_bare_h2o: cannot listen on 127.0.0.1:%d: %s (is the port in use?)\n",
                port, uv_strerror(rc));
        return 1;
    }

    uv_signal_init(loop, &sigint_watcher);
    uv_signal_start(&sigint_watcher, on_signal, SIGINT);
    uv_signal_init(loop, &sigterm_watcher);
    uv_signal_start(&sigterm_watcher, on_signal, SIGTERM);

    fprintf(stderr, "bench_bare_h2o: listening on http://127.0.0.1:%d/\n", port);
    uv_run(loop, UV_RUN_DEFAULT);

    /*
     * A benchmark baseline needs no graceful drain: the process exits right after, and the
     * kernel closes whatever connections are still open.
     */
    fputs("bench_bare_h2o: stopped\n", stderr);
    return 0;
}
