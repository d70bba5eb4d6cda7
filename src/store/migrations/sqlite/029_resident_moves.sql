-- 029_resident_moves: the history of a resident's moves between households and rooms (issue 19):
-- who moved them, when, from where to where and why. A row is written in the same transaction as
-- the change of residents.household_id / room_id and never changed afterwards.
CREATE TABLE resident_moves (
  id INTEGER PRIMARY KEY,
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  from_household_id INTEGER REFERENCES households(id),
  to_household_id INTEGER REFERENCES households(id),
  from_room_id INTEGER REFERENCES rooms(id),
  to_room_id INTEGER REFERENCES rooms(id),
  from_label TEXT NOT NULL DEFAULT '',       -- the place as it read at the time ("幸福里小区 3号楼 2单元 401")
  to_label TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL,
  moved_by INTEGER REFERENCES users(id),
  moved_at INTEGER NOT NULL
);
CREATE INDEX resident_moves_resident ON resident_moves(resident_id, id);
