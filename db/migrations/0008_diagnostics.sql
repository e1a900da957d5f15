-- SPDX-License-Identifier: MIT
-- 0008_diagnostics: what diagnostics through fieldd needs beyond the tables of 0002: frame
-- timing, a unit's read error, the functions that store a unit's results and end a session in
-- one statement each (core/diag.c), commissioning checklists filled from readings, and the
-- gate that keeps a commissioning job from reaching done while a required item fails.
--
-- The checklist gate is a trigger on job, so it holds however the job reaches done: the done
-- action, an outcome, or any other SQL. It raises SQLSTATE ACD01 with the failing items as a
-- JSON array in DETAIL; core/api_jobs.c answers 409 with them.

-- RX frames: milliseconds since the request left; TX: 0.
ALTER TABLE diag_frame ADD COLUMN elapsed_ms real CHECK (elapsed_ms IS NULL OR elapsed_ms >= 0);

-- A unit that answered the scan but could not be read to the end says why.
ALTER TABLE diag_device ADD COLUMN error text;

-- The fieldd process running a session marks it alive now and then; a running session whose
-- mark grew old lost its process (a crash, a power cut) and is ended by acs_diag_reap.
ALTER TABLE diag_session ADD COLUMN heartbeat_at timestamptz DEFAULT now();

-- A unit's results are written again when the first write's outcome is unknown (a broken
-- connection): readings and findings are keyed by their unit, name or code, and the time the
-- unit was read, so that the second write adds nothing.
CREATE UNIQUE INDEX diag_reading_pass_key ON diag_reading (diag_device_id, name, read_at);
CREATE UNIQUE INDEX diag_finding_pass_key ON diag_finding (diag_device_id, code, created_at);

-- Search by finding code and by serial number alone.
CREATE INDEX diag_finding_code_idx ON diag_finding (code, session_id);
CREATE INDEX diag_device_serial_only_idx ON diag_device (serial, session_id)
    WHERE serial IS NOT NULL;
CREATE INDEX diag_device_session_idx ON diag_device (session_id);

