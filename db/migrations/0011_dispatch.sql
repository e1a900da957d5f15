-- SPDX-License-Identifier: MIT
-- 0011_dispatch: what the dispatch planner (core/plan.h, docs/dispatch.md) needs to know about
-- engineers and places, beyond what 0001 already holds.
--
-- Already there and used as they are:
--   app_user.skills (text[]), app_user.region (the home region)
--   site.latitude, site.longitude, site.region, site.time_zone
--   job.required_skills, job.duration_min, job.window_start/window_end, job.priority (1 most
--   urgent .. 5), job.engineer_id + planned_start/planned_end (a booking the planner keeps)
--   ticket.resolution_due (the SLA due time of a job's ticket)
-- Added here:
--   app_user: home base, time zone of the weekly shifts, regions served besides the home one;
--   engineer_shift: the weekly working pattern, in the engineer's local time;
--   engineer_absence: leave, sick days, training, as UTC intervals;
--   travel_time: measured or imported travel times that override the straight-line estimate;
--   acs_engineer_shift_intervals(): the weekly pattern as UTC intervals for a period, which is
--   the form the planner takes (the C library parses no time zones).
--   for the dispatch API (core/api_dispatch.c): the problem as one JSON document
--   (acs_dispatch_problem()), the guarded write of an assignment (acs_dispatch_assign()), travel
--   time loading, engineers' profiles; the stages of implementation projects (project_stage,
--   job.project_stage), advancing a project and the risks of slipping (acs_project_*()).

------------------------------------------------------------------------------------------
-- Engineers.

ALTER TABLE app_user
    ADD COLUMN home_latitude   double precision CHECK (home_latitude BETWEEN -90 AND 90),
    ADD COLUMN home_longitude  double precision CHECK (home_longitude BETWEEN -180 AND 180),
    ADD COLUMN home_address    text NOT NULL DEFAULT '',
    ADD COLUMN time_zone       text NOT NULL DEFAULT 'Europe/Moscow',
    ADD COLUMN served_regions  text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT app_user_home_both CHECK ((home_latitude IS NULL) = (home_longitude IS NULL));

COMMENT ON COLUMN app_user.home_latitude IS
    'Home base of an engineer (degrees): each shift starts and ends there. NULL: unknown, and '
    'the planner cannot route the engineer.';
COMMENT ON COLUMN app_user.time_zone IS
    'Time zone of the engineer''s weekly shifts (engineer_shift), a name PostgreSQL knows.';
COMMENT ON COLUMN app_user.served_regions IS
    'Regions (site.region values) the engineer takes jobs in besides app_user.region. An '
    'engineer with neither a region nor served regions is sent anywhere.';

-- Same rule as site.time_zone (0001), with a constraint name of its own.
CREATE FUNCTION acs_check_user_time_zone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT acs_time_zone_known(NEW.time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%" for user %', NEW.time_zone, NEW.name
            USING ERRCODE = 'check_violation', CONSTRAINT = 'app_user_time_zone_known',
                  HINT = 'Use a name from pg_timezone_names, e.g. Europe/Moscow.';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER app_user_time_zone BEFORE INSERT OR UPDATE OF time_zone ON app_user
    FOR EACH ROW EXECUTE FUNCTION acs_check_user_time_zone();

-- The weekly pattern: on ISO weekday iso_weekday (1 Monday .. 7 Sunday) the engineer works
-- from start_time to end_time local time (app_user.time_zone); an end at or before the start
-- means the shift ends the next day (a night shift). Several rows per weekday make a split
-- shift. valid_from/valid_until bound a pattern that changes (summer hours, a new contract).
CREATE TABLE engineer_shift (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    engineer_id  uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    iso_weekday  smallint NOT NULL CHECK (iso_weekday BETWEEN 1 AND 7),
    start_time   time NOT NULL,
    end_time     time NOT NULL CHECK (end_time <> start_time),
    valid_from   date,
    valid_until  date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from)
);
CREATE INDEX engineer_shift_engineer_idx ON engineer_shift (engineer_id, iso_weekday);
CREATE TRIGGER engineer_shift_updated BEFORE UPDATE ON engineer_shift
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();
COMMENT ON TABLE engineer_shift IS
    'Weekly working pattern of an engineer in local time; see acs_engineer_shift_intervals().';

