/* SPDX-License-Identifier: MIT */
/*
 * web.c - the web UI of fieldd: the static pages of web/ under /ui/, and the session cookie
 * a browser signs in with (web.h).
 *
 * The pages are plain HTML, CSS and JavaScript modules with no build step, so h2o's own file
 * handler serves them (content types from its mime map, ETag and Last-Modified, 304s; h2o
 * normalises the path, so "/ui/../x" cannot leave the folder, and directory listings stay
 * off). Every answer under /ui/ carries "Cache-Control: no-cache" (the names of the files do
 * not change when their content does, so a browser revalidates each time, and a 304 is
 * cheap), a Content-Security-Policy that only allows the pages' own scripts and styles, and
 * nosniff. A path with no file behind it falls through to the handler below, which answers a
 * small 404 page.
 *
 * The session routes go into the API's route table like any resource:
 *   GET    / and /ui         302 to /ui/
 *   POST   /api/v1/session   with Authorization: Bearer <token>: sets the cookie, answers who
 *   DELETE /api/v1/session   clears the cookie
 */
#include "web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acs_error.h"
#include "api.h"
#include "log.h"
#include "server.h"

#ifndef ACS_WEB_DIR
#error "ACS_WEB_DIR must name the source tree's web/ folder (set by core/CMakeLists.txt)"
#endif

/* Twelve hours: a laptop left signed in overnight asks for the token again. */
#define WEB_COOKIE_MAX_AGE "43200"

static const char not_found_page[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Not found - acsfield</title><link rel=\"stylesheet\" href=\"/ui/style.css\">"
    "</head><body><main class=\"narrow\"><h1>Page not found</h1>"
    "<p class=\"problem\" id=\"not-found\">There is no page at this address.</p>"
    "<p><a href=\"/ui/\">Go to the start page</a></p></main></body></html>\n";

static int on_not_found(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    req->res.status = 404;
    req->res.reason = "Not Found";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/html; charset=utf-8"));
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        req->res.content_length = sizeof(not_found_page) - 1;
        h2o_send_inline(req, NULL, 0);
        return 0;
    }
    h2o_send_inline(req, not_found_page, sizeof(not_found_page) - 1);
    return 0;
}

/* Names that are no h2o token; the headers filter keeps pointers to them. */
static h2o_iovec_t hdr_csp = {H2O_STRLIT("content-security-policy")};
static h2o_iovec_t hdr_nosniff = {H2O_STRLIT("x-content-type-options")};
static h2o_iovec_t hdr_referrer = {H2O_STRLIT("referrer-policy")};

static h2o_headers_command_t ui_headers[] = {
    {H2O_HEADERS_CMD_SET, &H2O_TOKEN_CACHE_CONTROL->buf, {H2O_STRLIT("no-cache")}},
    {H2O_HEADERS_CMD_SET,
     &hdr_csp,
     {H2O_STRLIT("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                 "form-action 'self'; frame-ancestors 'none'")}},
    {H2O_HEADERS_CMD_SET, &hdr_nosniff, {H2O_STRLIT("nosniff")}},
    {H2O_HEADERS_CMD_SET, &hdr_referrer, {H2O_STRLIT("same-origin")}},
    {H2O_HEADERS_CMD_NULL, NULL, {NULL, 0}},
};

/* --- the session cookie ------------------------------------------------------------------ */

int web_session_token(const h2o_req_t *req, const char **tok, size_t *len)
{
    static const char name[] = WEB_COOKIE_NAME "=";
    const size_t nlen = sizeof(name) - 1;
    *tok = NULL;
    *len = 0;
    /* Browsers send one Cookie header ("a=1; b=2"); HTTP/2 may split it into several. */
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) != -1;) {
        const char *p = req->headers.entries[i].value.base;
        const char *end = p + req->headers.entries[i].value.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *stop = semi != NULL ? semi : end;
            if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0) {
                *tok = p + nlen;
                *len = (size_t)(stop - *tok);
                while (*len > 0 && (*tok)[*len - 1] == ' ')
                    (*len)--;
                return 0;
            }
            p = stop;
        }
    }
    return ACS_ENOTFOUND;
}

int web_csrf_ok(const h2o_req_t *req)
{
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
        h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        return 1;
    return h2o_find_header_by_str(&req->headers, H2O_STRLIT(WEB_CSRF_HEADER), -1) != -1;
}

