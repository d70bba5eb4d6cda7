-- 025_canteen_rounds: 送餐路线分派. The delivery round of one grid of a community (grid_id NULL: the
-- community's delivery orders without a grid) given to a volunteer's account; a volunteer sees and
-- marks only the stops of the rounds given to them (a grid worker also those of their own grid).
CREATE TABLE canteen_delivery_rounds (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_by INTEGER,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX canteen_delivery_rounds_one ON canteen_delivery_rounds(community_id, COALESCE(grid_id, 0), user_id);
CREATE INDEX canteen_delivery_rounds_user ON canteen_delivery_rounds(user_id);
