-- SPDX-License-Identifier: MIT
-- Webhooks: outside systems (the CRM, a chat bot, a pager) told about SLA warnings and
-- breaches over HTTP.
--
-- Delivery is through an outbox. The same transaction that records an SLA warning or breach
-- (acs_sla_tick in 0005) inserts one webhook_delivery row per subscribed webhook, by the
-- trigger below; fieldd instances then claim due rows with FOR UPDATE SKIP LOCKED and a lease
-- (locked_until), POST them, and record the result. So an event is recorded once and its
-- deliveries exist exactly when the event does; each delivery is attempted until the receiver
-- answers 2xx or the attempts run out. A receiver may see a delivery twice (an instance that
-- dies after the POST and before recording it): the X-Acs-Delivery header carries the row id
-- for it to deduplicate.

CREATE TABLE webhook (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    url         text NOT NULL CHECK (url ~ '^https?://[^/?#@\s]+(/\S*)?$' AND length(url) <= 2000),
    events      text[] NOT NULL
                CHECK (cardinality(events) > 0
                       AND events <@ ARRAY['sla_warning', 'sla_breach']::text[]),
    -- HMAC-SHA256 key for the X-Acs-Signature header; kept in clear because fieldd signs with
    -- it. Shown only when the webhook is created.
    secret      text NOT NULL CHECK (length(secret) BETWEEN 16 AND 200),
    active      boolean NOT NULL DEFAULT true,
    created_by  uuid REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_delivery (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
    ticket_event_id  bigint NOT NULL REFERENCES ticket_event (id),
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    delivered_at     timestamptz,
    gave_up_at       timestamptz,
    last_status      integer,
    last_error       text,
    UNIQUE (webhook_id, ticket_event_id)
);
-- The sender's work queue: pending rows by when they are due.
CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
CREATE INDEX webhook_delivery_hook_idx ON webhook_delivery (webhook_id, id DESC);

-- One delivery per active webhook that subscribed to the event's kind. The payload is fixed
-- now, as the ticket stood when the event happened.
CREATE FUNCTION acs_webhook_enqueue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_delivery (webhook_id, ticket_event_id, event, payload)
    SELECT w.id, NEW.id, NEW.kind,
           jsonb_build_object(
               'event', NEW.kind,
               'event_id', NEW.id,
               'clock', NEW.data->'clock',
               'due', NEW.data->'due',
               'at', coalesce(NEW.data->'at', to_jsonb(NEW.at)),
               'ticket', (SELECT jsonb_build_object(
                              'id', t.id, 'number', t.number, 'category', t.category,
                              'status', t.status, 'subject', t.subject,
                              'client_id', t.client_id, 'site_id', t.site_id,
                              'device_id', t.device_id, 'crm_ref', t.crm_ref)
                          FROM ticket t WHERE t.id = NEW.ticket_id))
    FROM webhook w
    WHERE w.active AND NEW.kind = ANY (w.events);
    IF FOUND THEN
        PERFORM pg_notify('acs_changes', 'webhook_delivery');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ticket_event_webhook AFTER INSERT ON ticket_event
    FOR EACH ROW WHEN (NEW.kind IN ('sla_warning', 'sla_breach'))
    EXECUTE FUNCTION acs_webhook_enqueue();

-- Claim up to p_limit due deliveries for p_lease; returns what the sender needs. A claimed row
-- whose lease runs out (its instance died) becomes due again.
CREATE FUNCTION acs_webhook_claim(p_limit integer, p_lease interval)
RETURNS TABLE (id bigint, url text, secret text, event text, payload text, attempts integer)
LANGUAGE sql AS $$
    WITH c AS (SELECT d.id FROM webhook_delivery d
               WHERE d.delivered_at IS NULL AND d.gave_up_at IS NULL
                 AND d.next_attempt_at <= now()
                 AND (d.locked_until IS NULL OR d.locked_until < now())
               ORDER BY d.next_attempt_at, d.id
               LIMIT p_limit FOR UPDATE SKIP LOCKED)
    UPDATE webhook_delivery d
       SET locked_until = now() + p_lease, attempts = d.attempts + 1
      FROM c, webhook w
     WHERE d.id = c.id AND w.id = d.webhook_id
    RETURNING d.id, w.url, w.secret, d.event, d.payload::text, d.attempts
$$;

-- Record one attempt. p_status: the HTTP status (NULL when there was no answer); 2xx delivers.
-- Otherwise the row is due again after p_retry, or given up after p_max_attempts attempts.
-- Returns 'delivered', 'retry' or 'gave_up'.
CREATE FUNCTION acs_webhook_result(p_id bigint, p_status integer, p_error text,
                                   p_retry interval, p_max_attempts integer)
RETURNS text
LANGUAGE sql AS $$
    UPDATE webhook_delivery d
       SET locked_until = NULL,
           last_status = p_status,
           last_error = CASE WHEN p_status BETWEEN 200 AND 299 THEN NULL ELSE p_error END,
           delivered_at = CASE WHEN p_status BETWEEN 200 AND 299 THEN now() END,
           gave_up_at = CASE WHEN p_status BETWEEN 200 AND 299 THEN NULL
                             WHEN d.attempts >= p_max_attempts THEN now() END,
           next_attempt_at = CASE WHEN p_status BETWEEN 200 AND 299 THEN d.next_attempt_at
                                  ELSE now() + p_retry END
     WHERE d.id = p_id
    RETURNING CASE WHEN d.delivered_at IS NOT NULL THEN 'delivered'
                   WHEN d.gave_up_at IS NOT NULL THEN 'gave_up' ELSE 'retry' END
$$;
