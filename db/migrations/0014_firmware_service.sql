-- SPDX-License-Identifier: MIT
-- 0014_firmware_service: firmware updates run by fieldd (core/fwupdate.c, core/api_firmware.c;
-- docs/firmware.md, "In the service") and the fleet's firmware picture.
--
-- Extends firmware_image and firmware_update of 0002 rather than adding tables beside them:
--   firmware_image: the image itself (bytea) and the header fields acs_fw's fwimage_check
--     read from it; signed_by (0002) holds the signing key's id in hex;
--   firmware_update: the bus and unit it ran on, the transport settings, bytes acknowledged
--     by the device, where a resumed transfer started, and the result sentence; log (0002)
--     holds the progress lines, one per line; status keeps 0002's words:
--
--       running -> succeeded | failed | interrupted
--
--     interrupted: the device stopped answering part way; a new update of the same device
--     with the same image resumes where the device's acknowledged offset stands.
--   firmware_recommended: the version each model should run (set by an admin);
--   acs_fw_version_key(): a version as an integer array, for ordering;
--   acs_firmware_fleet(): per model, devices per version and those below the recommended one.

ALTER TABLE firmware_image
    ADD COLUMN data            bytea,
    ADD COLUMN build_time      timestamptz,
    ADD COLUMN payload_sha256  bytea CHECK (payload_sha256 IS NULL OR length(payload_sha256) = 32),
    ADD CONSTRAINT firmware_image_data_size CHECK (data IS NULL OR length(data) = size_bytes);

COMMENT ON COLUMN firmware_image.data IS
    'The whole signed image as uploaded (header, payload, signature), checked by fieldd '
    'against its trusted keys (FIELDD_FIRMWARE_KEYS) before it is stored.';

ALTER TABLE firmware_update
    ADD COLUMN transport     text CHECK (transport IN ('rtu', 'tcp')),
    ADD COLUMN bus           text,
    ADD COLUMN unit_id       integer CHECK (unit_id BETWEEN 1 AND 247),
    ADD COLUMN settings      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    ADD COLUMN bytes_done    bigint NOT NULL DEFAULT 0 CHECK (bytes_done >= 0),
    ADD COLUMN bytes_total   bigint NOT NULL DEFAULT 0 CHECK (bytes_total >= 0),
    ADD COLUMN resumed_from  bigint NOT NULL DEFAULT 0 CHECK (resumed_from >= 0),
    ADD COLUMN result        text;

-- At most one update runs per device.
CREATE UNIQUE INDEX firmware_update_one_running ON firmware_update (device_id)
    WHERE status = 'running';

CREATE TABLE firmware_recommended (
    model       text PRIMARY KEY CHECK (length(model) BETWEEN 1 AND 100),
    version     text NOT NULL CHECK (version ~ '^[0-9]+\.[0-9]+\.[0-9]+$'),
    set_by      uuid REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER firmware_recommended_updated BEFORE UPDATE ON firmware_recommended
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- "2.5.0" -> {2,5,0}; a suffix ("-rc1") is ignored; NULL for text that is not a version.
CREATE FUNCTION acs_fw_version_key(v text) RETURNS integer[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v ~ '^[0-9]{1,9}(\.[0-9]{1,9}){0,3}([-+].*)?$'
                THEN string_to_array(substring(v FROM '^[0-9.]+'), '.')::integer[] END
$$;

-- The JSON of one update, as the API returns it (the image bytes are not part of it).
CREATE FUNCTION acs_firmware_update_json(u firmware_update) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', u.id, 'device_id', u.device_id, 'job_id', u.job_id, 'image_id', u.image_id,
        'engineer_id', u.engineer_id, 'from_version', u.from_version,
        'to_version', u.to_version, 'transport', u.transport, 'bus', u.bus,
        'unit_id', u.unit_id, 'settings', u.settings, 'status', u.status,
        'started_at', u.started_at, 'ended_at', u.ended_at, 'bytes_done', u.bytes_done,
        'bytes_total', u.bytes_total, 'resumed_from', u.resumed_from, 'result', u.result,
        'log', CASE WHEN u.log = '' THEN '[]'::jsonb
                    ELSE to_jsonb(string_to_array(u.log, E'\n')) END)
$$;

-- The fleet: for each model in the inventory (or with a recommended version), the number of
-- devices per firmware version (NULL: never read), the recommended version, and the devices
-- below it (an unknown version counts as below) with their site and client.
CREATE FUNCTION acs_firmware_fleet() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH models AS (SELECT model FROM device UNION SELECT model FROM firmware_recommended),
    per_version AS (
        SELECT d.model, d.firmware_version, count(*) AS n FROM device d
        GROUP BY d.model, d.firmware_version),
    below AS (
        SELECT d.model, jsonb_agg(jsonb_build_object(
                   'device_id', d.id, 'serial', d.serial, 'firmware_version', d.firmware_version,
                   'site_id', s.id, 'site', s.name, 'client_id', c.id, 'client', c.name)
                   ORDER BY c.name, s.name, d.serial) AS list, count(*) AS n
        FROM device d JOIN firmware_recommended r ON r.model = d.model
        JOIN site s ON s.id = d.site_id JOIN client c ON c.id = s.client_id
        WHERE d.firmware_version IS NULL
           OR acs_fw_version_key(d.firmware_version) IS NULL
           OR acs_fw_version_key(d.firmware_version) < acs_fw_version_key(r.version)
        GROUP BY d.model)
    SELECT jsonb_build_object('models', coalesce(jsonb_agg(jsonb_build_object(
        'model', m.model,
        'recommended', r.version,
        'devices', coalesce((SELECT sum(p.n) FROM per_version p WHERE p.model = m.model), 0),
        'versions', coalesce((SELECT jsonb_agg(jsonb_build_object('version', p.firmware_version,
                                                                  'devices', p.n)
                                               ORDER BY acs_fw_version_key(p.firmware_version)
                                                        DESC NULLS LAST, p.firmware_version)
                              FROM per_version p WHERE p.model = m.model), '[]'),
        'below_recommended_count', coalesce(b.n, 0),
        'below_recommended', coalesce(b.list, '[]'))
        ORDER BY m.model), '[]'))
    FROM models m LEFT JOIN firmware_recommended r ON r.model = m.model
    LEFT JOIN below b ON b.model = m.model
$$;

-- The JSON of one image, as the API returns it: the header fields, hashes in hex, the signing
-- key's id as key_id; not the image bytes.
CREATE FUNCTION acs_firmware_image_json(i firmware_image) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', i.id, 'model', i.model, 'hw_rev_min', i.hw_rev_min, 'hw_rev_max', i.hw_rev_max,
        'version', i.version, 'sha256', encode(i.sha256, 'hex'), 'size_bytes', i.size_bytes,
        'key_id', i.signed_by, 'build_time', i.build_time,
        'payload_sha256', encode(i.payload_sha256, 'hex'), 'notes', i.notes,
        'uploaded_by', i.uploaded_by, 'withdrawn_at', i.withdrawn_at,
        'created_at', i.created_at)
$$;