-- "2.10.0" >= "2.4.0": versions compare as arrays of integers; anything else is not >=.
CREATE FUNCTION acs_version_ge(a text, b text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN a ~ '^[0-9]+(\.[0-9]+)*$' AND b ~ '^[0-9]+(\.[0-9]+)*$'
                THEN string_to_array(a, '.')::int[] >= string_to_array(b, '.')::int[]
                ELSE false END
$$;

------------------------------------------------------------------------------------------
-- Storing a session's results. Each function is one round trip from fieldd.

-- Frames as JSON [{"seq", "at" (epoch seconds), "direction", "unit_id", "hex", "status",
-- "note", "elapsed_ms"}]; a replay of stored seqs is skipped.
CREATE FUNCTION acs_diag_store_frames(p_session uuid, p_frames jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO diag_frame (session_id, seq, at, direction, unit_id, bytes, status, note,
                            elapsed_ms)
    SELECT p_session, f.seq, to_timestamp(f.at), f.direction, f.unit_id,
           decode(coalesce(f.hex, ''), 'hex'), f.status, f.note, f.elapsed_ms
    FROM jsonb_to_recordset(coalesce(p_frames, '[]')) AS f(seq integer, at double precision,
         direction text, unit_id integer, hex text, status text, note text,
         elapsed_ms real)
    ON CONFLICT (session_id, seq) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- One unit: {"bus", "unit_id", "kind", "vendor", "model", "serial", "firmware_version",
-- "error", "read_at" (epoch seconds of the reading; now when absent),
-- "readings": [{"name", "raw", "value_num" (text), "value_text", "unit"}],
-- "findings": [{"code", "severity", "message", "advice", "data"}],
-- "events": [{"seq", "logged_at" (epoch s or null), "code", "description"}], "frames": [...]}.
-- Matches the unit to the site's inventory by serial number and records a firmware version
-- that changed. Returns {"diag_device_id", "device_id", "unknown"}.
CREATE FUNCTION acs_diag_store_unit(p_session uuid, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    s diag_session;
    dd uuid;
    at timestamptz := coalesce(to_timestamp((p->>'read_at')::double precision), now());
    dev device;
    hw integer;
BEGIN
    SELECT * INTO s FROM diag_session WHERE id = p_session;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no diagnostic session %', p_session USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF nullif(p->>'serial', '') IS NOT NULL AND s.site_id IS NOT NULL THEN
        SELECT * INTO dev FROM device d
        WHERE d.site_id = s.site_id AND d.serial = p->>'serial'
        ORDER BY (d.model = p->>'model') DESC, d.created_at LIMIT 1;
    END IF;
    SELECT (r->>'value_num')::numeric::integer INTO hw
    FROM jsonb_array_elements(coalesce(p->'readings', '[]')) r
    WHERE r->>'name' = 'hw_revision' LIMIT 1;
    INSERT INTO diag_device (session_id, bus, unit_id, kind, vendor, model, serial,
                             firmware_version, hw_revision, device_id, error)
    VALUES (p_session, p->>'bus', (p->>'unit_id')::int, p->>'kind', p->>'vendor', p->>'model',
            nullif(p->>'serial', ''), p->>'firmware_version', hw, dev.id, p->>'error')
    ON CONFLICT (session_id, bus, unit_id) DO UPDATE
        SET kind = EXCLUDED.kind, vendor = EXCLUDED.vendor, model = EXCLUDED.model,
            serial = EXCLUDED.serial, firmware_version = EXCLUDED.firmware_version,
            hw_revision = EXCLUDED.hw_revision, device_id = EXCLUDED.device_id,
            error = EXCLUDED.error
    RETURNING id INTO dd;

    INSERT INTO diag_reading (session_id, diag_device_id, name, raw, value_num, value_text, unit,
                              read_at)
    SELECT p_session, dd, r->>'name',
           ARRAY(SELECT jsonb_array_elements_text(coalesce(r->'raw', '[]'))::int),
           (r->>'value_num')::numeric, r->>'value_text', nullif(r->>'unit', ''), at
    FROM jsonb_array_elements(coalesce(p->'readings', '[]')) r
    ON CONFLICT (diag_device_id, name, read_at) DO NOTHING;

    INSERT INTO diag_finding (session_id, diag_device_id, code, severity, message, advice, data,
                              created_at)
    SELECT p_session, dd, f->>'code', f->>'severity', coalesce(f->>'message', ''),
           coalesce(f->>'advice', ''), coalesce(f->'data', '{}'), at
    FROM jsonb_array_elements(coalesce(p->'findings', '[]')) f
    ON CONFLICT (diag_device_id, code, created_at) DO NOTHING;

    INSERT INTO diag_event_log (session_id, diag_device_id, seq, logged_at, code, description)
    SELECT p_session, dd, (e->>'seq')::bigint,
           CASE WHEN (e->>'logged_at')::double precision > 0
                THEN to_timestamp((e->>'logged_at')::double precision) END,
           (e->>'code')::int, coalesce(e->>'description', '')
    FROM jsonb_array_elements(coalesce(p->'events', '[]')) e
    ON CONFLICT (diag_device_id, seq) DO NOTHING;

    PERFORM acs_diag_store_frames(p_session, p->'frames');

    IF dev.id IS NOT NULL AND nullif(p->>'firmware_version', '') IS NOT NULL
       AND dev.firmware_version IS DISTINCT FROM p->>'firmware_version' THEN
        UPDATE device SET firmware_version = p->>'firmware_version' WHERE id = dev.id;
        INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)
        VALUES (s.engineer_id, 'firmware_seen', 'device', dev.id,
                jsonb_build_object('session_id', p_session, 'from', dev.firmware_version,
                                   'to', p->>'firmware_version'));
    END IF;
    RETURN jsonb_build_object('diag_device_id', dd, 'device_id', dev.id,
                              'unknown', dev.id IS NULL);
END $$;

------------------------------------------------------------------------------------------
-- Commissioning checklists.
--
-- A template item checks one reading (check 'range': min <= value <= max; 'equals': value =
-- min; 'at_least': value >= min), the firmware version ('firmware': >= min_version), or is
-- ticked by the engineer ('manual').

CREATE TABLE diag_checklist_template_item (
    kind         text NOT NULL CHECK (kind IN ('turnstile_controller', 'reader_controller')),
    key          text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,47}$'),
    position     integer NOT NULL,
    title        text NOT NULL,
    required     boolean NOT NULL,
    check_kind   text NOT NULL CHECK (check_kind IN ('range', 'equals', 'at_least', 'firmware',
                                                     'manual')),
    reading      text,
    min_value    numeric,
    max_value    numeric,
    min_version  text,
    expected     text NOT NULL DEFAULT '',
    PRIMARY KEY (kind, key),
    CHECK ((check_kind IN ('range', 'equals', 'at_least')) = (reading IS NOT NULL)),
    CHECK (check_kind <> 'firmware' OR min_version IS NOT NULL)
);

INSERT INTO diag_checklist_template_item
    (kind, key, position, title, required, check_kind, reading, min_value, max_value,
     min_version, expected) VALUES
('turnstile_controller', 'supply_voltage', 1, 'Supply voltage within 11.5-13.5 V', true,
 'range', 'supply_voltage', 11.5, 13.5, NULL, '11.5-13.5 V'),
('turnstile_controller', 'rotor_home', 2, 'Rotor home sensor reports home', true,
 'equals', 'rotor_home', 1, NULL, NULL, 'rotor_home = 1'),
('turnstile_controller', 'firmware', 3, 'Firmware at or above the recommended version', true,
 'firmware', NULL, NULL, NULL, '2.4.0', '>= 2.4.0'),
('turnstile_controller', 'passage_test', 4, 'A person passed in both directions', true,
 'manual', NULL, NULL, NULL, NULL, 'ticked by the engineer'),
('turnstile_controller', 'labels', 5, 'Cables and unit labelled', false,
 'manual', NULL, NULL, NULL, NULL, 'ticked by the engineer'),
('reader_controller', 'supply_voltage', 1, 'Supply voltage within 11.5-13.5 V', true,
 'range', 'supply_voltage', 11.5, 13.5, NULL, '11.5-13.5 V'),
('reader_controller', 'test_card', 2, 'The reader read a test card', true,
 'at_least', 'read_count', 1, NULL, NULL, 'read_count >= 1'),
('reader_controller', 'firmware', 3, 'Firmware at or above the recommended version', true,
 'firmware', NULL, NULL, NULL, '1.9.0', '>= 1.9.0'),
('reader_controller', 'mounting', 4, 'Reader mounted and sealed', false,
 'manual', NULL, NULL, NULL, NULL, 'ticked by the engineer');

-- One item of one unit (by serial) on one job. Auto items follow the latest session's readings;
-- manual items keep what the engineer ticked.
CREATE TABLE diag_checklist_item (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id      uuid NOT NULL REFERENCES job (id),
    serial      text NOT NULL,
    device_id   uuid REFERENCES device (id),
    kind        text NOT NULL,
    key         text NOT NULL,
    auto        boolean NOT NULL,
    status      text NOT NULL CHECK (status IN ('pass', 'fail', 'pending')),
    value       text,
    note        text NOT NULL DEFAULT '',
    session_id  uuid REFERENCES diag_session (id),
    filled_by   uuid REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (kind, key) REFERENCES diag_checklist_template_item (kind, key),
    UNIQUE (job_id, serial, key)
);
CREATE INDEX diag_checklist_item_job_idx ON diag_checklist_item (job_id);
CREATE TRIGGER diag_checklist_item_updated BEFORE UPDATE ON diag_checklist_item
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- A senior engineer lets a commissioning job reach done although required items fail.
CREATE TABLE diag_checklist_override (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id       uuid NOT NULL REFERENCES job (id),
    senior_id    uuid NOT NULL REFERENCES app_user (id),
    reason       text NOT NULL CHECK (length(btrim(reason)) > 0),
    failing      jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX diag_checklist_override_job_idx ON diag_checklist_override (job_id, created_at DESC);
CREATE TRIGGER diag_checklist_override_append_only BEFORE UPDATE OR DELETE
    ON diag_checklist_override FOR EACH ROW EXECUTE FUNCTION acs_append_only();

-- Fill the checklist of a commissioning job from one of its sessions: every unit read gets
-- the items of its kind; auto items are evaluated from this session's readings (a reading
-- that is missing fails), manual items are created pending and never overwritten.
CREATE FUNCTION acs_diag_fill_checklist(p_session uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO diag_checklist_item (job_id, serial, device_id, kind, key, auto, status, value,
                                     session_id)
    SELECT s.job_id, d.serial, d.device_id, d.kind, t.key, t.check_kind <> 'manual',
           CASE WHEN t.check_kind = 'manual' THEN 'pending'
                WHEN t.check_kind = 'firmware' THEN
                    CASE WHEN acs_version_ge(d.firmware_version, t.min_version)
                         THEN 'pass' ELSE 'fail' END
                WHEN r.value_num IS NULL THEN 'fail'
                WHEN t.check_kind = 'range' AND r.value_num BETWEEN t.min_value AND t.max_value
                    THEN 'pass'
                WHEN t.check_kind = 'equals' AND r.value_num = t.min_value THEN 'pass'
                WHEN t.check_kind = 'at_least' AND r.value_num >= t.min_value THEN 'pass'
                ELSE 'fail' END,
           CASE WHEN t.check_kind = 'manual' THEN NULL
                WHEN t.check_kind = 'firmware' THEN d.firmware_version
                WHEN r.value_num IS NULL THEN 'not read'
                ELSE trim_scale(r.value_num)::text || coalesce(' ' || r.unit, '') END,
           s.id
    FROM diag_session s
    JOIN job j ON j.id = s.job_id AND j.kind = 'commissioning'
    JOIN diag_device d ON d.session_id = s.id AND d.serial IS NOT NULL AND d.kind IS NOT NULL
    JOIN diag_checklist_template_item t ON t.kind = d.kind
    LEFT JOIN LATERAL (SELECT x.value_num, x.unit FROM diag_reading x
                       WHERE x.diag_device_id = d.id AND x.name = t.reading
                       ORDER BY x.read_at DESC LIMIT 1) r ON true
    WHERE s.id = p_session
    ON CONFLICT (job_id, serial, key) DO UPDATE
        SET status = EXCLUDED.status, value = EXCLUDED.value, session_id = EXCLUDED.session_id,
            device_id = coalesce(EXCLUDED.device_id, diag_checklist_item.device_id)
        WHERE diag_checklist_item.auto;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- The items that keep a commissioning job from done: required and not passed.
CREATE FUNCTION acs_diag_checklist_blocking(p_job uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'serial', i.serial, 'key', i.key,
                                                 'title', t.title, 'status', i.status,
                                                 'value', i.value, 'expected', t.expected)
                              ORDER BY i.serial, t.position), '[]')
    FROM diag_checklist_item i
    JOIN diag_checklist_template_item t ON t.kind = i.kind AND t.key = i.key
    WHERE i.job_id = p_job AND t.required AND i.status <> 'pass'
