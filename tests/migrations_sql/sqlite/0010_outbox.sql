-- upgrade

-- Running upgrade 0009_nudges -> 0010_outbox

CREATE TABLE inbox_decision (
    id INTEGER NOT NULL, 
    item_id INTEGER NOT NULL, 
    n INTEGER NOT NULL, 
    replies JSON NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_inbox_decision UNIQUE (item_id, n)
);

CREATE INDEX ix_inbox_decision_item_id ON inbox_decision (item_id);

UPDATE alembic_version SET version_num='0010_outbox' WHERE alembic_version.version_num = '0009_nudges';


-- downgrade

-- Running downgrade 0010_outbox -> 0009_nudges

DROP INDEX ix_inbox_decision_item_id;

DROP TABLE inbox_decision;

UPDATE alembic_version SET version_num='0009_nudges' WHERE alembic_version.version_num = '0010_outbox';