-- Time an engineer is not available: whole days (leave, sick) or a few hours (a doctor, a
-- training). Stored as UTC instants so that a sick day in another time zone is still exact.
CREATE TABLE engineer_absence (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    engineer_id  uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('leave', 'sick', 'training', 'other')),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    note         text NOT NULL DEFAULT '',
    created_by   uuid REFERENCES app_user (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX engineer_absence_engineer_idx ON engineer_absence (engineer_id, starts_at);
CREATE TRIGGER engineer_absence_updated BEFORE UPDATE ON engineer_absence
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();
COMMENT ON TABLE engineer_absence IS
    'Leave, sick days and other absences; the planner refuses jobs that meet one.';

------------------------------------------------------------------------------------------
-- Travel times.

-- A travel time from one place to another, overriding the planner's straight-line estimate
-- (distance x road factor / speed). A place is a site or an engineer's home base: each end
-- names exactly one. Times may differ by direction (one-way streets, a ring road).
CREATE TABLE travel_time (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_site_id      uuid REFERENCES site (id) ON DELETE CASCADE,
    from_engineer_id  uuid REFERENCES app_user (id) ON DELETE CASCADE,
    to_site_id        uuid REFERENCES site (id) ON DELETE CASCADE,
    to_engineer_id    uuid REFERENCES app_user (id) ON DELETE CASCADE,
    seconds           integer NOT NULL CHECK (seconds BETWEEN 0 AND 7 * 86400),
    source            text NOT NULL DEFAULT 'import'
                      CHECK (source IN ('import', 'measured', 'manual')),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT travel_time_one_from CHECK (num_nonnulls(from_site_id, from_engineer_id) = 1),
    CONSTRAINT travel_time_one_to CHECK (num_nonnulls(to_site_id, to_engineer_id) = 1)
);
-- One time per ordered pair of places.
CREATE UNIQUE INDEX travel_time_pair_key ON travel_time (
    coalesce(from_site_id, from_engineer_id), coalesce(to_site_id, to_engineer_id));
CREATE TRIGGER travel_time_updated BEFORE UPDATE ON travel_time
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();
COMMENT ON TABLE travel_time IS
    'Travel seconds between two places (sites or home bases), by direction; the planner uses '
    'them instead of the straight-line estimate where present.';

------------------------------------------------------------------------------------------
-- Weekly shifts as UTC intervals.

-- The shifts of an engineer that meet [p_from, p_to), as UTC instants, in order. Local times
-- are converted with the engineer's time zone on each date, so a shift keeps its wall-clock
-- hours across a daylight-saving change; a local time that does not exist that day is moved
-- forward by PostgreSQL's rules. Absences are not subtracted: the planner takes them apart.
CREATE FUNCTION acs_engineer_shift_intervals(p_engineer uuid, p_from timestamptz,
                                             p_to timestamptz)
RETURNS TABLE (starts_at timestamptz, ends_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT x.starts_at, x.ends_at
      FROM app_user u
      JOIN engineer_shift s ON s.engineer_id = u.id
      -- local dates as timestamp without time zone, so that AT TIME ZONE below reads the
      -- wall-clock time in the engineer's zone (a timestamptz would convert the other way)
      CROSS JOIN LATERAL generate_series(((p_from AT TIME ZONE u.time_zone)::date - 1)::timestamp,
                                         (p_to AT TIME ZONE u.time_zone)::date::timestamp,
                                         interval '1 day') AS g(day)
      CROSS JOIN LATERAL (
          SELECT (g.day + s.start_time) AT TIME ZONE u.time_zone AS starts_at,
                 (g.day + s.end_time + CASE WHEN s.end_time <= s.start_time
                                            THEN interval '1 day' ELSE interval '0' END)
                     AT TIME ZONE u.time_zone AS ends_at) x
     WHERE u.id = p_engineer
       AND extract(isodow FROM g.day) = s.iso_weekday
       AND (s.valid_from IS NULL OR g.day::date >= s.valid_from)
       AND (s.valid_until IS NULL OR g.day::date <= s.valid_until)
       AND x.starts_at < p_to AND x.ends_at > p_from
     ORDER BY x.starts_at
$$;
COMMENT ON FUNCTION acs_engineer_shift_intervals(uuid, timestamptz, timestamptz) IS
    'Shifts of an engineer meeting [p_from, p_to) as UTC intervals, for the planner.';

------------------------------------------------------------------------------------------
-- What the dispatch API (core/api_dispatch.c, docs/dispatch.md "The HTTP API") reads and
-- writes: the problem the planner gets as one JSON document, the guarded assignment, and the
-- stages of implementation projects.

-- Seconds since the epoch of a time, or NULL: the planner's time unit.
CREATE FUNCTION acs_epoch(p timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT floor(extract(epoch FROM p))::bigint $$;

-- The UTC offsets of zone p_tz over [p_from - 1 day, p_to + 1 day] as [[epoch, seconds east
-- of UTC], ...]: the first entry and one per change (daylight saving), exact to the hour,
-- which is where zones change. fieldd renders sentences with them and parses no zone itself.
CREATE FUNCTION acs_utc_offsets(p_tz text, p_from timestamptz, p_to timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_array(acs_epoch(h), off) ORDER BY h), '[]'::jsonb)
      FROM (SELECT h, off, lag(off) OVER (ORDER BY h) AS prev
              FROM (SELECT h, extract(epoch FROM (h AT TIME ZONE p_tz) - (h AT TIME ZONE 'UTC'))::int
                           AS off
                      FROM generate_series(date_trunc('hour', p_from) - interval '1 day',
                                           p_to + interval '1 day', interval '1 hour') h) a) b
     WHERE prev IS NULL OR off <> prev
$$;

-- How a job is named in sentences: its title, else the start of its id.
CREATE FUNCTION acs_job_label(p_title text, p_id uuid) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(nullif(p_title, ''), left(p_id::text, 8)) $$;

-- An engineer as the planner sees them over [p_from, p_to) (a day of margin on each side for
-- the shifts, absences and bookings next to the period): skills, regions served (home region
-- first; none: every region), home base, weekly shifts as UTC intervals, absences, the jobs
-- already booked (assigned, en_route, on_site) and the zone's UTC offsets. NULL for a user
-- who is not an active engineer or senior.
CREATE FUNCTION acs_dispatch_engineer(p_id uuid, p_from timestamptz, p_to timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', u.id, 'name', u.name, 'time_zone', u.time_zone,
        'skills', to_jsonb(u.skills),
        'regions', to_jsonb(CASE WHEN u.region IS NULL THEN u.served_regions
                                 ELSE array_prepend(u.region, array_remove(u.served_regions,
                                                                           u.region)) END),
        'home', CASE WHEN u.home_latitude IS NOT NULL
                     THEN jsonb_build_array(u.home_latitude, u.home_longitude) END,
        'has_shifts', EXISTS (SELECT 1 FROM engineer_shift s WHERE s.engineer_id = u.id),
        'shifts', coalesce((SELECT jsonb_agg(jsonb_build_array(acs_epoch(i.starts_at),
                                                               acs_epoch(i.ends_at))
                                             ORDER BY i.starts_at)
                              FROM acs_engineer_shift_intervals(u.id, p_from - interval '1 day',
                                                                p_to + interval '1 day') i),
                           '[]'::jsonb),
        'absences', coalesce((SELECT jsonb_agg(jsonb_build_array(acs_epoch(a.starts_at),
                                                                 acs_epoch(a.ends_at), a.kind)
                                               ORDER BY a.starts_at, a.id)
                                FROM engineer_absence a
                               WHERE a.engineer_id = u.id
                                 AND a.ends_at > p_from - interval '1 day'
                                 AND a.starts_at < p_to + interval '1 day'), '[]'::jsonb),
        'bookings', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                        'id', j.id, 'name', acs_job_label(j.title, j.id),
                                        'site_id', j.site_id, 'site', s.name,
                                        'lat', s.latitude, 'lon', s.longitude,
                                        'start', acs_epoch(j.planned_start),
                                        'end', acs_epoch(j.planned_end))
                                      ORDER BY j.planned_start, j.id)
                                FROM job j JOIN site s ON s.id = j.site_id
                               WHERE j.engineer_id = u.id
                                 AND j.status IN ('assigned', 'en_route', 'on_site')
                                 AND j.planned_end > p_from - interval '1 day'
                                 AND j.planned_start < p_to + interval '1 day'), '[]'::jsonb),
        'offsets', acs_utc_offsets(u.time_zone, p_from, p_to))
      FROM app_user u
     WHERE u.id = p_id AND u.active AND u.role IN ('engineer', 'senior')
