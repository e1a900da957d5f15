-- SPDX-License-Identifier: MIT
-- 0009_metrics: customer feedback (CSAT and NPS) through a single-use link or the API, the
-- service metrics of any period broken down by category, client, site kind or engineer, and
-- the monthly report's data. docs/metrics.md defines every figure and shows these functions;
-- fieldd runs exactly them (core/api_metrics.c, core/api_feedback.c), so a figure in the API
-- or the report can be reproduced in psql with the same call.
--
-- Follows the conventions stated at the top of 0001_core.sql. Builds on the SLA clocks of
-- 0005 (ticket_sla) and on repeat tickets (ticket.repeat_of).

------------------------------------------------------------------------------------------
-- Feedback. csat_response (0002) holds one survey per ticket. A survey sent as a link keeps
-- only the SHA-256 of the link's token; one recorded through the API (a client who answered
-- on the phone) has no token. A new link for a ticket whose survey is still unanswered
-- replaces the token (the old link stops working); an answered survey is final.

ALTER TABLE csat_response ALTER COLUMN token_hash DROP NOT NULL;
-- channel: how the survey was (or will be) answered: 'link' (the client's form) or 'api'.
ALTER TABLE csat_response
    ADD COLUMN channel      text NOT NULL DEFAULT 'link' CHECK (channel IN ('link', 'api')),
    ADD COLUMN sent_by      uuid REFERENCES app_user (id),
    ADD COLUMN recorded_by  uuid REFERENCES app_user (id),
    ADD CONSTRAINT csat_response_comment_length CHECK (length(comment) <= 5000),
    -- a survey answered through its link had a link
    ADD CONSTRAINT csat_response_link_has_token CHECK (channel = 'api' OR token_hash IS NOT NULL);

------------------------------------------------------------------------------------------
-- Periods. A month (and a date given without a time) is read on the wall clock of the
-- company's reporting time zone, setting report_time_zone (acs_setting, 0005).

INSERT INTO acs_setting (name, value) VALUES ('report_time_zone', 'Europe/Moscow')
ON CONFLICT (name) DO NOTHING;

CREATE FUNCTION acs_report_tz() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT value FROM acs_setting WHERE name = 'report_time_zone'),
                    'Europe/Moscow')
$$;

