-- SPDX-License-Identifier: MIT
-- 0006_sla_rebase: when a calendar changes (a holiday added, a transferred working day,
-- new weekly hours, an imported year), the running SLA clocks measured on it move with it.
--
-- acs_sla_rebase(calendar) recomputes, for every clock still running on that calendar, its
-- due and warning instants from the same starting point and the same remaining working time
-- as before; working time already used is history and stays. It runs after every rebuild of
-- the calendar's spans (a trigger on business_calendar_build), in the transaction of the
-- change, so a calendar edit and the clocks it moves commit together.
--
-- Set-based, because a calendar change moves every open ticket at once (the benchmark moves
-- 100,000): one statement per clock kind finds each clock's working-time position with one
-- index lookup on business_calendar_span and its two targets with one lookup each, exactly
-- as acs_work_add (0004) does. The cases acs_work_add treats specially (an amount of zero, a
-- start before the calendar's first span, a result beyond its covered years) fall back to
-- acs_sla_work_add (0005), which counts wall-clock time past the calendar's covered years. The
-- lookups are written out as LATERAL joins rather than functions, so that the planner runs
-- them as index scans inside the one statement instead of calling a function per row.

-- The clocks still running on a calendar, found without reading the stopped ones.
CREATE INDEX ticket_sla_fc_running_idx ON ticket_sla (fc_calendar) WHERE fc_met_at IS NULL;
CREATE INDEX ticket_sla_res_running_idx ON ticket_sla (res_calendar)
    WHERE res_running_since IS NOT NULL;

CREATE FUNCTION acs_sla_rebase(p_calendar text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    always boolean;
    moved integer := 0;
    n integer;
BEGIN
    SELECT b.mode = 'always' INTO always FROM business_calendar_build b
    WHERE b.calendar_id = p_calendar;
    IF always IS NULL THEN
        RETURN 0;  -- the calendar is gone; clocks on it keep their times
    END IF;

    -- First-contact clocks not yet stopped: from the ticket's start.
    WITH x AS (
        SELECT s.ticket_id, s.started_at AS t0, s.fc_target AS a_due,
               s.fc_target * s.warn_ratio AS a_warn
        FROM ticket_sla s
        WHERE s.fc_calendar = p_calendar AND s.fc_met_at IS NULL),
    y AS (
        SELECT x.ticket_id,
               CASE WHEN always THEN x.t0 + x.a_due
                    ELSE coalesce(d.at, acs_sla_work_add(p_calendar, x.t0, x.a_due)) END AS due,
               CASE WHEN always THEN x.t0 + x.a_warn
                    ELSE coalesce(wa.at, acs_sla_work_add(p_calendar, x.t0, x.a_warn)) END AS warn
        FROM x
        -- W(t0): the working time from the calendar's start to t0 (none before its first span)
        LEFT JOIN LATERAL (
            SELECT sp.work_before + least(x.t0 - sp.span_start, sp.span_end - sp.span_start)
                       AS w
            FROM business_calendar_span sp
            WHERE NOT always AND sp.calendar_id = p_calendar AND sp.span_start <= x.t0
            ORDER BY sp.span_start DESC LIMIT 1) p ON true
        -- the span in which W(t0) + amount is reached, for a positive amount
        LEFT JOIN LATERAL (
            SELECT sp.span_start + ((p.w + x.a_due) - sp.work_before) AS at
            FROM business_calendar_span sp
            WHERE x.a_due > interval '0' AND sp.calendar_id = p_calendar
              AND sp.work_upto >= p.w + x.a_due
            ORDER BY sp.work_upto LIMIT 1) d ON true
        LEFT JOIN LATERAL (
            SELECT sp.span_start + ((p.w + x.a_warn) - sp.work_before) AS at
            FROM business_calendar_span sp
            WHERE x.a_warn > interval '0' AND sp.calendar_id = p_calendar
              AND sp.work_upto >= p.w + x.a_warn
            ORDER BY sp.work_upto LIMIT 1) wa ON true),
    u AS (
        UPDATE ticket_sla s SET fc_due = y.due, fc_warn_at = y.warn
        FROM y
        WHERE s.ticket_id = y.ticket_id
          AND (s.fc_due, s.fc_warn_at) IS DISTINCT FROM (y.due, y.warn)
        RETURNING s.ticket_id, s.fc_due)
    -- the ticket keeps its clock's due time
    UPDATE ticket t SET first_contact_due = u.fc_due FROM u WHERE t.id = u.ticket_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    moved := moved + n;

    -- Resolution clocks running: from where they last started, with what was left then.
    WITH x AS (
        SELECT s.ticket_id, s.res_running_since AS t0,
               s.res_target - least(s.res_consumed, s.res_target) AS a_due,
               greatest(s.res_target * s.warn_ratio - least(s.res_consumed, s.res_target),
                        interval '0') AS a_warn
        FROM ticket_sla s
        WHERE s.res_calendar = p_calendar AND s.res_running_since IS NOT NULL),
    y AS (
        SELECT x.ticket_id,
               CASE WHEN always THEN x.t0 + x.a_due
                    ELSE coalesce(d.at, acs_sla_work_add(p_calendar, x.t0, x.a_due)) END AS due,
               CASE WHEN always THEN x.t0 + x.a_warn
                    ELSE coalesce(wa.at, acs_sla_work_add(p_calendar, x.t0, x.a_warn)) END AS warn
        FROM x
        -- W(t0): the working time from the calendar's start to t0 (none before its first span)
        LEFT JOIN LATERAL (
            SELECT sp.work_before + least(x.t0 - sp.span_start, sp.span_end - sp.span_start)
                       AS w
            FROM business_calendar_span sp
            WHERE NOT always AND sp.calendar_id = p_calendar AND sp.span_start <= x.t0
            ORDER BY sp.span_start DESC LIMIT 1) p ON true
        -- the span in which W(t0) + amount is reached, for a positive amount
        LEFT JOIN LATERAL (
            SELECT sp.span_start + ((p.w + x.a_due) - sp.work_before) AS at
            FROM business_calendar_span sp
            WHERE x.a_due > interval '0' AND sp.calendar_id = p_calendar
              AND sp.work_upto >= p.w + x.a_due
            ORDER BY sp.work_upto LIMIT 1) d ON true
        LEFT JOIN LATERAL (
            SELECT sp.span_start + ((p.w + x.a_warn) - sp.work_before) AS at
            FROM business_calendar_span sp
            WHERE x.a_warn > interval '0' AND sp.calendar_id = p_calendar
              AND sp.work_upto >= p.w + x.a_warn
            ORDER BY sp.work_upto LIMIT 1) wa ON true),
    u AS (
        UPDATE ticket_sla s SET res_due = y.due, res_warn_at = y.warn
        FROM y
        WHERE s.ticket_id = y.ticket_id
          AND (s.res_due, s.res_warn_at) IS DISTINCT FROM (y.due, y.warn)
        RETURNING s.ticket_id, s.res_due)
    UPDATE ticket t SET resolution_due = u.res_due FROM u WHERE t.id = u.ticket_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    moved := moved + n;

    RETURN moved;
END $$;

CREATE FUNCTION acs_calendar_built() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM acs_sla_rebase(NEW.calendar_id);
    RETURN NULL;
END $$;
CREATE TRIGGER business_calendar_build_rebase AFTER INSERT ON business_calendar_build
    FOR EACH ROW EXECUTE FUNCTION acs_calendar_built();
