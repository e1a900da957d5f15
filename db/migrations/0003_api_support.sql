-- SPDX-License-Identifier: MIT
-- 0003_api_support: SQL functions the HTTP API's statements share, and constraints that
-- keep a job on the site of its ticket and of its project.

-- Keyset pagination: a cursor is "<created_at as epoch microseconds>_<id>", exact to the
-- microsecond (extract() returns numeric), and opaque to clients.
CREATE FUNCTION acs_cursor(ts timestamptz, id uuid) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (extract(epoch FROM ts) * 1000000)::bigint::text || '_' || id::text
$$;

CREATE FUNCTION acs_cursor_ts(us bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT 'epoch'::timestamptz + us * interval '1 microsecond'
$$;

-- Idempotent creates: true when every field the client sent has the stored value. `as_row` is
-- the sent object passed through the table's row type (jsonb_populate_record), so that
-- "2026-11-24T10:00:00Z" and the stored "2026-11-24T10:00:00+00:00" compare equal.
CREATE FUNCTION acs_matches(stored jsonb, sent jsonb, as_row jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(bool_and(stored -> k IS NOT DISTINCT FROM as_row -> k), true)
    FROM jsonb_object_keys(sent) AS k
    WHERE as_row ? k
$$;

-- A job is on the site of its ticket and of its project: composite keys make the database
-- refuse anything else, whoever writes.
ALTER TABLE ticket ADD CONSTRAINT ticket_id_site_key UNIQUE (id, site_id);
ALTER TABLE project ADD CONSTRAINT project_id_site_key UNIQUE (id, site_id);
ALTER TABLE job ADD CONSTRAINT job_ticket_site_fkey
    FOREIGN KEY (ticket_id, site_id) REFERENCES ticket (id, site_id);
ALTER TABLE job ADD CONSTRAINT job_project_site_fkey
    FOREIGN KEY (project_id, site_id) REFERENCES project (id, site_id);

-- Every committed change to a table the API lists is announced on channel acs_changes, so that
-- each fieldd instance drops list responses it cached (core/cache.h). Statement-level, so a
-- bulk change costs one notification, and PostgreSQL folds repeats within a transaction.
CREATE FUNCTION acs_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('acs_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER client_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON client
    FOR EACH STATEMENT EXECUTE FUNCTION acs_notify_change();
CREATE TRIGGER site_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON site
    FOR EACH STATEMENT EXECUTE FUNCTION acs_notify_change();
CREATE TRIGGER device_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON device
    FOR EACH STATEMENT EXECUTE FUNCTION acs_notify_change();
CREATE TRIGGER ticket_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ticket
    FOR EACH STATEMENT EXECUTE FUNCTION acs_notify_change();
CREATE TRIGGER job_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON job
    FOR EACH STATEMENT EXECUTE FUNCTION acs_notify_change();
