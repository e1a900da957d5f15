-- SPDX-License-Identifier: MIT
-- 0005_sla_clocks: each ticket's two SLA clocks (first contact, resolution), their warnings
-- and breaches processed exactly once, the test clock, and repeat tickets.
--
-- The clocks of a ticket live in ticket_sla, one row per ticket, written in the same
-- statement as the ticket change that moves them (core/api_tickets.c):
--
--   clock          starts            stops                     pauses / resumes
--   first contact  ticket created    acknowledge or start      -
--   resolution     ticket created    resolve                   wait / resume; reopen resumes
--
-- A running resolution clock has res_running_since set; the working time it used before that
-- moment is res_consumed, so its due time is the remaining working time added from
-- res_running_since on the policy's calendar (acs_work_add, 0004). While paused, res_due is
-- NULL. The policy's targets and calendars are copied into the row when the clock starts, so a
-- later policy change does not move the clocks of tickets already open; a category change
-- recomputes them (acs_sla_recompute), and the ticket's events keep the old due times.
--
-- Warnings (at warn_ratio of a target) and breaches are marked by acs_sla_process(), which
-- every fieldd instance calls when its timer fires: each mark is an UPDATE guarded by
-- "not yet marked" on rows taken FOR UPDATE SKIP LOCKED, so with several instances every
-- warning and every breach is recorded exactly once, and one that fell due while no instance
-- ran is recorded by the first call after it comes back.

------------------------------------------------------------------------------------------
-- The test clock: acs_now() is now(), shifted by the offset in acs_test_clock when a test
-- has put one there. Production databases have no row. Changing it notifies fieldd, which
-- re-reads what is due.

CREATE TABLE acs_test_clock (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    offset_by  interval NOT NULL DEFAULT '0'
);

CREATE FUNCTION acs_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT now() + coalesce((SELECT offset_by FROM acs_test_clock), interval '0')
$$;