-- The first instant of a month ('2026-10') and of the month after it.
CREATE FUNCTION acs_month_bounds(p_month text, OUT month_from timestamptz,
                                 OUT month_to timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (to_date(p_month, 'YYYY-MM')::timestamp) AT TIME ZONE acs_report_tz(),
           ((to_date(p_month, 'YYYY-MM') + interval '1 month')::timestamp)
               AT TIME ZONE acs_report_tz()
$$;

-- An instant given as a date ('2026-10-01': its midnight in the reporting time zone) or as an
-- RFC 3339 timestamp.
CREATE FUNCTION acs_period_instant(p text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                THEN (p::date::timestamp) AT TIME ZONE acs_report_tz()
                ELSE p::timestamptz END
$$;

------------------------------------------------------------------------------------------
-- What the metrics need to know about one ticket, one row per ticket. A view, so that a
-- query restricted to some tickets (a period) computes the joined facts only for them.
--
--   engineer_id   the engineer of the ticket's most recent job that had one
--   fc_state      first-contact clock: 'breached' when the timer marked a breach or the
--                 contact took more working time than the target, 'met' when contact was made
--                 within it, else 'pending' (still running)
--   res_state     likewise for resolution ('met' only while the ticket stays resolved)
--   visits        visits (jobs of kind visit) that ended on site: done or needs_revisit
--   first_time_fix  exactly one such visit, and it was done (no revisit needed)
--   reopens, escalations   reopen and sla_escalated events of the ticket

CREATE VIEW acs_ticket_fact AS
SELECT t.id, t.number, t.subject, t.status, t.category, t.client_id, t.site_id,
       (SELECT st.kind FROM site st WHERE st.id = t.site_id) AS site_kind,
       t.created_at, t.first_contact_at, t.resolved_at, t.repeat_of,
       (SELECT j.engineer_id FROM job j
        WHERE j.ticket_id = t.id AND j.engineer_id IS NOT NULL
        ORDER BY j.created_at DESC, j.id DESC LIMIT 1) AS engineer_id,
       CASE WHEN x.fc_breached_at IS NOT NULL OR x.fc_taken > x.fc_target THEN 'breached'
            WHEN x.fc_met_at IS NOT NULL THEN 'met' ELSE 'pending' END AS fc_state,
       extract(epoch FROM x.fc_taken)::bigint AS fc_seconds,
       extract(epoch FROM x.fc_target)::bigint AS fc_target_seconds,
       CASE WHEN x.res_breached_at IS NOT NULL OR x.res_taken > x.res_target THEN 'breached'
            WHEN x.res_taken IS NOT NULL THEN 'met' ELSE 'pending' END AS res_state,
       extract(epoch FROM x.res_taken)::bigint AS res_seconds,
       extract(epoch FROM x.res_target)::bigint AS res_target_seconds,
       v.visits, v.visits = 1 AND v.done = 1 AS first_time_fix,
       ev.reopens, ev.escalations,
       c.created_at AS surveyed_at, c.responded_at, c.csat, c.nps, c.comment AS feedback
FROM ticket t
-- Each joined row is looked up by the ticket's key (LIMIT keeps the planner from turning a
-- lookup into a scan of the whole table, which a period's few thousand tickets never need);
-- the two columns that are subqueries (site kind, engineer) cost nothing in a query that does
-- not read them.
LEFT JOIN LATERAL (
    SELECT s.fc_breached_at, s.fc_taken, s.fc_target, s.fc_met_at, s.res_breached_at,
           s.res_taken, s.res_target
    FROM ticket_sla s WHERE s.ticket_id = t.id LIMIT 1) x ON true
LEFT JOIN LATERAL (
    SELECT r.created_at, r.responded_at, r.csat, r.nps, r.comment
    FROM csat_response r WHERE r.ticket_id = t.id LIMIT 1) c ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS visits, count(*) FILTER (WHERE j.status = 'done') AS done
    FROM job j
    WHERE j.ticket_id = t.id AND j.kind = 'visit' AND j.status IN ('done', 'needs_revisit')
    ) v ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE e.kind = 'reopen') AS reopens,
           count(*) FILTER (WHERE e.kind = 'sla_escalated') AS escalations
    FROM ticket_event e
    WHERE e.ticket_id = t.id AND e.kind IN ('reopen', 'sla_escalated')) ev ON true;

-- Visits (jobs of kind visit) that reached the site, with the time spent there: the outcome's
-- time_on_site_min, else arrival to finish.
CREATE VIEW acs_visit_fact AS
SELECT j.id, j.ticket_id, j.engineer_id, j.site_id,
       (SELECT st.kind FROM site st WHERE st.id = j.site_id) AS site_kind,
       (SELECT st.client_id FROM site st WHERE st.id = j.site_id) AS client_id,
       (SELECT t.category FROM ticket t WHERE t.id = j.ticket_id) AS category,
       j.status, j.arrived_at, j.finished_at,
       coalesce((SELECT o.time_on_site_min::numeric FROM outcome o WHERE o.job_id = j.id),
                round(extract(epoch FROM j.finished_at - j.arrived_at) / 60)) AS minutes_on_site
FROM job j
WHERE j.kind = 'visit' AND j.arrived_at IS NOT NULL;

-- Indexes the periods are read by.
CREATE INDEX ticket_resolved_idx ON ticket (resolved_at) WHERE resolved_at IS NOT NULL;
-- the few events the metrics count, without reading a ticket's whole history
CREATE INDEX ticket_event_metric_idx ON ticket_event (ticket_id, kind)
    WHERE kind IN ('reopen', 'sla_escalated');
