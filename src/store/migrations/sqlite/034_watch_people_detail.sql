-- 034: watched tables (store_watch) need nothing in SQLite's schema: the writer connection's update
-- hook sees every changed row (src/store/sqlite.c). PostgreSQL's 034 adds the triggers that tell
-- the server processes when a table of a resident's detail changed. Kept so that both dialects
-- have the same numbers.
SELECT 1;
