-- 016_messages: the message service (modules/messages): rules as data, deliveries with retries,
-- preferences and quiet hours, the inbox of every account, notices to an audience with read
-- receipts, and briefing sessions. Times are epoch milliseconds UTC.

-- Who hears about which event kind, on which channels, in which words. One row per (kind,
-- recipient). recipient: resident (the resident concerned; their resident and family accounts read
-- it), family (the resident's emergency contacts, by phone), assignee (the staff member or grid
-- member assigned), grid_worker (the grid's workers), duty (the community's staff), escalation (the
-- next person in the chain: community staff, then the street). channels: comma list of inapp, sms,
-- voice, wecom. match_on: empty, or "field=value" the event's payload must carry (alert kind=sos).
-- urgent: ignores preferences and quiet hours (SOS, alarms).
CREATE TABLE message_rules (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  recipient TEXT NOT NULL,
  match_on TEXT NOT NULL DEFAULT '',
  channels TEXT NOT NULL DEFAULT 'inapp',
  title TEXT NOT NULL,
  template TEXT NOT NULL,
  urgent INTEGER NOT NULL DEFAULT 0,
  enabled INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL,
  UNIQUE (kind, recipient, match_on)
);

-- One message to one recipient on one channel. The unique key makes an event delivered twice
-- (the outbox delivers at least once) one message. Columns of the key are 0, never NULL.
-- status: queued, sent, delivered, failed, read, cancelled. next_at: when the sender may try a
-- queued one (back-off, quiet hours, the next phone of a call chain).
CREATE TABLE message_deliveries (
  id INTEGER PRIMARY KEY,
  event_id INTEGER NOT NULL DEFAULT 0,
  notice_id INTEGER NOT NULL DEFAULT 0,
  rule_id INTEGER NOT NULL DEFAULT 0,
  channel TEXT NOT NULL,
  user_id INTEGER NOT NULL DEFAULT 0,
  resident_id INTEGER NOT NULL DEFAULT 0,
  contact_id INTEGER NOT NULL DEFAULT 0,
  contact_kind TEXT NOT NULL DEFAULT '',     -- resident, emergency, member (whose phone)
  community_id INTEGER,
  kind TEXT NOT NULL,
  subject TEXT,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  link TEXT,
  urgent INTEGER NOT NULL DEFAULT 0,
  seq INTEGER NOT NULL DEFAULT 0,            -- place in a call chain
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER,
  last_error TEXT,
  provider_ref TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  updated_at INTEGER NOT NULL,
  UNIQUE (event_id, notice_id, rule_id, channel, user_id, resident_id, contact_kind, contact_id)
);
CREATE INDEX message_deliveries_due ON message_deliveries(status, next_at);
CREATE INDEX message_deliveries_community ON message_deliveries(community_id, id);

-- A person's preferences: owner "u" (an account) or "r" (a resident, set by them or their family).
-- muted: channels they do not want (comma list); quiet hours "HH:MM" local time, both or neither.
CREATE TABLE message_prefs (
  owner_kind TEXT NOT NULL,
  owner_id INTEGER NOT NULL,
  muted TEXT NOT NULL DEFAULT '',
  quiet_start TEXT,
  quiet_end TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (owner_kind, owner_id)
);

-- The inbox is the service hall's notifications table, now also addressed to one account.
ALTER TABLE notifications ADD COLUMN user_id INTEGER;
ALTER TABLE notifications ADD COLUMN delivery_id INTEGER;
ALTER TABLE notifications ADD COLUMN notice_id INTEGER;
CREATE INDEX notifications_user ON notifications(user_id, id);

