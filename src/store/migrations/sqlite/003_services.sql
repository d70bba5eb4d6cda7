-- 003_services: the online service hall (网上服务大厅) — catalogue, applications, review, 高龄津贴,
-- documents and in-app notifications. Times are epoch milliseconds UTC; JSON is text.

-- The catalogue: each service item is data. JSON columns (text):
--   applicants  ["self", "proxy"]  who may apply: the resident or family for themselves, staff on
--               a resident's behalf (代办)
--   form        [{key, label, type: text|number|date|choice|id_number|phone, required, min, max,
--                 min_len, max_len, digits, options, not_future, help}]
--   materials   [{key, label, required, types: [pdf|jpeg|png], max_kb}]
--   eligibility [{rule: active|age_min|age_max|residence|tag|not_receiving|no_open_application, value}]
--   steps       [{code, name, role: community|street, days}]   the review workflow, in order
--   document    {kind: certificate, title, body} or NULL: the certificate issued on approval
--   effect      "allowance" (approval starts the old-age allowance) or NULL
CREATE TABLE service_items (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  category TEXT NOT NULL DEFAULT 'general',
  description TEXT NOT NULL DEFAULT '',
  applicants TEXT NOT NULL DEFAULT '["self","proxy"]',
  form TEXT NOT NULL DEFAULT '[]',
  materials TEXT NOT NULL DEFAULT '[]',
  eligibility TEXT NOT NULL DEFAULT '[]',
  steps TEXT NOT NULL DEFAULT '[]',
  document TEXT,
  effect TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  sort INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- An application moves draft -> in_review (step 0, 1 …) -> approved | rejected, or back to
-- returned (for correction) and in_review again; withdrawn by the applicant before a decision.
-- form_enc: the form values as JSON, encrypted (they may hold ID numbers and phones).
CREATE TABLE service_applications (
  id INTEGER PRIMARY KEY,
  serial TEXT NOT NULL UNIQUE,
  item_id INTEGER NOT NULL REFERENCES service_items(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  created_by INTEGER REFERENCES users(id),
  proxy INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'draft',
  step INTEGER NOT NULL DEFAULT 0,
  step_code TEXT,
  step_role TEXT,
  form_enc BLOB,
  correction TEXT,
  reason TEXT,
  due_at INTEGER,
  escalated_at INTEGER,
  submitted_at INTEGER,
  decided_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX service_applications_queue ON service_applications(community_id, status, step_role, due_at);
CREATE INDEX service_applications_resident ON service_applications(resident_id, id);
CREATE INDEX service_applications_item ON service_applications(item_id, status);

CREATE TABLE service_materials (
  id INTEGER PRIMARY KEY,
  application_id INTEGER NOT NULL REFERENCES service_applications(id),
  community_id INTEGER NOT NULL,
  material_key TEXT NOT NULL,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  stored_name TEXT NOT NULL UNIQUE,
  uploaded_by INTEGER,
  created_at INTEGER NOT NULL,
  removed_at INTEGER
);
CREATE INDEX service_materials_application ON service_materials(application_id, id);

-- The time line: every change of an application, who and when.
CREATE TABLE service_timeline (
  id INTEGER PRIMARY KEY,
  application_id INTEGER NOT NULL REFERENCES service_applications(id),
  community_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  user_id INTEGER,
  username TEXT,
  action TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT,
  step_code TEXT,
  note TEXT
);
CREATE INDEX service_timeline_application ON service_timeline(application_id, id);

-- Printed documents (an application form, a certificate); the verification code is
-- "<id>-<keyed MAC>" and is recomputed, never stored.
CREATE TABLE service_documents (
  id INTEGER PRIMARY KEY,
  application_id INTEGER NOT NULL REFERENCES service_applications(id),
  community_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  serial TEXT NOT NULL UNIQUE,
  issued_at INTEGER NOT NULL,
  issued_by INTEGER,
  revoked_at INTEGER,
  UNIQUE (application_id, kind)
);

CREATE TABLE service_counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);

-- In-app notifications: to a resident (their resident and family accounts read them) or to a role
-- in a community (escalations to reviewers).
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  community_id INTEGER,
  resident_id INTEGER REFERENCES residents(id),
  target_role TEXT,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  link TEXT,
  created_at INTEGER NOT NULL,
  read_at INTEGER
);
CREATE INDEX notifications_resident ON notifications(resident_id, id);
CREATE INDEX notifications_role ON notifications(target_role, community_id, id);

-- 高龄津贴: tiers and monthly amounts (in fen) per region; the active region is a setting.
CREATE TABLE allowance_tiers (
  id INTEGER PRIMARY KEY,
  region TEXT NOT NULL,
  region_name TEXT NOT NULL,
  min_age INTEGER NOT NULL,
  monthly_amount INTEGER NOT NULL,
  label TEXT NOT NULL,
  UNIQUE (region, min_age)
);

CREATE TABLE service_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE allowance_recipients (
  id INTEGER PRIMARY KEY,
  resident_id INTEGER NOT NULL UNIQUE REFERENCES residents(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  application_id INTEGER REFERENCES service_applications(id),
  region TEXT NOT NULL,
  tier_age INTEGER NOT NULL,
  monthly_amount INTEGER NOT NULL,
  start_month TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  stop_reason TEXT,
  stop_date TEXT,
  paid_through TEXT,
  recover_months INTEGER NOT NULL DEFAULT 0,
  recover_amount INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX allowance_recipients_scope ON allowance_recipients(community_id, status);

CREATE TABLE allowance_changes (
  id INTEGER PRIMARY KEY,
  recipient_id INTEGER NOT NULL REFERENCES allowance_recipients(id),
  community_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  from_age INTEGER,
  to_age INTEGER,
  amount INTEGER,
  effective_month TEXT NOT NULL,
  note TEXT
);
CREATE INDEX allowance_changes_recipient ON allowance_changes(recipient_id, id);

-- The twelve items of the online service hall (editable by admins; more can be added as data).
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'elderly_allowance', '高龄津贴申领', 'elderly', '年满80周岁的本社区户籍老人按月领取高龄津贴，标准按年龄分档（80、90、100周岁）。', '["self","proxy"]', '[{"key":"bank_name","label":"开户银行","type":"text","required":true,"max_len":40},{"key":"bank_account","label":"银行账号","type":"text","required":true,"min_len":12,"max_len":30,"digits":true},{"key":"contact_phone","label":"联系电话","type":"phone","required":true}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"hukou","label":"户口簿本人页","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"bank_card","label":"银行卡或存折","required":true,"types":["jpeg","png","pdf"],"max_kb":5120}]', '[{"rule":"active"},{"rule":"age_min","value":80},{"rule":"residence","value":["registered"]},{"rule":"not_receiving"},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区初审","role":"community","days":5},{"code":"street","name":"街道审核","role":"street","days":10}]', NULL, 'allowance', 1, 10, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'birth_registration', '生育登记', 'family', '夫妻生育子女前后办理生育登记，领取生育登记回执。', '["self","proxy"]', '[{"key":"spouse_name","label":"配偶姓名","type":"text","required":true,"max_len":20},{"key":"spouse_id_number","label":"配偶身份证号","type":"id_number","required":true},{"key":"child_order","label":"生育孩次","type":"choice","required":true,"options":["一孩","二孩","三孩"]},{"key":"expected_date","label":"预产期或出生日期","type":"date","required":true},{"key":"contact_phone","label":"联系电话","type":"phone","required":true}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"marriage_cert","label":"结婚证","required":true,"types":["jpeg","png","pdf"],"max_kb":5120}]', '[{"rule":"active"},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区初审","role":"community","days":3},{"code":"street","name":"街道审核","role":"street","days":5}]', '{"kind":"certificate","title":"生育登记回执","body":"{name}（身份证号：{id_number}）已于{date}在{community}办理生育登记（{child_order}），特此回执。"}', NULL, 1, 20, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'residence_certificate', '居住证明', 'certificate', '为在本社区实际居住的居民开具居住证明，用于入学、就业、办理居住证等。', '["self","proxy"]', '[{"key":"purpose","label":"证明用途","type":"choice","required":true,"options":["子女入学","就业","办理居住证","社保医保","其他"]},{"key":"since","label":"起始居住日期","type":"date","required":true,"not_future":true},{"key":"copies","label":"份数","type":"number","required":false,"min":1,"max":5}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"lease","label":"房产证或租赁合同","required":false,"types":["jpeg","png","pdf"],"max_kb":5120}]', '[{"rule":"active"},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区受理审核","role":"community","days":3}]', '{"kind":"certificate","title":"居住证明","body":"兹证明{name}（{sex}，身份证号：{id_number}）自{since}起在{community}辖区居住至今。\n此证明用于{purpose}，特此证明。"}', NULL, 1, 30, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'dibao_initial', '低保申请初审', 'assistance', '家庭人均收入低于当地低保标准的户籍家庭申请最低生活保障，社区初审、街道审核。', '["self","proxy"]', '[{"key":"household_size","label":"家庭人口","type":"number","required":true,"min":1,"max":20},{"key":"monthly_income","label":"家庭月收入（元）","type":"number","required":true,"min":0,"max":1000000},{"key":"reason","label":"申请理由","type":"text","required":true,"max_len":500},{"key":"contact_phone","label":"联系电话","type":"phone","required":true}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"hukou","label":"户口簿本人页","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"income_proof","label":"收入证明","required":true,"types":["jpeg","png","pdf"],"max_kb":5120}]', '[{"rule":"active"},{"rule":"residence","value":["registered"]},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区初审","role":"community","days":10},{"code":"street","name":"街道审核","role":"street","days":15}]', NULL, NULL, 1, 40, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'disability_subsidy', '残疾人两项补贴', 'assistance', '困难残疾人生活补贴和重度残疾人护理补贴。', '["self","proxy"]', '[{"key":"disability_cert_no","label":"残疾人证号","type":"text","required":true,"max_len":30},{"key":"level","label":"残疾等级","type":"choice","required":true,"options":["一级","二级","三级","四级"]},{"key":"subsidy","label":"申请补贴","type":"choice","required":true,"options":["生活补贴","护理补贴","两项补贴"]}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"disability_cert","label":"残疾人证","required":true,"types":["jpeg","png","pdf"],"max_kb":5120}]', '[{"rule":"active"},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区初审","role":"community","days":5},{"code":"street","name":"街道审核","role":"street","days":10}]', NULL, NULL, 1, 50, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'senior_card', '老年优待证', 'elderly', '年满60周岁的老年人办理老年优待证，享受公共交通、景区等优待。', '["self","proxy"]', '[{"key":"contact_phone","label":"联系电话","type":"phone","required":true}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"photo","label":"一寸免冠照片","required":true,"types":["jpeg","png"],"max_kb":2048}]', '[{"rule":"active"},{"rule":"age_min","value":60},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区受理审核","role":"community","days":5}]', '{"kind":"certificate","title":"老年优待证办理回执","body":"{name}（身份证号：{id_number}）申请的老年优待证已审核通过，请凭本回执到{community}领取。"}', NULL, 1, 60, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'temporary_assistance', '临时救助', 'assistance', '因突发事件、意外事故、重大疾病等导致基本生活暂时困难的家庭申请临时救助。', '["self","proxy"]', '[{"key":"incident_date","label":"困难发生日期","type":"date","required":true,"not_future":true},{"key":"reason","label":"困难情况","type":"text","required":true,"max_len":500},{"key":"amount","label":"申请金额（元）","type":"number","required":false,"min":1,"max":100000}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"proof","label":"困难情况证明（病历、事故证明等）","required":true,"types":["jpeg","png","pdf"],"max_kb":10240}]', '[{"rule":"active"},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区初审","role":"community","days":5},{"code":"street","name":"街道审核","role":"street","days":10}]', NULL, NULL, 1, 70, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'only_child_reward', '独生子女父母奖励', 'family', '领取《独生子女父母光荣证》的父母，按规定享受奖励扶助。', '["self","proxy"]', '[{"key":"child_name","label":"子女姓名","type":"text","required":true,"max_len":20},{"key":"child_id_number","label":"子女身份证号","type":"id_number","required":true},{"key":"cert_no","label":"光荣证编号","type":"text","required":true,"max_len":30}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"honor_cert","label":"独生子女父母光荣证","required":true,"types":["jpeg","png","pdf"],"max_kb":5120}]', '[{"rule":"active"},{"rule":"age_min","value":60},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区初审","role":"community","days":10},{"code":"street","name":"街道审核","role":"street","days":15}]', NULL, NULL, 1, 80, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'employment_registration', '就业失业登记', 'employment', '劳动年龄内的居民办理就业登记或失业登记。', '["self","proxy"]', '[{"key":"kind","label":"登记类型","type":"choice","required":true,"options":["就业登记","失业登记"]},{"key":"employer","label":"原（现）工作单位","type":"text","required":false,"max_len":60},{"key":"date","label":"就业或失业日期","type":"date","required":true,"not_future":true},{"key":"contact_phone","label":"联系电话","type":"phone","required":true}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120}]', '[{"rule":"active"},{"rule":"age_min","value":16},{"rule":"age_max","value":64},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区受理审核","role":"community","days":3}]', '{"kind":"certificate","title":"就业失业登记证明","body":"{name}（身份证号：{id_number}）已于{date}在{community}办理{kind}，特此证明。"}', NULL, 1, 90, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'medical_insurance', '城乡居民医保参保登记', 'insurance', '未参加职工医保的居民办理城乡居民基本医疗保险参保登记。', '["self","proxy"]', '[{"key":"insured_kind","label":"参保类别","type":"choice","required":true,"options":["成年居民","学生儿童","老年居民"]},{"key":"contact_phone","label":"联系电话","type":"phone","required":true}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"hukou","label":"户口簿本人页","required":true,"types":["jpeg","png","pdf"],"max_kb":5120}]', '[{"rule":"active"},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区受理审核","role":"community","days":3}]', NULL, NULL, 1, 100, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'hardship_assistance', '困难群众救助申请', 'assistance', '因病、因残、因灾等陷入困难的群众申请救助，社区核实、街道审批。', '["self","proxy"]', '[{"key":"difficulty","label":"困难类型","type":"choice","required":true,"options":["因病","因残","因灾","因学","其他"]},{"key":"description","label":"困难情况说明","type":"text","required":true,"max_len":500},{"key":"monthly_income","label":"家庭月收入（元）","type":"number","required":false,"min":0,"max":1000000}]', '[{"key":"id_card","label":"身份证正反面","required":true,"types":["jpeg","png","pdf"],"max_kb":5120},{"key":"proof","label":"困难情况证明","required":false,"types":["jpeg","png","pdf"],"max_kb":10240}]', '[{"rule":"active"},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区初审","role":"community","days":5},{"code":"street","name":"街道审核","role":"street","days":10}]', NULL, NULL, 1, 110, 1, 0, 0);
INSERT INTO service_items (code, name, category, description, applicants, form, materials, eligibility, steps, document, effect, active, sort, version, created_at, updated_at) VALUES (
  'volunteer_certificate', '志愿服务证明', 'certificate', '为在本社区参加志愿服务的居民开具志愿服务时长证明。', '["self","proxy"]', '[{"key":"hours","label":"服务时长（小时）","type":"number","required":true,"min":1,"max":10000},{"key":"period","label":"服务期间","type":"text","required":true,"max_len":40},{"key":"purpose","label":"证明用途","type":"choice","required":true,"options":["升学","评优","求职","其他"]}]', '[]', '[{"rule":"active"},{"rule":"no_open_application"}]', '[{"code":"community","name":"社区受理审核","role":"community","days":3}]', '{"kind":"certificate","title":"志愿服务证明","body":"兹证明{name}于{period}在{community}参加志愿服务，累计服务{hours}小时。\n此证明用于{purpose}，特此证明。"}', NULL, 1, 120, 1, 0, 0);

-- 高龄津贴 tiers (monthly amounts in fen). 'default' is an example standard; each city sets its own.
INSERT INTO allowance_tiers (region, region_name, min_age, monthly_amount, label) VALUES ('default', '本地标准（示例）', 80, 10000, '80-89周岁');
INSERT INTO allowance_tiers (region, region_name, min_age, monthly_amount, label) VALUES ('default', '本地标准（示例）', 90, 30000, '90-99周岁');
INSERT INTO allowance_tiers (region, region_name, min_age, monthly_amount, label) VALUES ('default', '本地标准（示例）', 100, 100000, '100周岁及以上');
INSERT INTO allowance_tiers (region, region_name, min_age, monthly_amount, label) VALUES ('example_b', '示例城市乙', 80, 5000, '80-89周岁');
INSERT INTO allowance_tiers (region, region_name, min_age, monthly_amount, label) VALUES ('example_b', '示例城市乙', 90, 20000, '90-99周岁');
INSERT INTO allowance_tiers (region, region_name, min_age, monthly_amount, label) VALUES ('example_b', '示例城市乙', 100, 60000, '100周岁及以上');
INSERT INTO service_settings (key, value) VALUES ('allowance.region', 'default');
