/* SPDX-License-Identifier: MIT */
/*
 * api_firmware.c - /api/v1/firmware: signed firmware images kept in the database (upload,
 * list, get), firmware updates run by fieldd as part of a job (start, progress), a device's
 * firmware history, the fleet's versions per model and the recommended version of each model
 * (docs/firmware.md, "In the service").
 *
 * An upload is checked here with acs_fw's fwimage_check against the keys fieldd trusts
 * (FIELDD_FIRMWARE_KEYS): a truncated, corrupted, unsigned-by-a-trusted-key or forged image is
 * refused with the sentence acs-fw gives for it. An update's permission, job, device, image
 * and "one update per device" checks are one statement that also inserts its running row;
 * the flashing itself is fwupdate.c's. Built without hardware support, uploads and updates
 * answer 501; what is stored can still be read.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"
#include "diag.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "sse.h"
#ifdef ACS_WITH_HARDWARE
#include "fwupdate.h"
#endif

#define ROLES_UPLOAD (ROLE_ADMIN | ROLE_SENIOR)
#define ROLES_RUN    (ROLE_ADMIN | ROLE_SENIOR | ROLE_ENGINEER)
#define ROLES_FLEET  (ROLE_ADMIN | ROLE_SENIOR | ROLE_HEAD | ROLE_DISPATCHER)

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Base64 of a 1 MiB image; the request body limit keeps real uploads below it. */
#define IMAGE_B64_MAX 1400000

#ifdef ACS_WITH_HARDWARE
static const char *const transports[] = {"rtu", "tcp", NULL};

static const jv_field_t image_fields[] = {
    {"id", JV_UUID, 0, NULL, 0, 0},
    {"image", JV_STRING, JV_REQUIRED, NULL, 1, IMAGE_B64_MAX},
    {"notes", JV_STRING, 0, NULL, 0, 10000},
};