$$;

-- What an assignment's check depended on: when it changes between the check and the write,
-- the write refuses ('stale') and fieldd checks again.
CREATE FUNCTION acs_dispatch_fingerprint(p_id uuid, p_from timestamptz, p_to timestamptz)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT md5(coalesce(acs_dispatch_engineer(p_id, p_from, p_to)::text, ''))
$$;

-- A job as the planner sees it: site and its location and region, skills, duration (s),
-- window, priority, the ticket's resolution due time.
CREATE FUNCTION acs_dispatch_job(p_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', j.id, 'name', acs_job_label(j.title, j.id), 'status', j.status,
        'engineer_id', j.engineer_id,
        'site_id', j.site_id, 'site', s.name, 'lat', s.latitude, 'lon', s.longitude,
        'region', s.region, 'skills', to_jsonb(j.required_skills),
        'duration', j.duration_min * 60, 'priority', j.priority,
        'ws', acs_epoch(j.window_start), 'we', acs_epoch(j.window_end),
        'sla', acs_epoch(t.resolution_due))
      FROM job j JOIN site s ON s.id = j.site_id LEFT JOIN ticket t ON t.id = j.ticket_id
     WHERE j.id = p_id
$$;

-- The whole problem as one document (text JSON): engineers and jobs in the order given
-- (unknown ids and users who are not active engineers left out), the travel times between the
-- places involved, `now` (acs_now(), so tests move it), the period, and the UTC offsets of
-- p_tz (the caller's zone, for sentences about no engineer in particular).
CREATE FUNCTION acs_dispatch_problem(p_engineers uuid[], p_jobs uuid[], p_from timestamptz,
                                     p_to timestamptz, p_tz text)
RETURNS text
LANGUAGE sql STABLE AS $$
    WITH e AS (SELECT x.n, acs_dispatch_engineer(x.id, p_from, p_to) AS j
                 FROM unnest(p_engineers) WITH ORDINALITY AS x(id, n)),
         jb AS (SELECT x.n, acs_dispatch_job(x.id) AS j
                  FROM unnest(p_jobs) WITH ORDINALITY AS x(id, n)),
         places AS (SELECT (j->>'id')::uuid AS id FROM e WHERE j IS NOT NULL
                    UNION SELECT (j->>'site_id')::uuid FROM jb WHERE j IS NOT NULL
                    UNION SELECT (b->>'site_id')::uuid
                            FROM e, jsonb_array_elements(e.j->'bookings') b
                           WHERE e.j IS NOT NULL)
    SELECT jsonb_build_object(
        'now', acs_epoch(acs_now()), 'from', acs_epoch(p_from), 'to', acs_epoch(p_to),
        'engineers', coalesce((SELECT jsonb_agg(j ORDER BY n) FROM e WHERE j IS NOT NULL),
                              '[]'::jsonb),
        'jobs', coalesce((SELECT jsonb_agg(j ORDER BY n) FROM jb WHERE j IS NOT NULL),
                         '[]'::jsonb),
        'travel', coalesce((SELECT jsonb_agg(jsonb_build_array(
                                      coalesce(t.from_site_id, t.from_engineer_id),
                                      coalesce(t.to_site_id, t.to_engineer_id), t.seconds))
                              FROM travel_time t
                             WHERE coalesce(t.from_site_id, t.from_engineer_id) IN
                                       (SELECT id FROM places)
                               AND coalesce(t.to_site_id, t.to_engineer_id) IN
                                       (SELECT id FROM places)), '[]'::jsonb),
        'offsets', acs_utc_offsets(p_tz, p_from, p_to))::text
$$;

-- The write of an assignment that fieldd checked (plan_check) on the data of
-- acs_dispatch_engineer(): lock the engineer (assignments of one engineer are serialised),
-- refuse when the job left the statuses assign is allowed from ('conflict', with the status),
-- or when the engineer's calendar changed since the check ('stale': check again); else end
-- the current assignment, add the new one (with the override reason), move the job, write
-- its event, audit an override, and announce it on acs_changes as a live event.
CREATE FUNCTION acs_dispatch_assign(p_job uuid, p_engineer uuid, p_start timestamptz,
                                    p_end timestamptz, p_actor uuid, p_note text,
                                    p_override_reason text, p_overridden jsonb,
                                    p_warnings jsonb, p_fingerprint text, p_sources text[])
RETURNS TABLE (outcome text, body text)
LANGUAGE plpgsql AS $$
DECLARE
    cur job;
    upd job;
BEGIN
    PERFORM 1 FROM app_user u WHERE u.id = p_engineer FOR UPDATE;
    SELECT * INTO cur FROM job x WHERE x.id = p_job FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN NEXT;
        RETURN;
    END IF;
    IF cur.status <> ALL (p_sources) THEN
        outcome := 'conflict';
        body := cur.status;
        RETURN NEXT;
        RETURN;
    END IF;
    -- A new statement, so a new snapshot: it sees what committed while the lock was awaited.
    IF acs_dispatch_fingerprint(p_engineer, p_start, p_end) IS DISTINCT FROM p_fingerprint THEN
        outcome := 'stale';
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE job_assignment a SET ended_at = now() WHERE a.job_id = p_job AND a.ended_at IS NULL;
    INSERT INTO job_assignment (job_id, engineer_id, planned_start, planned_end, assigned_by,
                                override_reason)
    VALUES (p_job, p_engineer, p_start, p_end, p_actor, p_override_reason);
    UPDATE job x SET status = 'assigned', engineer_id = p_engineer, planned_start = p_start,
                     planned_end = p_end
     WHERE x.id = p_job RETURNING * INTO upd;
    INSERT INTO job_event (job_id, kind, from_status, to_status, actor_id, note, data)
    VALUES (p_job, 'assign', cur.status, upd.status, p_actor, p_note,
            jsonb_build_object('engineer_id', p_engineer, 'planned_start', p_start,
                               'planned_end', p_end, 'previous_engineer_id', cur.engineer_id,
                               'previous_start', cur.planned_start,
                               'override', p_override_reason IS NOT NULL,
                               'override_reason', p_override_reason,
                               'overridden', coalesce(p_overridden, '[]'::jsonb),
                               'warnings', coalesce(p_warnings, '[]'::jsonb)));
    IF p_override_reason IS NOT NULL THEN
        INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)
        VALUES (p_actor, 'job.assign_override', 'job', p_job,
                jsonb_build_object('engineer_id', p_engineer, 'planned_start', p_start,
                                   'planned_end', p_end, 'reason', p_override_reason,
                                   'overridden', coalesce(p_overridden, '[]'::jsonb)));
    END IF;
    PERFORM pg_notify('acs_changes', json_build_object(
        'event', 'job_assigned', 'job_id', p_job, 'engineer_id', p_engineer,
        'previous_engineer_id', cur.engineer_id, 'planned_start', p_start,
        'planned_end', p_end, 'override', p_override_reason IS NOT NULL,
        'actor_id', p_actor)::text);
    outcome := 'ok';
    body := (to_jsonb(upd) || jsonb_build_object('warnings', coalesce(p_warnings, '[]'::jsonb),
                                                 'overridden',
                                                 coalesce(p_overridden, '[]'::jsonb)))::text;
    RETURN NEXT;
