-- SPDX-License-Identifier: MIT
-- 0001_core: people, clients and their sites and devices, tickets, jobs, projects, outcomes,
-- and the audit log.
--
-- Conventions of every migration:
--  * keys are UUIDs that a writer may choose itself (an offline laptop replays its work with
--    the ids it generated), so every id has a default but accepts a supplied value;
--  * each row that changes carries created_at/updated_at, updated_at kept by a trigger;
--  * every change of state is an event row written in the same transaction as the state
--    column (ticket_event, job_event); event tables are append-only (a trigger refuses
--    UPDATE and DELETE);
--  * enumerations are text with a CHECK, so that an error names the allowed values.

CREATE FUNCTION acs_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE FUNCTION acs_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

-- A time zone must be one PostgreSQL knows, so that working-time arithmetic can use it.
-- pg_timezone_names reads the whole tz database on every query (milliseconds), so the names
-- are kept in a table; a name PostgreSQL learned later (a newer tz database) is looked up
-- there once and remembered.
CREATE TABLE acs_time_zone (name text PRIMARY KEY);
INSERT INTO acs_time_zone SELECT DISTINCT name FROM pg_timezone_names;

CREATE FUNCTION acs_time_zone_known(p_name text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM acs_time_zone WHERE name = p_name) THEN
        RETURN true;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_name) THEN
        INSERT INTO acs_time_zone VALUES (p_name) ON CONFLICT DO NOTHING;
        RETURN true;
    END IF;
    RETURN false;
END $$;

