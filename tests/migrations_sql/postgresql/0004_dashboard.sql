-- upgrade

BEGIN;

-- Running upgrade 0003_search_chat -> 0004_dashboard

CREATE TABLE dashboardlink (
    id SERIAL NOT NULL, 
    token_hash VARCHAR NOT NULL, 
    person_id INTEGER NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    used_at TIMESTAMP WITH TIME ZONE, 
    PRIMARY KEY (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    UNIQUE (token_hash)
);

CREATE INDEX ix_dashboardlink_person_id ON dashboardlink (person_id);

CREATE TABLE dashboardsession (
    id SERIAL NOT NULL, 
    token_hash VARCHAR NOT NULL, 
    person_id INTEGER NOT NULL, 
    csrf_token VARCHAR NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    last_seen_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    ended_at TIMESTAMP WITH TIME ZONE, 
    PRIMARY KEY (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    UNIQUE (token_hash)
);

CREATE INDEX ix_dashboardsession_person_id ON dashboardsession (person_id);

CREATE INDEX ix_referral_updated_at ON referral (updated_at);

CREATE INDEX ix_referralevent_funnel ON referralevent (to_status, referral_id);

UPDATE alembic_version SET version_num='0004_dashboard' WHERE alembic_version.version_num = '0003_search_chat';

COMMIT;


-- downgrade

BEGIN;

-- Running downgrade 0004_dashboard -> 0003_search_chat

DROP INDEX ix_referralevent_funnel;

DROP INDEX ix_referral_updated_at;

DROP INDEX ix_dashboardsession_person_id;

DROP TABLE dashboardsession;

DROP INDEX ix_dashboardlink_person_id;

DROP TABLE dashboardlink;

UPDATE alembic_version SET version_num='0003_search_chat' WHERE alembic_version.version_num = '0004_dashboard';

COMMIT;