END $$;

------------------------------------------------------------------------------------------
-- Implementation projects: survey -> installation -> commissioning -> handover.
--
--   project.stage:  survey -> installation -> commissioning -> handover -> done
--                     \____________\_______________\______________\____-> cancelled
--
-- Each stage is a row of project_stage with its own planned and actual dates and status
-- (pending -> active -> done); project.stage names the active one.
--
--   transition                         function
--   stage -> next stage, handover->done acs_project_advance() (POST /projects/{id}/advance)
--   any open stage -> cancelled        none yet (no API; an UPDATE by an administrator)

CREATE TABLE project_stage (
    project_id     uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    stage          text NOT NULL
                   CHECK (stage IN ('survey', 'installation', 'commissioning', 'handover')),
    seq            smallint NOT NULL CHECK (seq BETWEEN 1 AND 4),
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'active', 'done')),
    planned_start  date,
    planned_end    date,
    actual_start   date,
    actual_end     date,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, stage),
    CHECK (planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start)
);
CREATE TRIGGER project_stage_updated BEFORE UPDATE ON project_stage
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();
COMMENT ON TABLE project_stage IS
    'The four stages of an implementation project with planned and actual dates.';

-- The stage order, for sentences and for advancing.
CREATE FUNCTION acs_project_stage_seq(p_stage text) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_stage WHEN 'survey' THEN 1 WHEN 'installation' THEN 2
                        WHEN 'commissioning' THEN 3 WHEN 'handover' THEN 4 END::smallint
