-- upgrade

-- Running upgrade 0008_slack_oauth -> 0009_nudges

ALTER TABLE nudge ADD COLUMN data JSON DEFAULT '{}' NOT NULL;

ALTER TABLE nudge ADD COLUMN batched_at DATETIME;

ALTER TABLE nudge ADD COLUMN snoozed_until DATETIME;

ALTER TABLE nudge ADD COLUMN feedback VARCHAR DEFAULT '' NOT NULL;

ALTER TABLE nudge ADD COLUMN feedback_at DATETIME;

CREATE TABLE nudgeoptout (
    id INTEGER NOT NULL, 
    person_id INTEGER NOT NULL, 
    at DATETIME NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    UNIQUE (person_id)
);

UPDATE alembic_version SET version_num='0009_nudges' WHERE alembic_version.version_num = '0008_slack_oauth';


-- downgrade

-- (a batch table rebuild: --sql cannot render it without a live database)
