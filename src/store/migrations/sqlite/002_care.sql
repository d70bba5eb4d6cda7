-- 002_care: care files, the home-visit system (policies, tasks, visits, photos), problems to solve
-- (诉求/解难题), grid members and incidents. Times are epoch ms UTC; civil dates (due dates, visit
-- dates, deadlines) are 'YYYY-MM-DD' in Asia/Shanghai. Every row of a community carries
-- community_id, and grid_id where it belongs to a grid, so scope applies in SQL.

-- Vocabularies as data: kind is one of care_category, care_level, member_role, incident_category,
-- problem_category. Admins add and relabel entries; codes are stable (rows refer to codes).
CREATE TABLE care_vocab (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  code TEXT NOT NULL,
  label TEXT NOT NULL,
  sort INTEGER NOT NULL DEFAULT 0,           -- care levels: the rank (a raise is a higher sort)
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (kind, code)
);

-- How often a care file is due a visit. community_id NULL = the default of every community;
-- category NULL = any category. The most specific matching row wins (community, then category).
-- period_unit 'month' (calendar months) or 'week' (Monday-Sunday weeks), period_count 1..12.
CREATE TABLE visit_policies (
  id INTEGER PRIMARY KEY,
  community_id INTEGER REFERENCES communities(id),
  category TEXT,
  level TEXT NOT NULL,
  period_unit TEXT NOT NULL,
  period_count INTEGER NOT NULL DEFAULT 1,
  responsible TEXT NOT NULL DEFAULT 'grid',  -- grid (网格员), staff (社区书记/社工)
  escalate_days INTEGER NOT NULL DEFAULT 3,  -- days after the due date before an open task escalates
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX visit_policies_key ON visit_policies(COALESCE(community_id, 0), COALESCE(category, ''), level);

CREATE TABLE care_files (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  category TEXT NOT NULL,
  level TEXT NOT NULL,
  living TEXT,                               -- living situation
  health TEXT,                               -- health notes
  needs TEXT,
  responsible_user_id INTEGER REFERENCES users(id),
  status TEXT NOT NULL DEFAULT 'active',     -- active, closed
  opened_on TEXT NOT NULL,
  closed_on TEXT,
  close_reason TEXT,
  last_visit_on TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX care_files_active ON care_files(resident_id) WHERE status = 'active';
CREATE INDEX care_files_scope ON care_files(community_id, grid_id, status);

-- What happened to an object, in order: care files, visit tasks, problems, incidents.
CREATE TABLE care_timeline (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL,
  object_type TEXT NOT NULL,                 -- care_file, task, problem, incident
  object_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  user_id INTEGER,
  actor TEXT,                                -- username, or "system"
  action TEXT NOT NULL,
  note TEXT,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX care_timeline_object ON care_timeline(object_type, object_id, id);

CREATE TABLE visit_tasks (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  care_file_id INTEGER REFERENCES care_files(id),
  kind TEXT NOT NULL,                        -- routine (常态/重点/勤访), event (遇事必访)
  reason TEXT NOT NULL,                      -- routine, alert_followup, hospitalised, bereaved, level_raise, manual, other
  note TEXT,
  period_start TEXT,                         -- routine: first day of the period it covers
  source_key TEXT,                           -- event: what caused it ("event:42", "life:7" …), unique
  due_date TEXT NOT NULL,
  assignee_user_id INTEGER REFERENCES users(id),
  status TEXT NOT NULL DEFAULT 'open',       -- open, done, cancelled
  overdue INTEGER NOT NULL DEFAULT 0,
  escalated_at INTEGER,
  visit_id INTEGER,
  done_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX visit_tasks_period ON visit_tasks(care_file_id, period_start);
CREATE UNIQUE INDEX visit_tasks_source ON visit_tasks(source_key);
CREATE INDEX visit_tasks_scope ON visit_tasks(community_id, grid_id, status, due_date);
CREATE INDEX visit_tasks_resident ON visit_tasks(resident_id, status);

CREATE TABLE visits (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  care_file_id INTEGER REFERENCES care_files(id),
  task_id INTEGER REFERENCES visit_tasks(id),
  visited_on TEXT NOT NULL,
  kind TEXT NOT NULL,                        -- home, phone, video
  visitors TEXT NOT NULL,                    -- names as staff write them: "李网格、王书记"
  findings TEXT,
  mood TEXT,                                 -- good, fair, low
  health TEXT,                               -- good, fair, poor
  followup_on TEXT,
  remarks TEXT,
  user_id INTEGER REFERENCES users(id),      -- who recorded it
  created_at INTEGER NOT NULL
);
CREATE INDEX visits_scope ON visits(community_id, visited_on);
CREATE INDEX visits_resident ON visits(resident_id, visited_on);
CREATE INDEX visits_file ON visits(care_file_id, visited_on);

-- Uploaded images (visits and incidents). The file lives under <data>/uploads/ with a random name.
CREATE TABLE care_photos (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL,
  grid_id INTEGER,
  owner_type TEXT NOT NULL,                  -- visit, incident
  owner_id INTEGER NOT NULL,
  resident_id INTEGER,                       -- the resident the owner concerns (self scope)
  file_name TEXT NOT NULL UNIQUE,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  user_id INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX care_photos_owner ON care_photos(owner_type, owner_id);

CREATE TABLE problems (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER REFERENCES residents(id),
  care_file_id INTEGER REFERENCES care_files(id),
  visit_id INTEGER REFERENCES visits(id),
  source TEXT NOT NULL,                      -- visit, resident, staff
  category TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT,
  urgency TEXT NOT NULL DEFAULT 'normal',    -- normal, urgent, critical
  status TEXT NOT NULL DEFAULT 'open',       -- open, assigned, in_progress, resolved, closed
  assignee_user_id INTEGER REFERENCES users(id),
  deadline TEXT,
  resolution TEXT,
  resolved_at INTEGER,
  rating INTEGER,
  rating_note TEXT,
  rated_at INTEGER,
  overdue INTEGER NOT NULL DEFAULT 0,
  escalated_at INTEGER,
  raised_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX problems_scope ON problems(community_id, grid_id, status);
CREATE INDEX problems_resident ON problems(resident_id);

CREATE TABLE grid_members (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER NOT NULL REFERENCES grids(id),
  role TEXT NOT NULL,
  user_id INTEGER REFERENCES users(id),
  name TEXT NOT NULL,
  phone_enc BLOB,
  phone_tail TEXT,
  notes TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX grid_members_grid ON grid_members(grid_id, active);

CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  category TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT,
  place TEXT NOT NULL,
  reporter_user_id INTEGER REFERENCES users(id),
  reporter_resident_id INTEGER REFERENCES residents(id),
  status TEXT NOT NULL DEFAULT 'reported',   -- reported, dispatched, handled, closed
  assignee_user_id INTEGER REFERENCES users(id),
  assignee_member_id INTEGER REFERENCES grid_members(id),
  result TEXT,
  occurred_at INTEGER NOT NULL,
  dispatched_at INTEGER,
  handled_at INTEGER,
  closed_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX incidents_scope ON incidents(community_id, grid_id, status);

INSERT INTO care_vocab (kind, code, label, sort, created_at, updated_at) VALUES
  ('care_level', 'normal', '常态', 1, 0, 0),
  ('care_level', 'key', '重点', 2, 0, 0),
  ('care_level', 'frequent', '勤访', 3, 0, 0),
  ('care_category', 'elderly', '高龄', 1, 0, 0),
  ('care_category', 'living_alone', '独居', 2, 0, 0),
  ('care_category', 'solitary', '孤寡', 3, 0, 0),
  ('care_category', 'party_hardship', '困难党员', 4, 0, 0),
  ('care_category', 'disabled', '残疾', 5, 0, 0),
  ('care_category', 'serious_illness', '重病', 6, 0, 0),
  ('care_category', 'low_income', '低保', 7, 0, 0),
  ('care_category', 'empty_nest', '空巢', 8, 0, 0),
  ('care_category', 'left_behind', '留守', 9, 0, 0),
  ('care_category', 'other', '其他', 99, 0, 0),
  ('member_role', 'grid_worker', '网格员', 1, 0, 0),
  ('member_role', 'grid_police', '网格警员', 2, 0, 0),
  ('member_role', 'lawyer', '驻区律师', 3, 0, 0),
  ('member_role', 'building_head', '楼栋长', 4, 0, 0),
  ('member_role', 'party_household', '党员中心户', 5, 0, 0),
  ('member_role', 'volunteer', '志愿者', 6, 0, 0),
  ('incident_category', 'sanitation', '环境卫生', 1, 0, 0),
  ('incident_category', 'safety', '安全隐患', 2, 0, 0),
  ('incident_category', 'fire', '消防隐患', 3, 0, 0),
  ('incident_category', 'dispute', '邻里纠纷', 4, 0, 0),
  ('incident_category', 'facility', '设施损坏', 5, 0, 0),
  ('incident_category', 'order', '市容秩序', 6, 0, 0),
  ('incident_category', 'noise', '噪音扰民', 7, 0, 0),
  ('incident_category', 'other', '其他', 99, 0, 0),
  ('problem_category', 'meals', '助餐', 1, 0, 0),
  ('problem_category', 'medical', '就医', 2, 0, 0),
  ('problem_category', 'housing', '住房维修', 3, 0, 0),
  ('problem_category', 'subsidy', '补贴救助', 4, 0, 0),
  ('problem_category', 'daily_care', '生活照料', 5, 0, 0),
  ('problem_category', 'legal', '法律咨询', 6, 0, 0),
  ('problem_category', 'employment', '就业', 7, 0, 0),
  ('problem_category', 'other', '其他', 99, 0, 0);

INSERT INTO visit_policies (community_id, category, level, period_unit, period_count, responsible, escalate_days,
                            created_at, updated_at) VALUES
  (NULL, NULL, 'normal', 'month', 1, 'grid', 7, 0, 0),
  (NULL, NULL, 'key', 'week', 2, 'grid', 3, 0, 0),
  (NULL, NULL, 'frequent', 'week', 1, 'grid', 2, 0, 0);
