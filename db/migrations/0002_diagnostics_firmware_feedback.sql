-- SPDX-License-Identifier: MIT
-- 0002_diagnostics_firmware_feedback: on-site diagnostic sessions (units found, readings,
-- findings, event logs, raw Modbus frames) and their reviews; firmware images and updates;
-- customer satisfaction responses.
--
-- Follows the conventions stated at the top of 0001_core.sql: UUID keys with defaults that
-- accept a client-supplied value (an offline laptop replays a session with the ids it made),
-- created_at/updated_at kept by acs_set_updated_at() on rows that change, text enumerations
-- with a CHECK, and append-only history (acs_append_only()) for rows that record what was
-- observed or decided: readings, findings, event-log records, frames, reviews.

-- A diagnostic session belongs to the site of its job: diag_session references (job, site).
ALTER TABLE job ADD CONSTRAINT job_id_site_key UNIQUE (id, site_id);

------------------------------------------------------------------------------------------
-- Diagnostic sessions.
--
--   running -> complete | partial | failed
--
-- settings holds the transport's parameters as the laptop used them, e.g.
--   rtu: {"port": "/dev/ttyUSB0", "baud": 19200, "parity": "E", "data_bits": 8,
--         "stop_bits": 1, "unit_from": 1, "unit_to": 32, "timeout_ms": 120}
--   tcp: {"endpoints": ["10.20.0.15:502"], "unit_from": 1, "unit_to": 1, "timeout_ms": 500}
-- A session may run without a site (bench test of a returned unit); one for a job is on the
-- job's site.

