/* SPDX-License-Identifier: MIT */
/*
 * server.c - `fieldd serve`: configuration from the environment, the libuv loop with h2o on
 * it, the database pool, and an orderly shutdown.
 *
 * Shutdown, on SIGTERM or SIGINT:
 *
 *   RUNNING --signal--> DRAINING --no request in flight, or FIELDD_DRAIN_MS passed-->
 *   CLOSING (database pool closed, h2o context disposed, remaining handles closed) --> exit
 *
 * While draining, the listener is closed (new connections are refused) and h2o is asked to
 * close idle keep-alive connections; requests already received are answered.
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "acs_error.h"
#include "auth_token.h"
#include "log.h"
#include "web.h"

static uint64_t env_u64(const char *name, uint64_t def, uint64_t min, uint64_t max)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return def;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max) {
        log_warn("%s=\"%s\" is not a number between %llu and %llu; using %llu", name, v,
                 (unsigned long long)min, (unsigned long long)max, (unsigned long long)def);
        return def;
    }
    return n;
}

/* Parse "host:port" or "[v6]:port" into addr. Return 0 or ACS_EINVAL. */
static int parse_listen(const char *s, struct sockaddr_storage *addr)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s)
        return ACS_EINVAL;
    size_t hlen = (size_t)(colon - s);
    const char *h = s;
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host))
        return ACS_EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535)
        return ACS_EINVAL;
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr) == 0)
        return 0;
    if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)addr) == 0)
        return 0;
    return ACS_EINVAL;
}

void server_request_done(server_t *srv)
{
    if (srv->inflight > 0)
        srv->inflight--;
}

typedef struct server_conn {
    uv_tcp_t tcp;
    server_t *srv;
    struct server_conn *prev;
    struct server_conn *next;
} server_conn_t;

