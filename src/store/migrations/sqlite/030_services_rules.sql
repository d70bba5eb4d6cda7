-- 030: the service hall's in-app messages through the message rules.
--
-- The services module used to write its inbox rows itself; now it emits events (payload: serial,
-- title = the item's name, step_name, step_role, next_step, document; services.h) and these default
-- rules deliver the same messages: to the applicant at each step of an application, to the next in
-- the review chain when one is overdue (review_escalation: above a community step the street's
-- officers, above a street step the administrators), to the community's duty staff when an old-age
-- allowance stops, and to the resident when its tier changes ({result}: the reviewer's note of a
-- return or a refusal, or the allowance change's note). Rules are data: staff change or turn them
-- off on the message-rules page.
INSERT INTO message_rules (kind, recipient, match_on, channels, title, template, urgent, updated_at) VALUES
  ('services.application.submitted', 'resident', '', 'inapp', '您的“{title}”申请已提交，等待{step_name}', '{serial}', 0, 0),
  ('services.application.step_approved', 'resident', '', 'inapp', '您的“{title}”申请已通过{step_name}，转入{next_step}', '{serial}', 0, 0),
  ('services.application.approved', 'resident', 'document=1', 'inapp', '您的“{title}”申请已办结（审核通过），可下载证明文书', '{serial}', 0, 0),
  ('services.application.approved', 'resident', 'document=0', 'inapp', '您的“{title}”申请已办结（审核通过）', '{serial}', 0, 0),
  ('services.application.returned', 'resident', '', 'inapp', '您的“{title}”申请需要补正，请按要求修改后重新提交', '{result}', 0, 0),
  ('services.application.rejected', 'resident', '', 'inapp', '您的“{title}”申请未予受理', '{result}', 0, 0),
  ('services.application.overdue', 'review_escalation', '', 'inapp', '申请 {serial}（{title}）已超过办理时限，请督办', '{community}的申请在「{step_name}」环节已超过办理时限，请督促办理。', 0, 0),
  ('services.allowance.stopped', 'duty', '', 'inapp', '高龄津贴停发：{result}', '高龄津贴已停发：{result}。请核实并办理追回。', 0, 0),
  ('services.allowance.tier_changed', 'resident', '', 'inapp', '您的高龄津贴已调整：{result}', '您的高龄津贴已调整：{result}。', 0, 0);
