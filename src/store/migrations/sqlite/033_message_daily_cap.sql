-- 033: the per-person daily cap of external messages (msg_daily_cap) counts one person's non-urgent
-- deliveries on one channel since the start of the day; this index finds them without a scan. A
-- person is (contact_kind, contact_id) for residents, emergency contacts and party members, user_id
-- for staff accounts (contact_kind '' and contact_id 0).
CREATE INDEX message_deliveries_person ON message_deliveries(channel, contact_kind, contact_id, user_id, created_at);
