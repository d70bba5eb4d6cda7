-- 026: volunteers and party building.
--
-- 志愿服务证明 certifies the approved hours ledger, so it is refused when it is applied for by someone
-- with no approved hours (rule "volunteer_hours", checked at submission with the item's other
-- eligibility rules), not only when it is printed. An item whose rules staff have changed keeps them.
UPDATE service_items SET
  eligibility = '[{"rule":"active"},{"rule":"no_open_application"},{"rule":"volunteer_hours"}]',
  version = version + 1
WHERE code = 'volunteer_certificate' AND eligibility = '[{"rule":"active"},{"rule":"no_open_application"}]';

-- Default message rules for the reminders of the two modules (like 024; rules are data, staff change
-- or turn them off on the message-rules page): a month of party dues unpaid reaches the member (the
-- payload's resident_id); a shift tomorrow reaches the volunteer — a resident through resident_id,
-- a volunteer who is no resident through their own account (assignee_user_id).
INSERT INTO message_rules (kind, recipient, match_on, channels, title, template, urgent, updated_at) VALUES
  ('party.dues.reminder', 'resident', '', 'inapp', '党费缴纳提醒', '您{title}尚未缴纳，请及时交给所在党支部（或党小组）。', 0, 0),
  ('volunteers.signup.reminder', 'resident', '', 'inapp', '志愿服务提醒', '您报名的志愿服务“{title}”将于 {time} 在{place}开始，请准时签到。', 0, 0),
  ('volunteers.signup.reminder', 'assignee', '', 'inapp', '志愿服务提醒', '您报名的志愿服务“{title}”将于 {time} 在{place}开始，请准时签到。', 0, 0);