$$;

-- Every project has its four stages from birth; the current one is active.
CREATE FUNCTION acs_project_stages_create() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO project_stage (project_id, stage, seq, status, actual_start)
    SELECT NEW.id, s, acs_project_stage_seq(s),
           CASE WHEN acs_project_stage_seq(s) < acs_project_stage_seq(NEW.stage)
                  OR NEW.stage = 'done' THEN 'done'
                WHEN s = NEW.stage THEN 'active' ELSE 'pending' END,
           CASE WHEN s = NEW.stage THEN NEW.actual_start END
      FROM unnest(ARRAY['survey', 'installation', 'commissioning', 'handover']) AS s;
    RETURN NULL;
END $$;
CREATE TRIGGER project_stages AFTER INSERT ON project
    FOR EACH ROW EXECUTE FUNCTION acs_project_stages_create();

INSERT INTO project_stage (project_id, stage, seq, status)
SELECT p.id, s, acs_project_stage_seq(s),
       CASE WHEN p.stage = 'done' OR acs_project_stage_seq(s) < acs_project_stage_seq(p.stage)
            THEN 'done' WHEN s = p.stage THEN 'active' ELSE 'pending' END
  FROM project p, unnest(ARRAY['survey', 'installation', 'commissioning', 'handover']) AS s;