-- the report's hardest cases: is a ticket repeated by a later one
CREATE INDEX ticket_repeat_of_idx ON ticket (repeat_of) WHERE repeat_of IS NOT NULL;
CREATE INDEX job_arrived_idx ON job (arrived_at) WHERE kind = 'visit' AND arrived_at IS NOT NULL;
CREATE INDEX project_start_idx ON project (actual_start) WHERE actual_start IS NOT NULL;
CREATE INDEX project_end_idx ON project (actual_end) WHERE actual_end IS NOT NULL;
-- the SLA trend reads only the clocks, by the instant they started (= ticket.created_at), and
-- from this index alone (an index-only scan) for the months whose clocks no longer change
CREATE INDEX ticket_sla_started_idx ON ticket_sla (started_at)
    INCLUDE (fc_met_at, fc_taken, fc_target, fc_breached_at, res_taken, res_target,
             res_breached_at);

-- The key of a fact under a breakdown, and its label.
CREATE FUNCTION acs__metric_key(p_by text, p_category text, p_client uuid, p_site_kind text,
                                p_engineer uuid) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_by WHEN 'category' THEN p_category
                     WHEN 'client' THEN p_client::text
                     WHEN 'site_kind' THEN p_site_kind
                     WHEN 'engineer' THEN p_engineer::text END
$$;

