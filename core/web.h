/* SPDX-License-Identifier: MIT */
/*
 * web.h - the web UI that fieldd serves itself: static pages from FIELDD_WEB_DIR under /ui/,
 * and the sign-in cookie that lets a browser use the API without handling tokens in scripts.
 *
 * A person signs in with the bearer token `fieldd user add|token` printed for them:
 * POST /api/v1/session with "Authorization: Bearer <token>" answers with an HttpOnly,
 * SameSite=Strict cookie holding that token, which auth.c then accepts in place of the
 * header. A request authenticated by the cookie that could change data (any method but GET
 * and HEAD) must also carry the header "X-ACS-CSRF: 1": a page of another site cannot add a
 * custom header without a CORS preflight, which fieldd never grants.
 */
#ifndef ACS_WEB_H
#define ACS_WEB_H

#include <h2o.h>

typedef struct server server_t;

#define WEB_COOKIE_NAME "acs_session"
#define WEB_CSRF_HEADER "x-acs-csrf"

/*
 * Serve the web UI: register the path /ui/ on host (files of FIELDD_WEB_DIR, default the
 * source tree's web/ folder, with a 404 page for what is not there), and add the routes
 * GET / (redirect to /ui/), POST and DELETE /api/v1/session. Must run before
 * h2o_context_init and before the catch-all path "/" is registered on host, since h2o picks
 * the first registered path that matches. A missing folder is logged, not fatal: the API
 * keeps working and /ui/ answers the 404 page naming the folder. Returns 0.
 */
int web_register(server_t *srv, h2o_hostconf_t *host);

/*
 * The token in the request's session cookie. Return 0 and point *tok (into the request's
 * header memory, not NUL-terminated) and *len at it; ACS_ENOTFOUND when there is no such
 * cookie (*tok is then NULL and *len 0).
 */
int web_session_token(const h2o_req_t *req, const char **tok, size_t *len);

/*
 * Whether a request authenticated by the cookie may proceed: 1 for GET and HEAD, and for
 * other methods when the X-ACS-CSRF header is present; else 0.
 */
int web_csrf_ok(const h2o_req_t *req);

#endif