static const jv_field_t update_fields[] = {
    {"id", JV_UUID, 0, NULL, 0, 0},
    {"job_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"device_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"image_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"transport", JV_ENUM, JV_REQUIRED, transports, 0, 0},
    {"settings", JV_OBJECT, 0, NULL, 0, 0},
    {"unit", JV_INT, JV_NULLABLE, NULL, 1, 247},
    {"confirm", JV_BOOL, 0, NULL, 0, 0},
    {"allow_downgrade", JV_BOOL, 0, NULL, 0, 0},
};
#endif

static const jv_field_t recommended_fields[] = {
    {"version", JV_STRING, JV_REQUIRED, NULL, 5, 20},
};

/* ---------------------------------------------------------------------------------------- */
/* Statements                                                                                */

#ifdef ACS_WITH_HARDWARE
/* $1 id or null, $2 image hex, $3 header fields (jsonb: model, hw_rev_min, hw_rev_max,
 * version, sha256, size, key_id, build_time, payload_sha256, notes; hashes in hex), $4 user */
static const char sql_upload[] =
    "WITH m AS (SELECT $3::jsonb AS j),"
    " prev AS (SELECT x.* FROM firmware_image x, m"
    "          WHERE x.sha256 = decode(m.j->>'sha256', 'hex') OR x.id = $1::uuid),"
    " ins AS (INSERT INTO firmware_image (id, model, hw_rev_min, hw_rev_max, version, sha256,"
    "                                     size_bytes, signed_by, notes, uploaded_by, data,"
    "                                     build_time, payload_sha256)"
    "         SELECT coalesce($1::uuid, gen_random_uuid()), m.j->>'model',"
    "                (m.j->>'hw_rev_min')::int, (m.j->>'hw_rev_max')::int, m.j->>'version',"
    "                decode(m.j->>'sha256', 'hex'), (m.j->>'size')::bigint, m.j->>'key_id',"
    "                coalesce(m.j->>'notes', ''), $4::uuid, decode($2, 'hex'),"
    "                to_timestamp((m.j->>'build_time')::double precision),"
    "                decode(m.j->>'payload_sha256', 'hex')"
    "         FROM m WHERE NOT EXISTS (SELECT 1 FROM prev) RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $4::uuid, 'create', 'firmware_image', ins.id,"
    "                  jsonb_build_object('model', ins.model, 'version', ins.version,"
    "                                     'key_id', ins.signed_by) FROM ins)"
    " SELECT 'created', acs_firmware_image_json(ins)::text, ins.id::text FROM ins"
    " UNION ALL"
    " SELECT CASE WHEN p.sha256 = decode(m.j->>'sha256', 'hex') THEN 'replay' ELSE 'conflict' END,"
    "        acs_firmware_image_json(p)::text, p.id::text FROM prev p, m";

/* $1 id or null, $2 job, $3 device, $4 image, $5 transport, $6 settings, $7 unit or null,
 * $8 role, $9 user, $10 bus name, $11 ids of the updates running in this process */
static const char sql_start[] =
    "WITH j AS (SELECT x.id, x.site_id, x.status, x.engineer_id FROM job x WHERE x.id = $2::uuid),"
    " d AS (SELECT x.id, x.site_id, x.model, x.firmware_version, x.unit_id FROM device x"
    "       WHERE x.id = $3::uuid),"
    " i AS (SELECT x.id, x.model, x.version, x.withdrawn_at, x.size_bytes,"
    "              x.data IS NOT NULL AS has_data FROM firmware_image x WHERE x.id = $4::uuid),"
    " prev AS (SELECT x.* FROM firmware_update x WHERE x.id = $1::uuid),"
    " run AS (SELECT x.id, x.updated_at < now() - interval '30 seconds'"
    "                      AND NOT (x.id = ANY ($11::uuid[])) AS stale"
    "         FROM firmware_update x WHERE x.device_id = $3::uuid AND x.status = 'running'),"
    " chk AS (SELECT CASE"
    "   WHEN EXISTS (SELECT 1 FROM prev) THEN"
    "     CASE WHEN (SELECT p.job_id = $2::uuid AND p.device_id = $3::uuid"
    "                       AND p.image_id = $4::uuid FROM prev p)"
    "          THEN 'replay' ELSE 'conflict' END"
    "   WHEN NOT EXISTS (SELECT 1 FROM j) THEN 'no_job'"
    "   WHEN $8 = 'engineer' AND (SELECT engineer_id FROM j) IS DISTINCT FROM $9::uuid"
    "     THEN 'forbidden'"
    "   WHEN (SELECT status FROM j) IN ('cancelled', 'done') THEN 'closed'"
    "   WHEN $8 = 'engineer' AND (SELECT status FROM j) <> 'on_site' THEN 'not_on_site'"
    "   WHEN NOT EXISTS (SELECT 1 FROM d) THEN 'no_device'"
    "   WHEN (SELECT site_id FROM d) <> (SELECT site_id FROM j) THEN 'other_site'"
    "   WHEN NOT EXISTS (SELECT 1 FROM i WHERE has_data) THEN 'no_image'"
    "   WHEN (SELECT withdrawn_at FROM i) IS NOT NULL THEN 'withdrawn'"
    "   WHEN (SELECT model FROM i) <> (SELECT model FROM d) THEN 'wrong_model'"
    "   WHEN $7::int IS NULL AND (SELECT unit_id FROM d) IS NULL THEN 'no_unit'"
    "   WHEN EXISTS (SELECT 1 FROM run WHERE NOT stale) THEN 'running' END AS problem),"
    " reap AS (UPDATE firmware_update x SET status = 'interrupted', ended_at = now(),"
    "          result = 'fieldd stopped while the update ran; the device keeps the bytes it"
    " acknowledged: start the update again with the same image to resume'"
    "          FROM chk WHERE chk.problem IS NULL AND x.id IN (SELECT id FROM run WHERE stale)"
    "          RETURNING x.id),"
    " ins AS (INSERT INTO firmware_update (id, device_id, job_id, image_id, engineer_id,"
    "                                      from_version, to_version, transport, bus, unit_id,"
    "                                      settings, bytes_total)"
    "         SELECT coalesce($1::uuid, gen_random_uuid()), d.id, j.id, i.id, $9::uuid,"
    "                d.firmware_version, i.version, $5, $10, coalesce($7::int, d.unit_id),"
    "                $6::jsonb, i.size_bytes"
    "         FROM j, d, i, chk WHERE chk.problem IS NULL AND (SELECT count(*) FROM reap) >= 0"
    "         RETURNING *)"
    " SELECT coalesce(chk.problem, 'created'),"
    "        coalesce((SELECT acs_firmware_update_json(ins)::text FROM ins),"
    "                 (SELECT acs_firmware_update_json(p)::text FROM prev p)),"
    "        coalesce((SELECT id::text FROM ins), (SELECT id::text FROM prev)),"
    "        (SELECT status FROM j),"
    "        (SELECT encode(x.data, 'hex') FROM firmware_image x JOIN ins ON x.id = ins.image_id),"
    "        (SELECT unit_id FROM ins),"
    "        (SELECT string_agg(id::text, ', ') FROM run WHERE NOT stale),"
    "        (SELECT model FROM d), (SELECT model FROM i)"
    " FROM chk";

static const char sql_fail_start[] =
    "UPDATE firmware_update SET status = 'failed', ended_at = now(), result = $2"
    " WHERE id = $1::uuid AND status = 'running'";
#endif

static const char sql_images[] =
    "SELECT json_build_object('items', coalesce(json_agg(acs_firmware_image_json(x)"
    "        ORDER BY x.model, acs_fw_version_key(x.version) DESC), '[]'))::text"
    " FROM firmware_image x WHERE ($1::text IS NULL OR x.model = $1)";

static const char sql_image[] =
    "SELECT acs_firmware_image_json(x)::text FROM firmware_image x WHERE x.id = $1::uuid";

static const char sql_update[] =
    "SELECT acs_firmware_update_json(u)::text FROM firmware_update u WHERE u.id = $1::uuid";

static const char sql_history[] =
    "SELECT json_build_object('device_id', d.id, 'model', d.model, 'serial', d.serial,"
    "        'firmware_version', d.firmware_version,"
    "        'recommended', (SELECT r.version FROM firmware_recommended r WHERE r.model = d.model),"
    "        'updates', coalesce((SELECT json_agg(acs_firmware_update_json(u)"
    "                                             ORDER BY u.started_at DESC, u.id)"
    "                             FROM firmware_update u WHERE u.device_id = d.id), '[]'))::text"
    " FROM device d WHERE d.id = $1::uuid";

static const char sql_fleet[] = "SELECT acs_firmware_fleet()::text";

/* $1 model, $2 version, $3 user */
static const char sql_recommend[] =
    "WITH up AS (INSERT INTO firmware_recommended (model, version, set_by)"
    "            VALUES ($1, $2, $3::uuid)"
    "            ON CONFLICT (model) DO UPDATE SET version = EXCLUDED.version,"
    "                                              set_by = EXCLUDED.set_by"
    "            RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $3::uuid, 'firmware_recommended', 'model', NULL,"
    "                  jsonb_build_object('model', up.model, 'version', up.version) FROM up)"
    " SELECT json_build_object('model', model, 'version', version, 'set_by', set_by,"
    "                          'updated_at', updated_at)::text FROM up";

/* ---------------------------------------------------------------------------------------- */
/* Images                                                                                    */

#ifdef ACS_WITH_HARDWARE
static const char *hex_of(api_req_t *r, const uint8_t *bin, size_t len)
{
    char *hex = h2o_mem_alloc_pool(&r->req->pool, 2 * len + 1);
    sodium_bin2hex(hex, 2 * len + 1, bin, len);
    return hex;
}

static void upload(api_req_t *r)
{
    if (api_body_check(r, image_fields, N(image_fields), JV_CREATE, 0) != 0)
        return;
    const fwimage_keyring_t *ring = fwupdate_keys();
    if (ring->nkeys == 0) {
        api_problem(r, 503, "unavailable", NULL, NULL,
                    "fieldd trusts no firmware signing key: set FIELDD_FIRMWARE_KEYS to the "
                    "acs-fw .pub file(s) and restart it");
        return;
    }
    const char *b64 = json_string_value(json_object_get(r->body, "image"));
    size_t b64len = strlen(b64);
    size_t cap = b64len / 4 * 3 + 3;
    uint8_t *img = h2o_mem_alloc_pool(&r->req->pool, cap);
    size_t len = 0;
    if (sodium_base642bin(img, cap, b64, b64len, " \r\n\t", &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        api_problem(r, 400, "validation", "image", NULL,
                    "\"image\" is not base64 (the image file's bytes, RFC 4648 with padding)");
        return;
    }
    fwimage_header_t h;
    char why[512];
    int rc = fwimage_check(img, len, ring, &h, why, sizeof(why));
    if (rc != 0) {
        api_problem(r, 422, "firmware-image", "image",
                    json_pack("{s:s}", "code", fwimage_err_name(rc)), "%s: %s",
                    fwimage_strerror(rc), why);
        return;
    }
    uint8_t sha[32];
    crypto_hash_sha256(sha, img, len);
    char version[32];
    fwimage_version_format(&h.version, version, sizeof(version));
    json_t *meta =
        json_pack("{s:s, s:i, s:i, s:s, s:s, s:I, s:s, s:I, s:s}", "model", h.model, "hw_rev_min",
                  (int)h.hw_rev_min, "hw_rev_max", (int)h.hw_rev_max, "version", version, "sha256",
                  hex_of(r, sha, sizeof(sha)), "size", (json_int_t)len, "key_id",
                  hex_of(r, h.key_id, sizeof(h.key_id)), "build_time", (json_int_t)h.build_time,
                  "payload_sha256", hex_of(r, h.payload_sha256, sizeof(h.payload_sha256)));
    const json_t *notes = json_object_get(r->body, "notes");
    if (meta != NULL && json_is_string(notes))
        json_object_set_new(meta, "notes", json_string(json_string_value(notes)));
    const json_t *id = json_object_get(r->body, "id");
    const char *params[] = {json_is_string(id) ? json_string_value(id) : NULL, hex_of(r, img, len),
                            api_json_text(r, meta), r->user.id};
    json_decref(meta);
    api_create(r, sql_upload, 4, params, "firmware image", "/api/v1/firmware/images");
}
#endif

static void upload_entry(api_req_t *r)
{
#ifdef ACS_WITH_HARDWARE
    upload(r);
#else
    api_problem(r, 501, "not-implemented", NULL, NULL,
                "this fieldd was built without hardware support (ACS_WITH_HARDWARE=OFF): it "
                "cannot check firmware images; stored images can still be read");
#endif
}

static void on_row(api_req_t *r, int err, PGresult *res)
{
    api_reply_row(r, err, res, (const char *)r->data);
}

static void images(api_req_t *r)
{
    static const char *const allowed[] = {"model", NULL};
    if (api_query_check(r, allowed) != 0)
        return;
    const char *params[] = {qs_get(&r->qs, "model")};
    r->data = (void *)"firmware image list";
    api_query(r, sql_images, 1, params, on_row);
}

static void image(api_req_t *r)
{
    if (api_path_uuid(r, 0, "firmware image") != 0)
        return;
    const char *params[] = {r->path[0]};
    r->data = (void *)"firmware image";
    api_query(r, sql_image, 1, params, on_row);
}

/* ---------------------------------------------------------------------------------------- */
/* Updates                                                                                   */

#ifdef ACS_WITH_HARDWARE
typedef struct {
    diag_settings_t set;
} start_state_t;

static void on_fail_stored(int err, PGresult *res, void *arg)
{
    (void)res;
    if (err != 0)
        log_error("could not mark firmware update %s failed", (const char *)arg);
    free(arg);
}

static void fail_row(api_req_t *r, const char *id, const char *why)
{
    char *copy = strdup(id);
    const char *params[] = {id, why};
    if (copy == NULL ||
        db_query(r->srv->db, sql_fail_start, 2, params, on_fail_stored, copy, NULL) != 0)
        free(copy);
}

static void on_start(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "firmware update");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *body = PQgetvalue(res, 0, 1);
    const char *id = PQgetvalue(res, 0, 2);
    const char *job_status = PQgetvalue(res, 0, 3);
    const char *job_id = json_string_value(json_object_get(r->body, "job_id"));
    const char *device_id = json_string_value(json_object_get(r->body, "device_id"));
    const char *image_id = json_string_value(json_object_get(r->body, "image_id"));
    if (strcmp(outcome, "replay") == 0) {
        api_reply_json(r, 200, body, strlen(body));
    } else if (strcmp(outcome, "conflict") == 0) {
        api_problem(r, 409, "conflict", "id", NULL,
                    "firmware update %s already exists with a different job, device or image", id);
    } else if (strcmp(outcome, "no_job") == 0) {
        api_problem(r, 400, "validation", "job_id", NULL, "job %s does not exist", job_id);
    } else if (strcmp(outcome, "forbidden") == 0) {
        api_problem(r, 403, "forbidden", "job_id", NULL,
                    "job %s is not assigned to you; engineers update firmware only on their own "
                    "jobs",
                    job_id);
    } else if (strcmp(outcome, "closed") == 0) {
        api_problem(r, 409, "conflict", "job_id", json_pack("{s:s}", "current_status", job_status),
                    "job %s is %s: firmware is updated on jobs that are not done or cancelled",
                    job_id, job_status);
    } else if (strcmp(outcome, "not_on_site") == 0) {
        api_problem(r, 409, "conflict", "job_id", json_pack("{s:s}", "current_status", job_status),
                    "job %s is %s: an engineer updates firmware once the job is on_site", job_id,
                    job_status);
    } else if (strcmp(outcome, "no_device") == 0) {
        api_problem(r, 400, "validation", "device_id", NULL, "device %s does not exist", device_id);
    } else if (strcmp(outcome, "other_site") == 0) {
        api_problem(r, 400, "validation", "device_id", NULL,
                    "device %s is not on the site of job %s", device_id, job_id);
    } else if (strcmp(outcome, "no_image") == 0) {
        api_problem(r, 400, "validation", "image_id", NULL,
                    "firmware image %s does not exist (upload it with POST "
                    "/api/v1/firmware/images)",
                    image_id);
    } else if (strcmp(outcome, "withdrawn") == 0) {
        api_problem(r, 409, "conflict", "image_id", NULL,
                    "firmware image %s is withdrawn: choose another", image_id);
    } else if (strcmp(outcome, "wrong_model") == 0) {
        api_problem(r, 400, "validation", "image_id", NULL,
                    "firmware image %s is for model %s, device %s is a %s", image_id,
                    PQgetvalue(res, 0, 8), device_id, PQgetvalue(res, 0, 7));
    } else if (strcmp(outcome, "no_unit") == 0) {
        api_problem(r, 400, "validation", "unit", NULL,
                    "device %s has no unit id in the inventory: give \"unit\"", device_id);
    } else if (strcmp(outcome, "running") == 0) {
        api_problem(r, 409, "conflict", "device_id",
                    json_pack("{s:s}", "running_update", PQgetvalue(res, 0, 6)),
                    "device %s is being updated (firmware update %s): wait for it to end",
                    device_id, PQgetvalue(res, 0, 6));
    } else {
        start_state_t *st = r->data;
        const char *hex = PQgetvalue(res, 0, 4);
        size_t hexlen = (size_t)PQgetlength(res, 0, 4);
        size_t len = hexlen / 2;
        uint8_t *img = malloc(len > 0 ? len : 1);
        char msg[700];
        int rc;
        if (img == NULL || sodium_hex2bin(img, len, hex, hexlen, NULL, &len, NULL) != 0) {
            snprintf(msg, sizeof(msg), "the stored image could not be read");
            rc = ACS_ENOMEM;
        } else {
            rc = fwupdate_start(id, device_id, &st->set, atoi(PQgetvalue(res, 0, 5)),
                                json_is_true(json_object_get(r->body, "allow_downgrade")), img, len,
                                msg, sizeof(msg));
        }
        if (rc != 0) {
            free(img);
            fail_row(r, id, msg);
            if (rc == ACS_ECONFLICT)
                api_problem(r, 409, "conflict", "settings", NULL, "%s", msg);
            else
                api_problem(r, 503, "unavailable", NULL, NULL,
                            "the firmware update could not start: %s", msg);
            return;
        }
        char loc[80];
        snprintf(loc, sizeof(loc), "/api/v1/firmware/updates/%s", id);
        api_reply_created(r, loc, body, strlen(body));
    }
}

static void start(api_req_t *r)
{
    if (api_body_check(r, update_fields, N(update_fields), JV_CREATE, 0) != 0)
        return;
    if (!json_is_true(json_object_get(r->body, "confirm"))) {
        api_problem(r, 400, "validation", "confirm", NULL,
                    "a firmware update restarts the device and interrupts access control while "
                    "it runs: send \"confirm\": true to run it");
        return;
    }
    start_state_t *st = h2o_mem_alloc_pool(&r->req->pool, sizeof(*st));
    char field[128], err[512];
    json_t *norm = NULL;
    const char *transport = json_string_value(json_object_get(r->body, "transport"));
    if (diag_settings_parse(transport, json_object_get(r->body, "settings"), &st->set, &norm, field,
                            sizeof(field), err, sizeof(err)) != 0) {
        api_problem(r, 400, "validation", field, NULL, "%s", err);
        return;
    }
    if (st->set.tcp && st->set.nendpoints != 1) {
        json_decref(norm);
        api_problem(r, 400, "validation", "settings.endpoints", NULL,
                    "a firmware update talks to one device: give exactly one endpoint");
        return;
    }
    const char *bus = st->set.tcp ? st->set.endpoints[0] : st->set.port;
    const char *user = diag_bus_user(&st->set);
    const char *upd = user == NULL ? fwupdate_bus_user(bus) : NULL;
    if (user != NULL || upd != NULL) {
        json_decref(norm);
        api_problem(r, 409, "conflict", "settings", NULL,
                    "%s is in use by %s %s (one master per line: wait for it to end)", bus,
                    user != NULL ? "diagnostic session" : "firmware update",
                    user != NULL ? user : upd);
        return;
    }
    char running[4096];
    if (fwupdate_running_ids(running, sizeof(running)) != 0)
        snprintf(running, sizeof(running), "{}");
    r->data = st;
    const json_t *id = json_object_get(r->body, "id");
    const json_t *unit = json_object_get(r->body, "unit");
    char unit_text[8];
    snprintf(unit_text, sizeof(unit_text), "%d",
             json_is_integer(unit) ? (int)json_integer_value(unit) : 0);
    const char *params[] = {json_is_string(id) ? json_string_value(id) : NULL,
                            json_string_value(json_object_get(r->body, "job_id")),
                            json_string_value(json_object_get(r->body, "device_id")),
                            json_string_value(json_object_get(r->body, "image_id")),
                            transport,
                            api_json_text(r, norm),
                            json_is_integer(unit) ? unit_text : NULL,
                            role_name(r->user.role),
                            r->user.id,
                            bus,
                            running};
    json_decref(norm);
    api_query(r, sql_start, 11, params, on_start);
}
#endif

static void start_entry(api_req_t *r)
{
#ifdef ACS_WITH_HARDWARE
    start(r);
#else
    api_problem(r, 501, "not-implemented", NULL, NULL,
                "this fieldd was built without hardware support (ACS_WITH_HARDWARE=OFF): it "
                "cannot update firmware; stored updates can still be read");
#endif
}

static void on_update(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "firmware update");
        return;
    }
    const char *text = PQgetvalue(res, 0, 0);