CREATE FUNCTION acs__metric_label(p_by text, p_key text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_key IS NULL THEN
                    CASE p_by WHEN 'engineer' THEN '(no engineer)' ELSE '(none)' END
                WHEN p_by = 'client' THEN (SELECT name FROM client WHERE id = p_key::uuid)
                WHEN p_by = 'engineer' THEN (SELECT name FROM app_user WHERE id = p_key::uuid)
                ELSE p_key END
$$;

CREATE FUNCTION acs__pct(n numeric, d numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN d > 0 THEN round(100 * n / d, 1) END
$$;

------------------------------------------------------------------------------------------
-- The metrics of the period [p_from, p_to), in total and (p_by: 'category', 'client',
-- 'site_kind', 'engineer', or NULL for none) per group. Cohorts (docs/metrics.md):
--   opened in the period: volume opened, SLA compliance of both clocks, time to first
--     contact, repeat rate, reopen rate;
--   resolved in the period: volume resolved, time to resolution, first-time fix, CSAT, NPS;
--   open at the period's end: backlog;
--   visits that arrived on site in the period: visits, time on site;
--   projects: started, finished and finished late in the period (totals only).
-- Returns {"from", "to", "by", "totals": {...}, "groups": [{"key", "label", ...}]}.

CREATE FUNCTION acs_metrics(p_from timestamptz, p_to timestamptz, p_by text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
-- JIT compiling would take longer than the index lookups it speeds up (a second)
SET jit = off AS $$
DECLARE
    result jsonb;
BEGIN
    IF p_by IS NOT NULL AND p_by NOT IN ('category', 'client', 'site_kind', 'engineer') THEN
        RAISE EXCEPTION 'unknown breakdown "%" (use category, client, site_kind or engineer)',
            p_by USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_to <= p_from THEN
        RAISE EXCEPTION 'the period ends (%) before it begins (%)', p_to, p_from
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- a longer period would outlast the statement timeout at 100 times today's volume
    IF p_to - p_from > interval '1100 days' THEN
        RAISE EXCEPTION 'the period from % to % is longer than three years; ask for it a '
                        'year at a time', p_from, p_to USING ERRCODE = 'invalid_parameter_value';
    END IF;

    WITH f AS (
        SELECT acs__metric_key(p_by, f.category, f.client_id, f.site_kind, f.engineer_id) AS k,
               f.created_at >= p_from AND f.created_at < p_to AS opened,
               coalesce(f.resolved_at >= p_from AND f.resolved_at < p_to, false) AS resolved,
               f.fc_state, f.fc_seconds, f.res_state, f.res_seconds, f.repeat_of, f.reopens,
               f.visits, f.first_time_fix, f.surveyed_at, f.responded_at, f.csat, f.nps
        FROM acs_ticket_fact f
        WHERE (f.created_at >= p_from AND f.created_at < p_to)
           OR (f.resolved_at >= p_from AND f.resolved_at < p_to)),
    agg AS (
        SELECT grouping(k) AS g, k,
            count(*) FILTER (WHERE opened) AS opened,
            count(*) FILTER (WHERE resolved) AS resolved,
            count(*) FILTER (WHERE opened AND fc_state = 'met') AS fc_met,
            count(*) FILTER (WHERE opened AND fc_state = 'breached') AS fc_breached,
            count(*) FILTER (WHERE opened AND fc_state = 'pending') AS fc_pending,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY fc_seconds)
                FILTER (WHERE opened AND fc_seconds IS NOT NULL) AS fc_median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY fc_seconds)
                FILTER (WHERE opened AND fc_seconds IS NOT NULL) AS fc_p90,
            max(fc_seconds) FILTER (WHERE opened) AS fc_max,
            count(*) FILTER (WHERE opened AND res_state = 'met') AS res_met,
            count(*) FILTER (WHERE opened AND res_state = 'breached') AS res_breached,
            count(*) FILTER (WHERE opened AND res_state = 'pending') AS res_pending,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY res_seconds)
                FILTER (WHERE resolved AND res_seconds IS NOT NULL) AS res_median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY res_seconds)
                FILTER (WHERE resolved AND res_seconds IS NOT NULL) AS res_p90,
            max(res_seconds) FILTER (WHERE resolved) AS res_max,
            count(*) FILTER (WHERE opened AND repeat_of IS NOT NULL) AS repeats,
            count(*) FILTER (WHERE opened AND reopens > 0) AS reopened,
            count(*) FILTER (WHERE resolved AND visits > 0) AS visited,
            count(*) FILTER (WHERE resolved AND first_time_fix) AS ftf,
            count(*) FILTER (WHERE resolved AND surveyed_at IS NOT NULL) AS surveys,
            count(*) FILTER (WHERE resolved AND csat IS NOT NULL) AS csat_n,
            round(avg(csat) FILTER (WHERE resolved), 2) AS csat_avg,
            count(*) FILTER (WHERE resolved AND responded_at IS NOT NULL) AS responses,
            count(*) FILTER (WHERE resolved AND nps IS NOT NULL) AS nps_n,
            count(*) FILTER (WHERE resolved AND nps >= 9) AS promoters,
            count(*) FILTER (WHERE resolved AND nps BETWEEN 7 AND 8) AS passives,
            count(*) FILTER (WHERE resolved AND nps <= 6) AS detractors
        FROM f GROUP BY GROUPING SETS ((), (k))),
    bl AS (
        SELECT grouping(k) AS g, k, count(*) AS backlog FROM (
            SELECT acs__metric_key(p_by, f.category, f.client_id, f.site_kind, f.engineer_id) k
            FROM acs_ticket_fact f
            WHERE f.status NOT IN ('resolved', 'closed') AND f.created_at < p_to
            UNION ALL
            SELECT acs__metric_key(p_by, f.category, f.client_id, f.site_kind, f.engineer_id)
            FROM acs_ticket_fact f
            WHERE f.resolved_at >= p_to AND f.created_at < p_to) b
        GROUP BY GROUPING SETS ((), (k))),
    vi AS (
        SELECT grouping(k) AS g, k, count(*) AS visits, sum(minutes_on_site) AS minutes
        FROM (SELECT acs__metric_key(p_by, v.category, v.client_id, v.site_kind, v.engineer_id) k,
                     v.minutes_on_site
              FROM acs_visit_fact v WHERE v.arrived_at >= p_from AND v.arrived_at < p_to) v
        GROUP BY GROUPING SETS ((), (k))),
    keys AS (
        SELECT g, k FROM agg UNION SELECT g, k FROM bl UNION SELECT g, k FROM vi
        UNION SELECT 1, NULL),
    pr AS (
        SELECT count(*) FILTER (WHERE actual_start >= p_from AND actual_start < p_to) AS started,
               count(*) FILTER (WHERE actual_end >= p_from AND actual_end < p_to) AS finished,
               count(*) FILTER (WHERE actual_end >= p_from AND actual_end < p_to
                                  AND actual_end > planned_end) AS late
        FROM (SELECT (p.actual_start::timestamp AT TIME ZONE acs_report_tz()) AS actual_start,
                     (p.actual_end::timestamp AT TIME ZONE acs_report_tz()) AS actual_end,
                     (p.planned_end::timestamp AT TIME ZONE acs_report_tz()) AS planned_end
              FROM project p
              WHERE p.actual_start IS NOT NULL OR p.actual_end IS NOT NULL) p),
    rows AS (
        SELECT keys.g, keys.k, jsonb_build_object(
            'opened', coalesce(a.opened, 0),
            'resolved', coalesce(a.resolved, 0),
            'backlog_at_end', coalesce(bl.backlog, 0),
            'first_contact', jsonb_build_object(
                'met', coalesce(a.fc_met, 0), 'breached', coalesce(a.fc_breached, 0),
                'pending', coalesce(a.fc_pending, 0),
                'met_pct', acs__pct(a.fc_met, a.fc_met + a.fc_breached),
                'median_seconds', round(a.fc_median::numeric, 1),
                'p90_seconds', round(a.fc_p90::numeric, 1), 'max_seconds', a.fc_max),
            'resolution', jsonb_build_object(
                'met', coalesce(a.res_met, 0), 'breached', coalesce(a.res_breached, 0),
                'pending', coalesce(a.res_pending, 0),
                'met_pct', acs__pct(a.res_met, a.res_met + a.res_breached),
                'median_seconds', round(a.res_median::numeric, 1),
                'p90_seconds', round(a.res_p90::numeric, 1), 'max_seconds', a.res_max),
            'repeats', jsonb_build_object('count', coalesce(a.repeats, 0),
                                          'rate_pct', acs__pct(a.repeats, a.opened)),
            'reopens', jsonb_build_object('count', coalesce(a.reopened, 0),
                                          'rate_pct', acs__pct(a.reopened, a.opened)),
            'first_time_fix', jsonb_build_object(
                'tickets_with_visits', coalesce(a.visited, 0), 'fixed', coalesce(a.ftf, 0),
                'rate_pct', acs__pct(a.ftf, a.visited)),
            'csat', jsonb_build_object(
                'surveys', coalesce(a.surveys, 0), 'responses', coalesce(a.responses, 0),
                'answers', coalesce(a.csat_n, 0), 'average', a.csat_avg,
                'response_rate_pct', acs__pct(a.responses, a.surveys)),
            'nps', jsonb_build_object(
                'answers', coalesce(a.nps_n, 0), 'promoters', coalesce(a.promoters, 0),
                'passives', coalesce(a.passives, 0), 'detractors', coalesce(a.detractors, 0),
                'score', CASE WHEN a.nps_n > 0
                              THEN round(100.0 * (a.promoters - a.detractors) / a.nps_n, 1) END),
            'visits', jsonb_build_object('count', coalesce(vi.visits, 0),
                                         'minutes_on_site', coalesce(vi.minutes, 0))) AS j
        FROM keys
        LEFT JOIN agg a ON a.g = keys.g AND a.k IS NOT DISTINCT FROM keys.k
        LEFT JOIN bl ON bl.g = keys.g AND bl.k IS NOT DISTINCT FROM keys.k
        LEFT JOIN vi ON vi.g = keys.g AND vi.k IS NOT DISTINCT FROM keys.k)
    SELECT jsonb_build_object(
        'from', p_from, 'to', p_to, 'by', p_by,
        'totals', (SELECT r.j || jsonb_build_object('projects', to_jsonb(pr)) FROM rows r, pr
                   WHERE r.g = 1),
        'groups', CASE WHEN p_by IS NULL THEN '[]'::jsonb ELSE coalesce((
            SELECT jsonb_agg(jsonb_build_object('key', r.k,
                                                'label', acs__metric_label(p_by, r.k)) || r.j
                             ORDER BY acs__metric_label(p_by, r.k), r.k)
            FROM rows r WHERE r.g = 0), '[]'::jsonb) END)
    INTO result;
    RETURN result;
