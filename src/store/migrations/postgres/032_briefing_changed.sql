-- 032: a briefing moved to another start or place (PATCH /api/v1/briefings/{id}) emits
-- messages.briefing.changed, one event per resident signed up (payload as the other briefing events:
-- title, the new place and starts_at, link). The default rule tells each of them in the inbox and by
-- SMS where SMS is configured (their muted channels and quiet hours apply: the rule is not urgent).
-- Rules are data: staff change or turn it off on the message-rules page.
INSERT INTO message_rules (kind, recipient, match_on, channels, title, template, urgent, updated_at) VALUES
  ('messages.briefing.changed', 'resident', '', 'inapp,sms', '宣讲时间地点变更：{title}', '您报名的政策宣讲「{title}」改为 {starts_at} 在 {place} 举行，请按新的时间地点参加。', 0, 0);