#ifdef ACS_WITH_HARDWARE
    fwupdate_progress_t p;
    json_t *o = NULL;
    if (fwupdate_progress(r->path[0], &p) == 0 && (o = json_loads(text, 0, NULL)) != NULL &&
        strcmp(json_string_value(json_object_get(o, "status")), "running") == 0) {
        /* Live figures from the worker are fresher than the row's last tick. */
        json_object_set_new(o, "step", json_string(p.step));
        json_object_set_new(o, "bytes_done", json_integer(p.done));
        json_object_set_new(o, "bytes_total", json_integer(p.total));
        json_object_set_new(o, "resumed_from", json_integer(p.resumed_from));
        json_object_set_new(o, "retries", json_integer(p.retries));
        char *live = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (live != NULL) {
            api_reply_json(r, 200, live, strlen(live));
            free(live);
            return;
        }
    } else {
        json_decref(o);
    }
#endif
    api_reply_json(r, 200, text, strlen(text));
}

static void update(api_req_t *r)
{
    if (api_path_uuid(r, 0, "firmware update") != 0)
        return;
    const char *params[] = {r->path[0]};
    api_query(r, sql_update, 1, params, on_update);
}

static void on_events(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "firmware update");
        return;
    }
    if (r->srv->shutting_down) {
        api_problem(r, 503, "unavailable", NULL, NULL, "the service is shutting down");
        return;
    }
    const char *text = PQgetvalue(res, 0, 0);
    json_t *o = json_loads(text, 0, NULL);
    int running =
        o != NULL && strcmp(json_string_value(json_object_get(o, "status")), "running") == 0;
