-- 001_init: the foundation — organisation, people, accounts, audit, events.
-- Times are epoch milliseconds UTC. Personal data (ID numbers, phones, detailed addresses) is stored
-- only as ciphertext (*_enc) plus a keyed blind index (*_bidx) for exact look-up and a short tail
-- (last 4 characters) for the "last digits" search staff use. Rows of a community carry community_id.

CREATE TABLE streets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  code TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE communities (
  id INTEGER PRIMARY KEY,
  street_id INTEGER NOT NULL REFERENCES streets(id),
  name TEXT NOT NULL,
  code TEXT,
  address TEXT,
  phone TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (street_id, name)
);

CREATE TABLE grids (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  name TEXT NOT NULL,
  code TEXT,
  description TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (community_id, name)
);

CREATE TABLE estates (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  name TEXT NOT NULL,
  name_pinyin TEXT NOT NULL DEFAULT '',
  address TEXT,
  built_year INTEGER,
  kind TEXT NOT NULL DEFAULT 'old',          -- old (老旧小区), commercial (商品房), unit (单位宿舍), other
  property_company TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (community_id, name)
);

CREATE TABLE buildings (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  estate_id INTEGER NOT NULL REFERENCES estates(id),
  grid_id INTEGER REFERENCES grids(id),
  name TEXT NOT NULL,                        -- "3号楼"
  floors INTEGER,
  units INTEGER,
  has_elevator INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (estate_id, name)
);
CREATE INDEX buildings_grid ON buildings(grid_id);

CREATE TABLE rooms (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  building_id INTEGER NOT NULL REFERENCES buildings(id),
  unit TEXT NOT NULL DEFAULT '',             -- "2单元"
  number TEXT NOT NULL,                      -- "401"
  floor INTEGER,
  area REAL,
  created_at INTEGER NOT NULL,
  UNIQUE (building_id, unit, number)
);

CREATE TABLE shops (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'shop',         -- shop, restaurant, market_stall (夜市摊位), service, other
  address TEXT,
  owner_name TEXT,
  phone_enc BLOB,
  phone_tail TEXT,
  license_no TEXT,
  status TEXT NOT NULL DEFAULT 'open',       -- open, closed
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE households (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  room_id INTEGER REFERENCES rooms(id),
  number TEXT,                               -- 户号
  kind TEXT NOT NULL DEFAULT 'registered',   -- registered (户籍户), resident (常住), floating (流动)
  head_resident_id INTEGER,
  address_enc BLOB,
  notes TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX households_scope ON households(community_id, grid_id);
CREATE INDEX households_room ON households(room_id);

CREATE TABLE residents (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  household_id INTEGER REFERENCES households(id),
  room_id INTEGER REFERENCES rooms(id),
  estate_id INTEGER REFERENCES estates(id),
  name TEXT NOT NULL,
  name_s TEXT NOT NULL,                      -- simplified form, for search
  name_pinyin TEXT NOT NULL,                 -- "wangjianguo"
  name_initials TEXT NOT NULL,               -- "wjg"
  sort_key BLOB NOT NULL,                    -- ICU zh collation key (pinyin order)
  sex INTEGER NOT NULL CHECK (sex IN (1, 2)),
  birth_date TEXT NOT NULL,                  -- YYYY-MM-DD
  id_type TEXT NOT NULL DEFAULT 'id_card',
  id_enc BLOB NOT NULL,
  id_bidx BLOB NOT NULL,
  id_tail TEXT NOT NULL,
  phone_enc BLOB,
  phone_bidx BLOB,
  phone_tail TEXT,
  address_enc BLOB,
  relation TEXT NOT NULL DEFAULT 'other',    -- head, spouse, child, parent, grandchild, sibling, other
  residence TEXT NOT NULL DEFAULT 'registered', -- registered (户籍), resident (常住), floating (流动)
  ethnicity TEXT,
  political TEXT,                            -- party_member, league_member, masses …
  education TEXT,
  marital TEXT,
  work TEXT,
  care_level TEXT NOT NULL DEFAULT 'none',   -- none, normal (常态), key (重点), frequent (勤访)
  notes TEXT,
  status TEXT NOT NULL DEFAULT 'active',     -- active, moved_out, deceased
  moved_out_on TEXT,
  deceased_on TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX residents_id_bidx ON residents(id_bidx);
CREATE INDEX residents_sort ON residents(community_id, sort_key, id);
-- Search keys lead their index: a search finds its few candidates first, then scope and filters
-- apply to those (see people_read.c).
CREATE INDEX residents_pinyin ON residents(name_pinyin);
CREATE INDEX residents_initials ON residents(name_initials);
CREATE INDEX residents_phone_tail ON residents(phone_tail);
CREATE INDEX residents_id_tail ON residents(id_tail);
CREATE INDEX residents_phone_bidx ON residents(phone_bidx);
CREATE INDEX residents_grid ON residents(grid_id, sort_key);
CREATE INDEX residents_household ON residents(household_id, birth_date);
CREATE INDEX residents_room ON residents(room_id);
CREATE INDEX residents_estate ON residents(estate_id, status);
CREATE INDEX residents_birth ON residents(community_id, birth_date);

CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  category TEXT NOT NULL DEFAULT 'care',     -- care, identity, work
  rule TEXT,                                 -- computed tags: "age>=80"; NULL for assigned tags
  sort INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE TABLE resident_tags (
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  tag_id INTEGER NOT NULL REFERENCES tags(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (resident_id, tag_id)
);
CREATE INDEX resident_tags_tag ON resident_tags(tag_id, resident_id);

CREATE TABLE emergency_contacts (
  id INTEGER PRIMARY KEY,
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  name TEXT NOT NULL,
  relation TEXT NOT NULL,
  phone_enc BLOB NOT NULL,
  phone_tail TEXT NOT NULL,
  is_primary INTEGER NOT NULL DEFAULT 0,
  sort INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX emergency_contacts_resident ON emergency_contacts(resident_id, sort, id);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  scope TEXT NOT NULL,                       -- all, street, community, grid, self
  street_id INTEGER REFERENCES streets(id),
  community_id INTEGER REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER REFERENCES residents(id),
  password_hash TEXT NOT NULL,
  must_change_password INTEGER NOT NULL DEFAULT 0,
  preferences TEXT NOT NULL DEFAULT '{}',   -- JSON: {"elder_mode": true, "language": "zh-CN"}
  disabled INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0,
  last_login_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  token_hash BLOB NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL,                        -- web (cookie + CSRF) or token (bearer)
  csrf TEXT,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,                      -- "ip:<addr>"
  failures INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  locked_until INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  user_id INTEGER,
  username TEXT,
  action TEXT NOT NULL,                      -- login, login_failed, logout, create, update, reveal, export, import …
  object_type TEXT,
  object_id INTEGER,
  community_id INTEGER,
  ip TEXT,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit_log(at);
CREATE INDEX audit_object ON audit_log(object_type, object_id);
CREATE INDEX audit_user ON audit_log(user_id, at);

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  community_id INTEGER,
  kind TEXT NOT NULL,
  subject TEXT,
  payload TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE event_cursors (
  subscriber TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);

-- Every suffix of a resident's (simplified) name, so "建国" finds 王建国 with an index range scan.
CREATE TABLE resident_name_suffixes (
  suffix TEXT NOT NULL,
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  community_id INTEGER NOT NULL,
  PRIMARY KEY (suffix, resident_id)
);
CREATE INDEX resident_name_suffixes_resident ON resident_name_suffixes(resident_id);
