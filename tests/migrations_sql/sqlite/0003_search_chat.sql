-- upgrade

-- Running upgrade 0002 -> 0003_search_chat

CREATE TABLE askedquestion (
    id INTEGER NOT NULL, 
    asker_id INTEGER, 
    question VARCHAR NOT NULL, 
    cards JSON NOT NULL, 
    reason VARCHAR NOT NULL, 
    feedback VARCHAR NOT NULL, 
    note VARCHAR NOT NULL, 
    feedback_at DATETIME, 
    asked_at DATETIME NOT NULL, 
    reported_at DATETIME, 
    resolved_at DATETIME, 
    PRIMARY KEY (id), 
    FOREIGN KEY(asker_id) REFERENCES person (id)
);

CREATE INDEX ix_askedquestion_asker_id ON askedquestion (asker_id);

CREATE INDEX ix_askedquestion_asked_at ON askedquestion (asked_at);

CREATE INDEX ix_askedquestion_reported_at ON askedquestion (reported_at);

CREATE TABLE learnedalias (
    id INTEGER NOT NULL, 
    card_id VARCHAR NOT NULL, 
    alias VARCHAR NOT NULL, 
    "key" VARCHAR NOT NULL, 
    added_by_id INTEGER, 
    added_at DATETIME NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(added_by_id) REFERENCES person (id), 
    FOREIGN KEY(card_id) REFERENCES servicecard (id), 
    CONSTRAINT uq_learnedalias_card_key UNIQUE (card_id, "key")
);

CREATE INDEX ix_learnedalias_card_id ON learnedalias (card_id);

UPDATE alembic_version SET version_num='0003_search_chat' WHERE alembic_version.version_num = '0002';


-- downgrade

-- Running downgrade 0003_search_chat -> 0002

DROP INDEX ix_learnedalias_card_id;

DROP TABLE learnedalias;

DROP INDEX ix_askedquestion_reported_at;

DROP INDEX ix_askedquestion_asked_at;

DROP INDEX ix_askedquestion_asker_id;

DROP TABLE askedquestion;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0003_search_chat';

