-- 028: where each building stands (issue 19, the SOS plan and the family view). A building's position
-- in micro-degrees (WGS-84, as the wristbands report theirs): the estate plan places the buildings
-- by them, and a wristband's position is named by the nearest building. NULL = not surveyed yet (the
-- plan then lays the estate's buildings out in rows by name).
ALTER TABLE buildings ADD COLUMN lat_e6 BIGINT;
ALTER TABLE buildings ADD COLUMN lon_e6 BIGINT;
