-- 005_webhooks: webhook channels that tell people about alarms (issue 5, "reaching people"), and the
-- record of each delivery. A channel belongs to one community (optionally one grid of it) and is a
-- group robot of WeCom (企业微信), DingTalk (钉钉) or a generic JSON receiver. levels is a bit set of
-- the escalation levels the channel serves: 1 grid worker (level 0), 2 duty staff (level 1), 4 family
-- (level 2); 7 = every level. The robot key is part of url; secret is DingTalk's signing secret
-- ("加签"), never returned by the API.
CREATE TABLE webhook_channels (
  id INTEGER PRIMARY KEY,
  community_id INTEGER NOT NULL REFERENCES communities(id),
  grid_id INTEGER REFERENCES grids(id),      -- NULL: the whole community
  name TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('wecom', 'dingtalk', 'json')),
  url TEXT NOT NULL,
  secret TEXT,
  levels INTEGER NOT NULL DEFAULT 7,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_channels_community ON webhook_channels(community_id, enabled);

-- One row per (event, channel): what makes the sender idempotent (a delivered pair is never sent
-- again) and what staff read to see whether a message reached its group.
CREATE TABLE webhook_deliveries (
  event_id INTEGER NOT NULL,
  channel_id INTEGER NOT NULL REFERENCES webhook_channels(id),
  alert_id INTEGER,
  state TEXT NOT NULL CHECK (state IN ('sent', 'retrying', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  http_status INTEGER,                       -- last HTTP status (NULL: no answer)
  error TEXT,                                -- last error, short
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (event_id, channel_id)
);
CREATE INDEX webhook_deliveries_channel ON webhook_deliveries(channel_id, event_id);
