-- 015_party: party building (issue 16) and model-resident elections (四德标兵 and other selections).
--
-- Party organisations form a tree inside one community: a committee (党委/总支), its branches (支部)
-- and their groups (党小组). A branch secretary is a member (secretary_member_id); when that member is
-- a resident with an account, the account sees and manages its own branch only (party_common.c).
-- Members are residents (resident_id) or outsiders registered by name; a transfer is a row of its own
-- (party_transfers) so the member's history stays when org_id or status changes. 三会一课 activities
-- carry attendance (present / leave with a reason / absent) and minutes submitted by the branch and
-- reviewed by the community. Dues: rate rules as data (income band → basis points or a fixed amount,
-- fen), one row per member and month (UNIQUE), paid with exactly its amount.
-- Elections: categories with seats; nominations of residents only; reviews with reasons; 公示 with
-- objections staff answer; one ballot per (election, category, resident) — the UNIQUE constraint is the
-- rule, never a phone or an address.
CREATE TABLE party_orgs (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  parent_id INTEGER REFERENCES party_orgs(id),
  kind TEXT NOT NULL CHECK (kind IN ('committee', 'branch', 'group')),
  name TEXT NOT NULL,
  secretary_member_id INTEGER,               -- party_members(id); no foreign key (the tables refer to each other)
  founded_on TEXT,                           -- YYYY-MM-DD
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (community_id, name)
);
CREATE INDEX party_orgs_parent ON party_orgs(parent_id);

CREATE TABLE party_members (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  org_id INTEGER NOT NULL REFERENCES party_orgs(id),
  resident_id INTEGER REFERENCES residents(id),  -- NULL for an outsider registered with the community
  name TEXT NOT NULL,
  stage TEXT NOT NULL DEFAULT 'full' CHECK (stage IN ('probationary', 'full')),
  joined_on TEXT NOT NULL,                   -- YYYY-MM-DD, joined the party
  full_on TEXT,                              -- YYYY-MM-DD, became a full member
  mobile INTEGER NOT NULL DEFAULT 0,         -- 流动党员
  mobile_note TEXT,                          -- where a mobile member is
  income_fen INTEGER NOT NULL DEFAULT 0,     -- monthly income, the dues base (fen)
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'transferred_out')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX party_members_resident ON party_members(resident_id) WHERE resident_id IS NOT NULL AND status = 'active';
CREATE INDEX party_members_org ON party_members(org_id, id);
CREATE INDEX party_members_community ON party_members(community_id, id);

CREATE TABLE party_transfers (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  member_id INTEGER NOT NULL REFERENCES party_members(id),
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'internal')),
  from_org_id INTEGER REFERENCES party_orgs(id),
  to_org_id INTEGER REFERENCES party_orgs(id),
  outside_org TEXT,                          -- the organisation outside the community (from or to)
  on_date TEXT NOT NULL,                     -- YYYY-MM-DD
  reason TEXT,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX party_transfers_member ON party_transfers(member_id, id);

CREATE TABLE party_activities (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  org_id INTEGER NOT NULL REFERENCES party_orgs(id),
  kind TEXT NOT NULL CHECK (kind IN ('member_meeting', 'committee_meeting', 'group_meeting', 'lesson', 'theme_day')),
  title TEXT NOT NULL,
  held_on TEXT NOT NULL,                     -- YYYY-MM-DD (scheduled, then held)
  place TEXT,
  notice TEXT,
  status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'submitted', 'approved', 'returned')),
  minutes TEXT,
  submitted_at INTEGER,
  reviewed_by INTEGER REFERENCES users(id),
  reviewed_at INTEGER,
  review_note TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX party_activities_org ON party_activities(org_id, held_on);
CREATE INDEX party_activities_community ON party_activities(community_id, held_on);

CREATE TABLE party_attendance (
  activity_id INTEGER NOT NULL REFERENCES party_activities(id),
  member_id INTEGER NOT NULL REFERENCES party_members(id),
  status TEXT NOT NULL CHECK (status IN ('present', 'leave', 'absent')),
  reason TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (activity_id, member_id)
);
CREATE INDEX party_attendance_member ON party_attendance(member_id);

