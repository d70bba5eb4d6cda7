-- 017_workday.sql (issue 19): approving 低保 or 残疾人两项补贴 tags the resident (the item's effect
-- "tag:<code>"; the visits module then opens a care file of that category when the resident has none).
UPDATE service_items SET effect = 'tag:low_income' WHERE code = 'dibao_initial' AND effect IS NULL;
UPDATE service_items SET effect = 'tag:disabled' WHERE code = 'disability_subsidy' AND effect IS NULL;
