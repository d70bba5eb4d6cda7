-- 006_device_commands: commands to wristbands as issue 5 needs them (004's table was never used and
-- is replaced). A command is queued by staff, sent by the gateway holding the device's connection
-- (wire = the keyword or IW type actually sent, serial = IW serial), and done when the device
-- answers with that keyword / serial; a queued command whose expires_at passes is expired, a sent
-- one not answered within the reply window (devices.h) failed. args is the command's JSON with
-- phone numbers masked (what screens show); secret holds the whole JSON encrypted (field_encrypt_ad,
-- context "device_commands.secret") when it contains a phone number, NULL otherwise.
DROP TABLE device_commands;
CREATE TABLE device_commands (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  kind TEXT NOT NULL,                        -- locate, upload_interval, sos_numbers, center, fall_detect, …
  args TEXT NOT NULL DEFAULT '{}',           -- JSON, phones masked
  secret BLOB,                               -- the whole args JSON, encrypted, when it has phones
  state TEXT NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'sent', 'done', 'failed', 'expired', 'cancelled')),
  wire TEXT,                                 -- watch keyword ("UPLOAD") or IW type ("12") sent
  serial INTEGER,                            -- IW serial number sent
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,               -- still queued then: expired
  sent_at INTEGER,
  done_at INTEGER,                           -- answered, failed, expired or cancelled
  cancelled_by INTEGER REFERENCES users(id),
  result TEXT                                -- what the device answered, or why it failed
);
CREATE INDEX device_commands_device ON device_commands(device_id, id);
CREATE INDEX device_commands_state ON device_commands(state, device_id);