-- The stage a job of a project belongs to: by default the project's current stage.
ALTER TABLE job ADD COLUMN project_stage text
    CHECK (project_stage IN ('survey', 'installation', 'commissioning', 'handover'));
CREATE FUNCTION acs_job_project_stage() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.project_id IS NOT NULL AND NEW.project_stage IS NULL THEN
        SELECT CASE WHEN p.stage IN ('survey', 'installation', 'commissioning', 'handover')
                    THEN p.stage END
          INTO NEW.project_stage FROM project p WHERE p.id = NEW.project_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER job_project_stage BEFORE INSERT ON job
    FOR EACH ROW EXECUTE FUNCTION acs_job_project_stage();
UPDATE job x SET project_stage = p.stage FROM project p
 WHERE x.project_id = p.id AND p.stage IN ('survey', 'installation', 'commissioning', 'handover');

-- Why the stages of a project that are not done are at risk of slipping (docs/dispatch.md):
--   overdue         today (in the site's zone) is after the planned end;
--   job_late        an open job of the stage is planned to end after the planned end;
--   unplanned_work  its unassigned open jobs need more time than the shifts of the engineers
--                   with their skills hold between now and the planned end.
CREATE FUNCTION acs_project_risks(p_project uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH st AS (
        SELECT ps.*, s.time_zone,
               (ps.planned_end + 1)::timestamp AT TIME ZONE s.time_zone AS end_at
          FROM project_stage ps JOIN project p ON p.id = ps.project_id
          JOIN site s ON s.id = p.site_id
         WHERE ps.project_id = p_project AND ps.status IN ('pending', 'active')
           AND p.stage NOT IN ('done', 'cancelled') AND ps.planned_end IS NOT NULL),
    r AS (
        SELECT st.seq, 1 AS k, 'overdue' AS code,
               format('%s was planned to end %s and is not done', st.stage, st.planned_end)
                   AS sentence
          FROM st WHERE (acs_now() AT TIME ZONE st.time_zone)::date > st.planned_end
        UNION ALL
        SELECT st.seq, 2, 'job_late',
               format('job %s of %s is planned to end %s, after the stage''s planned end %s',
                      acs_job_label(j.title, j.id), st.stage,
                      to_char(j.planned_end AT TIME ZONE st.time_zone, 'YYYY-MM-DD HH24:MI'),
                      st.planned_end)
          FROM st JOIN job j ON j.project_id = p_project AND j.project_stage = st.stage
         WHERE j.status IN ('assigned', 'en_route', 'on_site') AND j.planned_end > st.end_at
        UNION ALL
        SELECT st.seq, 3, 'unplanned_work',
               format('%s needs %s h of unassigned work before %s, but the engineers with the '
                      'skills have %s h of shifts left', st.stage,
                      round(w.need / 3600.0, 1), st.planned_end, round(w.have / 3600.0, 1))
          FROM st CROSS JOIN LATERAL (
              SELECT sum(j.duration_min) * 60 AS need,
                     coalesce((SELECT sum(extract(epoch FROM least(i.ends_at, st.end_at)
                                                  - greatest(i.starts_at, acs_now())))
                                 FROM app_user u
                                 CROSS JOIN LATERAL acs_engineer_shift_intervals(
                                     u.id, acs_now(), st.end_at) i
                                WHERE u.active AND u.role IN ('engineer', 'senior')
                                  AND u.skills @> (SELECT coalesce(array_agg(DISTINCT k), '{}')
                                                     FROM job j2, unnest(j2.required_skills) k
                                                    WHERE j2.project_id = p_project
                                                      AND j2.project_stage = st.stage
                                                      AND j2.status = 'planned')), 0) AS have
                FROM job j
               WHERE j.project_id = p_project AND j.project_stage = st.stage
                 AND j.status = 'planned') w
         WHERE w.need IS NOT NULL AND st.end_at > acs_now() AND w.need > w.have)
    SELECT coalesce(jsonb_agg(jsonb_build_object('stage', st2.stage, 'code', r.code,
                                                 'sentence', r.sentence)
                              ORDER BY r.seq, r.k, r.sentence), '[]'::jsonb)
      FROM r JOIN (SELECT DISTINCT seq, stage FROM st) st2 ON st2.seq = r.seq
$$;

-- A project as the API shows it: its row, its stages in order with their jobs, and its risks.
CREATE FUNCTION acs_project_json(p_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT to_jsonb(p) || jsonb_build_object(
        'stages', (SELECT jsonb_agg((to_jsonb(ps) - 'project_id') || jsonb_build_object(
                          'jobs', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                                'id', j.id, 'title', j.title, 'kind', j.kind,
                                                'status', j.status,
                                                'engineer_id', j.engineer_id,
                                                'planned_start', j.planned_start,
                                                'planned_end', j.planned_end,
                                                'duration_min', j.duration_min)
                                              ORDER BY j.planned_start NULLS LAST, j.id)
                                              FROM job j
                                             WHERE j.project_id = p.id
                                               AND j.project_stage = ps.stage), '[]'::jsonb))
                           ORDER BY ps.seq)
                     FROM project_stage ps WHERE ps.project_id = p.id),
        'risks', acs_project_risks(p.id))
      FROM project p WHERE p.id = p_id