#ifdef ACS_WITH_HARDWARE
    if (running) {
        /* The stream is the reply: count it now, as it may last for minutes. */
        r->replied = 1;
        if (fwupdate_attach(r->path[0], r->req) == 0) {
            json_decref(o);
            metrics_observe(&r->srv->metrics, r->route->name, r->route->method, 200, 0.0);
            return;
        }
        r->replied = 0;
        /* Not running here: it may have ended since the row was read (its end is committed
         * before this process lets it go), so read it once more. */
        if (r->data == NULL) {
            json_decref(o);
            r->data = r;
            const char *params[] = {r->path[0]};
            api_query(r, sql_update, 1, params, on_events);
            return;
        }
    }
#endif
    /* Over (or running in another instance): its end as the only event. */
    sse_hub_t *hub;
    if (sse_hub_new(r->srv->loop, &hub) != 0) {
        json_decref(o);
        api_problem(r, 500, "internal", NULL, NULL, "out of memory");
        return;
    }
    r->replied = 1;
    metrics_observe(&r->srv->metrics, r->route->name, r->route->method, 200, 0.0);
    sse_hub_attach(hub, r->req);
    if (!running && o != NULL) {
        json_t *end = json_pack(
            "{s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(o, "id"), "status",
            json_object_get(o, "status"), "result", json_object_get(o, "result"), "bytes_done",
            json_object_get(o, "bytes_done"), "bytes_total", json_object_get(o, "bytes_total"));
        char *etext = end != NULL ? json_dumps(end, JSON_COMPACT) : NULL;
        if (etext != NULL)
            sse_hub_publish(hub, "update_end", etext);
        free(etext);
        json_decref(end);
    }
    json_decref(o);
    sse_hub_close(hub);
}

