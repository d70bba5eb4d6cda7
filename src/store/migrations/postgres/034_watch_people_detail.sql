-- 034: watched tables (store_watch). A change to any table that a resident's detail
-- (GET /api/v1/residents/{id}) is assembled from names the channel 'people_detail': the trigger
-- sends a NOTIFY, so that every other server process on this database drops its cache of
-- assembled details (through its LISTEN thread), and records the channel in the
-- transaction-local setting nx.changed, which the committing process reads in the same round trip
-- as its COMMIT (store_commit), so that its own cache is dropped before the write is answered.
-- The NOTIFY's payload is the sender's nx.origin, so that the sending process skips its own.
-- Statement-level: one call per statement, whatever the number of rows (TRUNCATE included).
-- SQLite needs nothing here: its writer connection's update hook sees every changed row.
CREATE FUNCTION nx_watch_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cur text := coalesce(current_setting('nx.changed', true), '');
BEGIN
  IF cur = '' THEN
    PERFORM set_config('nx.changed', TG_ARGV[0], true);
  ELSIF position(',' || TG_ARGV[0] || ',' IN ',' || cur || ',') = 0 THEN
    PERFORM set_config('nx.changed', cur || ',' || TG_ARGV[0], true);
  END IF;
  -- the payload names the sending store (nx.origin, set by nuanxin on its connections): its own
  -- listener skips it, since that store's commit has already called its listeners
  PERFORM pg_notify(TG_ARGV[0], coalesce(current_setting('nx.origin', true), ''));
  RETURN NULL;
END $$;

CREATE TRIGGER residents_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON residents
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
CREATE TRIGGER resident_tags_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON resident_tags
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
CREATE TRIGGER emergency_contacts_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON emergency_contacts
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
CREATE TRIGGER tags_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tags
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
CREATE TRIGGER grids_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grids
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
CREATE TRIGGER estates_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON estates
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
CREATE TRIGGER rooms_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rooms
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
CREATE TRIGGER buildings_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON buildings
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
CREATE TRIGGER communities_watch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON communities
  FOR EACH STATEMENT EXECUTE FUNCTION nx_watch_changed('people_detail');
