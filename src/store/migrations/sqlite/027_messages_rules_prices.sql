-- 027: default message rules for the events still without one, and channel prices moved to the
-- configuration.
--
-- A room booking released (venues.booking.released, status cancelled or no_show) reaches the
-- resident it was for (payload resident_id; a booking for no resident, such as a course's, reaches
-- nobody). A council follow-up milestone or a topic's consultation step past its due date
-- (council.progress.overdue, council.topic.step_overdue, payload due_on and, for a step, step_name)
-- reaches the community's duty staff, who chase it. A briefing called off by staff
-- (messages.briefing.cancelled, one event per resident signed up, with the reason) reaches each of
-- them. Rules are data: staff change or turn them off on the message-rules page.
--
-- The unit prices of the monthly cost count are configuration now (msg_price_<channel>_fen): the
-- table of 022 held placeholder prices that looked like a vendor's, so it goes.
INSERT INTO message_rules (kind, recipient, match_on, channels, title, template, urgent, updated_at) VALUES
  ('venues.booking.released', 'resident', 'status=cancelled', 'inapp', '活动室预约已取消', '您的活动室预约（#{id}）已取消，该时段已释放。如仍需使用，请重新预约。', 0, 0),
  ('venues.booking.released', 'resident', 'status=no_show', 'inapp', '活动室预约未签到', '您预约的活动室（#{id}）过了签到时间仍未签到，预约已自动释放。', 0, 0),
  ('council.progress.overdue', 'duty', '', 'inapp', '督办节点逾期', '议事会决议 #{id} 的督办节点已过期限（{due_on}），请督促承办方推进并更新进度。', 0, 0),
  ('council.topic.step_overdue', 'duty', '', 'inapp', '议题协商环节逾期', '议题 #{id} 的「{step_name}」环节已过期限（{due_on}），请尽快推进。', 0, 0),
  ('messages.briefing.cancelled', 'resident', '', 'inapp', '宣讲已取消：{title}', '您报名的政策宣讲「{title}」（{starts_at}，{place}）已取消。{reason}', 0, 0);

DROP TABLE message_channel_prices;