CREATE FUNCTION acs_check_time_zone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT acs_time_zone_known(NEW.time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%"', NEW.time_zone
            USING ERRCODE = 'check_violation', CONSTRAINT = 'site_time_zone_known';
    END IF;
    RETURN NEW;
END $$;

------------------------------------------------------------------------------------------
-- People and their credentials.

CREATE TABLE app_user (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role        text NOT NULL
                CHECK (role IN ('admin', 'head', 'dispatcher', 'engineer', 'senior')),
    email       text,
    phone       text,
    skills      text[] NOT NULL DEFAULT '{}',
    region      text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_user_role_idx ON app_user (role) WHERE active;
CREATE TRIGGER app_user_updated BEFORE UPDATE ON app_user
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- Bearer tokens: only the SHA-256 of the token is kept; the token itself is shown once.
CREATE TABLE api_token (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX api_token_user_idx ON api_token (user_id);

------------------------------------------------------------------------------------------
-- Clients, sites, devices.

CREATE TABLE client (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    contact_name   text,
    contact_phone  text,
    contact_email  text,
    crm_ref        text,
    notes          text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX client_crm_ref_key ON client (crm_ref) WHERE crm_ref IS NOT NULL;
CREATE INDEX client_name_idx ON client (lower(name));
CREATE TRIGGER client_updated BEFORE UPDATE ON client
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

CREATE TABLE site (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id     uuid NOT NULL REFERENCES client (id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    kind          text NOT NULL CHECK (kind IN ('residential_complex', 'cottage_village',
                                                'business_centre', 'industrial')),
    time_zone     text NOT NULL DEFAULT 'Europe/Moscow',
    address       text NOT NULL DEFAULT '',
    region        text,
    latitude      double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision CHECK (longitude BETWEEN -180 AND 180),
    access_notes  text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- lets ticket and job reference (site, client) together so they cannot disagree
    UNIQUE (id, client_id)
);
CREATE INDEX site_client_idx ON site (client_id);
CREATE TRIGGER site_updated BEFORE UPDATE ON site
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();
CREATE TRIGGER site_time_zone BEFORE INSERT OR UPDATE OF time_zone ON site
    FOR EACH ROW EXECUTE FUNCTION acs_check_time_zone();

CREATE TABLE device (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id           uuid NOT NULL REFERENCES site (id),
    kind              text NOT NULL CHECK (kind IN ('turnstile_controller', 'reader_controller')),
    model             text NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
    serial            text NOT NULL CHECK (length(serial) BETWEEN 1 AND 100),
    location          text NOT NULL DEFAULT '',
    bus               text,
    unit_id           integer CHECK (unit_id BETWEEN 1 AND 247),
    firmware_version  text,
    installed_on      date,
    notes             text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT device_model_serial_key UNIQUE (model, serial),
    UNIQUE (id, site_id)
);
CREATE INDEX device_site_idx ON device (site_id);
CREATE INDEX device_serial_idx ON device (serial);
CREATE TRIGGER device_updated BEFORE UPDATE ON device
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

------------------------------------------------------------------------------------------
-- Implementation projects: survey -> installation -> commissioning -> handover.

CREATE TABLE project (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id      uuid NOT NULL,
    site_id        uuid NOT NULL,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    stage          text NOT NULL DEFAULT 'survey'
                   CHECK (stage IN ('survey', 'installation', 'commissioning', 'handover',
                                    'done', 'cancelled')),
    planned_start  date,
    planned_end    date,
    actual_start   date,
    actual_end     date,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (site_id, client_id) REFERENCES site (id, client_id),
    CHECK (planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start)
);
CREATE INDEX project_site_idx ON project (site_id);
CREATE INDEX project_stage_idx ON project (stage) WHERE stage NOT IN ('done', 'cancelled');
CREATE TRIGGER project_updated BEFORE UPDATE ON project
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

------------------------------------------------------------------------------------------
-- Tickets.
--
--   new -> acknowledged -> in_progress <-> waiting_client -> resolved -> closed
--                                  ^                            |          |
--                                  +-------- reopen ------------+----------+

CREATE TABLE ticket (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    client_id          uuid NOT NULL,
    site_id            uuid NOT NULL,
    device_id          uuid,
    category           text NOT NULL
                       CHECK (category IN ('emergency', 'standard', 'consultation')),
    status             text NOT NULL DEFAULT 'new'
                       CHECK (status IN ('new', 'acknowledged', 'in_progress', 'waiting_client',
                                         'resolved', 'closed')),
    subject            text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    description        text NOT NULL DEFAULT '',
    crm_ref            text,
    reporter_name      text,
    reporter_phone     text,
    first_contact_at   timestamptz,
    resolved_at        timestamptz,
    closed_at          timestamptz,
    first_contact_due  timestamptz,
    resolution_due     timestamptz,
    repeat_of          uuid REFERENCES ticket (id),
    created_by         uuid REFERENCES app_user (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (site_id, client_id) REFERENCES site (id, client_id),
    FOREIGN KEY (device_id, site_id) REFERENCES device (id, site_id),
    CHECK (status NOT IN ('resolved', 'closed') OR resolved_at IS NOT NULL)
);
CREATE UNIQUE INDEX ticket_crm_ref_key ON ticket (crm_ref) WHERE crm_ref IS NOT NULL;
CREATE INDEX ticket_created_idx ON ticket (created_at DESC, id DESC);
CREATE INDEX ticket_status_idx ON ticket (status, created_at DESC, id DESC);
CREATE INDEX ticket_site_idx ON ticket (site_id, created_at DESC);
CREATE INDEX ticket_client_idx ON ticket (client_id, created_at DESC);
CREATE INDEX ticket_device_idx ON ticket (device_id) WHERE device_id IS NOT NULL;
CREATE INDEX ticket_open_idx ON ticket (category, created_at)
    WHERE status NOT IN ('resolved', 'closed');
CREATE TRIGGER ticket_updated BEFORE UPDATE ON ticket
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

CREATE TABLE ticket_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id    uuid NOT NULL REFERENCES ticket (id),
    at           timestamptz NOT NULL DEFAULT now(),
    kind         text NOT NULL,
    from_status  text,
    to_status    text,
    actor_id     uuid REFERENCES app_user (id),
    note         text,
    data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_event_ticket_idx ON ticket_event (ticket_id, id);
CREATE TRIGGER ticket_event_append_only BEFORE UPDATE OR DELETE ON ticket_event
    FOR EACH ROW EXECUTE FUNCTION acs_append_only();

------------------------------------------------------------------------------------------
-- Jobs: visits, installations, commissioning.
--
--   planned -> assigned -> en_route -> on_site -> done | needs_revisit
--      |          |           |           |
--      +----------+-----------+-----------+--> cancelled
--   (assigned/en_route go back to assigned on reassignment)

CREATE TABLE job (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ticket_id        uuid REFERENCES ticket (id),
    project_id       uuid REFERENCES project (id),
    site_id          uuid NOT NULL REFERENCES site (id),
    kind             text NOT NULL CHECK (kind IN ('visit', 'installation', 'commissioning')),
    status           text NOT NULL DEFAULT 'planned'
                     CHECK (status IN ('planned', 'assigned', 'en_route', 'on_site', 'done',
                                       'needs_revisit', 'cancelled')),
    title            text NOT NULL DEFAULT '',
    notes            text NOT NULL DEFAULT '',
    required_skills  text[] NOT NULL DEFAULT '{}',
    priority         integer NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    duration_min     integer NOT NULL DEFAULT 60 CHECK (duration_min BETWEEN 1 AND 10080),
    window_start     timestamptz,
    window_end       timestamptz,
    engineer_id      uuid REFERENCES app_user (id),
    planned_start    timestamptz,
    planned_end      timestamptz,
    arrived_at       timestamptz,
    finished_at      timestamptz,
    created_by       uuid REFERENCES app_user (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (ticket_id IS NOT NULL OR project_id IS NOT NULL),
    CHECK (window_end IS NULL OR window_start IS NULL OR window_end > window_start),
    CHECK (planned_end IS NULL OR planned_start IS NULL OR planned_end > planned_start),
    CHECK (status IN ('planned', 'cancelled') OR engineer_id IS NOT NULL)
);
CREATE INDEX job_engineer_idx ON job (engineer_id, planned_start) WHERE engineer_id IS NOT NULL;
CREATE INDEX job_ticket_idx ON job (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX job_project_idx ON job (project_id) WHERE project_id IS NOT NULL;
CREATE INDEX job_site_idx ON job (site_id);
CREATE INDEX job_status_idx ON job (status, created_at DESC, id DESC);
CREATE INDEX job_created_idx ON job (created_at DESC, id DESC);
CREATE TRIGGER job_updated BEFORE UPDATE ON job
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

CREATE TABLE job_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       uuid NOT NULL REFERENCES job (id),
    at           timestamptz NOT NULL DEFAULT now(),
    kind         text NOT NULL,
    from_status  text,
    to_status    text,
    actor_id     uuid REFERENCES app_user (id),
    note         text,
    data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX job_event_job_idx ON job_event (job_id, id);
CREATE TRIGGER job_event_append_only BEFORE UPDATE OR DELETE ON job_event
    FOR EACH ROW EXECUTE FUNCTION acs_append_only();

-- Who was assigned when: one row per assignment; the current one has ended_at NULL.
CREATE TABLE job_assignment (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id           uuid NOT NULL REFERENCES job (id),
    engineer_id      uuid NOT NULL REFERENCES app_user (id),
    planned_start    timestamptz NOT NULL,
    planned_end      timestamptz NOT NULL CHECK (planned_end > planned_start),
    assigned_by      uuid REFERENCES app_user (id),
    assigned_at      timestamptz NOT NULL DEFAULT now(),
    override_reason  text,
    ended_at         timestamptz
);
CREATE UNIQUE INDEX job_assignment_current_key ON job_assignment (job_id) WHERE ended_at IS NULL;
CREATE INDEX job_assignment_engineer_idx ON job_assignment (engineer_id, planned_start);

-- What a job achieved. One outcome per job.
CREATE TABLE outcome (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id            uuid NOT NULL UNIQUE REFERENCES job (id),
    ticket_id         uuid REFERENCES ticket (id),
    resolution_code   text NOT NULL
                      CHECK (resolution_code IN ('repaired', 'part_replaced', 'reconfigured',
                                                 'firmware_updated', 'no_fault_found',
                                                 'client_side', 'not_resolved', 'installed',
                                                 'commissioned')),
    resolved_ticket   boolean NOT NULL,
    notes             text NOT NULL DEFAULT '',
    parts             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(parts) = 'array'),
    time_on_site_min  integer CHECK (time_on_site_min BETWEEN 0 AND 10080),
    recorded_by       uuid REFERENCES app_user (id),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outcome_ticket_idx ON outcome (ticket_id) WHERE ticket_id IS NOT NULL;

------------------------------------------------------------------------------------------
-- Audit log: who did what to which object, append-only.

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid REFERENCES app_user (id),
    action       text NOT NULL,
    object_type  text NOT NULL,
    object_id    uuid,
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION acs_append_only();
