-- The webhook outbox (docs/operators.md "Webhooks"): every audit row whose
-- action maps to webhook event types writes one webhook_deliveries row per
-- enabled endpoint subscribed to it, in the same transaction as the audit
-- row (and so as the change it records). A rolled-back change sends nothing;
-- a committed one is always sent. Org endpoints get events of their
-- organization; global endpoints (org_id NULL) get every subscribed event.
-- The payload holds ids and non-personal details only (no email, no name,
-- no IP, no User-Agent).

-- Audit action (+ flags) -> webhook event types. The contract of issue 13;
-- src/webhooks/events.ts lists the same types for validation.
CREATE OR REPLACE FUNCTION webhook_event_types(action text, flags text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE action
    WHEN 'user.create' THEN ARRAY['user.created']
    WHEN 'account.link' THEN ARRAY['user.updated']
    WHEN 'account.unlink' THEN ARRAY['user.updated']
    WHEN 'user.enable' THEN ARRAY['user.updated']
    WHEN 'user.disable' THEN ARRAY['user.updated', 'session.revoked']
    WHEN 'user.delete' THEN ARRAY['user.deleted']
    WHEN 'signin.success' THEN
      CASE WHEN cardinality(coalesce(flags, '{}')) > 0 THEN ARRAY['session.created', 'signin.suspicious'] ELSE ARRAY['session.created'] END
    WHEN 'signout' THEN ARRAY['session.revoked']
    WHEN 'session.revoke' THEN ARRAY['session.revoked']
    WHEN 'refresh.reuse_detected' THEN ARRAY['refresh.reuse_detected']
    -- invitation.accept writes no member.add of its own (src/db/invitations.ts).
    WHEN 'member.add' THEN ARRAY['membership.created']
    WHEN 'invitation.accept' THEN ARRAY['membership.created']
    WHEN 'member.role_change' THEN ARRAY['membership.updated']
    WHEN 'member.remove' THEN ARRAY['membership.deleted']
    WHEN 'member.leave' THEN ARRAY['membership.deleted']
    WHEN 'provider.connect' THEN ARRAY['pages.connected']
    WHEN 'oauth_client.create' THEN ARRAY['client.created']
    WHEN 'oauth_client.update' THEN ARRAY['client.updated']
    WHEN 'oauth_client.secret_rotate' THEN ARRAY['client.updated']
    WHEN 'oauth_client.delete' THEN ARRAY['client.deleted']
    WHEN 'oauth_grant.create' THEN ARRAY['grant.created']
    WHEN 'oauth_grant.revoke' THEN ARRAY['grant.revoked']
    ELSE ARRAY[]::text[]
  END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION webhook_outbox_enqueue() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  types text[] := webhook_event_types(NEW.action, NEW.flags);
BEGIN
  -- Most audit rows (token reads, invitations sent) are no event: no endpoint lookup at all.
  IF cardinality(types) = 0 THEN
    RETURN NULL;
  END IF;
  INSERT INTO webhook_deliveries (endpoint_id, event_type, audit_event_id, payload, next_attempt_at)
  SELECT e.id, t, NEW.id,
         jsonb_build_object(
           'type', t,
           'timestamp', to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', jsonb_strip_nulls(jsonb_build_object(
             'eventId', NEW.id::text,
             'action', NEW.action,
             'actor', jsonb_strip_nulls(jsonb_build_object('type', NEW.actor_type, 'id', NEW.actor_id)),
             'userId', coalesce(NEW.subject_user_id::text, CASE WHEN NEW.target_type = 'user' THEN NEW.target_id END),
             'orgId', NEW.org_id,
             'target', CASE WHEN NEW.target_type IS NOT NULL THEN jsonb_strip_nulls(jsonb_build_object('type', NEW.target_type, 'id', NEW.target_id)) END,
             'flags', CASE WHEN cardinality(NEW.flags) > 0 THEN to_jsonb(NEW.flags) END,
             -- A fixed list of non-personal metadata keys; anything else (emails, names, slugs) stays out.
             'details', nullif(jsonb_strip_nulls(jsonb_build_object(
               'role', NEW.metadata -> 'role', 'from', NEW.metadata -> 'from', 'to', NEW.metadata -> 'to',
               'method', NEW.metadata -> 'method', 'new_user', NEW.metadata -> 'new_user',
               'session_id', NEW.metadata -> 'session_id', 'family_id', NEW.metadata -> 'family_id',
               'provider', NEW.metadata -> 'provider', 'fields', NEW.metadata -> 'fields', 'code', NEW.metadata -> 'code'
             )), '{}'::jsonb)
           ))
         ),
         now()
  FROM webhook_endpoints e
  CROSS JOIN unnest(types) AS t
  WHERE e.enabled
    AND (e.org_id IS NULL OR e.org_id = NEW.org_id)
    AND (t = ANY (e.event_types) OR split_part(t, '.', 1) || '.*' = ANY (e.event_types) OR '*' = ANY (e.event_types));
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_webhook_outbox
AFTER INSERT ON audit_events
FOR EACH ROW EXECUTE FUNCTION webhook_outbox_enqueue();
