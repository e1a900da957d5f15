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
-- lookups are a SQL table function that the planner inlines, so they run as index scans
-- inside the one statement instead of a function call per row.

-- The clocks still running on a calendar, found without reading the stopped ones.
CREATE INDEX ticket_sla_fc_running_idx ON ticket_sla (fc_calendar) WHERE fc_met_at IS NULL;
CREATE INDEX ticket_sla_res_running_idx ON ticket_sla (res_calendar)
    WHERE res_running_since IS NOT NULL;

-- The instants at which working times a_due and a_warn, counted from t0, are reached on a
-- calendar: one lookup for t0's working-time position W(t0), one each for the span in which
-- W(t0) + amount falls. A SQL table function, so the planner inlines it into the statement
-- that uses it. What the lookups cannot answer (a zero amount, t0 before the first span, past
-- the last) comes from acs_sla_work_add.
CREATE FUNCTION acs__sla_targets(p_calendar text, p_always boolean, t0 timestamptz,
                                 a_due interval, a_warn interval)
RETURNS TABLE (due timestamptz, warn timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_always THEN t0 + a_due
                ELSE coalesce(d.at, acs_sla_work_add(p_calendar, t0, a_due)) END,
           CASE WHEN p_always THEN t0 + a_warn
                ELSE coalesce(wa.at, acs_sla_work_add(p_calendar, t0, a_warn)) END
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
        SELECT sp.work_before + least(t0 - sp.span_start, sp.span_end - sp.span_start) AS w
        FROM business_calendar_span sp
        WHERE NOT p_always AND sp.calendar_id = p_calendar AND sp.span_start <= t0
        ORDER BY sp.span_start DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (
        SELECT sp.span_start + ((p.w + a_due) - sp.work_before) AS at
        FROM business_calendar_span sp
        WHERE a_due > interval '0' AND sp.calendar_id = p_calendar
          AND sp.work_upto >= p.w + a_due
        ORDER BY sp.work_upto LIMIT 1) d ON true
    LEFT JOIN LATERAL (
        SELECT sp.span_start + ((p.w + a_warn) - sp.work_before) AS at
        FROM business_calendar_span sp
        WHERE a_warn > interval '0' AND sp.calendar_id = p_calendar
          AND sp.work_upto >= p.w + a_warn
        ORDER BY sp.work_upto LIMIT 1) wa ON true
$$;

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

    -- First-contact clocks not yet stopped: from the ticket's start. The ticket keeps its
    -- clock's due time.
    WITH u AS (
        UPDATE ticket_sla s SET fc_due = y.due, fc_warn_at = y.warn
        FROM ticket_sla x
        CROSS JOIN LATERAL acs__sla_targets(p_calendar, always, x.started_at, x.fc_target,
                                            x.fc_target * x.warn_ratio) y
        WHERE x.fc_calendar = p_calendar AND x.fc_met_at IS NULL AND s.ticket_id = x.ticket_id
          AND (s.fc_due, s.fc_warn_at) IS DISTINCT FROM (y.due, y.warn)
        RETURNING s.ticket_id, s.fc_due)
    UPDATE ticket t SET first_contact_due = u.fc_due FROM u WHERE t.id = u.ticket_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    moved := moved + n;

    -- Resolution clocks running: from where they last started, with what was left then.
    WITH u AS (
        UPDATE ticket_sla s SET res_due = y.due, res_warn_at = y.warn
        FROM ticket_sla x
        CROSS JOIN LATERAL acs__sla_targets(
            p_calendar, always, x.res_running_since,
            x.res_target - least(x.res_consumed, x.res_target),
            greatest(x.res_target * x.warn_ratio - least(x.res_consumed, x.res_target),
                     interval '0')) y
        WHERE x.res_calendar = p_calendar AND x.res_running_since IS NOT NULL
          AND s.ticket_id = x.ticket_id
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
