-- 004_devices: wristbands, their telemetry, alert rules, alerts and their handling, device commands
-- (issue 5). Times are epoch milliseconds UTC. Coordinates are micro-degrees (lat_e6, lon_e6),
-- temperatures tenths of a degree (temp_e1), as the wristband codecs decode them (wire/codec.h).
-- A device row exists from the first frame the gateway sees: registered = 0 until staff add or bind
-- it ("unregistered devices are listed for binding"). community_id / grid_id follow the bound
-- resident (copied on bind) so scope applies in SQL like everywhere else.

CREATE TABLE devices (
  id INTEGER PRIMARY KEY,
  imei TEXT NOT NULL UNIQUE,                 -- device id as the frames carry it (watch ID or IMEI)
  protocol TEXT NOT NULL CHECK (protocol IN ('watch', 'iw')),
  model TEXT,
  sim TEXT,                                  -- the SIM's phone number (of the device, not a person)
  iccid TEXT,
  registered INTEGER NOT NULL DEFAULT 0,     -- 0: seen by the gateway, not yet added by staff
  community_id INTEGER REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER REFERENCES residents(id),
  online INTEGER NOT NULL DEFAULT 0,
  battery INTEGER,
  last_fix_at INTEGER,                       -- last position with a GPS fix
  last_lat_e6 INTEGER,
  last_lon_e6 INTEGER,
  last_hr INTEGER,
  last_sys INTEGER,
  last_dia INTEGER,
  last_spo2 INTEGER,
  last_temp_e1 INTEGER,
  last_reading_at INTEGER,
  step_counter INTEGER,                      -- last cumulative pedometer value
  steps_day TEXT,                            -- local day (YYYY-MM-DD) of steps_today
  steps_today INTEGER NOT NULL DEFAULT 0,
  worn INTEGER,                              -- status word: 1 worn, 0 not worn, NULL unknown
  first_seen_at INTEGER,
  last_seen_at INTEGER,
  notes TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX devices_scope ON devices(community_id, grid_id);
CREATE INDEX devices_resident ON devices(resident_id);
CREATE INDEX devices_seen ON devices(online, last_seen_at);

CREATE TABLE device_positions (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  at INTEGER NOT NULL,                       -- received by the server
  fix_at INTEGER,                            -- the device's time of the fix (NULL when not sent)
  fix INTEGER NOT NULL DEFAULT 0,
  lat_e6 INTEGER,
  lon_e6 INTEGER,
  speed_e1 INTEGER,
  course_e1 INTEGER,
  satellites INTEGER,
  cells INTEGER NOT NULL DEFAULT 0,
  wifi INTEGER NOT NULL DEFAULT 0,
  delayed INTEGER NOT NULL DEFAULT 0         -- stored out of coverage and sent late (UD2)
);
CREATE INDEX device_positions_device ON device_positions(device_id, at);

CREATE TABLE device_readings (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  at INTEGER NOT NULL,
  hr INTEGER,
  sys INTEGER,
  dia INTEGER,
  spo2 INTEGER,
  temp_e1 INTEGER,
  sugar_e2 INTEGER
);
CREATE INDEX device_readings_device ON device_readings(device_id, at);

-- Steps per local day, derived from the cumulative counter (a counter that goes down was reset:
-- the new value counts from zero).
CREATE TABLE device_steps (
  device_id INTEGER NOT NULL REFERENCES devices(id),
  day TEXT NOT NULL,
  steps INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, day)
);

-- Per-resident bands; a missing row or a NULL column takes the built-in default (devices.h).
CREATE TABLE alert_rules (
  resident_id INTEGER PRIMARY KEY REFERENCES residents(id),
  community_id INTEGER NOT NULL REFERENCES communities(id),
  hr_min INTEGER,
  hr_max INTEGER,
  sys_min INTEGER,
  sys_max INTEGER,
  dia_max INTEGER,
  spo2_min INTEGER,
  temp_min_e1 INTEGER,
  temp_max_e1 INTEGER,
  offline_min INTEGER,                       -- device offline longer than this: alert (0 = off)
  no_steps_hour INTEGER,                     -- living alone and no steps by this local hour (-1 = off)
  home_lat_e6 INTEGER,
  home_lon_e6 INTEGER,
  home_radius_m INTEGER,                     -- leaving the home radius: alert (0 = off)
  updated_by INTEGER,
  updated_at INTEGER NOT NULL
);

CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  community_id INTEGER REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),
  resident_id INTEGER REFERENCES residents(id),
  device_id INTEGER REFERENCES devices(id),
  kind TEXT NOT NULL,                        -- sos, fall, taken_off, low_battery, fence, general,
                                             -- heart_rate, blood_pressure, spo2, temperature, offline,
                                             -- no_activity, left_home
  source TEXT NOT NULL CHECK (source IN ('device', 'server')),
  severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'normal')),
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved', 'false_alarm')),
  opened_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,                  -- last frame or evaluation that raised it again
  repeats INTEGER NOT NULL DEFAULT 0,        -- suppressed duplicates merged into this alert
  fix INTEGER NOT NULL DEFAULT 0,
  lat_e6 INTEGER,                            -- NULL when the alarm came without a position
  lon_e6 INTEGER,
  detail TEXT NOT NULL DEFAULT '{}',         -- JSON: the reading, the band, the frame type
  acked_by INTEGER REFERENCES users(id),
  acked_at INTEGER,
  resolved_by INTEGER REFERENCES users(id),
  resolved_at INTEGER,
  note TEXT,
  needs_followup INTEGER NOT NULL DEFAULT 0,
  escalation_level INTEGER NOT NULL DEFAULT 0, -- 0 grid worker, 1 duty staff, 2 family
  next_escalation_at INTEGER,                -- NULL once acknowledged or at the end of the chain
  ack_ms INTEGER,                            -- time to acknowledge
  resolve_ms INTEGER                         -- time to resolve (from opened_at)
);
CREATE INDEX alerts_scope ON alerts(community_id, grid_id, opened_at);
CREATE INDEX alerts_state ON alerts(state, opened_at);
CREATE INDEX alerts_device ON alerts(device_id, kind, state);
CREATE INDEX alerts_resident ON alerts(resident_id, opened_at);
CREATE INDEX alerts_escalation ON alerts(next_escalation_at);

-- What happened to an alert, in order: opened, repeated, escalated, acknowledged, resolved.
CREATE TABLE alert_log (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL REFERENCES alerts(id),
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  user_id INTEGER REFERENCES users(id),
  level INTEGER,
  note TEXT
);
CREATE INDEX alert_log_alert ON alert_log(alert_id, id);

CREATE TABLE device_commands (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  kind TEXT NOT NULL,                        -- locate, upload, sos_numbers, center, fall_detect, …
  args TEXT NOT NULL DEFAULT '{}',           -- JSON
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'done', 'failed', 'cancelled')),
  serial INTEGER,                            -- IW serial number
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  done_at INTEGER,
  result TEXT
);
CREATE INDEX device_commands_device ON device_commands(device_id, state, id);
