-- SPDX-License-Identifier: MIT
-- 0013_live_events: the board hears of new tickets and of engineers' status changes at once.
--
-- Each is a JSON notification on acs_changes, which every fieldd relays to its live event
-- streams (GET /api/v1/events, core/sse.c), like the SLA events of 0005:
--   ticket_created  {event, ticket_id, number, subject, category, client_id, site_id}
--   job_status      {event, job_id, engineer_id, from_status, status, at}  (every job
--                   transition: en_route, on_site, done, needs_revisit, cancel, ...)
-- The triggers are per statement and read the statement's new rows: a person's change is one
-- row and one notification, while a bulk load (the demo data, the benchmarks' millions of
-- rows) sends nothing live, since no screen could show it and PostgreSQL would queue every
-- payload.

CREATE FUNCTION acs_live_ticket_created() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF (SELECT count(*) FROM new_rows) > 20 THEN
        RETURN NULL;
    END IF;
    FOR r IN SELECT * FROM new_rows LOOP
        PERFORM pg_notify('acs_changes', json_build_object(
            'event', 'ticket_created', 'ticket_id', r.id, 'number', r.number,
            'subject', r.subject, 'category', r.category, 'client_id', r.client_id,
            'site_id', r.site_id)::text);
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_live_created AFTER INSERT ON ticket
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_live_ticket_created();

CREATE FUNCTION acs_live_job_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF (SELECT count(*) FROM new_rows) > 20 THEN
        RETURN NULL;
    END IF;
    FOR r IN SELECT e.job_id, e.from_status, e.to_status, e.at, j.engineer_id
             FROM new_rows e JOIN job j ON j.id = e.job_id
             WHERE e.to_status IS NOT NULL AND e.from_status IS DISTINCT FROM e.to_status
    LOOP
        PERFORM pg_notify('acs_changes', json_build_object(
            'event', 'job_status', 'job_id', r.job_id, 'engineer_id', r.engineer_id,
            'from_status', r.from_status, 'status', r.to_status, 'at', r.at)::text);
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER job_event_live_status AFTER INSERT ON job_event
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION acs_live_job_status();