CREATE TABLE diag_session (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id       uuid,
    ticket_id    uuid REFERENCES ticket (id),
    site_id      uuid REFERENCES site (id),
    engineer_id  uuid NOT NULL REFERENCES app_user (id),
    transport    text NOT NULL CHECK (transport IN ('rtu', 'tcp')),
    settings     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    started_at   timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    status       text NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'complete', 'partial', 'failed')),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (job_id, site_id) REFERENCES job (id, site_id),
    CHECK (job_id IS NULL OR site_id IS NOT NULL),
    CHECK (ended_at IS NULL OR ended_at >= started_at),
    -- a running session has not ended; a finished one has
    CHECK ((status = 'running') = (ended_at IS NULL)),
    -- a session that did not complete says why
    CHECK (status NOT IN ('partial', 'failed') OR reason IS NOT NULL)
);
CREATE INDEX diag_session_job_idx ON diag_session (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX diag_session_ticket_idx ON diag_session (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX diag_session_site_idx ON diag_session (site_id, started_at DESC)
    WHERE site_id IS NOT NULL;
CREATE INDEX diag_session_engineer_idx ON diag_session (engineer_id, started_at DESC);
CREATE INDEX diag_session_started_idx ON diag_session (started_at DESC, id DESC);
CREATE INDEX diag_session_running_idx ON diag_session (started_at) WHERE status = 'running';
CREATE TRIGGER diag_session_updated BEFORE UPDATE ON diag_session
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- The units a session found on its bus(es): what they said about themselves, and the device
-- of the inventory they were matched to (set by the laptop or later by a senior engineer).
-- bus is the port or endpoint the unit answered on ("/dev/ttyUSB0", "10.20.0.15:502").
CREATE TABLE diag_device (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id        uuid NOT NULL REFERENCES diag_session (id),
    bus               text NOT NULL CHECK (length(bus) BETWEEN 1 AND 200),
    unit_id           integer NOT NULL CHECK (unit_id BETWEEN 0 AND 255),
    kind              text CHECK (kind IN ('turnstile_controller', 'reader_controller')),
    vendor            text,
    model             text,
    serial            text,
    firmware_version  text,
    hw_revision       integer CHECK (hw_revision >= 0),
    device_id         uuid REFERENCES device (id),
    found_at          timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, bus, unit_id),
    -- lets a session's readings, findings and log records name (unit, session) together so
    -- that they cannot disagree
    UNIQUE (id, session_id)
);
CREATE INDEX diag_device_device_idx ON diag_device (device_id, found_at DESC)
    WHERE device_id IS NOT NULL;
CREATE INDEX diag_device_serial_idx ON diag_device (model, serial) WHERE serial IS NOT NULL;
CREATE TRIGGER diag_device_updated BEFORE UPDATE ON diag_device
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- One value read from a unit: the register words as read (raw, 0-65535 each) and the value
-- the device profile decoded from them, as a number or as text (an enumeration, a string).
CREATE TABLE diag_reading (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id      uuid NOT NULL REFERENCES diag_session (id),
    diag_device_id  uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    raw             integer[] CHECK (raw IS NULL OR (0 <= ALL (raw) AND 65535 >= ALL (raw))),
    value_num       numeric,
    value_text      text,
    unit            text,
    read_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (diag_device_id, session_id) REFERENCES diag_device (id, session_id)
);
CREATE INDEX diag_reading_session_idx ON diag_reading (session_id, read_at);
-- a device over time: its readings by name
CREATE INDEX diag_reading_device_idx ON diag_reading (diag_device_id, name);
CREATE TRIGGER diag_reading_append_only BEFORE UPDATE OR DELETE ON diag_reading
    FOR EACH ROW EXECUTE FUNCTION acs_append_only();

-- What the health rules concluded. A finding may concern the whole bus (no unit answered),
-- so the unit is optional.
CREATE TABLE diag_finding (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id      uuid NOT NULL REFERENCES diag_session (id),
    diag_device_id  uuid,
    code            text NOT NULL CHECK (code ~ '^[A-Z][A-Z0-9_]{1,63}$'),
    severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    message         text NOT NULL DEFAULT '',
    advice          text NOT NULL DEFAULT '',
    data            jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (diag_device_id, session_id) REFERENCES diag_device (id, session_id)
);
CREATE INDEX diag_finding_session_idx ON diag_finding (session_id);
CREATE INDEX diag_finding_device_idx ON diag_finding (diag_device_id, code)
    WHERE diag_device_id IS NOT NULL;
CREATE INDEX diag_finding_critical_idx ON diag_finding (created_at DESC)
    WHERE severity = 'critical';
CREATE TRIGGER diag_finding_append_only BEFORE UPDATE OR DELETE ON diag_finding
    FOR EACH ROW EXECUTE FUNCTION acs_append_only();

-- Records of a unit's own event log (passages, alarms, power events) as read in a session.
-- seq is the record's index in the device; logged_at is the device's clock, which may be
-- wrong or unset, so it is kept apart from read_at.
CREATE TABLE diag_event_log (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id      uuid NOT NULL REFERENCES diag_session (id),
    diag_device_id  uuid NOT NULL,
    seq             bigint NOT NULL CHECK (seq >= 0),
    logged_at       timestamptz,
    code            integer NOT NULL CHECK (code BETWEEN 0 AND 65535),
    description     text NOT NULL DEFAULT '',
    raw             bytea,
    read_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (diag_device_id, session_id) REFERENCES diag_device (id, session_id),
    UNIQUE (diag_device_id, seq)
);
CREATE INDEX diag_event_log_session_idx ON diag_event_log (session_id);
CREATE TRIGGER diag_event_log_append_only BEFORE UPDATE OR DELETE ON diag_event_log
    FOR EACH ROW EXECUTE FUNCTION acs_append_only();

-- Every Modbus frame of a session as it went over the wire (RTU ADU with CRC, or TCP ADU with
-- MBAP header). seq numbers the frames of a session, so a replay can skip the ones stored
-- (ON CONFLICT (session_id, seq) DO NOTHING); a timeout is an rx row without bytes.
CREATE TABLE diag_frame (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES diag_session (id),
    seq         integer NOT NULL CHECK (seq >= 0),
    at          timestamptz NOT NULL,
    direction   text NOT NULL CHECK (direction IN ('tx', 'rx')),
    unit_id     integer CHECK (unit_id BETWEEN 0 AND 255),
    bytes       bytea NOT NULL DEFAULT '' CHECK (length(bytes) <= 512),
    status      text NOT NULL DEFAULT 'ok'
                CHECK (status IN ('ok', 'timeout', 'crc_error', 'exception', 'unexpected')),
    note        text,
    UNIQUE (session_id, seq)
);
CREATE INDEX diag_frame_session_at_idx ON diag_frame (session_id, at);
CREATE TRIGGER diag_frame_append_only BEFORE UPDATE OR DELETE ON diag_frame
    FOR EACH ROW EXECUTE FUNCTION acs_append_only();

-- A senior engineer's verdict on a session. Reviews are history: a new review supersedes the
-- previous one; the latest is the current verdict. Sending a session back needs a reason.
CREATE TABLE review (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id   uuid NOT NULL REFERENCES diag_session (id),
    reviewer_id  uuid NOT NULL REFERENCES app_user (id),
    verdict      text NOT NULL CHECK (verdict IN ('approved', 'needs_rework')),
    comment      text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (verdict <> 'needs_rework' OR length(btrim(comment)) > 0)
);
CREATE INDEX review_session_idx ON review (session_id, created_at DESC);
CREATE INDEX review_reviewer_idx ON review (reviewer_id, created_at DESC);
CREATE TRIGGER review_append_only BEFORE UPDATE OR DELETE ON review
    FOR EACH ROW EXECUTE FUNCTION acs_append_only();

------------------------------------------------------------------------------------------
-- Firmware.
--
-- An image is for one model and a range of hardware revisions; sha256 is of the image file,
-- signed_by the id of the signing key (acs-fw). An image is never changed once uploaded;
-- withdrawn_at retires it from new updates.

CREATE TABLE firmware_image (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model         text NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
    hw_rev_min    integer NOT NULL DEFAULT 0 CHECK (hw_rev_min >= 0),
    hw_rev_max    integer CHECK (hw_rev_max >= 0),
    version       text NOT NULL CHECK (version ~ '^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$'),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
    signed_by     text NOT NULL CHECK (length(signed_by) BETWEEN 1 AND 200),
    notes         text NOT NULL DEFAULT '',
    uploaded_by   uuid REFERENCES app_user (id),
    withdrawn_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (hw_rev_max IS NULL OR hw_rev_max >= hw_rev_min),
    CONSTRAINT firmware_image_model_version_key UNIQUE (model, version)
);
CREATE UNIQUE INDEX firmware_image_sha256_key ON firmware_image (sha256);
CREATE TRIGGER firmware_image_updated BEFORE UPDATE ON firmware_image
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- One attempt to put an image on a device.
--
--   running -> succeeded | failed | rolled_back | interrupted
--
-- interrupted: the write stopped part way (power loss, cable) and may be resumed by a new
-- attempt; rolled_back: the bootloader went back to the previous image.
CREATE TABLE firmware_update (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    device_id     uuid NOT NULL REFERENCES device (id),
    job_id        uuid REFERENCES job (id),
    session_id    uuid REFERENCES diag_session (id),
    image_id      uuid NOT NULL REFERENCES firmware_image (id),
    engineer_id   uuid REFERENCES app_user (id),
    from_version  text,
    to_version    text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'rolled_back',
                                    'interrupted')),
    log           text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'running') = (ended_at IS NULL)),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX firmware_update_device_idx ON firmware_update (device_id, started_at DESC);
CREATE INDEX firmware_update_job_idx ON firmware_update (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX firmware_update_image_idx ON firmware_update (image_id);
CREATE INDEX firmware_update_running_idx ON firmware_update (started_at) WHERE status = 'running';
CREATE TRIGGER firmware_update_updated BEFORE UPDATE ON firmware_update
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

------------------------------------------------------------------------------------------
-- Customer satisfaction: one survey per ticket, answered through a link that carries a
-- token; only the token's SHA-256 is kept (as for api_token). The row is made when the survey
-- is sent; csat/nps/comment/responded_at are filled when the client answers.

CREATE TABLE csat_response (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ticket_id     uuid NOT NULL UNIQUE REFERENCES ticket (id),
    token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    csat          integer CHECK (csat BETWEEN 1 AND 5),
    nps           integer CHECK (nps BETWEEN 0 AND 10),
    comment       text NOT NULL DEFAULT '',
    responded_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- an answer has a time, and a time has an answer
    CHECK ((responded_at IS NULL) = (csat IS NULL AND nps IS NULL))
);
CREATE INDEX csat_response_responded_idx ON csat_response (responded_at)
    WHERE responded_at IS NOT NULL;
CREATE TRIGGER csat_response_updated BEFORE UPDATE ON csat_response
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();