$$;

-- End a session: the last frames, the status and reason, a diag_session_end live event, and
-- the checklist of a commissioning job. Returns the session's job id (or null).
CREATE FUNCTION acs_diag_end(p_session uuid, p_status text, p_reason text, p_frames jsonb)
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    j uuid;
BEGIN
    PERFORM acs_diag_store_frames(p_session, p_frames);
    UPDATE diag_session SET status = p_status, reason = p_reason,
                            ended_at = greatest(now(), started_at)
    WHERE id = p_session AND status = 'running'
    RETURNING job_id INTO j;
    IF FOUND THEN
        -- every instance relays it to its /api/v1/events streams (core/server.c)
        PERFORM pg_notify('acs_changes', json_build_object(
            'event', 'diag_session_end', 'session_id', p_session, 'job_id', j,
            'status', p_status)::text);
    END IF;
    IF j IS NOT NULL THEN
        PERFORM acs_diag_fill_checklist(p_session);
    END IF;
    RETURN j;
END $$;

-- End the running sessions whose process stopped marking them alive for p_stale (p_live: the
-- sessions the calling process runs, never reaped): partial when
-- a unit was read, failed otherwise, with a reason that says so. Rows taken with SKIP LOCKED,
-- so several fieldd instances reaping at once end each session once. Returns how many.
CREATE FUNCTION acs_diag_reap(p_stale interval, p_live uuid[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    n integer := 0;
    read_units integer;
BEGIN
    FOR s IN SELECT x.id, x.heartbeat_at FROM diag_session x
             WHERE x.status = 'running'
               AND coalesce(x.heartbeat_at, x.started_at) < now() - p_stale
               AND x.id <> ALL (coalesce(p_live, '{}'))
             FOR UPDATE SKIP LOCKED
    LOOP
        SELECT count(*) INTO read_units FROM diag_device d
        WHERE d.session_id = s.id AND d.error IS NULL;
        PERFORM acs_diag_end(s.id, CASE WHEN read_units > 0 THEN 'partial' ELSE 'failed' END,
            format('the fieldd process running this session stopped without ending it (last '
                   'sign of life %s); %s units had been read and are kept',
                   to_char(coalesce(s.heartbeat_at, now()) AT TIME ZONE 'UTC',
                           'YYYY-MM-DD HH24:MI:SS "UTC"'), read_units),
            '[]');
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- The gate.
CREATE FUNCTION acs_job_checklist_gate() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    failing jsonb;
    names text;
BEGIN
    IF NEW.kind <> 'commissioning' OR NEW.status <> 'done' OR OLD.status = 'done' THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM diag_checklist_override o WHERE o.job_id = NEW.id) THEN
        RETURN NEW;
    END IF;
    failing := acs_diag_checklist_blocking(NEW.id);
    IF jsonb_array_length(failing) = 0 THEN
        RETURN NEW;
    END IF;
    SELECT string_agg(format('%s %s is %s%s (expected %s)', f->>'serial', f->>'key',
                             f->>'status', coalesce(': ' || (f->>'value'), ''),
                             f->>'expected'), '; ')
    INTO names FROM jsonb_array_elements(failing) f;
    RAISE EXCEPTION 'commissioning job % cannot be done while required checklist items are not passed: % (fix the unit and run diagnostics again, tick the manual items, or have a senior engineer override with a reason)',
        NEW.id, names
        USING ERRCODE = 'ACD01', DETAIL = failing::text;
END $$;

CREATE TRIGGER job_checklist_gate BEFORE UPDATE OF status ON job
    FOR EACH ROW EXECUTE FUNCTION acs_job_checklist_gate();

------------------------------------------------------------------------------------------
-- Views the API renders (core/api_diag.c).

-- A session as the API shows it in lists and details.
CREATE FUNCTION acs_diag_session_json(s diag_session) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT to_jsonb(s) || jsonb_build_object(
        'engineer_name', (SELECT u.name FROM app_user u WHERE u.id = s.engineer_id),
        'units_found', (SELECT count(*) FROM diag_device d WHERE d.session_id = s.id),
        'findings', (SELECT jsonb_build_object(
                        'info', count(*) FILTER (WHERE f.severity = 'info'),
                        'warning', count(*) FILTER (WHERE f.severity = 'warning'),
                        'critical', count(*) FILTER (WHERE f.severity = 'critical'))
                     FROM diag_finding f WHERE f.session_id = s.id),
        'review', (SELECT jsonb_build_object('id', r.id, 'verdict', r.verdict,
                                             'comment', r.comment,
                                             'reviewer_id', r.reviewer_id,
                                             'created_at', r.created_at)
                   FROM review r WHERE r.session_id = s.id
                   ORDER BY r.created_at DESC, r.id DESC LIMIT 1))
$$;

-- Who may read a session: everyone but engineers; an engineer, the sessions they ran and
-- those of jobs assigned to them.
CREATE FUNCTION acs_diag_visible(s diag_session, p_role text, p_user uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_role <> 'engineer' OR s.engineer_id = p_user
        OR EXISTS (SELECT 1 FROM job j WHERE j.id = s.job_id AND j.engineer_id = p_user)
$$;

-- A job's checklist with what blocks done and the override, if any.
CREATE FUNCTION acs_diag_checklist_json(p_job uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'job_id', p_job,
        'items', coalesce((SELECT jsonb_agg(to_jsonb(i) || jsonb_build_object(
                                'title', t.title, 'required', t.required,
                                'expected', t.expected, 'check', t.check_kind)
                            ORDER BY i.serial, t.position)
                           FROM diag_checklist_item i
                           JOIN diag_checklist_template_item t
                             ON t.kind = i.kind AND t.key = i.key
                           WHERE i.job_id = p_job), '[]'),
        'blocking', acs_diag_checklist_blocking(p_job),
        'override', (SELECT to_jsonb(o) FROM diag_checklist_override o WHERE o.job_id = p_job
                     ORDER BY o.created_at DESC LIMIT 1))
$$;