-- Notices (通知公告) to an audience: {"communities": [..], "estates": [..], "grids": [..],
-- "buildings": [..], "tags": [..]} (any of them; a resident matches when any list matches).
-- status: draft, scheduled, published. The recipients are fixed when published.
CREATE TABLE notices (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  audience TEXT NOT NULL,
  channels TEXT NOT NULL DEFAULT 'inapp',
  status TEXT NOT NULL,
  publish_at INTEGER,
  published_at INTEGER,
  recipients INTEGER NOT NULL DEFAULT 0,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX notices_community ON notices(community_id, id);
CREATE INDEX notices_due ON notices(status, publish_at);

CREATE TABLE notice_recipients (
  notice_id INTEGER NOT NULL REFERENCES notices(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  read_at INTEGER,
  read_by INTEGER,
  PRIMARY KEY (notice_id, resident_id)
);
CREATE INDEX notice_recipients_resident ON notice_recipients(resident_id, notice_id);

-- Briefing sessions (政策宣讲): place, time, capacity, sign-ups and attendance.
CREATE TABLE briefings (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  title TEXT NOT NULL,
  topic TEXT NOT NULL DEFAULT '',
  place TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  capacity INTEGER NOT NULL DEFAULT 0,
  notice_id INTEGER REFERENCES notices(id),
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX briefings_community ON briefings(community_id, starts_at);

CREATE TABLE briefing_signups (
  briefing_id INTEGER NOT NULL REFERENCES briefings(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  signed_at INTEGER NOT NULL,
  attended INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (briefing_id, resident_id)
);

-- The rules for the events that exist today (grid incidents, problems, visit tasks, alarms). New
-- modules' events are added as rows (PUT /api/v1/message-rules), with no code.
INSERT INTO message_rules (kind, recipient, match_on, channels, title, template, urgent, updated_at) VALUES
  ('grid.incident.reported', 'resident', '', 'inapp', '事件已受理', '您反映的事件「{title}」已受理（编号 {id}），我们会尽快安排处置。', 0, 0),
  ('grid.incident.reported', 'grid_worker', '', 'inapp', '网格新事件：{title}', '{grid}有新的事件上报：{title}（{category}），请及时处理。', 0, 0),
  ('grid.incident.dispatched', 'resident', '', 'inapp', '事件已派单', '您反映的事件「{title}」已派给处置人员，正在处理。', 0, 0),
  ('grid.incident.dispatched', 'assignee', '', 'inapp,sms', '派单：{title}', '网格事件「{title}」已派给您处置，地点：{place}。请及时处理。', 0, 0),
  ('grid.incident.handled', 'resident', '', 'inapp', '事件已处置', '您反映的事件「{title}」已处置：{result}', 0, 0),
  ('grid.incident.closed', 'resident', '', 'inapp', '事件已办结', '您反映的事件「{title}」已办结，感谢您的反映。', 0, 0),
  ('visits.problem.raised', 'resident', '', 'inapp', '诉求已受理', '您的诉求「{title}」已受理（编号 {id}），我们会尽快办理。', 0, 0),
  ('visits.problem.assigned', 'resident', '', 'inapp', '诉求已分派', '您的诉求「{title}」已分派给工作人员办理。', 0, 0),
  ('visits.problem.assigned', 'assignee', '', 'inapp', '诉求待办：{title}', '诉求「{title}」已分派给您，办理期限：{deadline}。', 0, 0),
  ('visits.problem.updated', 'resident', '', 'inapp', '诉求状态更新', '您的诉求「{title}」当前状态：{status}。', 0, 0),
  ('visits.problem.progress', 'resident', '', 'inapp', '诉求办理进展', '您的诉求「{title}」有新的办理进展，当前状态：{status}。', 0, 0),
  ('visits.problem.resolved', 'resident', '', 'inapp', '诉求已办结', '您的诉求「{title}」已办结：{result}。欢迎评价。', 0, 0),
  ('visits.problem.escalated', 'escalation', '', 'inapp', '诉求逾期上报：{title}', '诉求「{title}」超过办理期限（{deadline}），已上报，请督办。', 0, 0),
  ('visits.task.escalated', 'escalation', '', 'inapp', '走访任务逾期上报', '{grid}的走访任务（应于 {due_date} 前完成）逾期未走访，已上报，请跟进。', 0, 0),
  ('devices.alert.opened', 'grid_worker', '', 'inapp', '告警：{alert_kind}', '{grid}居民的手环发出告警（{alert_kind}），请立即处理。', 1, 0),
  ('devices.alert.opened', 'resident', 'kind=sos', 'inapp', '紧急呼叫（SOS）', '您的家人通过手环发出了紧急呼叫（{time}），社区已收到并正在处理。', 1, 0),
  ('devices.alert.opened', 'family', 'kind=sos', 'voice,sms', '紧急呼叫（SOS）', '暖心社区提醒：您的家人在 {time} 通过手环发出紧急呼叫，请立即联系或前往查看。', 1, 0),
  ('devices.alert.escalated', 'escalation', '', 'inapp', '告警上报：{alert_kind}', '告警（{alert_kind}）无人响应，已上报给您，请立即处理。', 1, 0),
  ('devices.alert.acknowledged', 'resident', 'kind=sos', 'inapp', '紧急呼叫已有人响应', '您家人的紧急呼叫已有工作人员响应（{time}）。', 1, 0);
