-- 011_volunteers: volunteer teams, volunteers, activities with sign-ups and check-ins, the service-hours
-- ledger, partner units (共建单位) with their recurring services, sessions, slots and bookings (issue 13).
-- Times are epoch ms; hours are whole minutes, so sums are exact. The ledger is append-only: a
-- correction is a new row (corrects_id, reason) holding the difference, never an edit.
CREATE TABLE volunteer_teams (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  name TEXT NOT NULL,
  description TEXT,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  UNIQUE (community_id, name)
);

-- A volunteer is a resident (resident_id) or an outsider (name and an encrypted phone); user_id is
-- the account that acts as them. is_leader: the leader of team_id (leaders manage that team only).
CREATE TABLE volunteers (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  team_id INTEGER REFERENCES volunteer_teams(id),
  resident_id INTEGER REFERENCES residents(id),
  user_id INTEGER REFERENCES users(id),
  number TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  phone_enc BLOB,
  phone_tail TEXT,
  birth_date TEXT,
  skills TEXT,
  availability TEXT,
  trained_on TEXT,
  insured_until TEXT,
  is_leader INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  created_at INTEGER NOT NULL,
  UNIQUE (user_id),
  UNIQUE (community_id, resident_id)
);
CREATE INDEX volunteers_team ON volunteers(team_id);

CREATE TABLE volunteer_activities (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  team_id INTEGER REFERENCES volunteer_teams(id),
  series_id INTEGER,                 -- the first activity of a recurring series
  title TEXT NOT NULL,
  place TEXT NOT NULL,
  description TEXT,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  signup_deadline INTEGER NOT NULL,
  capacity INTEGER NOT NULL CHECK (capacity > 0),
  min_age INTEGER,
  skill TEXT,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
  organiser_id INTEGER REFERENCES users(id),
  version INTEGER NOT NULL DEFAULT 1,  -- bumped by every sign-up change: the row lock that orders them
  created_at INTEGER NOT NULL
);
CREATE INDEX volunteer_activities_when ON volunteer_activities(community_id, starts_at);

CREATE TABLE volunteer_activity_roles (
  id INTEGER PRIMARY KEY,
  activity_id INTEGER NOT NULL REFERENCES volunteer_activities(id),
  name TEXT NOT NULL,
  places INTEGER NOT NULL CHECK (places > 0),
  UNIQUE (activity_id, name)
);

-- status: confirmed (has a place), waiting (queued by id), cancelled. A placeholder is a helper
-- without an account, added by the organiser (volunteer_id NULL, placeholder set).
CREATE TABLE volunteer_signups (
  id INTEGER PRIMARY KEY,
  activity_id INTEGER NOT NULL REFERENCES volunteer_activities(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  volunteer_id INTEGER REFERENCES volunteers(id),
  placeholder TEXT,
  role_id INTEGER REFERENCES volunteer_activity_roles(id),
  status TEXT NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
  queued_at INTEGER NOT NULL,
  check_in_at INTEGER,
  check_out_at INTEGER,
  check_note TEXT,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  UNIQUE (activity_id, volunteer_id)
);
CREATE INDEX volunteer_signups_activity ON volunteer_signups(activity_id, status, id);

-- minutes: the hours of the entry in minutes (a correction: the difference it makes, may be below
-- zero). Only approved rows count. approved_by is never the volunteer's own account.
CREATE TABLE volunteer_hours (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
  activity_id INTEGER REFERENCES volunteer_activities(id),
  signup_id INTEGER REFERENCES volunteer_signups(id),
  kind TEXT NOT NULL CHECK (kind IN ('attendance', 'manual', 'correction')),
  corrects_id INTEGER REFERENCES volunteer_hours(id),
  minutes INTEGER NOT NULL,
  served_on TEXT NOT NULL,           -- the local date of the service (YYYY-MM-DD)
  reason TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  recorded_by INTEGER REFERENCES users(id),
  approved_by INTEGER REFERENCES users(id),
  approved_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX volunteer_hours_volunteer ON volunteer_hours(volunteer_id, status);
CREATE INDEX volunteer_hours_community ON volunteer_hours(community_id, status, served_on);

CREATE TABLE partners (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('hospital', 'salon', 'school', 'company', 'other')),
  contact_name TEXT,
  phone_enc BLOB,
  phone_tail TEXT,
  address TEXT,
  offer TEXT,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  UNIQUE (community_id, name)
);

-- A recurring service of a partner (义诊 every second Saturday …); creating it generates its sessions.
CREATE TABLE partner_services (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  partner_id INTEGER NOT NULL REFERENCES partners(id),
  title TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('clinic', 'haircut', 'other')),
  place TEXT NOT NULL,
  recurrence TEXT NOT NULL,
  start_time TEXT NOT NULL,
  end_time TEXT NOT NULL,
  slot_minutes INTEGER NOT NULL,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);

CREATE TABLE partner_sessions (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  service_id INTEGER NOT NULL REFERENCES partner_services(id),
  partner_id INTEGER NOT NULL REFERENCES partners(id),
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX partner_sessions_when ON partner_sessions(community_id, starts_at);

CREATE TABLE partner_slots (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES partner_sessions(id),
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL
);
CREATE INDEX partner_slots_session ON partner_slots(session_id, starts_at);

-- active_slot_id is slot_id while the booking holds the slot and NULL once cancelled: its unique
-- constraint is what lets exactly one of two concurrent bookings of a slot win.
CREATE TABLE partner_bookings (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  session_id INTEGER NOT NULL REFERENCES partner_sessions(id),
  slot_id INTEGER NOT NULL REFERENCES partner_slots(id),
  active_slot_id INTEGER UNIQUE REFERENCES partner_slots(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'attended', 'no_show')),
  booked_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX partner_bookings_resident ON partner_bookings(resident_id, status);
CREATE INDEX partner_bookings_session ON partner_bookings(session_id);

-- 志愿服务证明 takes its hours from the approved ledger (above), no longer from a typed form field:
-- the form keeps the period and the purpose; the document reads the ledger ("hours_from").
UPDATE service_items SET
  form = '[{"key":"period","label":"服务期间","type":"text","required":true,"max_len":40},{"key":"purpose","label":"证明用途","type":"choice","required":true,"options":["升学","评优","求职","其他"]}]',
  document = '{"kind":"certificate","title":"志愿服务证明","hours_from":"volunteer_ledger","body":"兹证明{name}（志愿者编号 {volunteer_number}）于{period}在{community}参加志愿服务，经活动组织方记录并审核，累计服务{hours}小时。\n此证明用于{purpose}，特此证明。"}',
  version = version + 1
WHERE code = 'volunteer_certificate';
