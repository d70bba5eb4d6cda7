-- 007_device_takeover: a registered wristband that shows up from a second source (another address
-- while its connection lives, or soon after) is flagged until staff confirm it (issue 21). While
-- takeover_at is set the gateway sends it no queued command (SOS numbers are family phones).
-- takeover_confirmed_at / _by: the last confirmation (who vouched for the device, and when).
ALTER TABLE devices ADD COLUMN takeover_at INTEGER;
ALTER TABLE devices ADD COLUMN takeover_confirmed_at INTEGER;
ALTER TABLE devices ADD COLUMN takeover_confirmed_by INTEGER REFERENCES users(id);
-- The quarantine's bound counts unregistered rows; this keeps the count cheap.
CREATE INDEX devices_unregistered ON devices(registered, last_seen_at);
