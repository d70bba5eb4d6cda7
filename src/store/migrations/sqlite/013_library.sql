-- 013_library: the neighbourhood library (邻里图书馆) and book drifting (图书漂流).
--
-- books are titles (by ISBN, normalised to ISBN-13, or entered by hand with no ISBN); book_copies
-- are the physical books, each with a printed label code that a scanner types in, on a shelf or
-- drifting. library_categories are reader categories with their loan rules; library_readers ties a
-- resident to a category and holds their block (blocks instead of fines). book_loans: one row per
-- check-out; the partial unique index book_loans_open makes "a copy on loan cannot be lent again" a
-- fact of the database, whatever two desks do at once. book_holds: a queue per title (position =
-- order of placed_at, id among the waiting), a copy kept on the hold shelf until pickup_by.
CREATE TABLE library_categories (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  name TEXT NOT NULL,
  loan_days INTEGER NOT NULL CHECK (loan_days BETWEEN 1 AND 180),
  renewals INTEGER NOT NULL CHECK (renewals BETWEEN 0 AND 10),
  max_loans INTEGER NOT NULL CHECK (max_loans BETWEEN 1 AND 50),
  max_holds INTEGER NOT NULL CHECK (max_holds BETWEEN 0 AND 50),
  is_default INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (community_id, name)
);

CREATE TABLE library_readers (
  resident_id INTEGER PRIMARY KEY REFERENCES residents(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  category_id INTEGER NOT NULL REFERENCES library_categories(id),
  blocked_until INTEGER NOT NULL DEFAULT 0,  -- epoch ms; a late return blocks for as many days as it was late
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE library_donations (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  donor_resident_id INTEGER REFERENCES residents(id),
  donor_label TEXT,                          -- a unit or "匿名" when the donor is not a resident
  books INTEGER NOT NULL DEFAULT 0 CHECK (books >= 0),
  note TEXT,
  received_on TEXT NOT NULL,                 -- YYYY-MM-DD
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);

CREATE TABLE books (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  isbn TEXT,                                 -- ISBN-13 digits; NULL when entered by hand
  title TEXT NOT NULL,
  author TEXT,
  publisher TEXT,
  year INTEGER,
  subject TEXT,
  audience TEXT NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'children', 'elders')),
  large_print INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (community_id, isbn)
);
CREATE INDEX books_community ON books(community_id, id);

CREATE TABLE book_copies (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  book_id INTEGER NOT NULL REFERENCES books(id),
  code TEXT NOT NULL UNIQUE,                 -- the printed label, what a scanner types
  kind TEXT NOT NULL CHECK (kind IN ('shelf', 'drift')),
  status TEXT NOT NULL DEFAULT 'available'
    CHECK (status IN ('available', 'on_loan', 'on_hold_shelf', 'lost', 'withdrawn')),
  shelf TEXT,
  donation_id INTEGER REFERENCES library_donations(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX book_copies_book ON book_copies(book_id, status);

CREATE TABLE book_loans (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  copy_id INTEGER NOT NULL REFERENCES book_copies(id),
  book_id INTEGER NOT NULL REFERENCES books(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  out_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  renewals INTEGER NOT NULL DEFAULT 0,
  returned_at INTEGER,
  reminded_at INTEGER,                       -- the due-soon event was emitted
  overdue_at INTEGER,                        -- the overdue event was emitted
  created_by INTEGER REFERENCES users(id)
);
CREATE UNIQUE INDEX book_loans_open ON book_loans(copy_id) WHERE returned_at IS NULL;
CREATE INDEX book_loans_reader ON book_loans(resident_id, returned_at);
CREATE INDEX book_loans_due ON book_loans(due_at) WHERE returned_at IS NULL;
CREATE INDEX book_loans_out ON book_loans(community_id, out_at);

CREATE TABLE book_holds (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  book_id INTEGER NOT NULL REFERENCES books(id),
  resident_id INTEGER NOT NULL REFERENCES residents(id),
  status TEXT NOT NULL CHECK (status IN ('waiting', 'ready', 'fulfilled', 'cancelled', 'expired')),
  copy_id INTEGER REFERENCES book_copies(id),
  placed_at INTEGER NOT NULL,
  ready_at INTEGER,
  pickup_by INTEGER,
  closed_at INTEGER
);
CREATE UNIQUE INDEX book_holds_active ON book_holds(book_id, resident_id) WHERE status IN ('waiting', 'ready');
CREATE UNIQUE INDEX book_holds_shelf ON book_holds(copy_id) WHERE status = 'ready';
CREATE INDEX book_holds_queue ON book_holds(book_id, status, placed_at, id);
