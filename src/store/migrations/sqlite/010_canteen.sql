-- 010_canteen: the community canteen (幸福食堂). Amounts are integers in fen (分) everywhere.
--
-- Dishes and daily menus (one per community, day and meal); each menu item is a dish or a set meal
-- (套餐) with its list price and a price class ("basic" 一元吃饱, "better" 两元吃好, or "" for
-- à la carte) that price rules name. Price rules are data: who pays what for a class, funded by a
-- source (street 街道补贴, charity 慈善捐助, canteen 食堂让利); a rule with resident_id is a staff
-- override for one diner (reason and end date required). Rules are never deleted: a PUT retires the
-- old set (retired_at) so that sales keep pointing at the rule that priced them.
-- Cards hold a prepaid balance; every balance change is a card transaction. Sales are append-only:
-- a reversal is a new row with negative amounts (reverses_id), and each sale is chained to the
-- previous one of its community by hash (seq, prev_hash, hash; the head in canteen_chain).
CREATE TABLE canteen_dishes (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  name TEXT NOT NULL,
  category TEXT NOT NULL DEFAULT 'main',      -- staple, main, side, soup, set, drink
  price INTEGER NOT NULL CHECK (price >= 0),
  half_price INTEGER CHECK (half_price >= 0),  -- NULL: no half portion
  nutrition TEXT,
  allergens TEXT,
  soft INTEGER NOT NULL DEFAULT 0,
  low_salt INTEGER NOT NULL DEFAULT 0,
  diabetic INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX canteen_dishes_name ON canteen_dishes(community_id, name);

CREATE TABLE canteen_menus (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  day TEXT NOT NULL,                          -- YYYY-MM-DD
  meal TEXT NOT NULL,                         -- breakfast, lunch, dinner
  published INTEGER NOT NULL DEFAULT 1,
  created_by INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX canteen_menus_key ON canteen_menus(community_id, day, meal);

CREATE TABLE canteen_menu_items (
  id INTEGER PRIMARY KEY,
  menu_id INTEGER NOT NULL REFERENCES canteen_menus(id),
  community_id INTEGER NOT NULL,
  dish_id INTEGER REFERENCES canteen_dishes(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'dish',          -- dish, set
  price_class TEXT NOT NULL DEFAULT '',       -- basic, better, '' (no subsidy class)
  price INTEGER NOT NULL CHECK (price >= 0),
  portions INTEGER,                           -- NULL: no limit
  sold INTEGER NOT NULL DEFAULT 0,
  sold_out INTEGER NOT NULL DEFAULT 0,
  sort INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX canteen_menu_items_menu ON canteen_menu_items(menu_id, sort, id);

CREATE TABLE canteen_price_rules (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  name TEXT NOT NULL,
  price_class TEXT NOT NULL,                  -- basic, better
  pay INTEGER NOT NULL CHECK (pay >= 0),      -- what the diner pays (at most the list price)
  funding TEXT NOT NULL,                      -- street, charity, canteen
  min_age INTEGER,
  max_age INTEGER,
  tags TEXT NOT NULL DEFAULT '',              -- tag codes, comma-separated: any of them
  care_levels TEXT NOT NULL DEFAULT '',       -- residents.care_level values, comma-separated: any
  residence TEXT NOT NULL DEFAULT '',         -- residents.residence values, comma-separated: any
  resident_id INTEGER REFERENCES residents(id), -- an override for one diner
  reason TEXT,
  per_slot INTEGER NOT NULL DEFAULT 1,        -- subsidised meals per meal slot per day (0: no limit)
  valid_from TEXT,
  valid_to TEXT,
  retired_at INTEGER,
  created_by INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX canteen_price_rules_live ON canteen_price_rules(community_id, retired_at);

CREATE TABLE canteen_cards (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  code TEXT NOT NULL UNIQUE,                  -- the QR code's content, random
  number TEXT NOT NULL UNIQUE,                -- printed card number
  status TEXT NOT NULL DEFAULT 'active',      -- active, replaced, cancelled
  balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
  replaced_by INTEGER,
  created_by INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX canteen_cards_active ON canteen_cards(resident_id) WHERE status = 'active';
CREATE INDEX canteen_cards_scope ON canteen_cards(community_id, id);

CREATE TABLE canteen_card_txns (
  id INTEGER PRIMARY KEY,
  card_id INTEGER NOT NULL REFERENCES canteen_cards(id),
  community_id INTEGER NOT NULL,
  kind TEXT NOT NULL,                         -- topup, refund, sale, reversal, transfer_in, transfer_out
  amount INTEGER NOT NULL,                    -- signed: + into the card, - out of it
  balance_after INTEGER NOT NULL,
  method TEXT,                                -- cash, wechat, alipay, transfer
  receipt_no TEXT NOT NULL UNIQUE,
  sale_id INTEGER,
  note TEXT,
  created_by INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX canteen_card_txns_card ON canteen_card_txns(card_id, id);

CREATE TABLE canteen_chain (
  community_id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  last_hash TEXT NOT NULL
);

CREATE TABLE canteen_sales (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  seq INTEGER NOT NULL,
  client_ref TEXT NOT NULL,
  resident_id INTEGER REFERENCES residents(id), -- NULL: a walk-in guest at the list price
  card_id INTEGER REFERENCES canteen_cards(id),
  menu_item_id INTEGER NOT NULL REFERENCES canteen_menu_items(id),
  item_name TEXT NOT NULL,
  day TEXT NOT NULL,
  meal TEXT NOT NULL,
  list_price INTEGER NOT NULL,
  paid INTEGER NOT NULL,
  subsidy INTEGER NOT NULL,
  funding TEXT,
  rule_id INTEGER,
  rule_name TEXT,
  method TEXT NOT NULL,                       -- card, cash, wechat, alipay
  order_id INTEGER,
  reverses_id INTEGER REFERENCES canteen_sales(id),
  reason TEXT,
  created_by INTEGER,
  at INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE UNIQUE INDEX canteen_sales_ref ON canteen_sales(client_ref);
CREATE UNIQUE INDEX canteen_sales_seq ON canteen_sales(community_id, seq);
CREATE UNIQUE INDEX canteen_sales_reverses ON canteen_sales(reverses_id);
CREATE INDEX canteen_sales_day ON canteen_sales(community_id, day, meal);
CREATE INDEX canteen_sales_diner ON canteen_sales(resident_id, day, meal);
CREATE INDEX canteen_sales_item ON canteen_sales(menu_item_id);

CREATE TABLE canteen_orders (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  menu_item_id INTEGER NOT NULL REFERENCES canteen_menu_items(id),
  day TEXT NOT NULL,
  meal TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  delivery INTEGER NOT NULL DEFAULT 0,
  note TEXT,
  status TEXT NOT NULL DEFAULT 'ordered',     -- ordered, cancelled, delivered, missed
  ordered_by INTEGER,
  delivered_by INTEGER,
  delivered_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX canteen_orders_day ON canteen_orders(community_id, day, meal, status);
CREATE INDEX canteen_orders_diner ON canteen_orders(resident_id, day);
CREATE INDEX canteen_orders_item ON canteen_orders(menu_item_id);
