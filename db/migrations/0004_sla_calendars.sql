-- SPDX-License-Identifier: MIT
-- 0004_sla_calendars: business calendars, working-time arithmetic and SLA policies.
--
-- A business calendar says when support works: weekly hours per ISO weekday (several intervals
-- a day, local wall-clock time in the calendar's IANA zone) and exceptions by date (holidays,
-- transferred working days, shortened pre-holiday days) for the years it covers. Mode 'always'
-- is a 24x7 calendar: every instant works, every year is covered.
--
-- Working-time arithmetic must be fast (SLA state of 100,000 open tickets recomputed in
-- seconds), so it never loops over days. acs_calendar_rebuild() turns a calendar into
-- business_calendar_span: one row per working interval of the covered years as real instants
-- (timestamptz), each with the working time before it and up to its end. Then
--   W(t)                = work_before + min(t - span_start, span length) of the last span
--                         starting at or before t (the working time elapsed up to t),
--   acs_work_between    = W(to) - W(from),
--   acs_work_add        = the first span whose work_upto reaches W(start) + amount,
-- each one or two index lookups. Triggers rebuild a calendar after every change to it, its
-- hours or its exceptions, in the same transaction.
--
-- Time: the local wall-clock bounds of each interval become instants with
-- (date + time) AT TIME ZONE tz, and working time is the real time elapsed between them. On a
-- day when the clocks change inside a working interval, that interval is an hour shorter
-- (spring) or longer (autumn); see docs/sla.md.
--
-- Reference data: Russia's production calendar for 2025 and 2026 ('ru-business') and '24x7';
-- the default SLA policies.

------------------------------------------------------------------------------------------
-- Calendars.