$$;

-- Move a project to its next stage on p_date (the site's today when NULL): the current stage
-- is done, the next one active; after handover the project is done. Refused when the project
-- is done or cancelled ('conflict', body = its stage), or when jobs of the current stage are
-- still open ('open_jobs', body = their labels and statuses as JSON).
CREATE FUNCTION acs_project_advance(p_project uuid, p_date date, p_actor uuid, p_note text)
RETURNS TABLE (outcome text, body text)
LANGUAGE plpgsql AS $$
DECLARE
    cur project;
    d date;
    nxt text;
    open_jobs jsonb;
BEGIN
    SELECT * INTO cur FROM project p WHERE p.id = p_project FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN NEXT;
        RETURN;
    END IF;
    IF cur.stage IN ('done', 'cancelled') THEN
        outcome := 'conflict';
        body := cur.stage;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT jsonb_agg(jsonb_build_object('id', j.id, 'title', acs_job_label(j.title, j.id),
                                        'status', j.status) ORDER BY j.id)
      INTO open_jobs
      FROM job j
     WHERE j.project_id = p_project AND j.project_stage = cur.stage
       AND j.status NOT IN ('done', 'needs_revisit', 'cancelled');
    IF open_jobs IS NOT NULL THEN
        outcome := 'open_jobs';
        body := open_jobs::text;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT coalesce(p_date, (acs_now() AT TIME ZONE s.time_zone)::date) INTO d
      FROM site s WHERE s.id = cur.site_id;
    nxt := CASE cur.stage WHEN 'survey' THEN 'installation' WHEN 'installation'
                THEN 'commissioning' WHEN 'commissioning' THEN 'handover' ELSE 'done' END;
    UPDATE project_stage SET status = 'done', actual_start = coalesce(actual_start, d),
                             actual_end = d
     WHERE project_id = p_project AND stage = cur.stage;
    UPDATE project_stage SET status = 'active', actual_start = d
     WHERE project_id = p_project AND stage = nxt;
    UPDATE project SET stage = nxt, actual_start = coalesce(actual_start, d),
                       actual_end = CASE WHEN nxt = 'done' THEN d END
     WHERE id = p_project;
    INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)
    VALUES (p_actor, 'project.advance', 'project', p_project,
            jsonb_build_object('from', cur.stage, 'to', nxt, 'date', d, 'note', p_note));
    outcome := 'ok';
    body := acs_project_json(p_project)::text;
    RETURN NEXT;
END $$;

-- Load travel times (PUT /api/v1/dispatch/travel-times): p_entries is a JSON array of
-- {from_site_id | from_engineer_id | from, to_site_id | to_engineer_id | to, seconds}, where a
-- bare `from` / `to` (a CSV upload) is a site's or an engineer's id, whichever exists. A pair
-- given twice keeps its last time. p_replace first removes every imported time. Returns how
-- many were loaded. One call is one transaction: a bad entry loads nothing.
CREATE FUNCTION acs_travel_load(p_entries jsonb, p_replace boolean) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    loaded integer;
    bad text;