------------------------------------------------------------------------------------------
-- Working time for the clocks. A clock must never make a ticket fail: past the years its
-- calendar covers (next year's production calendar not imported yet), acs_work_add and
-- acs_work_between raise; here the clock's amount is then counted as wall-clock time instead,
-- which gives a due time earlier than the calendar would, never later. `fieldd calendar import` of the
-- next year then moves the clocks to their exact times (0006).

CREATE FUNCTION acs_sla_work_add(p_calendar text, p_start timestamptz, p_amount interval)
RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN acs_work_add(p_calendar, p_start, p_amount);
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN p_start + make_interval(secs => extract(epoch FROM p_amount));
END $$;

CREATE FUNCTION acs_sla_work_between(p_calendar text, p_from timestamptz, p_to timestamptz)
RETURNS interval
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN acs_work_between(p_calendar, p_from, p_to);
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN greatest(p_to - p_from, interval '0');
END $$;

------------------------------------------------------------------------------------------
-- The clocks.

CREATE TABLE ticket_sla (
    ticket_id          uuid PRIMARY KEY REFERENCES ticket (id),
    category           text NOT NULL,
    fc_target          interval NOT NULL CHECK (fc_target > '0'),
    fc_calendar        text NOT NULL,
    res_target         interval NOT NULL CHECK (res_target > '0'),
    res_calendar       text NOT NULL,
    warn_ratio         numeric NOT NULL CHECK (warn_ratio > 0 AND warn_ratio < 1),
    started_at         timestamptz NOT NULL,
    fc_due             timestamptz NOT NULL,
    fc_warn_at         timestamptz NOT NULL,
    fc_met_at          timestamptz,
    fc_taken           interval,
    fc_warned_at       timestamptz,
    fc_breached_at     timestamptz,
    res_consumed       interval NOT NULL DEFAULT '0',
    res_running_since  timestamptz,
    res_due            timestamptz,
    res_warn_at        timestamptz,
    res_taken          interval,
    res_warned_at      timestamptz,
    res_breached_at    timestamptz,
    -- the earlier of the due times still running (kept by a trigger): the at-risk list is
    -- ordered by it
    next_due           timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((res_running_since IS NULL) = (res_due IS NULL)),
    CHECK ((res_due IS NULL) = (res_warn_at IS NULL))
);
CREATE INDEX ticket_sla_next_due_idx ON ticket_sla (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX ticket_sla_fc_warn_idx ON ticket_sla (fc_warn_at)
    WHERE fc_met_at IS NULL AND fc_warned_at IS NULL;
CREATE INDEX ticket_sla_fc_due_idx ON ticket_sla (fc_due)
    WHERE fc_met_at IS NULL AND fc_breached_at IS NULL;
CREATE INDEX ticket_sla_res_warn_idx ON ticket_sla (res_warn_at)
    WHERE res_running_since IS NOT NULL AND res_warned_at IS NULL;
CREATE INDEX ticket_sla_res_due_idx ON ticket_sla (res_due)
    WHERE res_running_since IS NOT NULL AND res_breached_at IS NULL;
CREATE TRIGGER ticket_sla_updated BEFORE UPDATE ON ticket_sla
    FOR EACH ROW EXECUTE FUNCTION acs_set_updated_at();

CREATE FUNCTION acs_sla_next_due() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.next_due := CASE WHEN NEW.fc_met_at IS NULL THEN least(NEW.fc_due, NEW.res_due)
                         ELSE NEW.res_due END;
    RETURN NEW;
END $$;
CREATE TRIGGER ticket_sla_next_due BEFORE INSERT OR UPDATE ON ticket_sla
    FOR EACH ROW EXECUTE FUNCTION acs_sla_next_due();

-- A change of any clock (or of the test clock) tells every fieldd to re-read what is due next.
-- acs_sla_tick's own marks are quiet (the setting acs.sla_quiet, local to its transaction):
-- the instance that ticked already knows what comes next, and a notification there would make
-- every instance tick again, and again.
CREATE FUNCTION acs_notify_sla() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('acs.sla_quiet', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify('acs_changes', 'ticket_sla');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_sla_changes AFTER INSERT OR UPDATE OR DELETE ON ticket_sla
    FOR EACH STATEMENT EXECUTE FUNCTION acs_notify_sla();
CREATE TRIGGER acs_test_clock_changes AFTER INSERT OR UPDATE OR DELETE ON acs_test_clock
    FOR EACH STATEMENT EXECUTE FUNCTION acs_notify_sla();

-- The clocks of a new ticket under policy p, started at t0.
CREATE FUNCTION acs_sla_start(p_ticket uuid, p_category text, p_client uuid, p_t0 timestamptz)
RETURNS ticket_sla
LANGUAGE sql STABLE AS $$
    SELECT p_ticket, p_category,
           p.first_contact_target, p.first_contact_calendar,
           p.resolution_target, p.resolution_calendar, p.warn_ratio, p_t0,
           acs_sla_work_add(p.first_contact_calendar, p_t0, p.first_contact_target),
           acs_sla_work_add(p.first_contact_calendar, p_t0, p.first_contact_target * p.warn_ratio),
           NULL::timestamptz, NULL::interval, NULL::timestamptz, NULL::timestamptz,
           interval '0', p_t0,
           acs_sla_work_add(p.resolution_calendar, p_t0, p.resolution_target),
           acs_sla_work_add(p.resolution_calendar, p_t0, p.resolution_target * p.warn_ratio),
           NULL::interval, NULL::timestamptz, NULL::timestamptz,
           NULL::timestamptz, now()  -- next_due (the trigger sets it), updated_at
    FROM acs_sla_policy_for(p_category, p_client) p
$$;

-- Apply a ticket action at time t to a clock row; returns the new row (STABLE: it only
-- computes; the caller writes it). Actions as in ticket_fsm.h.
CREATE FUNCTION acs_sla_step(s ticket_sla, p_action text, t timestamptz)
RETURNS ticket_sla
LANGUAGE plpgsql STABLE AS $$
DECLARE
    used interval;
BEGIN
    IF p_action IN ('acknowledge', 'start') AND s.fc_met_at IS NULL THEN
        s.fc_met_at := t;
        s.fc_taken := acs_sla_work_between(s.fc_calendar, s.started_at, t);
    END IF;
    IF p_action IN ('wait', 'resolve') AND s.res_running_since IS NOT NULL THEN
        s.res_consumed := s.res_consumed + acs_sla_work_between(s.res_calendar, s.res_running_since, t);
        s.res_running_since := NULL;
        s.res_due := NULL;
        s.res_warn_at := NULL;
        IF p_action = 'resolve' THEN
            s.res_taken := s.res_consumed;
            IF s.fc_met_at IS NULL THEN  -- resolved without a recorded contact: contact now
                s.fc_met_at := t;
                s.fc_taken := acs_sla_work_between(s.fc_calendar, s.started_at, t);
            END IF;
        END IF;
    ELSIF p_action IN ('resume', 'reopen') AND s.res_running_since IS NULL THEN
        s.res_running_since := t;
        s.res_taken := NULL;
        used := least(s.res_consumed, s.res_target);
        s.res_due := acs_sla_work_add(s.res_calendar, t, s.res_target - used);
        s.res_warn_at := acs_sla_work_add(s.res_calendar, t,
                                      greatest(s.res_target * s.warn_ratio - used, interval '0'));
    END IF;
    RETURN s;
END $$;

-- The clocks of ticket s recomputed under the policy of a new category at time t: the first
-- contact target from the ticket's start, the resolution target less the working time used.
CREATE FUNCTION acs_sla_recompute(s ticket_sla, p_category text, p_client uuid, t timestamptz)
RETURNS ticket_sla
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p record;
    used interval;
BEGIN
    SELECT * INTO p FROM acs_sla_policy_for(p_category, p_client);
    s.category := p_category;
    s.fc_target := p.first_contact_target;
    s.fc_calendar := p.first_contact_calendar;
    s.res_target := p.resolution_target;
    s.res_calendar := p.resolution_calendar;
    s.warn_ratio := p.warn_ratio;
    s.fc_due := acs_sla_work_add(s.fc_calendar, s.started_at, s.fc_target);
    s.fc_warn_at := acs_sla_work_add(s.fc_calendar, s.started_at, s.fc_target * s.warn_ratio);
    IF s.res_running_since IS NOT NULL THEN
        -- working time used so far, on the new calendar
        used := s.res_consumed + acs_sla_work_between(s.res_calendar, s.res_running_since, t);
        s.res_consumed := used;
        s.res_running_since := t;
        used := least(used, s.res_target);
        s.res_due := acs_sla_work_add(s.res_calendar, t, s.res_target - used);
        s.res_warn_at := acs_sla_work_add(s.res_calendar, t,
                                      greatest(s.res_target * s.warn_ratio - used, interval '0'));
    END IF;
    RETURN s;
END $$;

-- Store clock row s (replacing the ticket's row). The statements that change a ticket call
-- the functions below from a CTE that runs before their UPDATE of the ticket, and copy the
-- due times into ticket.first_contact_due / resolution_due themselves.
CREATE FUNCTION acs_sla_store(s ticket_sla) RETURNS ticket_sla
LANGUAGE plpgsql AS $$
BEGIN
    s.updated_at := now();
    DELETE FROM ticket_sla WHERE ticket_id = s.ticket_id;
    INSERT INTO ticket_sla SELECT (s).*;
    SELECT * INTO s FROM ticket_sla WHERE ticket_id = s.ticket_id;
    RETURN s;
END $$;

-- Apply ticket action p_action at time t to the ticket's clocks and store them.
CREATE FUNCTION acs_sla_apply(p_ticket uuid, p_action text, t timestamptz) RETURNS ticket_sla
LANGUAGE plpgsql AS $$
DECLARE
    s ticket_sla;
BEGIN
    SELECT * INTO s FROM ticket_sla WHERE ticket_id = p_ticket FOR UPDATE;
    IF NOT FOUND THEN
        s := acs_sla_replay(p_ticket);
    END IF;
    RETURN acs_sla_store(acs_sla_step(s, p_action, t));
END $$;

-- The ticket moved to another category: recompute its clocks under that category's policy and
-- record the old and new due times as an 'sla_recomputed' event.
CREATE FUNCTION acs_sla_recategorize(p_ticket uuid, p_category text, p_client uuid,
                                     t timestamptz, p_actor uuid)
RETURNS ticket_sla
LANGUAGE plpgsql AS $$
DECLARE
    s ticket_sla;
    n ticket_sla;
BEGIN
    SELECT * INTO s FROM ticket_sla WHERE ticket_id = p_ticket FOR UPDATE;
    IF NOT FOUND THEN
        s := acs_sla_replay(p_ticket);
    END IF;
    IF s.category = p_category THEN
        RETURN s;
    END IF;
    n := acs_sla_store(acs_sla_recompute(s, p_category, p_client, t));
    INSERT INTO ticket_event (ticket_id, kind, actor_id, data)
    VALUES (p_ticket, 'sla_recomputed', p_actor, jsonb_build_object(
        'from_category', s.category, 'to_category', p_category,
        'first_contact_due', jsonb_build_object('from', s.fc_due, 'to', n.fc_due),
        'resolution_due', jsonb_build_object('from', s.res_due, 'to', n.res_due)));
    RETURN n;
END $$;

-- A ticket's SLA state as the API shows it, at time t. Durations are in seconds.
CREATE FUNCTION acs_sla_json(s ticket_sla, t timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN s.ticket_id IS NULL THEN NULL ELSE jsonb_build_object(
        'category', s.category,
        'warn_ratio', s.warn_ratio,
        'next_due', CASE WHEN s.fc_met_at IS NULL THEN least(s.fc_due, s.res_due)
                         ELSE s.res_due END,
        'first_contact', jsonb_build_object(
            'target_seconds', extract(epoch FROM s.fc_target)::bigint,
            'calendar', s.fc_calendar,
            'due', s.fc_due,
            'warn_at', s.fc_warn_at,
            'met_at', s.fc_met_at,
            'taken_seconds', extract(epoch FROM s.fc_taken)::bigint,
            'remaining_seconds', CASE WHEN s.fc_met_at IS NULL THEN
                extract(epoch FROM acs_sla_work_between(s.fc_calendar, t, s.fc_due))::bigint END,
            'met', CASE WHEN s.fc_met_at IS NOT NULL THEN s.fc_taken <= s.fc_target END,
            'warned_at', s.fc_warned_at,
            'breached_at', s.fc_breached_at,
            'breached', s.fc_breached_at IS NOT NULL
                        OR (s.fc_met_at IS NOT NULL AND s.fc_taken > s.fc_target)),
        'resolution', jsonb_build_object(
            'target_seconds', extract(epoch FROM s.res_target)::bigint,
            'calendar', s.res_calendar,
            'due', s.res_due,
            'warn_at', s.res_warn_at,
            'paused', s.res_running_since IS NULL AND s.res_taken IS NULL,
            'consumed_seconds', extract(epoch FROM s.res_consumed
                + CASE WHEN s.res_running_since IS NOT NULL
                       THEN acs_sla_work_between(s.res_calendar, s.res_running_since, t)
                       ELSE interval '0' END)::bigint,
            'remaining_seconds', CASE WHEN s.res_running_since IS NOT NULL THEN
                extract(epoch FROM acs_sla_work_between(s.res_calendar, t, s.res_due))::bigint END,
            'taken_seconds', extract(epoch FROM s.res_taken)::bigint,
            'met', CASE WHEN s.res_taken IS NOT NULL THEN s.res_taken <= s.res_target END,
            'warned_at', s.res_warned_at,
            'breached_at', s.res_breached_at,
            'breached', s.res_breached_at IS NOT NULL
                        OR (s.res_taken IS NOT NULL AND s.res_taken > s.res_target)))
    END
$$;

------------------------------------------------------------------------------------------
-- Warnings and breaches, exactly once.

CREATE FUNCTION acs_sla_process(p_now timestamptz, p_limit integer)
RETURNS TABLE (ticket_id uuid, clock text, kind text, due timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    -- Each step is its own statement, so a ticket both warned and breached in one call (after
    -- downtime) gets both marks, in order.
    RETURN QUERY
    WITH c AS (SELECT s.ticket_id FROM ticket_sla s
               WHERE s.fc_met_at IS NULL AND s.fc_warned_at IS NULL AND s.fc_warn_at <= p_now
               ORDER BY s.fc_warn_at LIMIT p_limit FOR UPDATE SKIP LOCKED),
         u AS (UPDATE ticket_sla s SET fc_warned_at = p_now FROM c
               WHERE s.ticket_id = c.ticket_id AND s.fc_met_at IS NULL
                 AND s.fc_warned_at IS NULL
               RETURNING s.ticket_id, s.fc_due)
    SELECT u.ticket_id, 'first_contact'::text, 'warning'::text, u.fc_due FROM u;

    RETURN QUERY
    WITH c AS (SELECT s.ticket_id FROM ticket_sla s
               WHERE s.fc_met_at IS NULL AND s.fc_breached_at IS NULL AND s.fc_due <= p_now
               ORDER BY s.fc_due LIMIT p_limit FOR UPDATE SKIP LOCKED),
         u AS (UPDATE ticket_sla s SET fc_breached_at = p_now FROM c
               WHERE s.ticket_id = c.ticket_id AND s.fc_met_at IS NULL
                 AND s.fc_breached_at IS NULL
               RETURNING s.ticket_id, s.fc_due)
    SELECT u.ticket_id, 'first_contact'::text, 'breach'::text, u.fc_due FROM u;

    RETURN QUERY
    WITH c AS (SELECT s.ticket_id FROM ticket_sla s
               WHERE s.res_running_since IS NOT NULL AND s.res_warned_at IS NULL
                 AND s.res_warn_at <= p_now
               ORDER BY s.res_warn_at LIMIT p_limit FOR UPDATE SKIP LOCKED),
         u AS (UPDATE ticket_sla s SET res_warned_at = p_now FROM c
               WHERE s.ticket_id = c.ticket_id AND s.res_running_since IS NOT NULL
                 AND s.res_warned_at IS NULL
               RETURNING s.ticket_id, s.res_due)
    SELECT u.ticket_id, 'resolution'::text, 'warning'::text, u.res_due FROM u;

    RETURN QUERY
    WITH c AS (SELECT s.ticket_id FROM ticket_sla s
               WHERE s.res_running_since IS NOT NULL AND s.res_breached_at IS NULL
                 AND s.res_due <= p_now
               ORDER BY s.res_due LIMIT p_limit FOR UPDATE SKIP LOCKED),
         u AS (UPDATE ticket_sla s SET res_breached_at = p_now FROM c
               WHERE s.ticket_id = c.ticket_id AND s.res_running_since IS NOT NULL
                 AND s.res_breached_at IS NULL
               RETURNING s.ticket_id, s.res_due)
    SELECT u.ticket_id, 'resolution'::text, 'breach'::text, u.res_due FROM u;
END $$;

-- One call of the timer: mark what is due, write the events (a breach escalates to the head
-- of support: an 'sla_escalated' event naming them, and an audit row), announce each as a
-- live event, and say when to come back. Returns one row per mark, and always one last row
-- with kind 'next' whose due is the next instant anything falls due (NULL if nothing runs).
CREATE FUNCTION acs_sla_tick(p_limit integer DEFAULT 1000)
RETURNS TABLE (ticket_id uuid, clock text, kind text, due timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz := acs_now();
    r record;
    heads jsonb;
BEGIN
    PERFORM set_config('acs.sla_quiet', 'on', true);
    SELECT coalesce(jsonb_agg(u.id ORDER BY u.name), '[]') INTO heads
    FROM app_user u WHERE u.role = 'head' AND u.active;
    FOR r IN SELECT * FROM acs_sla_process(t, p_limit) LOOP
        INSERT INTO ticket_event (ticket_id, kind, data)
        VALUES (r.ticket_id, 'sla_' || r.kind,
                jsonb_build_object('clock', r.clock, 'due', r.due, 'at', t));
        IF r.kind = 'breach' THEN
            INSERT INTO ticket_event (ticket_id, kind, data)
            VALUES (r.ticket_id, 'sla_escalated',
                    jsonb_build_object('clock', r.clock, 'to_role', 'head', 'to', heads));
            INSERT INTO audit_log (action, object_type, object_id, detail)
            VALUES ('sla.escalate', 'ticket', r.ticket_id,
                    jsonb_build_object('clock', r.clock, 'due', r.due, 'to', heads));
        END IF;
        PERFORM pg_notify('acs_changes', json_build_object(
            'event', 'sla_' || r.kind, 'ticket_id', r.ticket_id, 'clock', r.clock,
            'due', r.due, 'at', t)::text);
        ticket_id := r.ticket_id;
        clock := r.clock;
        kind := r.kind;
        due := r.due;
        RETURN NEXT;
    END LOOP;
    ticket_id := NULL;
    clock := NULL;
    kind := 'next';
    SELECT min(x.at) INTO due FROM (
        (SELECT s.fc_warn_at AS at FROM ticket_sla s
          WHERE s.fc_met_at IS NULL AND s.fc_warned_at IS NULL ORDER BY 1 LIMIT 1)
        UNION ALL
        (SELECT s.fc_due FROM ticket_sla s
          WHERE s.fc_met_at IS NULL AND s.fc_breached_at IS NULL ORDER BY 1 LIMIT 1)
        UNION ALL
        (SELECT s.res_warn_at FROM ticket_sla s
          WHERE s.res_running_since IS NOT NULL AND s.res_warned_at IS NULL ORDER BY 1 LIMIT 1)
        UNION ALL
        (SELECT s.res_due FROM ticket_sla s
          WHERE s.res_running_since IS NOT NULL AND s.res_breached_at IS NULL ORDER BY 1 LIMIT 1)
    ) x;
    -- the timer runs on the real clock: say how far ahead of the test clock's now that is
    due := due - (t - now());
    RETURN NEXT;
END $$;

------------------------------------------------------------------------------------------
-- Repeat tickets: a new ticket on the same site (and device, when given) within
-- repeat_window of a resolved one is linked to the most recent such ticket.

CREATE TABLE acs_setting (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO acs_setting (name, value) VALUES ('repeat_window', '30 days');

CREATE FUNCTION acs_repeat_of(p_site uuid, p_device uuid, p_at timestamptz) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT t.id FROM ticket t
    WHERE t.site_id = p_site
      AND (p_device IS NULL OR t.device_id = p_device)
      AND t.status IN ('resolved', 'closed')
      AND t.resolved_at >= p_at - (SELECT value::interval FROM acs_setting
                                   WHERE name = 'repeat_window')
    ORDER BY t.resolved_at DESC, t.id
    LIMIT 1
$$;
CREATE INDEX ticket_site_resolved_idx ON ticket (site_id, resolved_at DESC)
    WHERE status IN ('resolved', 'closed');

-- A ticket's clocks rebuilt from its history: started when it was created, then every
-- transition event applied in order. For tickets written before the clocks existed, and for
-- data loaded in bulk (fieldd seed-demo).
CREATE FUNCTION acs_sla_replay(p_ticket uuid) RETURNS ticket_sla
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t ticket;
    s ticket_sla;
    e record;
BEGIN
    SELECT * INTO STRICT t FROM ticket WHERE id = p_ticket;
    s := acs_sla_start(t.id, t.category, t.client_id, t.created_at);
    FOR e IN SELECT ev.kind, ev.at FROM ticket_event ev
             WHERE ev.ticket_id = p_ticket
               AND ev.kind IN ('acknowledge', 'start', 'wait', 'resume', 'resolve', 'reopen')
             ORDER BY ev.id LOOP
        s := acs_sla_step(s, e.kind, e.at);
    END LOOP;
    RETURN s;
END $$;

INSERT INTO ticket_sla
SELECT (acs_sla_replay(t.id)).* FROM ticket t
ON CONFLICT DO NOTHING;
UPDATE ticket t SET first_contact_due = s.fc_due, resolution_due = s.res_due
FROM ticket_sla s WHERE s.ticket_id = t.id;
