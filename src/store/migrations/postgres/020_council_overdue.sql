-- 020_council_overdue: a follow-up milestone of a decision (council_progress) and a step of a topic's
-- consultation template (council_topic_steps) that pass their due date are announced once, by the
-- council's ticker: the time it emitted the event is kept on the row, so that no later tick, and no
-- other process sharing the database, announces it again.
ALTER TABLE council_progress ADD COLUMN overdue_at BIGINT;
ALTER TABLE council_topic_steps ADD COLUMN overdue_at BIGINT;
