-- upgrade

-- Running upgrade 0005_referral_parse -> 0006_inbox

CREATE TABLE inbox_item (
    id INTEGER NOT NULL, 
    platform VARCHAR NOT NULL, 
    "key" VARCHAR NOT NULL, 
    body JSON NOT NULL, 
    meta JSON NOT NULL, 
    received_at DATETIME NOT NULL, 
    claimed_by VARCHAR, 
    claimed_at DATETIME, 
    attempts INTEGER NOT NULL, 
    done_at DATETIME, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_inbox_item_key UNIQUE (platform, "key")
);

CREATE INDEX ix_inbox_item_pending ON inbox_item (platform, done_at, claimed_at);

CREATE INDEX ix_inbox_item_received_at ON inbox_item (received_at);

CREATE TABLE inbox_sent (
    id INTEGER NOT NULL, 
    item_id INTEGER NOT NULL, 
    seq INTEGER NOT NULL, 
    at DATETIME NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_inbox_sent UNIQUE (item_id, seq)
);

CREATE INDEX ix_inbox_sent_item_id ON inbox_sent (item_id);

CREATE TABLE stash_entry (
    "key" VARCHAR NOT NULL, 
    value JSON NOT NULL, 
    created_at DATETIME NOT NULL, 
    PRIMARY KEY ("key")
);

CREATE INDEX ix_stash_entry_created_at ON stash_entry (created_at);

DROP INDEX ix_processedevent_at;

DROP TABLE processedevent;

ALTER TABLE referral ADD COLUMN confirmation VARCHAR;

CREATE UNIQUE INDEX ix_referral_confirmation ON referral (confirmation);

UPDATE alembic_version SET version_num='0006_inbox' WHERE alembic_version.version_num = '0005_referral_parse';


-- downgrade

-- (a batch table rebuild: --sql cannot render it without a live database)
