-- 009_keyed_tails: the tail index (what finds a resident by the last four characters of an ID number
-- or phone) no longer holds those characters in clear. From now on residents.id_tail,
-- residents.phone_tail and emergency_contacts.phone_tail hold a keyed hash of the four characters
-- (people_tail_key: hex of a BLAKE2b blind index under the key file's index key), which SQL cannot
-- compute. So this migration only clears the clear tails, in the same transaction as the version
-- bump: a database that reports version 9 holds no clear tail. The keyed values are written at
-- start-up, before the server answers (people_tails_rekey, run by every command that migrates and
-- by `nuanxin migrate`), for every row whose tail is '' — until then a tail search does not find
-- those rows, nothing else changes. The old values may linger in free pages (SQLite) or dead row
-- versions (PostgreSQL) until VACUUM; docs/security.md §5 says to run it after upgrading.
UPDATE residents SET id_tail = '', phone_tail = CASE WHEN phone_tail IS NULL THEN NULL ELSE '' END;
UPDATE emergency_contacts SET phone_tail = '';
