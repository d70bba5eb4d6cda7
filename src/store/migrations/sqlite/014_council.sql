-- 014_council: the courtyard council (庭院议事会) — consultation templates, topics and their
-- supporters and steps, council members, meetings with agenda and attendance, decisions with their
-- follow-up, and polls. Times are epoch ms UTC; civil dates ('YYYY-MM-DD') are Asia/Shanghai. Every
-- row of an estate carries community_id and grid_id (the estate's grid) so scope applies in SQL.
--
-- Secret polls: council_poll_register says WHO voted (one row per person, online or paper: the
-- primary key makes a second vote impossible); council_poll_tally holds one counter per choice and
-- nothing else — no voter, no time, no row per ballot — updated in the transaction of the register
-- row, every counter of the poll touched by every vote, so neither row order nor row versions tell
-- which vote went where. The choice is kept in the register only for open polls.

-- A consultation method as data: steps is a JSON array [{"name", "actor", "days"}].
CREATE TABLE council_templates (
  id INTEGER PRIMARY KEY,
  community_id INTEGER REFERENCES communities(id),  -- NULL: built in, every community
  name TEXT NOT NULL,
  steps TEXT NOT NULL,
  is_default INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
INSERT INTO council_templates (community_id, name, steps, is_default, created_at) VALUES (NULL, '默认议事流程',
  '[{"name":"收集","actor":"居民与社区工作人员","days":14},{"name":"议定","actor":"议事会","days":14},{"name":"公示","actor":"社区工作人员","days":7},{"name":"实施","actor":"责任人","days":60},{"name":"评议","actor":"居民","days":14}]',
  1, 0);

CREATE TABLE council_topics (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  estate_id INTEGER NOT NULL REFERENCES estates(id),
  scope TEXT NOT NULL DEFAULT 'estate' CHECK (scope IN ('estate', 'grid')),
  title TEXT NOT NULL,
  description TEXT,
  source TEXT NOT NULL CHECK (source IN ('resident', 'staff', 'problem')),
  channel TEXT NOT NULL DEFAULT 'online',     -- online, paper, visit, party_studio, problem
  resident_id INTEGER REFERENCES residents(id),  -- who raised it (or on whose behalf)
  raised_by INTEGER REFERENCES users(id),
  problem_id INTEGER REFERENCES problems(id),
  template_id INTEGER NOT NULL REFERENCES council_templates(id),
  step INTEGER NOT NULL DEFAULT 0,            -- index of the current step
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'scheduled', 'decided', 'done', 'merged', 'rejected')),
  merged_into INTEGER REFERENCES council_topics(id),
  supporters INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX council_topics_scope ON council_topics(community_id, estate_id, status);
CREATE UNIQUE INDEX council_topics_problem ON council_topics(problem_id);

CREATE TABLE council_topic_steps (
  topic_id INTEGER NOT NULL REFERENCES council_topics(id),
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  actor TEXT NOT NULL,
  days INTEGER NOT NULL,
  started_on TEXT,
  due_on TEXT,
  done_on TEXT,
  PRIMARY KEY (topic_id, idx)
);

CREATE TABLE council_supports (
  topic_id INTEGER NOT NULL REFERENCES council_topics(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (topic_id, resident_id)
);

CREATE TABLE council_members (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  estate_id INTEGER NOT NULL REFERENCES estates(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  role TEXT NOT NULL CHECK (role IN ('member', 'representative')),
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX council_members_one ON council_members(estate_id, resident_id);

CREATE TABLE council_meetings (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  estate_id INTEGER NOT NULL REFERENCES estates(id),
  title TEXT NOT NULL,
  place TEXT NOT NULL,
  starts_at TEXT NOT NULL,                    -- 'YYYY-MM-DDTHH:MM' Shanghai
  agenda TEXT,
  quorum INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'held')),
  minutes TEXT,
  checkin_code TEXT NOT NULL,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX council_meetings_scope ON council_meetings(community_id, estate_id);
CREATE UNIQUE INDEX council_meetings_code ON council_meetings(checkin_code);

CREATE TABLE council_meeting_topics (
  meeting_id INTEGER NOT NULL REFERENCES council_meetings(id),
  topic_id INTEGER NOT NULL REFERENCES council_topics(id),
  PRIMARY KEY (meeting_id, topic_id)
);

CREATE TABLE council_attendance (
  meeting_id INTEGER NOT NULL REFERENCES council_meetings(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  via TEXT NOT NULL CHECK (via IN ('qr', 'staff')),
  at INTEGER NOT NULL,
  PRIMARY KEY (meeting_id, resident_id)
);

CREATE TABLE council_decisions (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  estate_id INTEGER NOT NULL REFERENCES estates(id),
  meeting_id INTEGER NOT NULL REFERENCES council_meetings(id),
  topic_id INTEGER NOT NULL REFERENCES council_topics(id),
  text TEXT NOT NULL,
  responsible TEXT,
  status TEXT NOT NULL DEFAULT 'tracking' CHECK (status IN ('tracking', 'done')),
  problem_id INTEGER REFERENCES problems(id),
  created_at INTEGER NOT NULL,
  done_at INTEGER
);
CREATE UNIQUE INDEX council_decisions_topic ON council_decisions(topic_id);
CREATE INDEX council_decisions_scope ON council_decisions(community_id, estate_id);

CREATE TABLE council_progress (
  id INTEGER PRIMARY KEY,
  decision_id INTEGER NOT NULL REFERENCES council_decisions(id),
  title TEXT NOT NULL,
  responsible TEXT,
  due_on TEXT,
  done INTEGER NOT NULL DEFAULT 0,
  note TEXT,
  user_id INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX council_progress_decision ON council_progress(decision_id);

CREATE TABLE council_photos (
  id INTEGER PRIMARY KEY,
  decision_id INTEGER NOT NULL REFERENCES council_decisions(id),
  file_name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  user_id INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX council_photos_decision ON council_photos(decision_id);

CREATE TABLE council_ratings (
  decision_id INTEGER NOT NULL REFERENCES council_decisions(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
  note TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (decision_id, resident_id)
);

CREATE TABLE council_polls (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  estate_id INTEGER NOT NULL REFERENCES estates(id),
  decision_id INTEGER NOT NULL REFERENCES council_decisions(id),
  question TEXT NOT NULL,
  electorate TEXT NOT NULL CHECK (electorate IN ('council', 'residents')),
  secret INTEGER NOT NULL,
  choices TEXT NOT NULL,                      -- JSON array of labels; the tally's choice is the index
  min_turnout INTEGER NOT NULL DEFAULT 0,     -- per cent of the eligible
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  eligible INTEGER,                           -- counted when closed
  ballots INTEGER,                            -- register rows when closed
  valid INTEGER,                              -- 1 valid, 0 not valid (turnout below the minimum)
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  closed_at INTEGER
);
CREATE INDEX council_polls_scope ON council_polls(community_id, estate_id, status);

CREATE TABLE council_poll_register (
  poll_id INTEGER NOT NULL REFERENCES council_polls(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  via TEXT NOT NULL CHECK (via IN ('online', 'paper')),
  choice INTEGER,                             -- open polls only; always NULL in a secret poll
  PRIMARY KEY (poll_id, resident_id)
);

CREATE TABLE council_poll_tally (
  poll_id INTEGER NOT NULL REFERENCES council_polls(id),
  choice INTEGER NOT NULL,
  votes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (poll_id, choice)
);
