-- 018_canteen_ratings: diners rate a dish they ate (1-5), once per order. A rating names the menu
-- item's dish name within its community, so the average follows the dish from day to day on the
-- menus; the order's uniqueness keeps it to one rating per meal.
CREATE TABLE canteen_ratings (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  order_id INTEGER NOT NULL REFERENCES canteen_orders(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  item_name TEXT NOT NULL,
  stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
  comment TEXT,
  rated_by INTEGER,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX canteen_ratings_order ON canteen_ratings(order_id);
CREATE INDEX canteen_ratings_item ON canteen_ratings(community_id, item_name);