CREATE TABLE party_dues_rules (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  name TEXT NOT NULL,
  min_income_fen INTEGER NOT NULL DEFAULT 0,     -- band: min <= income
  max_income_fen INTEGER,                        -- and income <= max (NULL: no upper bound)
  rate_bp INTEGER NOT NULL DEFAULT 0,            -- basis points of the income (50 = 0.5 %)
  fixed_fen INTEGER,                             -- a fixed monthly amount instead of the rate
  created_at INTEGER NOT NULL
);
CREATE INDEX party_dues_rules_community ON party_dues_rules(community_id, min_income_fen);

CREATE TABLE party_dues (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  org_id INTEGER NOT NULL REFERENCES party_orgs(id),
  member_id INTEGER NOT NULL REFERENCES party_members(id),
  month TEXT NOT NULL,                           -- YYYY-MM
  base_fen INTEGER NOT NULL,
  rule_id INTEGER REFERENCES party_dues_rules(id),
  amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
  status TEXT NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'paid')),
  paid_fen INTEGER,
  paid_on TEXT,
  paid_by_member_id INTEGER REFERENCES party_members(id),
  recorded_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (member_id, month)
);
CREATE INDEX party_dues_org ON party_dues(org_id, month);
CREATE INDEX party_dues_community ON party_dues(community_id, month);

CREATE TABLE elections (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  title TEXT NOT NULL,
  stage TEXT NOT NULL DEFAULT 'nomination'
    CHECK (stage IN ('nomination', 'review', 'publicity', 'voting', 'closed')),
  publicity_days INTEGER NOT NULL DEFAULT 7,
  publicity_from TEXT,                           -- YYYY-MM-DD, first day of 公示
  publicity_until TEXT,                          -- YYYY-MM-DD, last day of 公示
  vote_from INTEGER,                             -- epoch ms
  vote_until INTEGER,                            -- epoch ms (exclusive)
  min_turnout_pct INTEGER NOT NULL DEFAULT 0,
  eligible_voters INTEGER,                       -- active residents when the vote opened
  voters INTEGER,                                -- residents who voted, at close
  valid INTEGER,                                 -- turnout reached (1) or not (0), at close
  closed_at INTEGER,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX elections_community ON elections(community_id, id);

CREATE TABLE election_categories (
  id INTEGER PRIMARY KEY,
  election_id INTEGER NOT NULL REFERENCES elections(id),
  name TEXT NOT NULL,
  seats INTEGER NOT NULL CHECK (seats >= 1),
  sort INTEGER NOT NULL DEFAULT 0,
  UNIQUE (election_id, name)
);

CREATE TABLE election_nominations (
  id INTEGER PRIMARY KEY,
  election_id INTEGER NOT NULL REFERENCES elections(id),
  category_id INTEGER NOT NULL REFERENCES election_categories(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  reason TEXT NOT NULL,
  nominated_by_user INTEGER REFERENCES users(id),
  nominated_by_resident INTEGER REFERENCES residents(id),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'eligible', 'ineligible')),
  review_reason TEXT,
  reviewed_by INTEGER REFERENCES users(id),
  reviewed_at INTEGER,
  votes INTEGER NOT NULL DEFAULT 0,              -- counted at close
  elected INTEGER NOT NULL DEFAULT 0,            -- set at close
  created_at INTEGER NOT NULL,
  UNIQUE (election_id, category_id, resident_id)
);

CREATE TABLE election_objections (
  id INTEGER PRIMARY KEY,
  election_id INTEGER NOT NULL REFERENCES elections(id),
  nomination_id INTEGER NOT NULL REFERENCES election_nominations(id),
  by_user INTEGER REFERENCES users(id),
  body TEXT NOT NULL,
  answer TEXT,
  upheld INTEGER,
  answered_by INTEGER REFERENCES users(id),
  answered_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX election_objections_election ON election_objections(election_id, id);

CREATE TABLE election_ballots (
  id INTEGER PRIMARY KEY,
  election_id INTEGER NOT NULL REFERENCES elections(id),
  category_id INTEGER NOT NULL REFERENCES election_categories(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  nomination_id INTEGER NOT NULL REFERENCES election_nominations(id),
  created_at INTEGER NOT NULL,
  UNIQUE (election_id, category_id, resident_id)
);
CREATE INDEX election_ballots_nomination ON election_ballots(nomination_id);