static void events(api_req_t *r)
{
    if (api_path_uuid(r, 0, "firmware update") != 0 ||
        api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    r->data = NULL;
    const char *params[] = {r->path[0]};
    api_query(r, sql_update, 1, params, on_events);
}

static void history(api_req_t *r)
{
    if (api_path_uuid(r, 0, "device") != 0)
        return;
    const char *params[] = {r->path[0]};
    r->data = (void *)"device";
    api_query(r, sql_history, 1, params, on_row);
}

/* ---------------------------------------------------------------------------------------- */
/* Fleet                                                                                     */

static void fleet(api_req_t *r)
{
    r->data = (void *)"fleet";
    api_query(r, sql_fleet, 0, NULL, on_row);
}

static int version_valid(const char *v)
{
    int parts = 0, digits = 0;
    for (const char *p = v;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 5)
                return 0;
        } else if ((*p == '.' || *p == '\0') && digits > 0) {
            parts++;
            digits = 0;
            if (*p == '\0')
                break;
        } else {
            return 0;
        }
    }
    return parts == 3;
}

static void recommend(api_req_t *r)
{
    if (api_body_check(r, recommended_fields, N(recommended_fields), JV_CREATE, 0) != 0)
        return;
    const char *model = r->path[0];
    size_t mlen = strlen(model);
    if (mlen < 1 || mlen > 100) {
        api_problem(r, 400, "validation", "model", NULL, "a model is 1 to 100 characters");
        return;
    }
    const char *version = json_string_value(json_object_get(r->body, "version"));
    if (!version_valid(version)) {
        api_problem(r, 400, "validation", "version", NULL,
                    "version \"%s\" is not MAJOR.MINOR.PATCH (numbers, such as 2.6.0)", version);
        return;
    }
    const char *params[] = {model, version, r->user.id};
    r->data = (void *)"model";
    api_query(r, sql_recommend, 3, params, on_row);
}