END $$;

------------------------------------------------------------------------------------------
-- The monthly report's data: this month's totals and categories beside the previous month's
-- totals, the SLA compliance of the last twelve months, the distribution of resolution times,
-- repeats by site, the breached tickets (the first 500 by creation, and how many there are)
-- and the hardest cases. core/report.c renders it.

-- Resolution-time buckets of the histogram, in working hours.
CREATE FUNCTION acs__res_bucket(p_seconds bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_seconds < 3600 THEN 0 WHEN p_seconds < 2 * 3600 THEN 1
                WHEN p_seconds < 4 * 3600 THEN 2 WHEN p_seconds < 8 * 3600 THEN 3
                WHEN p_seconds < 16 * 3600 THEN 4 WHEN p_seconds < 24 * 3600 THEN 5
                WHEN p_seconds < 40 * 3600 THEN 6 ELSE 7 END
$$;

-- How hard a case was (the report lists the hardest): each escalation 3, a repeat (it is one,
-- or it was repeated) 2, each reopen 2, each visit after the first 1, a dissatisfied client
-- (CSAT 1-2 or NPS 0-4: a claim) 3.
CREATE FUNCTION acs__hardness(p_escalations bigint, p_repeat boolean, p_reopens bigint,
                              p_visits bigint, p_csat integer, p_nps integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (3 * p_escalations + 2 * (CASE WHEN p_repeat THEN 1 ELSE 0 END) + 2 * p_reopens
            + greatest(p_visits - 1, 0)
            + 3 * (CASE WHEN p_csat <= 2 OR p_nps <= 4 THEN 1 ELSE 0 END))::integer
$$;

CREATE FUNCTION acs_report_monthly(p_month text) RETURNS jsonb
LANGUAGE plpgsql STABLE
-- JIT compiling would take longer than the index lookups it speeds up (a second)
SET jit = off AS $$
DECLARE
    b record;
    pb record;
    m_from timestamptz;
    m_to timestamptz;
    result jsonb;
BEGIN
    IF p_month IS NULL OR p_month !~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN
        RAISE EXCEPTION 'month "%" is not YYYY-MM', p_month
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO b FROM acs_month_bounds(p_month);
    m_from := b.month_from;
    m_to := b.month_to;
    SELECT * INTO pb FROM acs_month_bounds(to_char(to_date(p_month, 'YYYY-MM')
                                                   - interval '1 month', 'YYYY-MM'));

    WITH cur AS (SELECT acs_metrics(m_from, m_to, 'category') AS j),
    prev AS (SELECT acs_metrics(pb.month_from, pb.month_to, NULL) AS j),
    months AS (
        SELECT to_char(d, 'YYYY-MM') AS month,
               (d::timestamp AT TIME ZONE acs_report_tz()) AS mf,
               ((d + interval '1 month')::timestamp AT TIME ZONE acs_report_tz()) AS mt
        -- the last two months are those of cur and prev
        FROM generate_series(to_date(p_month, 'YYYY-MM') - interval '11 months',
                             to_date(p_month, 'YYYY-MM') - interval '2 months',
                             interval '1 month') d),
    -- each clock's state computed once per row (the states of acs_ticket_fact), then counted
    trend AS (
        SELECT m.month, c.* FROM months m CROSS JOIN LATERAL (
            SELECT count(*) AS opened,
                   count(*) FILTER (WHERE y.fcb) AS fc_breached,
                   count(*) FILTER (WHERE y.fcm AND NOT y.fcb) AS fc_met,
                   count(*) FILTER (WHERE y.rb) AS res_breached,
                   count(*) FILTER (WHERE y.rm AND NOT y.rb) AS res_met
            FROM (SELECT x.fc_breached_at IS NOT NULL OR x.fc_taken > x.fc_target AS fcb,
                         x.fc_met_at IS NOT NULL AS fcm,
                         x.res_breached_at IS NOT NULL OR x.res_taken > x.res_target AS rb,
                         x.res_taken IS NOT NULL AS rm
                  FROM ticket_sla x
                  WHERE x.started_at >= m.mf AND x.started_at < m.mt) y) c),
    -- res_seconds of acs_ticket_fact, read from the clocks alone
    resolved AS (
        SELECT extract(epoch FROM x.res_taken)::bigint AS res_seconds
        FROM ticket t
        CROSS JOIN LATERAL (SELECT s.res_taken FROM ticket_sla s WHERE s.ticket_id = t.id
                            LIMIT 1) x
        WHERE t.resolved_at >= m_from AND t.resolved_at < m_to AND x.res_taken IS NOT NULL),
    hist AS (
        SELECT n.b AS bucket, count(r.res_seconds) AS count
        FROM generate_series(0, 7) n(b)
        LEFT JOIN resolved r ON acs__res_bucket(r.res_seconds) = n.b
        GROUP BY n.b),
    repeats AS (
        SELECT t.site_id, count(*) AS repeats FROM ticket t
        WHERE t.created_at >= m_from AND t.created_at < m_to AND t.repeat_of IS NOT NULL
        GROUP BY t.site_id ORDER BY count(*) DESC, t.site_id LIMIT 10),
    -- The month's tickets that are cases for review: breached, a repeat or repeated,
    -- reopened or escalated, visited more than once, or a complaint; with whether a later
    -- ticket repeats them.
    cases AS (
        SELECT f.*, (SELECT count(*) FROM ticket r WHERE r.repeat_of = f.id) AS repeated
        FROM acs_ticket_fact f
        WHERE f.created_at >= m_from AND f.created_at < m_to
          AND (f.fc_state = 'breached' OR f.res_state = 'breached' OR f.repeat_of IS NOT NULL
               OR f.reopens > 0 OR f.escalations > 0 OR f.visits > 1 OR f.csat <= 2
               OR f.nps <= 4 OR (SELECT true FROM ticket r WHERE r.repeat_of = f.id LIMIT 1))),
    case_rows AS (
        SELECT c.*, acs__hardness(c.escalations, c.repeat_of IS NOT NULL OR c.repeated > 0,
                             c.reopens, c.visits, c.csat, c.nps) AS hardness,
               cl.name AS client_name, s.name AS site_name, u.name AS engineer_name,
               rt.number AS repeat_of_number
        FROM cases c
        JOIN client cl ON cl.id = c.client_id
        JOIN site s ON s.id = c.site_id
        LEFT JOIN app_user u ON u.id = c.engineer_id
        LEFT JOIN ticket rt ON rt.id = c.repeat_of)
    SELECT jsonb_build_object(
        'month', p_month,
        'previous_month', to_char(to_date(p_month, 'YYYY-MM') - interval '1 month', 'YYYY-MM'),
        'from', m_from, 'to', m_to, 'time_zone', acs_report_tz(), 'generated_at', acs_now(),
        'totals', (SELECT j->'totals' FROM cur),
        'previous', (SELECT j->'totals' FROM prev),
        'by_category', (SELECT j->'groups' FROM cur),
        'trend', (SELECT jsonb_agg(x.j ORDER BY x.month) FROM (
                      SELECT t.month, jsonb_build_object(
                          'month', t.month, 'opened', t.opened,
                          'first_contact_met_pct', acs__pct(t.fc_met, t.fc_met + t.fc_breached),
                          'resolution_met_pct', acs__pct(t.res_met, t.res_met + t.res_breached))
                          AS j
                      FROM trend t
                      UNION ALL
                      SELECT m.month, jsonb_build_object(
                          'month', m.month, 'opened', m.j->'opened',
                          'first_contact_met_pct', m.j->'first_contact'->'met_pct',
                          'resolution_met_pct', m.j->'resolution'->'met_pct')
                      FROM (SELECT p_month AS month, (SELECT j->'totals' FROM cur) AS j
                            UNION ALL
                            SELECT to_char(to_date(p_month, 'YYYY-MM') - interval '1 month',
                                           'YYYY-MM'), (SELECT j->'totals' FROM prev)) m) x),
        'resolution_histogram', (SELECT jsonb_agg(jsonb_build_object(
                      'bucket', (ARRAY['< 1 h', '1-2 h', '2-4 h', '4-8 h', '8-16 h', '16-24 h',
                                       '24-40 h', '40 h +'])[h.bucket + 1],
                      'count', h.count) ORDER BY h.bucket) FROM hist h),
        'repeats_by_site', coalesce((SELECT jsonb_agg(jsonb_build_object(
                      'site_id', r.site_id, 'site', s.name, 'client', cl.name,
                      'repeats', r.repeats) ORDER BY r.repeats DESC, s.name, r.site_id)
                      FROM repeats r JOIN site s ON s.id = r.site_id
                      JOIN client cl ON cl.id = s.client_id), '[]'::jsonb),
        'breached_total', (SELECT count(*) FROM case_rows c
                           WHERE c.fc_state = 'breached' OR c.res_state = 'breached'),
        'breached', coalesce((SELECT jsonb_agg(jsonb_build_object(
                      'id', c.id, 'number', c.number, 'subject', c.subject,
                      'category', c.category, 'status', c.status, 'client', c.client_name,
                      'site', c.site_name, 'engineer', c.engineer_name,
                      'created_at', c.created_at,
                      'first_contact', c.fc_state, 'first_contact_seconds', c.fc_seconds,
                      'first_contact_target_seconds', c.fc_target_seconds,
                      'resolution', c.res_state, 'resolution_seconds', c.res_seconds,
                      'resolution_target_seconds', c.res_target_seconds)
                      ORDER BY c.created_at, c.number)
                      FROM (SELECT * FROM case_rows c
                            WHERE c.fc_state = 'breached' OR c.res_state = 'breached'
                            ORDER BY c.created_at, c.number LIMIT 500) c), '[]'::jsonb),
        'hardest', coalesce((SELECT jsonb_agg(h.j ORDER BY h.hardness DESC, h.number)
                   FROM (SELECT c.hardness, c.number, jsonb_build_object(
                      'id', c.id, 'number', c.number, 'subject', c.subject,
                      'category', c.category, 'status', c.status, 'client', c.client_name,
                      'site', c.site_name, 'engineer', c.engineer_name,
                      'hardness', c.hardness, 'escalations', c.escalations,
                      'reopens', c.reopens, 'visits', c.visits,
                      'repeat_of_number', c.repeat_of_number, 'repeated_by', c.repeated,
                      'csat', c.csat, 'nps', c.nps, 'feedback', c.feedback) AS j
                      FROM case_rows c WHERE c.hardness > 0
                      ORDER BY c.hardness DESC, c.number LIMIT 10) h), '[]'::jsonb))
    INTO result;
    RETURN result;
END $$;

-- The rows under the report: one per ticket opened in the month (the report's CSV).
CREATE FUNCTION acs_report_rows(p_month text)
RETURNS TABLE (number bigint, id uuid, created_at timestamptz, category text, status text,
               client text, site text, site_kind text, engineer text, subject text,
               first_contact_state text, first_contact_seconds bigint,
               resolution_state text, resolution_seconds bigint, resolved_at timestamptz,
               repeat_of_number bigint, reopens bigint, escalations bigint, visits bigint,
               first_time_fix boolean, csat integer, nps integer)
LANGUAGE sql STABLE SET jit = off AS $$
    SELECT f.number, f.id, f.created_at, f.category, f.status, cl.name, s.name, f.site_kind,
           u.name, f.subject, f.fc_state, f.fc_seconds, f.res_state, f.res_seconds,
           f.resolved_at, rt.number, f.reopens, f.escalations, f.visits,
           CASE WHEN f.visits > 0 THEN f.first_time_fix END, f.csat, f.nps
    FROM acs_month_bounds(p_month) b
    JOIN acs_ticket_fact f ON f.created_at >= b.month_from AND f.created_at < b.month_to
    JOIN client cl ON cl.id = f.client_id
    JOIN site s ON s.id = f.site_id
    LEFT JOIN app_user u ON u.id = f.engineer_id
    LEFT JOIN ticket rt ON rt.id = f.repeat_of
    ORDER BY f.created_at, f.number
$$;