BEGIN
    SELECT x INTO bad
      FROM (SELECT e->>'from' AS x FROM jsonb_array_elements(p_entries) e
            UNION ALL SELECT e->>'to' FROM jsonb_array_elements(p_entries) e) y
     WHERE x IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM site s WHERE s.id = x::uuid)
       AND NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = x::uuid)
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'place % is neither a site nor an engineer', bad
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF p_replace THEN
        DELETE FROM travel_time WHERE source = 'import';
    END IF;
    INSERT INTO travel_time (from_site_id, from_engineer_id, to_site_id, to_engineer_id, seconds,
                             source)
    SELECT DISTINCT ON (coalesce(fs, fe), coalesce(ts, te)) fs, fe, ts, te, secs, 'import'
      FROM (SELECT coalesce((e->>'from_site_id')::uuid,
                            (SELECT s.id FROM site s WHERE s.id = (e->>'from')::uuid)) AS fs,
                   CASE WHEN e ? 'from_engineer_id' THEN (e->>'from_engineer_id')::uuid
                        WHEN NOT EXISTS (SELECT 1 FROM site s WHERE s.id = (e->>'from')::uuid)
                        THEN (e->>'from')::uuid END AS fe,
                   coalesce((e->>'to_site_id')::uuid,
                            (SELECT s.id FROM site s WHERE s.id = (e->>'to')::uuid)) AS ts,
                   CASE WHEN e ? 'to_engineer_id' THEN (e->>'to_engineer_id')::uuid
                        WHEN NOT EXISTS (SELECT 1 FROM site s WHERE s.id = (e->>'to')::uuid)
                        THEN (e->>'to')::uuid END AS te,
                   (e->>'seconds')::integer AS secs, n AS ord
              FROM jsonb_array_elements(p_entries) WITH ORDINALITY AS x(e, n)) y
     ORDER BY coalesce(fs, fe), coalesce(ts, te), ord DESC
    ON CONFLICT (coalesce(from_site_id, from_engineer_id), coalesce(to_site_id, to_engineer_id))
    DO UPDATE SET seconds = EXCLUDED.seconds, source = 'import';
    GET DIAGNOSTICS loaded = ROW_COUNT;
    RETURN loaded;
END $$;

-- An engineer's dispatch profile as the API shows it (GET /api/v1/engineers/{id}): who they
-- are, skills, regions, home base, zone, weekly shifts, and absences that ended at most 30
-- days ago. NULL for a user who is not an engineer or senior.
CREATE FUNCTION acs_engineer_profile(p_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', u.id, 'name', u.name, 'role', u.role, 'active', u.active, 'email', u.email,
        'phone', u.phone, 'skills', to_jsonb(u.skills), 'region', u.region,
        'served_regions', to_jsonb(u.served_regions), 'home_latitude', u.home_latitude,
        'home_longitude', u.home_longitude, 'home_address', u.home_address,
        'time_zone', u.time_zone, 'updated_at', u.updated_at,
        'shifts', coalesce((SELECT jsonb_agg(to_jsonb(s) - 'engineer_id' - 'created_at'
                                             - 'updated_at'
                                             ORDER BY s.iso_weekday, s.start_time, s.id)
                              FROM engineer_shift s WHERE s.engineer_id = u.id), '[]'::jsonb),
        'absences', coalesce((SELECT jsonb_agg(to_jsonb(a) - 'engineer_id'
                                               ORDER BY a.starts_at, a.id)
                                FROM engineer_absence a
                               WHERE a.engineer_id = u.id
                                 AND a.ends_at > now() - interval '30 days'), '[]'::jsonb))
      FROM app_user u WHERE u.id = p_id AND u.role IN ('engineer', 'senior')
$$;

-- Create a project (POST /api/v1/projects) with the planned dates of its stages:
-- p_body {id?, client_id, site_id, name, planned_start?, planned_end?,
--         stages?: {survey: {planned_start, planned_end}, ...}}.
-- Returns ('created' | 'replay' | 'conflict', project JSON, id); a repeat with the same id and
-- the same client, site and name is a replay.
CREATE FUNCTION acs_project_create(p_body jsonb, p_actor uuid)
RETURNS TABLE (outcome text, body text, id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    pid uuid := coalesce((p_body->>'id')::uuid, gen_random_uuid());
    old project;
    st text;
BEGIN
    SELECT * INTO old FROM project p WHERE p.id = pid;
    IF FOUND THEN
        outcome := CASE WHEN old.client_id = (p_body->>'client_id')::uuid
                             AND old.site_id = (p_body->>'site_id')::uuid
                             AND old.name = p_body->>'name' THEN 'replay' ELSE 'conflict' END;
        body := acs_project_json(pid)::text;
        id := pid;
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO project (id, client_id, site_id, name, planned_start, planned_end)
    VALUES (pid, (p_body->>'client_id')::uuid, (p_body->>'site_id')::uuid, p_body->>'name',
            (p_body->>'planned_start')::date, (p_body->>'planned_end')::date);
    FOR st IN SELECT jsonb_object_keys(coalesce(p_body->'stages', '{}'::jsonb)) LOOP
        UPDATE project_stage ps
           SET planned_start = (p_body->'stages'->st->>'planned_start')::date,
               planned_end = (p_body->'stages'->st->>'planned_end')::date
         WHERE ps.project_id = pid AND ps.stage = st;
    END LOOP;
    INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)
    VALUES (p_actor, 'project.create', 'project', pid, p_body);
    outcome := 'created';
    body := acs_project_json(pid)::text;
    id := pid;
    RETURN NEXT;
END $$;
