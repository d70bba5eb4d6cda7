-- 022_messages_more: briefing sessions (政策宣讲) with speaker, room, audience, reminders and
-- attendance; files attached to notices; the unit price of each channel (in fen, as data) for the
-- monthly cost count. Times are epoch milliseconds UTC.

-- A briefing is announced by a notice to its audience (briefings.notice_id, already there): the
-- notice's recipients are the residents invited, who may sign up. status: open, cancelled.
-- A signed-up resident is reminded once, a day before (briefing_signups.reminded_at).
ALTER TABLE briefings ADD COLUMN speaker TEXT NOT NULL DEFAULT '';
ALTER TABLE briefings ADD COLUMN venue_id INTEGER REFERENCES venues(id);
ALTER TABLE briefings ADD COLUMN status TEXT NOT NULL DEFAULT 'open';

-- attended (0/1, already there) is set by staff at the door; a walk-in gets a row with signed_at of
-- the moment they were marked and walk_in = 1.
ALTER TABLE briefing_signups ADD COLUMN attended_at INTEGER;
ALTER TABLE briefing_signups ADD COLUMN marked_by INTEGER;
ALTER TABLE briefing_signups ADD COLUMN walk_in INTEGER NOT NULL DEFAULT 0;
ALTER TABLE briefing_signups ADD COLUMN reminded_at INTEGER;
CREATE INDEX briefing_signups_resident ON briefing_signups(resident_id, briefing_id);

-- Files attached to a notice, kept in the upload store (store/upload.h) under file_name; label is
-- the name the writer gave it (shown, never used as a path).
CREATE TABLE notice_attachments (
  id INTEGER PRIMARY KEY,
  notice_id INTEGER NOT NULL REFERENCES notices(id),
  file_name TEXT NOT NULL,
  label TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  user_id INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX notice_attachments_notice ON notice_attachments(notice_id, id);

-- What one message costs on a channel, in fen (分): data an administrator keeps current with the
-- provider's price list. The monthly count multiplies the messages sent by it.
CREATE TABLE message_channel_prices (
  channel TEXT PRIMARY KEY,
  unit_fen INTEGER NOT NULL CHECK (unit_fen >= 0),
  updated_at INTEGER NOT NULL
);
INSERT INTO message_channel_prices (channel, unit_fen, updated_at) VALUES
  ('inapp', 0, 0), ('sms', 5, 0), ('voice', 12, 0), ('wecom', 0, 0);

INSERT INTO message_rules (kind, recipient, match_on, channels, title, template, urgent, updated_at) VALUES
  ('messages.briefing.signed_up', 'resident', '', 'inapp', '宣讲报名成功：{title}', '您已报名政策宣讲「{title}」，时间：{starts_at}，地点：{place}。请准时参加。', 0, 0),
  ('messages.briefing.reminder', 'resident', '', 'inapp', '宣讲提醒：{title}', '您报名的政策宣讲「{title}」将于 {starts_at} 在{place}举行，请准时参加。', 0, 0);
