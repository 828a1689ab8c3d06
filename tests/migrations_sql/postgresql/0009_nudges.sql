-- upgrade

BEGIN;

-- Running upgrade 0008_slack_oauth -> 0009_nudges

ALTER TABLE nudge ADD COLUMN data JSON DEFAULT '{}' NOT NULL;

ALTER TABLE nudge ADD COLUMN batched_at TIMESTAMP WITH TIME ZONE;

ALTER TABLE nudge ADD COLUMN snoozed_until TIMESTAMP WITH TIME ZONE;

ALTER TABLE nudge ADD COLUMN feedback VARCHAR DEFAULT '' NOT NULL;

ALTER TABLE nudge ADD COLUMN feedback_at TIMESTAMP WITH TIME ZONE;

CREATE TABLE nudgeoptout (
    id SERIAL NOT NULL, 
    person_id INTEGER NOT NULL, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    UNIQUE (person_id)
);

UPDATE alembic_version SET version_num='0009_nudges' WHERE alembic_version.version_num = '0008_slack_oauth';

COMMIT;


-- downgrade

BEGIN;

-- Running downgrade 0009_nudges -> 0008_slack_oauth

DROP TABLE nudgeoptout;

ALTER TABLE nudge DROP COLUMN feedback_at;

ALTER TABLE nudge DROP COLUMN feedback;

ALTER TABLE nudge DROP COLUMN snoozed_until;

ALTER TABLE nudge DROP COLUMN batched_at;

ALTER TABLE nudge DROP COLUMN data;

UPDATE alembic_version SET version_num='0008_slack_oauth' WHERE alembic_version.version_num = '0009_nudges';

COMMIT;