void api_firmware_shutdown(server_t *srv)
{
    (void)srv;
#ifdef ACS_WITH_HARDWARE
    fwupdate_shutdown();
#endif
}

void api_firmware_register(server_t *srv)
{
#ifdef ACS_WITH_HARDWARE
    char err[512];
    if (fwupdate_init(srv, err, sizeof(err)) != 0)
        log_warn("firmware updates: %s", err);
    else if (fwupdate_keys()->nkeys == 0)
        log_warn("firmware updates: FIELDD_FIRMWARE_KEYS is not set: image uploads are refused");
#endif
    static const api_route_t routes[] = {
        {"POST", "/api/v1/firmware/images", ROLES_UPLOAD, upload_entry, "firmware.upload", NULL},
        {"GET", "/api/v1/firmware/images", ROLE_ANY, images, "firmware.images", NULL},
        {"GET", "/api/v1/firmware/images/{}", ROLE_ANY, image, "firmware.image", NULL},
        {"POST", "/api/v1/firmware/updates", ROLES_RUN, start_entry, "firmware.start", NULL},
        {"GET", "/api/v1/firmware/updates/{}", ROLE_ANY, update, "firmware.update", NULL},
        {"GET", "/api/v1/firmware/updates/{}/events", ROLE_ANY, events, "firmware.events", NULL},
        {"GET", "/api/v1/firmware/fleet", ROLES_FLEET, fleet, "firmware.fleet", NULL},
        {"PUT", "/api/v1/firmware/recommended/{}", ROLE_ADMIN, recommend, "firmware.recommend",
         NULL},
        {"GET", "/api/v1/devices/{}/firmware-history", ROLE_ANY, history, "firmware.history", NULL},
    };
    for (size_t i = 0; i < N(routes); i++)
        api_route_add(srv, &routes[i]);
}