static void on_conn_closed(uv_handle_t *h)
{
    server_conn_t *c = (server_conn_t *)h;
    server_t *srv = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->connections--;
    free(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
    server_t *srv = listener->data;
    if (status != 0) {
        log_warn("accept failed: %s", uv_strerror(status));
        return;
    }
    server_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    uv_tcp_init(listener->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    c->srv = srv;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->connections++;
    uv_tcp_nodelay(&c->tcp, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed);
    h2o_accept(&srv->accept_ctx, sock);
}

/* Every request is answered: end the idle keep-alive connections. Shutting the socket down
 * (rather than closing the handle under h2o) lets h2o see end-of-stream and close each
 * connection through its own path. */
static void close_idle_connections(server_t *srv)
{
    for (server_conn_t *c = srv->conns; c != NULL; c = c->next) {
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
            shutdown(fd, SHUT_RDWR);
    }
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_pool_closed(void *arg)
{
    server_t *srv = arg;
    srv->db = NULL;
    uv_close((uv_handle_t *)&srv->drain_timer, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    if (srv->connections == 0) {
        /* h2o 2.2 keeps a context-wide entry of its own on one_sec_timeout, which
         * h2o_context_dispose asserts is gone; with every connection closed, nothing else
         * can be linked, so unlink what is left. */
        h2o_timeout_t *timeouts[] = {&srv->ctx.zero_timeout, &srv->ctx.one_sec_timeout,
                                     &srv->ctx.http1.req_timeout, &srv->ctx.http2.idle_timeout};
        for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
            while (!h2o_linklist_is_empty(&timeouts[i]->_entries)) {
                h2o_timeout_unlink(
                    H2O_STRUCT_FROM_MEMBER(h2o_timeout_entry_t, _link, timeouts[i]->_entries.next));
            }
        }
        h2o_context_dispose(&srv->ctx);
    } else {
        /* A client kept its connection past the drain time: h2o cannot dispose a context
         * with live connections, so close what is left and let the process end. */
        log_warn("%u connections still open at exit", srv->connections);
        uv_walk(srv->loop, close_any, NULL);
    }
}

static void on_drain_tick(uv_timer_t *t)
{
    server_t *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    if (!srv->closing_conns) {
        if (srv->inflight > 0 && now < srv->drain_deadline_ms)
            return;
        if (srv->inflight > 0)
            log_warn("drain time is over with %u requests in flight; closing", srv->inflight);
        else
            log_info("all requests answered; closing %u idle connections", srv->connections);
        srv->closing_conns = 1;
        srv->drain_deadline_ms = now + 2000;
        close_idle_connections(srv);
        return;
    }
    if (srv->connections > 0 && now < srv->drain_deadline_ms)
        return;
    uv_timer_stop(t);
    db_pool_close(srv->db, on_pool_closed, srv);
}

static void on_signal(uv_signal_t *s, int signum)
{
    server_t *srv = s->data;
    if (srv->shutting_down) {
        log_warn("signal %d again: still draining %u requests", signum, srv->inflight);
        return;
    }
    srv->shutting_down = 1;
    log_info("signal %d: refusing new connections, draining %u requests", signum, srv->inflight);
    api_diag_shutdown(srv);
    api_dispatch_shutdown(srv);
    api_firmware_shutdown(srv);
    sla_timer_close(srv->sla);
    srv->sla = NULL;
    sse_hub_close(srv->sse);
    srv->sse = NULL;
    webhook_sender_close(srv->webhooks);
    srv->webhooks = NULL;
    if (srv->listening) {
        uv_close((uv_handle_t *)&srv->listener, NULL);
        srv->listening = 0;
    }
    h2o_context_request_shutdown(&srv->ctx);
    srv->drain_deadline_ms = uv_now(srv->loop) + env_u64("FIELDD_DRAIN_MS", 10000, 0, 600000);
    uv_timer_start(&srv->drain_timer, on_drain_tick, 0, 20);
}

/* A notification on acs_changes: the name of a listed table whose rows changed
 * (0003_api_support.sql), "ticket_sla" when SLA clocks changed, or a JSON live event
 * (0005_sla_clocks.sql). */
static void on_change_notified(const char *channel, const char *payload, void *arg)
{
    server_t *srv = arg;
    (void)channel;
    if (strcmp(payload, "ticket_sla") == 0) {
        sla_timer_poke(srv->sla);
        return;
    }
    if (strcmp(payload, "webhook_delivery") == 0) {
        webhook_sender_poke(srv->webhooks);
        return;
    }
    if (payload[0] == '{') {
        json_t *ev = json_loads(payload, 0, NULL);
        const char *name = json_string_value(json_object_get(ev, "event"));
        if (name != NULL)
            sse_hub_publish(srv->sse, name, payload);
        else
            log_warn("live event without a name: %s", payload);
        json_decref(ev);
        return;
    }
    if (srv->cache != NULL)
        cache_invalidate(srv->cache);
}

static void on_listen_state(int up, void *arg)
{
    server_t *srv = arg;
    if (srv->cache != NULL) {
        cache_set_enabled(srv->cache, up);
        log_info("list cache %s", up ? "on (listening for changes)" : "off (change feed lost)");
    }
    /* Notifications may have been missed while the feed was down. */
    if (up) {
        sla_timer_poke(srv->sla);
        webhook_sender_poke(srv->webhooks);
    }
}

static void register_routes(server_t *srv)
{
    api_health_register(srv);
    api_clients_register(srv);
    api_sites_register(srv);
    api_devices_register(srv);
    api_tickets_register(srv);
    api_jobs_register(srv);
    api_calendars_register(srv);
    api_events_register(srv);
    api_diag_register(srv);
    api_metrics_register(srv);
    api_feedback_register(srv);
    api_webhooks_register(srv);
    api_dispatch_register(srv);
    api_engineers_register(srv);
    api_projects_register(srv);
    api_firmware_register(srv);
}

int server_main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "fieldd serve takes no arguments; configure it with FIELDD_LISTEN, "
                        "FIELDD_DB and the other FIELDD_* variables (see README.md)\n");
        return 2;
    }
    log_init_from_env();
    signal(SIGPIPE, SIG_IGN);
    if (auth_token_init() != 0) {
        log_error("cannot initialise libsodium");
        return 1;
    }

    int status = 1;
    server_t *srv = calloc(1, sizeof(*srv));
    uv_loop_t *loop = malloc(sizeof(*loop));
    if (srv == NULL || loop == NULL || uv_loop_init(loop) != 0) {
        log_error("out of memory starting the service");
        free(srv);
        free(loop);
        return 1;
    }
    srv->loop = loop;
    metrics_init(&srv->metrics);
    auth_cache_init(&srv->auth, env_u64("FIELDD_AUTH_CACHE_MS", 2000, 0, 3600000));

    const char *listen_at = getenv("FIELDD_LISTEN");
    if (listen_at == NULL || *listen_at == '\0')
        listen_at = "127.0.0.1:8080";
    snprintf(srv->listen_addr, sizeof(srv->listen_addr), "%s", listen_at);
    struct sockaddr_storage addr;
    if (parse_listen(listen_at, &addr) != 0) {
        log_error("FIELDD_LISTEN=\"%s\" is not an address:port such as 127.0.0.1:8080", listen_at);
        goto out;
    }

    if (env_u64("FIELDD_LIST_CACHE", 1, 0, 1) == 1 &&
        cache_new(env_u64("FIELDD_LIST_CACHE_ENTRIES", 2048, 1, 1000000),
                  env_u64("FIELDD_LIST_CACHE_MS", 60000, 1, 3600000), &srv->cache) != 0) {
        log_error("out of memory creating the list cache");
        goto out;
    }

    db_pool_config_t dbcfg = {
        .conninfo = getenv("FIELDD_DB"),
        .size = (unsigned)env_u64("FIELDD_DB_POOL", 4, 1, 64),
        .wait_ms = env_u64("FIELDD_DB_WAIT_MS", 2000, 10, 600000),
        .query_timeout_ms = env_u64("FIELDD_QUERY_TIMEOUT_MS", 10000, 100, 3600000),
        .connect_timeout_ms = env_u64("FIELDD_CONNECT_TIMEOUT_MS", 3000, 100, 600000),
        .listen_channel = "acs_changes",
        .on_notify = on_change_notified,
        .on_listen_state = on_listen_state,
        .listen_arg = srv,
    };
    int err = db_pool_new(loop, &dbcfg, &srv->db);
    if (err != 0) {
        log_error("cannot create the database pool: %s", acs_strerror(err));
        goto out;
    }

    if (sse_hub_new(loop, &srv->sse) != 0) {
        log_error("out of memory creating the event hub");
        goto out;
    }
    if (env_u64("FIELDD_SLA_TIMER", 1, 0, 1) == 1 && sla_timer_new(loop, srv->db, &srv->sla) != 0) {
        log_error("out of memory creating the SLA timer");
        goto out;
    }
    webhook_config_t whcfg = {
        .timeout_ms = env_u64("FIELDD_WEBHOOK_TIMEOUT_MS", 5000, 100, 600000),
        .retry_ms = env_u64("FIELDD_WEBHOOK_RETRY_MS", 10000, 10, 86400000),
        .retry_max_ms = env_u64("FIELDD_WEBHOOK_RETRY_MAX_MS", 3600000, 10, 86400000),
        .poll_ms = env_u64("FIELDD_WEBHOOK_POLL_MS", 1000, 10, 600000),
        .max_attempts = (unsigned)env_u64("FIELDD_WEBHOOK_MAX_ATTEMPTS", 12, 1, 1000),
        .concurrency = (unsigned)env_u64("FIELDD_WEBHOOK_CONCURRENCY", 8, 1, 256),
    };
    if (env_u64("FIELDD_WEBHOOKS", 1, 0, 1) == 1 &&
        webhook_sender_new(loop, srv->db, &whcfg, &srv->webhooks) != 0) {
        log_error("cannot create the webhook sender (out of memory, or no TLS context)");
        goto out;
    }

    h2o_config_init(&srv->config);
    srv->config.server_name = h2o_iovec_init(H2O_STRLIT("fieldd"));
    /* Bodies over 1 MiB get a problem+json 413 from http.c; h2o's own plain 413 is only the
     * backstop for bodies too large to buffer at all. */
    srv->config.max_request_entity_size = 4 * SERVER_MAX_BODY;
    h2o_hostconf_t *host =
        h2o_config_register_host(&srv->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    web_register(srv, host); /* /ui/ first: h2o takes the first path that matches */
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof(*handler) + sizeof(server_t *));
    handler->on_req = http_on_req;
    *(server_t **)(handler + 1) = srv;
    h2o_context_init(&srv->ctx, loop, &srv->config);
    srv->accept_ctx.ctx = &srv->ctx;
    srv->accept_ctx.hosts = srv->config.hosts;
    register_routes(srv);

    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    if ((err = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0)) != 0 ||
        (err = uv_listen((uv_stream_t *)&srv->listener, 511, on_connection)) != 0) {
        log_error("cannot listen on %s: %s (is another process using the port?)", listen_at,
                  uv_strerror(err));
        uv_close((uv_handle_t *)&srv->listener, NULL);
        sla_timer_close(srv->sla);
        webhook_sender_close(srv->webhooks);
        sse_hub_close(srv->sse);
        db_pool_close(srv->db, NULL, NULL);
        h2o_context_dispose(&srv->ctx);
        uv_walk(loop, close_any, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        h2o_config_dispose(&srv->config);
        goto out;
    }
    srv->listening = 1;

    uv_signal_init(loop, &srv->sigterm);
    uv_signal_init(loop, &srv->sigint);
    srv->sigterm.data = srv->sigint.data = srv;
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv->sigint, on_signal, SIGINT);
    uv_timer_init(loop, &srv->drain_timer);
    srv->drain_timer.data = srv;

    log_info("listening on http://%s (database pool of %u)", listen_at, dbcfg.size);
    printf("fieldd listening on http://%s\n", listen_at);
    fflush(stdout);

    uv_run(loop, UV_RUN_DEFAULT);
    h2o_config_dispose(&srv->config);
    status = 0;
    log_info("stopped");

out:
    if (uv_loop_close(loop) != 0) {
        /* Only handles h2o keeps for itself can be left here; the process is ending. */
        log_debug("event loop closed with handles still open");
    }
    auth_cache_clear(&srv->auth);
    cache_free(srv->cache);
    metrics_free(&srv->metrics);
    free(srv->routes);
    free(srv);
    free(loop);
    return status;
}
