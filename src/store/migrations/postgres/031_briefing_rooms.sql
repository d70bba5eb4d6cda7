-- 031_briefing_rooms: a briefing that names a room holds it through the venues module. ends_at is
-- when the briefing ends (epoch ms UTC; NULL for a briefing made before, which holds no room);
-- venue_booking_id is the room's booking that holds the time (NULL without a room, or released
-- once the briefing is cancelled).
ALTER TABLE briefings ADD COLUMN ends_at BIGINT;
ALTER TABLE briefings ADD COLUMN venue_booking_id BIGINT REFERENCES venue_bookings(id);
