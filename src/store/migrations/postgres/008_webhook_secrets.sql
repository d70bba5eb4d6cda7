-- 008_webhook_secrets (PostgreSQL): number for number with migrations/sqlite/008_webhook_secrets.sql.
-- 008_webhook_secrets: a webhook channel's robot key and signing secret encrypted at rest (issue 21,
-- item 4). url_enc holds the whole URL (WeCom's key= and DingTalk's access_token= are in it) and
-- secret_enc the DingTalk signing secret, both field_encrypt_ad (contexts "webhook_channels.url" and
-- "webhook_channels.secret"); url then keeps only what screens show — scheme, host, port and the
-- last four characters ("https://qyapi.weixin.qq.com/…ab12") — and secret is NULL. SQL cannot
-- encrypt: rows written before this migration (url_enc NULL, url and secret in clear) are
-- encrypted by the server at start-up (devices_webhooks_seal), and read as they are until then.
ALTER TABLE webhook_channels ADD COLUMN url_enc BYTEA;
ALTER TABLE webhook_channels ADD COLUMN secret_enc BYTEA;
