-- 021_volunteers_more: what issues 13 and 16 still lacked. Reminders sent once (a sign-up's shift
-- reminder, a member's dues reminder for a month) are marked on their row; time-bank points (时间银行)
-- are a ledger of their own, earned from approved hours by a rule kept as data and redeemed for a
-- service the community offers; photos of 三会一课 minutes live in the upload store.
ALTER TABLE volunteer_signups ADD COLUMN reminded_at INTEGER;       -- the shift reminder's event, once
ALTER TABLE party_dues ADD COLUMN reminded_at INTEGER;              -- the month's dues reminder, once

-- The earning rule: points per approved hour. community_id NULL is the default of every community
-- without a row of its own.
CREATE TABLE volunteer_point_rules (
  id INTEGER PRIMARY KEY,
  community_id INTEGER UNIQUE REFERENCES communities(id),
  points_per_hour INTEGER NOT NULL CHECK (points_per_hour BETWEEN 0 AND 100),
  updated_by INTEGER REFERENCES users(id),
  updated_at INTEGER NOT NULL
);
INSERT INTO volunteer_point_rules (community_id, points_per_hour, updated_at) VALUES (NULL, 1, 0);

-- What points buy (an elder's haircut, a meal delivered …); cost in hundredths of a point.
CREATE TABLE volunteer_point_offers (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  title TEXT NOT NULL,
  cost_c INTEGER NOT NULL CHECK (cost_c > 0),
  active INTEGER NOT NULL DEFAULT 1,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  UNIQUE (community_id, title)
);

-- The points ledger, append-only; points_c in hundredths (earn > 0 or a correction's < 0, redeem < 0).
-- An approved hours entry earns once (hours_id UNIQUE).
CREATE TABLE volunteer_points (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
  kind TEXT NOT NULL CHECK (kind IN ('earn', 'redeem')),
  points_c INTEGER NOT NULL,
  hours_id INTEGER UNIQUE REFERENCES volunteer_hours(id),
  offer_id INTEGER REFERENCES volunteer_point_offers(id),
  note TEXT,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX volunteer_points_volunteer ON volunteer_points(volunteer_id, id);

-- Hours approved before this migration earn at the default rule (1 point an hour).
INSERT INTO volunteer_points (community_id, volunteer_id, kind, points_c, hours_id, note, created_at)
  SELECT community_id, volunteer_id, 'earn', minutes * 100 / 60, id, '服务时长', COALESCE(approved_at, created_at)
  FROM volunteer_hours WHERE status = 'approved';

-- Photos of an activity's minutes (三会一课), stored by the upload store (sniffed, cleaned, sealed).
CREATE TABLE party_activity_photos (
  id INTEGER PRIMARY KEY,
  activity_id INTEGER NOT NULL REFERENCES party_activities(id),
  file_name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  user_id INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX party_activity_photos_activity ON party_activity_photos(activity_id);
