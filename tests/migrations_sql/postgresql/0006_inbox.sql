-- upgrade

BEGIN;

-- Running upgrade 0005_referral_parse -> 0006_inbox

CREATE TABLE inbox_item (
    id SERIAL NOT NULL, 
    platform VARCHAR NOT NULL, 
    key VARCHAR NOT NULL, 
    body JSON NOT NULL, 
    meta JSON NOT NULL, 
    received_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    claimed_by VARCHAR, 
    claimed_at TIMESTAMP WITH TIME ZONE, 
    attempts INTEGER NOT NULL, 
    done_at TIMESTAMP WITH TIME ZONE, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_inbox_item_key UNIQUE (platform, key)
);

CREATE INDEX ix_inbox_item_pending ON inbox_item (platform, done_at, claimed_at);

CREATE INDEX ix_inbox_item_received_at ON inbox_item (received_at);

CREATE TABLE inbox_sent (
    id SERIAL NOT NULL, 
    item_id INTEGER NOT NULL, 
    seq INTEGER NOT NULL, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_inbox_sent UNIQUE (item_id, seq)
);

CREATE INDEX ix_inbox_sent_item_id ON inbox_sent (item_id);

CREATE TABLE stash_entry (
    key VARCHAR NOT NULL, 
    value JSON NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (key)
);

CREATE INDEX ix_stash_entry_created_at ON stash_entry (created_at);

DROP INDEX ix_processedevent_at;

DROP TABLE processedevent;

ALTER TABLE referral ADD COLUMN confirmation VARCHAR;

CREATE UNIQUE INDEX ix_referral_confirmation ON referral (confirmation);

UPDATE alembic_version SET version_num='0006_inbox' WHERE alembic_version.version_num = '0005_referral_parse';

COMMIT;


-- downgrade

BEGIN;

-- Running downgrade 0006_inbox -> 0005_referral_parse

DROP INDEX ix_referral_confirmation;

ALTER TABLE referral DROP COLUMN confirmation;

CREATE TABLE processedevent (
    id SERIAL NOT NULL, 
    platform VARCHAR NOT NULL, 
    event_id VARCHAR NOT NULL, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_processed_event UNIQUE (platform, event_id)
);

CREATE INDEX ix_processedevent_at ON processedevent (at);

DROP TABLE stash_entry;

DROP TABLE inbox_sent;

DROP TABLE inbox_item;

UPDATE alembic_version SET version_num='0005_referral_parse' WHERE alembic_version.version_num = '0006_inbox';

COMMIT;