CREATE TABLE business_calendar (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone   text NOT NULL,
    -- 'weekly': the weekly hours and exceptions below; 'always': 24x7, nothing else applies
    mode        text NOT NULL DEFAULT 'weekly' CHECK (mode IN ('weekly', 'always')),
    -- the years whose exceptions are known (inclusive); arithmetic outside them is refused
    first_year  integer CHECK (first_year BETWEEN 2000 AND 2100),
    last_year   integer CHECK (last_year BETWEEN 2000 AND 2100),
    source      text NOT NULL DEFAULT '',
    notes       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT business_calendar_years CHECK (
        mode = 'always' OR (first_year IS NOT NULL AND last_year IS NOT NULL
                            AND last_year >= first_year AND last_year - first_year < 50))
);
CREATE TRIGGER business_calendar_updated BEFORE UPDATE ON business_calendar
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- Like site.time_zone: a zone PostgreSQL knows, so that the arithmetic can use it.
CREATE FUNCTION acs_check_calendar_time_zone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT acs_time_zone_known(NEW.time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%"', NEW.time_zone
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'business_calendar_time_zone_known';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER business_calendar_time_zone BEFORE INSERT OR UPDATE OF time_zone
    ON business_calendar FOR EACH ROW EXECUTE FUNCTION acs_check_calendar_time_zone();

-- Weekly hours: local wall-clock intervals per ISO weekday (1 Monday .. 7 Sunday); end_time
-- may be 24:00. Intervals of one weekday must not overlap (checked by the rebuild).
CREATE TABLE business_calendar_hours (
    calendar_id  text NOT NULL REFERENCES business_calendar (id) ON DELETE CASCADE,
    iso_weekday  smallint NOT NULL CHECK (iso_weekday BETWEEN 1 AND 7),
    start_time   time NOT NULL,
    end_time     time NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (calendar_id, iso_weekday, start_time),
    CONSTRAINT business_calendar_hours_order CHECK (end_time > start_time)
);

-- Exceptions by date:
--   holiday  no work that date;
--   workday  a transferred working day: work on the hours of weekday as_weekday (default 1,
--            Monday), shortened by shorten_min (Russia's 1 November 2025 is both);
--   short    the date's usual hours shortened by shorten_min (default 60), taken from the end
--            of the day (09:00-13:00, 14:00-18:00 short by 60 gives 09:00-13:00, 14:00-17:00).
CREATE TABLE business_calendar_exception (
    calendar_id  text NOT NULL REFERENCES business_calendar (id) ON DELETE CASCADE,
    day          date NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('holiday', 'workday', 'short')),
    as_weekday   smallint CHECK (as_weekday BETWEEN 1 AND 7),
    shorten_min  integer NOT NULL DEFAULT 0 CHECK (shorten_min BETWEEN 0 AND 1440),
    note         text NOT NULL DEFAULT '',
    source       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (calendar_id, day),
    CONSTRAINT business_calendar_exception_short CHECK (kind <> 'short' OR shorten_min > 0),
    CONSTRAINT business_calendar_exception_holiday CHECK (
        kind <> 'holiday' OR (shorten_min = 0 AND as_weekday IS NULL)),
    CONSTRAINT business_calendar_exception_weekday CHECK (kind = 'workday' OR as_weekday IS NULL)
);
CREATE TRIGGER business_calendar_exception_updated BEFORE UPDATE ON business_calendar_exception
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- Derived, never written by hand: what acs_calendar_rebuild() made of a calendar.
-- covers_from/covers_to: the instants the arithmetic may touch (local midnight of 1 January
-- of first_year, of last_year + 1); -infinity/infinity for 'always'.
CREATE TABLE business_calendar_build (
    calendar_id  text PRIMARY KEY REFERENCES business_calendar (id) ON DELETE CASCADE,
    mode         text NOT NULL,
    covers_from  timestamptz NOT NULL,
    covers_to    timestamptz NOT NULL,
    spans        integer NOT NULL,
    total_work   interval NOT NULL,
    built_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per working interval; work_before/work_upto are the working time from covers_from
-- to span_start / span_end (pure time intervals, exact to the microsecond). covers_to repeats
-- the build's, so that the one lookup that finds a span also checks the covered years.
CREATE TABLE business_calendar_span (
    calendar_id  text NOT NULL REFERENCES business_calendar (id) ON DELETE CASCADE,
    span_start   timestamptz NOT NULL,
    span_end     timestamptz NOT NULL,
    work_before  interval NOT NULL,
    work_upto    interval NOT NULL,
    covers_to    timestamptz NOT NULL,
    PRIMARY KEY (calendar_id, span_start),
    CHECK (span_end > span_start)
);
CREATE INDEX business_calendar_span_upto_idx ON business_calendar_span (calendar_id, work_upto);

-- Rebuild the spans of one calendar from its definition. Raises on an inconsistent
-- definition (overlapping hours, a transferred working day on a weekday without hours, an
-- exception outside the covered years), so the change that caused it fails.
CREATE FUNCTION acs_calendar_rebuild(p_calendar text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    c business_calendar;
    n integer;
    bad record;
BEGIN
    SELECT * INTO c FROM business_calendar WHERE id = p_calendar;
    DELETE FROM business_calendar_span WHERE calendar_id = p_calendar;
    DELETE FROM business_calendar_build WHERE calendar_id = p_calendar;
    IF c.id IS NULL THEN
        RETURN 0;
    END IF;
    IF c.mode = 'always' THEN
        IF EXISTS (SELECT 1 FROM business_calendar_hours WHERE calendar_id = c.id)
           OR EXISTS (SELECT 1 FROM business_calendar_exception WHERE calendar_id = c.id) THEN
            RAISE EXCEPTION 'calendar "%" is 24x7 (mode always): it has no hours or exceptions',
                c.id USING ERRCODE = 'check_violation',
                           CONSTRAINT = 'business_calendar_always_plain';
        END IF;
        INSERT INTO business_calendar_build (calendar_id, mode, covers_from, covers_to, spans,
                                             total_work)
        VALUES (c.id, c.mode, '-infinity', 'infinity', 0, '0');
        RETURN 0;
    END IF;

    SELECT h.iso_weekday, h.start_time, h.end_time INTO bad
    FROM business_calendar_hours h
    WHERE h.calendar_id = c.id AND EXISTS (
        SELECT 1 FROM business_calendar_hours o
        WHERE o.calendar_id = h.calendar_id AND o.iso_weekday = h.iso_weekday
          AND o.start_time > h.start_time AND o.start_time < h.end_time)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'calendar "%": hours of ISO weekday % overlap (% - % and a later interval)',
            c.id, bad.iso_weekday, bad.start_time, bad.end_time
            USING ERRCODE = 'check_violation', CONSTRAINT = 'business_calendar_hours_overlap';
    END IF;

    SELECT e.day INTO bad FROM business_calendar_exception e
    WHERE e.calendar_id = c.id
      AND (e.day < make_date(c.first_year, 1, 1) OR e.day > make_date(c.last_year, 12, 31))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'calendar "%" covers % to %: exception on % is outside (extend the covered years first)',
            c.id, c.first_year, c.last_year, bad.day
            USING ERRCODE = 'check_violation', CONSTRAINT = 'business_calendar_exception_year';
    END IF;

    SELECT e.day, coalesce(e.as_weekday, 1) AS wd INTO bad FROM business_calendar_exception e
    WHERE e.calendar_id = c.id AND e.kind = 'workday'
      AND NOT EXISTS (SELECT 1 FROM business_calendar_hours h
                      WHERE h.calendar_id = c.id AND h.iso_weekday = coalesce(e.as_weekday, 1))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'calendar "%": working day % takes the hours of ISO weekday %, which has none',
            c.id, bad.day, bad.wd
            USING ERRCODE = 'check_violation', CONSTRAINT = 'business_calendar_workday_hours';
    END IF;

    INSERT INTO business_calendar_span (calendar_id, span_start, span_end, work_before, work_upto,
                                        covers_to)
    WITH days AS (
        SELECT d::date AS day, e.kind, e.shorten_min,
               CASE WHEN e.kind = 'workday' THEN coalesce(e.as_weekday, 1)
                    ELSE extract(isodow FROM d)::smallint END AS wd
        FROM generate_series(make_date(c.first_year, 1, 1), make_date(c.last_year, 12, 31),
                             interval '1 day') AS d
        LEFT JOIN business_calendar_exception e ON e.calendar_id = c.id AND e.day = d::date
        WHERE e.kind IS DISTINCT FROM 'holiday'
    ), local AS (
        -- each interval of the day, with the local working time after it that day
        SELECT days.day, coalesce(days.shorten_min, 0) AS shorten_min, h.start_time, h.end_time,
               coalesce(sum(h.end_time - h.start_time) OVER (
                   PARTITION BY days.day ORDER BY h.start_time DESC
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), '0') AS later
        FROM days JOIN business_calendar_hours h
          ON h.calendar_id = c.id AND h.iso_weekday = days.wd
    ), cut AS (
        -- a shortened day loses its last minutes
        SELECT day, start_time,
               (day + end_time) - greatest(make_interval(mins => shorten_min) - later,
                                           interval '0') AS local_end
        FROM local
    ), spans AS (
        SELECT (day + start_time) AT TIME ZONE c.time_zone AS s,
               local_end AT TIME ZONE c.time_zone AS e
        FROM cut WHERE local_end > day + start_time
    ), cum AS (
        SELECT s, e,
               coalesce(sum(e - s) OVER (ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING
                                                          AND 1 PRECEDING), '0') AS before
        FROM spans WHERE e > s
    )
    SELECT c.id, s, e, before, before + (e - s),
           make_date(c.last_year + 1, 1, 1)::timestamp AT TIME ZONE c.time_zone
    FROM cum;
    GET DIAGNOSTICS n = ROW_COUNT;

    INSERT INTO business_calendar_build (calendar_id, mode, covers_from, covers_to, spans,
                                         total_work)
    SELECT c.id, c.mode,
           make_date(c.first_year, 1, 1)::timestamp AT TIME ZONE c.time_zone,
           make_date(c.last_year + 1, 1, 1)::timestamp AT TIME ZONE c.time_zone,
           n, coalesce((SELECT max(work_upto) FROM business_calendar_span
                        WHERE calendar_id = c.id), '0');
    RETURN n;
END $$;

-- Statement-level: a bulk change (an import) rebuilds each calendar it touched once.
CREATE FUNCTION acs_calendar_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cal text;
BEGIN
    IF TG_TABLE_NAME = 'business_calendar' THEN
        IF TG_OP = 'INSERT' THEN
            FOR cal IN SELECT id FROM new_rows LOOP
                PERFORM acs_calendar_rebuild(cal);
            END LOOP;
        ELSE
            FOR cal IN SELECT n.id FROM new_rows n JOIN old_rows o USING (id)
                       WHERE (n.time_zone, n.mode, n.first_year, n.last_year)
                             IS DISTINCT FROM (o.time_zone, o.mode, o.first_year, o.last_year)
            LOOP
                PERFORM acs_calendar_rebuild(cal);
            END LOOP;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        FOR cal IN SELECT DISTINCT calendar_id FROM new_rows LOOP
            PERFORM acs_calendar_rebuild(cal);
        END LOOP;
    ELSIF TG_OP = 'DELETE' THEN
        FOR cal IN SELECT DISTINCT calendar_id FROM old_rows LOOP
            PERFORM acs_calendar_rebuild(cal);
        END LOOP;
    ELSE
        FOR cal IN SELECT calendar_id FROM new_rows UNION SELECT calendar_id FROM old_rows LOOP
            PERFORM acs_calendar_rebuild(cal);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER business_calendar_rebuild_ins AFTER INSERT ON business_calendar
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_calendar_changed();
CREATE TRIGGER business_calendar_rebuild_upd AFTER UPDATE ON business_calendar
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_calendar_changed();
CREATE TRIGGER business_calendar_hours_rebuild_ins AFTER INSERT ON business_calendar_hours
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_calendar_changed();
CREATE TRIGGER business_calendar_hours_rebuild_upd AFTER UPDATE ON business_calendar_hours
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_calendar_changed();
CREATE TRIGGER business_calendar_hours_rebuild_del AFTER DELETE ON business_calendar_hours
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_calendar_changed();
CREATE TRIGGER business_calendar_exception_rebuild_ins AFTER INSERT
    ON business_calendar_exception REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_calendar_changed();
CREATE TRIGGER business_calendar_exception_rebuild_upd AFTER UPDATE
    ON business_calendar_exception REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_calendar_changed();
CREATE TRIGGER business_calendar_exception_rebuild_del AFTER DELETE
    ON business_calendar_exception REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_calendar_changed();

------------------------------------------------------------------------------------------
-- Working-time arithmetic.

-- Raise the error that explains why p_at cannot be used on p_calendar (b: its build row).
CREATE FUNCTION acs__calendar_error(p_calendar text, p_at timestamptz, b business_calendar_build)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF b.calendar_id IS NULL THEN
        IF EXISTS (SELECT 1 FROM business_calendar WHERE id = p_calendar) THEN
            RAISE EXCEPTION 'business calendar "%" has not been built (run acs_calendar_rebuild)',
                p_calendar USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RAISE EXCEPTION 'unknown business calendar "%"', p_calendar
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'the calendars are listed in table business_calendar';
    END IF;
    RAISE EXCEPTION 'business calendar "%" covers % to % only; % is outside it',
        p_calendar, b.covers_from, b.covers_to, p_at
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'import the production calendar of that year (fieldd calendar import)';
END $$;

-- W(t): the working time from the start of the covered years up to t, for t before the
-- first span or on a 24x7 calendar (the slow path of the two functions below: the common case
-- finds the span in the same statement that uses it). Raises for an unknown calendar or a t
-- outside the covered years; NULL on an 'always' calendar.
CREATE FUNCTION acs__work_upto_slow(p_calendar text, p_at timestamptz)
RETURNS interval
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    b business_calendar_build;
    w interval;
BEGIN
    SELECT * INTO b FROM business_calendar_build WHERE calendar_id = p_calendar;
    IF b.calendar_id IS NULL OR p_at < b.covers_from OR p_at > b.covers_to THEN
        PERFORM acs__calendar_error(p_calendar, p_at, b);
    END IF;
    IF b.mode = 'always' THEN
        RETURN NULL;
    END IF;
    SELECT s.work_before + least(p_at - s.span_start, s.span_end - s.span_start) INTO w
    FROM business_calendar_span s
    WHERE s.calendar_id = p_calendar AND s.span_start <= p_at
    ORDER BY s.span_start DESC LIMIT 1;
    RETURN coalesce(w, interval '0');
END $$;

-- Working time in [p_from, p_to) on the calendar; '0' when p_to <= p_from.
CREATE FUNCTION acs_work_between(p_calendar text, p_from timestamptz, p_to timestamptz)
RETURNS interval
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    w_from interval;
    w_to interval;
    cov_from timestamptz;
    cov_to timestamptz;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_calendar IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_to <= p_from THEN
        -- still refuse an unknown calendar
        IF NOT EXISTS (SELECT 1 FROM business_calendar_build WHERE calendar_id = p_calendar) THEN
            PERFORM acs__calendar_error(p_calendar, p_from, NULL);
        END IF;
        RETURN interval '0';
    END IF;
    -- One statement, two index lookups: the last span starting at or before each end.
    SELECT f.w, f.covers_to, t.w, t.covers_to INTO w_from, cov_from, w_to, cov_to
    FROM (SELECT s.work_before + least(p_from - s.span_start, s.span_end - s.span_start) AS w,
                 s.covers_to
          FROM business_calendar_span s
          WHERE s.calendar_id = p_calendar AND s.span_start <= p_from
          ORDER BY s.span_start DESC LIMIT 1) f
    RIGHT JOIN (SELECT s.work_before + least(p_to - s.span_start, s.span_end - s.span_start) AS w,
                       s.covers_to
                FROM business_calendar_span s
                WHERE s.calendar_id = p_calendar AND s.span_start <= p_to
                ORDER BY s.span_start DESC LIMIT 1) t ON true;
    IF w_to IS NULL THEN
        -- p_to before the first span: a 24x7 calendar, or an error, or no work yet
        w_to := acs__work_upto_slow(p_calendar, p_to);
        IF w_to IS NULL THEN
            RETURN make_interval(secs => extract(epoch FROM p_to - p_from));
        END IF;
    ELSIF p_to > cov_to THEN
        PERFORM acs__calendar_error(p_calendar, p_to,
                                    (SELECT b FROM business_calendar_build b
                                     WHERE b.calendar_id = p_calendar));
    END IF;
    IF w_from IS NULL THEN
        w_from := acs__work_upto_slow(p_calendar, p_from);
    END IF;
    RETURN w_to - w_from;
END $$;

-- The instant at which p_amount of working time has elapsed from p_start (counting from the
-- next working moment when p_start is outside working time). A zero amount gives the first
-- working moment at or after p_start. Amounts are durations: '1 day' is 24 working hours.
CREATE FUNCTION acs_work_add(p_calendar text, p_start timestamptz, p_amount interval)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    amount interval;
    w interval;
    cov_to timestamptz;
    r timestamptz;
BEGIN
    IF p_start IS NULL OR p_amount IS NULL OR p_calendar IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_amount < interval '0' THEN
        RAISE EXCEPTION 'working time to add must not be negative (got %)', p_amount
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- '1 day' or '1 mon' become 24 hours or 30 days of working time, not calendar steps
    amount := make_interval(secs => extract(epoch FROM p_amount));
    -- One statement, two index lookups: W(p_start), then the span where W + amount falls.
    IF amount > interval '0' THEN
        SELECT f.covers_to, f.w, s.span_start + ((f.w + amount) - s.work_before)
          INTO cov_to, w, r
        FROM (SELECT s.work_before + least(p_start - s.span_start, s.span_end - s.span_start)
                     AS w, s.covers_to
              FROM business_calendar_span s
              WHERE s.calendar_id = p_calendar AND s.span_start <= p_start
              ORDER BY s.span_start DESC LIMIT 1) f
        LEFT JOIN LATERAL (
              SELECT s.span_start, s.work_before FROM business_calendar_span s
              WHERE s.calendar_id = p_calendar AND s.work_upto >= f.w + amount
              ORDER BY s.work_upto LIMIT 1) s ON true;
    ELSE
        SELECT f.covers_to, f.w, greatest(p_start, s.span_start) INTO cov_to, w, r
        FROM (SELECT s.work_before + least(p_start - s.span_start, s.span_end - s.span_start)
                     AS w, s.covers_to
              FROM business_calendar_span s
              WHERE s.calendar_id = p_calendar AND s.span_start <= p_start
              ORDER BY s.span_start DESC LIMIT 1) f
        LEFT JOIN LATERAL (
              SELECT s.span_start FROM business_calendar_span s
              WHERE s.calendar_id = p_calendar AND s.work_upto > f.w
              ORDER BY s.work_upto LIMIT 1) s ON true;
    END IF;
    IF w IS NULL THEN
        -- p_start before the first span: a 24x7 calendar, or an error, or no work yet
        w := acs__work_upto_slow(p_calendar, p_start);
        IF w IS NULL THEN
            RETURN p_start + amount;
        END IF;
        IF amount > interval '0' THEN
            SELECT s.span_start + ((w + amount) - s.work_before) INTO r
            FROM business_calendar_span s
            WHERE s.calendar_id = p_calendar AND s.work_upto >= w + amount
            ORDER BY s.work_upto LIMIT 1;
        ELSE
            SELECT greatest(p_start, s.span_start) INTO r
            FROM business_calendar_span s
            WHERE s.calendar_id = p_calendar AND s.work_upto > w
            ORDER BY s.work_upto LIMIT 1;
        END IF;
    ELSIF p_start > cov_to THEN
        PERFORM acs__calendar_error(p_calendar, p_start,
                                    (SELECT b FROM business_calendar_build b
                                     WHERE b.calendar_id = p_calendar));
    END IF;
    IF r IS NULL THEN
        RAISE EXCEPTION 'business calendar "%" covers its years up to % only; % of working time from % ends after that',
            p_calendar, (SELECT covers_to FROM business_calendar_build
                         WHERE calendar_id = p_calendar), p_amount, p_start
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'import the production calendar of the next year (fieldd calendar import)';
    END IF;
    RETURN r;
END $$;

------------------------------------------------------------------------------------------
-- SLA policies: a default per category (client_id NULL) and per-client overrides.

CREATE TABLE sla_policy (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category                text NOT NULL
                            CHECK (category IN ('emergency', 'standard', 'consultation')),
    client_id               uuid REFERENCES client (id) ON DELETE CASCADE,
    first_contact_target    interval NOT NULL
                            CHECK (first_contact_target > interval '0'
                                   AND first_contact_target <= interval '365 days'),
    first_contact_calendar  text NOT NULL REFERENCES business_calendar (id),
    resolution_target       interval NOT NULL
                            CHECK (resolution_target > interval '0'
                                   AND resolution_target <= interval '365 days'),
    resolution_calendar     text NOT NULL REFERENCES business_calendar (id),
    warn_ratio              numeric(4, 3) NOT NULL DEFAULT 0.8
                            CHECK (warn_ratio > 0 AND warn_ratio < 1),
    notes                   text NOT NULL DEFAULT '',
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sla_policy_default_key ON sla_policy (category) WHERE client_id IS NULL;
CREATE UNIQUE INDEX sla_policy_client_key ON sla_policy (category, client_id)
    WHERE client_id IS NOT NULL;
CREATE INDEX sla_policy_client_idx ON sla_policy (client_id) WHERE client_id IS NOT NULL;
CREATE TRIGGER sla_policy_updated BEFORE UPDATE ON sla_policy
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

-- The policy for a ticket of this category and client: the client's override, else the
-- category's default.
CREATE FUNCTION acs_sla_policy_for(p_category text, p_client uuid) RETURNS sla_policy
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p sla_policy;
BEGIN
    SELECT * INTO p FROM sla_policy
    WHERE category = p_category AND (client_id IS NULL OR client_id = p_client)
    ORDER BY client_id IS NULL LIMIT 1;
    IF p.id IS NULL THEN
        RAISE EXCEPTION 'no SLA policy for category "%"', p_category
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'categories: emergency, standard, consultation';
    END IF;
    RETURN p;
END $$;

------------------------------------------------------------------------------------------
-- Reference data.

INSERT INTO business_calendar (id, name, time_zone, mode, source, notes) VALUES
    ('24x7', 'Around the clock', 'UTC', 'always', '',
     'Every instant is working time; used for first contact on emergencies.');

INSERT INTO business_calendar (id, name, time_zone, mode, first_year, last_year, source, notes)
VALUES ('ru-business', 'Russia, five-day week (production calendar)', 'Europe/Moscow', 'weekly',
        2025, 2026,
        'Labour Code of the Russian Federation art. 112 (non-working holidays; a weekend day '
        'that coincides with a holiday moves to the next working day) and art. 95 (the working '
        'day before a holiday is one hour shorter); Government decree No. 1335 of 4 October '
        '2024 "On the transfer of days off in 2025"; Government decree No. 1466 of 24 September '
        '2025 "On the transfer of days off in 2026".',
        'Mon-Fri 09:00-18:00 with lunch 13:00-14:00 (8 working hours). 2025 and 2026: 247 '
        'working days and 1972 working hours each.');

INSERT INTO business_calendar_hours (calendar_id, iso_weekday, start_time, end_time)
SELECT 'ru-business', wd, t.s, t.e
FROM generate_series(1, 5) AS wd,
     (VALUES (time '09:00', time '13:00'), (time '14:00', time '18:00')) AS t (s, e);

-- Every non-working day of Russia's production calendar that falls on a day that would
-- otherwise be worked, plus the holidays themselves when they fall on a weekend (kept so the
-- list reads like the official one), the working Saturday and the shortened days.
INSERT INTO business_calendar_exception (calendar_id, day, kind, shorten_min, note, source)
SELECT 'ru-business', v.day::date, v.kind, v.shorten_min, v.note, v.source
FROM (VALUES
    -- 2025: decree No. 1335 of 4 October 2024
    ('2025-01-01', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2025-01-02', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2025-01-03', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2025-01-04', 'holiday', 0, 'New Year holidays (Saturday; day off moved to 2 May)', 'TK RF art. 112'),
    ('2025-01-05', 'holiday', 0, 'New Year holidays (Sunday; day off moved to 31 December)', 'TK RF art. 112'),
    ('2025-01-06', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2025-01-07', 'holiday', 0, 'Orthodox Christmas', 'TK RF art. 112'),
    ('2025-01-08', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2025-02-23', 'holiday', 0, 'Defender of the Fatherland Day (Sunday; day off moved to 8 May)', 'TK RF art. 112'),
    ('2025-03-07', 'short', 60, 'Day before International Women''s Day', 'TK RF art. 95'),
    ('2025-03-08', 'holiday', 0, 'International Women''s Day (Saturday; day off moved to 13 June)', 'TK RF art. 112'),
    ('2025-04-30', 'short', 60, 'Day before Spring and Labour Day', 'TK RF art. 95'),
    ('2025-05-01', 'holiday', 0, 'Spring and Labour Day', 'TK RF art. 112'),
    ('2025-05-02', 'holiday', 0, 'Day off moved from Saturday 4 January', 'Decree No. 1335 of 2024-10-04'),
    ('2025-05-08', 'holiday', 0, 'Day off moved from Sunday 23 February', 'Decree No. 1335 of 2024-10-04'),
    ('2025-05-09', 'holiday', 0, 'Victory Day', 'TK RF art. 112'),
    ('2025-06-11', 'short', 60, 'Day before Russia Day', 'TK RF art. 95'),
    ('2025-06-12', 'holiday', 0, 'Russia Day', 'TK RF art. 112'),
    ('2025-06-13', 'holiday', 0, 'Day off moved from Saturday 8 March', 'Decree No. 1335 of 2024-10-04'),
    ('2025-11-01', 'workday', 60, 'Working Saturday (day off moved to 3 November), shortened', 'Decree No. 1335 of 2024-10-04; TK RF art. 95'),
    ('2025-11-03', 'holiday', 0, 'Day off moved from Saturday 1 November', 'Decree No. 1335 of 2024-10-04'),
    ('2025-11-04', 'holiday', 0, 'Unity Day', 'TK RF art. 112'),
    ('2025-12-31', 'holiday', 0, 'Day off moved from Sunday 5 January', 'Decree No. 1335 of 2024-10-04'),
    -- 2026: decree No. 1466 of 24 September 2025
    ('2026-01-01', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2026-01-02', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2026-01-03', 'holiday', 0, 'New Year holidays (Saturday; day off moved to 9 January)', 'TK RF art. 112'),
    ('2026-01-04', 'holiday', 0, 'New Year holidays (Sunday; day off moved to 31 December)', 'TK RF art. 112'),
    ('2026-01-05', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2026-01-06', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2026-01-07', 'holiday', 0, 'Orthodox Christmas', 'TK RF art. 112'),
    ('2026-01-08', 'holiday', 0, 'New Year holidays', 'TK RF art. 112'),
    ('2026-01-09', 'holiday', 0, 'Day off moved from Saturday 3 January', 'Decree No. 1466 of 2025-09-24'),
    ('2026-02-23', 'holiday', 0, 'Defender of the Fatherland Day', 'TK RF art. 112'),
    ('2026-03-08', 'holiday', 0, 'International Women''s Day (Sunday; day off moved to 9 March)', 'TK RF art. 112'),
    ('2026-03-09', 'holiday', 0, 'Day off moved from Sunday 8 March', 'TK RF art. 112 part 2'),
    ('2026-04-30', 'short', 60, 'Day before Spring and Labour Day', 'TK RF art. 95'),
    ('2026-05-01', 'holiday', 0, 'Spring and Labour Day', 'TK RF art. 112'),
    ('2026-05-08', 'short', 60, 'Day before Victory Day', 'TK RF art. 95'),
    ('2026-05-09', 'holiday', 0, 'Victory Day (Saturday; day off moved to 11 May)', 'TK RF art. 112'),
    ('2026-05-11', 'holiday', 0, 'Day off moved from Saturday 9 May', 'TK RF art. 112 part 2'),
    ('2026-06-11', 'short', 60, 'Day before Russia Day', 'TK RF art. 95'),
    ('2026-06-12', 'holiday', 0, 'Russia Day', 'TK RF art. 112'),
    ('2026-11-03', 'short', 60, 'Day before Unity Day', 'TK RF art. 95'),
    ('2026-11-04', 'holiday', 0, 'Unity Day', 'TK RF art. 112'),
    ('2026-12-31', 'holiday', 0, 'Day off moved from Sunday 4 January', 'Decree No. 1466 of 2025-09-24')
) AS v (day, kind, shorten_min, note, source);

INSERT INTO sla_policy (category, first_contact_target, first_contact_calendar,
                        resolution_target, resolution_calendar, notes)
VALUES
    ('emergency', '15 minutes', '24x7', '4 hours', 'ru-business',
     'Default: first contact within 15 minutes around the clock, resolution within 4 working hours.'),
    ('standard', '2 hours', 'ru-business', '24 hours', 'ru-business',
     'Default: resolution within 24 working hours (3 working days).'),
    ('consultation', '4 hours', 'ru-business', '16 hours', 'ru-business',
     'Default: resolution within 16 working hours (2 working days).');
