-- 012_courses_venues: activity rooms (venues) with their bookings, and courses taught by residents
-- (人人授课). Times are epoch milliseconds UTC; opening hours are minutes after local midnight
-- (Asia/Shanghai); dates are 'YYYY-MM-DD'.

-- A bookable room. closed_weekdays lists ISO weekdays (1 = Monday … 7 = Sunday) as "6,7".
CREATE TABLE venues (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  name TEXT NOT NULL,
  location TEXT NOT NULL DEFAULT '',
  capacity INTEGER NOT NULL CHECK (capacity > 0),
  equipment TEXT NOT NULL DEFAULT '',
  rules TEXT NOT NULL DEFAULT '',
  open_from INTEGER NOT NULL CHECK (open_from >= 0 AND open_from < 1440),
  open_to INTEGER NOT NULL CHECK (open_to > open_from AND open_to <= 1440),
  closed_weekdays TEXT NOT NULL DEFAULT '',
  max_ahead_days INTEGER NOT NULL DEFAULT 14,
  max_minutes INTEGER NOT NULL DEFAULT 120,
  per_person_max INTEGER NOT NULL DEFAULT 3,   -- open bookings (not yet ended) per person
  needs_approval INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (community_id, name)
);

-- Single closed dates (a holiday, a repair).
CREATE TABLE venue_closures (
  venue_id INTEGER NOT NULL REFERENCES venues(id),
  day TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (venue_id, day)
);

-- status: pending (awaiting approval), confirmed, cancelled, rejected, no_show. A booking for a
-- person names the resident (caps count per resident); a team's or course's booking names none.
CREATE TABLE venue_bookings (
  id INTEGER PRIMARY KEY,
  venue_id INTEGER NOT NULL REFERENCES venues(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  resident_id INTEGER REFERENCES residents(id),
  booked_by INTEGER REFERENCES users(id),
  title TEXT NOT NULL,
  attendees INTEGER NOT NULL DEFAULT 1,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),
  status TEXT NOT NULL DEFAULT 'confirmed',
  series_id INTEGER,                           -- the first booking of a recurring series
  course_id INTEGER,
  checked_in_at INTEGER,
  note TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX venue_bookings_venue ON venue_bookings(venue_id, starts_at);
CREATE INDEX venue_bookings_resident ON venue_bookings(resident_id, ends_at);

-- The conflict check the database enforces: every live booking claims each 15-minute unit it
-- covers (unit = starts_at / 900000); the primary key lets exactly one claim of a unit commit, on
-- both backends, however many requests race. Cancelling or releasing a booking deletes its claims.
CREATE TABLE venue_slots (
  venue_id INTEGER NOT NULL REFERENCES venues(id),
  unit INTEGER NOT NULL,
  booking_id INTEGER NOT NULL REFERENCES venue_bookings(id),
  PRIMARY KEY (venue_id, unit)
);
CREATE INDEX venue_slots_booking ON venue_slots(booking_id);

-- Waiting for a taken slot: offered (with a deadline) when the slot is freed.
-- status: waiting, offered, booked, expired, cancelled
CREATE TABLE venue_waits (
  id INTEGER PRIMARY KEY,
  venue_id INTEGER NOT NULL REFERENCES venues(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  resident_id INTEGER REFERENCES residents(id),
  user_id INTEGER REFERENCES users(id),
  title TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),
  status TEXT NOT NULL DEFAULT 'waiting',
  offered_at INTEGER,
  offer_until INTEGER,
  booking_id INTEGER REFERENCES venue_bookings(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX venue_waits_venue ON venue_waits(venue_id, status, starts_at);

-- Courses. status: proposed, approved, rejected, cancelled. mode: fcfs (first come) or lottery
-- (pre-registration until prereg_until, then a draw from lottery_seed). newcomer_quota: seats of
-- the draw kept for applicants never seated in a course before. enrolled: seats taken (a counter
-- updated with the seat, so two concurrent enrolments cannot both take the last seat).
CREATE TABLE courses (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  teacher_name TEXT NOT NULL,
  teacher_resident_id INTEGER REFERENCES residents(id),
  audience TEXT NOT NULL DEFAULT 'all',        -- youth, elders, all
  venue_id INTEGER REFERENCES venues(id),
  capacity INTEGER NOT NULL CHECK (capacity > 0),
  min_age INTEGER,
  max_age INTEGER,
  residents_only INTEGER NOT NULL DEFAULT 0,   -- only residents of the course's community
  mode TEXT NOT NULL DEFAULT 'fcfs',
  prereg_until INTEGER,
  newcomer_quota INTEGER NOT NULL DEFAULT 0,
  lottery_seed TEXT,
  lottery_at INTEGER,
  enrolled INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'proposed',
  proposed_by INTEGER REFERENCES users(id),
  review_note TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX courses_community ON courses(community_id, status);

CREATE TABLE course_sessions (
  id INTEGER PRIMARY KEY,
  course_id INTEGER NOT NULL REFERENCES courses(id),
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),
  topic TEXT NOT NULL DEFAULT ''
);
CREATE INDEX course_sessions_course ON course_sessions(course_id, starts_at);

-- status: applied (pre-registration), enrolled, waiting, withdrawn. seated: ever given a seat
-- (a newcomer is an applicant with no seated row in any course). draw_rank: place in the draw.
CREATE TABLE course_enrolments (
  id INTEGER PRIMARY KEY,
  course_id INTEGER NOT NULL REFERENCES courses(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  enrolled_by INTEGER REFERENCES users(id),
  status TEXT NOT NULL,
  seated INTEGER NOT NULL DEFAULT 0,
  newcomer INTEGER NOT NULL DEFAULT 0,
  draw_rank INTEGER,
  wait_pos INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (course_id, resident_id)
);
CREATE INDEX course_enrolments_resident ON course_enrolments(resident_id, seated);

-- status: present, absent, leave (请假, asked for beforehand)
CREATE TABLE course_attendance (
  session_id INTEGER NOT NULL REFERENCES course_sessions(id),
  enrolment_id INTEGER NOT NULL REFERENCES course_enrolments(id),
  status TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, enrolment_id)
);

CREATE TABLE course_feedback (
  id INTEGER PRIMARY KEY,
  course_id INTEGER NOT NULL REFERENCES courses(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE (course_id, resident_id)
);
