-- 024: default notification rules for the community-life modules' events. The modules emit them
-- (library holds and loans, course places, room waits, a missed meal delivery); without a rule the
-- messages service matches nothing and nobody hears of them. Rules are data: staff change or turn
-- them off on the message-rules page. Each payload named here carries resident_id (the resident, and
-- the family accounts that act for them) or the event's community (duty staff).
INSERT INTO message_rules (kind, recipient, match_on, channels, title, template, urgent, updated_at) VALUES
  ('library.hold.ready', 'resident', '', 'inapp', '预约的图书已到馆', '您预约的图书已放在社区图书室的预约书架上，请在取书期限内凭读者身份领取。', 0, 0),
  ('library.loan.due_soon', 'resident', '', 'inapp', '借阅即将到期', '您借阅的图书即将到期，请按时归还；如需继续阅读，可在“我的借阅”中续借。', 0, 0),
  ('library.loan.overdue', 'resident', '', 'inapp', '借阅已逾期', '您借阅的图书已逾期，请尽快归还到社区图书室。', 0, 0),
  ('courses.enrolment.promoted', 'resident', '', 'inapp', '课程候补转正', '您候补的课程有了空位，您已转为正式学员，请按时上课。', 0, 0),
  ('courses.lottery.result', 'resident', '', 'inapp', '课程抽签结果', '您预报名的课程已抽签，结果请在“找课程”中查看。', 0, 0),
  ('canteen.delivery.missed', 'duty', '', 'inapp', '送餐未送达', '一份送餐未能送达（{time}），请尽快联系老人或上门看望。', 0, 0);