/* POST /api/v1/session: auth.c has checked the token already; only a token sent in the
 * Authorization header may become a cookie (a cookie cannot renew itself). */
static void session_create(api_req_t *r)
{
    h2o_req_t *req = r->req;
    if (api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0) {
        api_problem(r, 400, "validation", NULL, NULL,
                    "sign in by sending your token as \"Authorization: Bearer <token>\" "
                    "(`fieldd user token` prints a new one)");
        return;
    }
    /* auth.c accepted "Bearer <token>", so the value has that shape. */
    h2o_iovec_t v = req->headers.entries[i].value;
    const char *tok = v.base + 7;
    size_t tok_len = v.len - 7;
    h2o_iovec_t cookie = h2o_concat(
        &req->pool, h2o_iovec_init(H2O_STRLIT(WEB_COOKIE_NAME "=")), h2o_iovec_init(tok, tok_len),
        h2o_iovec_init(
            H2O_STRLIT("; Path=/; HttpOnly; SameSite=Strict; Max-Age=" WEB_COOKIE_MAX_AGE)));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, cookie.base,
                   cookie.len);

    json_t *o = json_pack("{s:s, s:s, s:s}", "id", r->user.id, "name", r->user.name, "role",
                          role_name(r->user.role));
    const char *text = api_json_text(r, o);
    json_decref(o);
    if (text == NULL) {
        api_problem(r, 500, "internal", NULL, NULL, "out of memory answering the sign-in");
        return;
    }
    api_reply_json(r, 200, text, strlen(text));
}

/* DELETE /api/v1/session: needs no valid token, so that a stale cookie can be cleared. */
static void session_delete(api_req_t *r)
{
    h2o_req_t *req = r->req;
    if (api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL,
                   H2O_STRLIT(WEB_COOKIE_NAME "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    static const char body[] = "{\"signed_out\":true}";
    api_reply_json(r, 200, body, sizeof(body) - 1);
}

/* GET / and GET /ui: the service's address opened in a browser shows the web UI. */
static void root_redirect(api_req_t *r)
{
    r->replied = 1;
    metrics_observe(&r->srv->metrics, r->route->name, r->route->method, 302, 0.0);
    h2o_send_redirect(r->req, 302, "Found", H2O_STRLIT("/ui/"));
}

int web_register(server_t *srv, h2o_hostconf_t *host)
{
    const char *dir = getenv("FIELDD_WEB_DIR");
    if (dir == NULL || *dir == '\0')
        dir = ACS_WEB_DIR;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        log_warn("FIELDD_WEB_DIR=\"%s\" is not a folder: the web UI at /ui/ answers 404 "
                 "(point FIELDD_WEB_DIR at the web/ folder of the source tree)",
                 dir);
    else
        log_info("web UI: /ui/ serves %s", dir);

    h2o_pathconf_t *ui = h2o_config_register_path(host, "/ui/", 0);
    h2o_mimemap_t *types = h2o_mimemap_create();
    h2o_mimemap_define_mimetype(types, "html", "text/html; charset=utf-8", NULL);
    h2o_mimemap_define_mimetype(types, "css", "text/css; charset=utf-8", NULL);
    h2o_mimemap_define_mimetype(types, "js", "text/javascript; charset=utf-8", NULL);
    h2o_mimemap_define_mimetype(types, "mjs", "text/javascript; charset=utf-8", NULL);
    h2o_mimemap_define_mimetype(types, "svg", "image/svg+xml", NULL);
    h2o_mimemap_define_mimetype(types, "json", "application/json", NULL);
    static const char *index_files[] = {"index.html", NULL};
    h2o_file_register(ui, dir, index_files, types, 0);
    h2o_mem_release_shared(types);
    h2o_handler_t *fallback = h2o_create_handler(ui, sizeof(*fallback));
    fallback->on_req = on_not_found;
    h2o_headers_register(ui, ui_headers);

    static const api_route_t routes[] = {
        {"GET", "/", ROLE_NONE, root_redirect, "web.root", NULL},
        {"GET", "/ui", ROLE_NONE, root_redirect, "web.root", NULL},
        {"POST", "/api/v1/session", ROLE_ANY, session_create, "session.create", NULL},
        {"DELETE", "/api/v1/session", ROLE_NONE, session_delete, "session.delete", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
    return 0;
}
