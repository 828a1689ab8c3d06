-- upgrade

BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE digestissue (
    id SERIAL NOT NULL, 
    week_start DATE NOT NULL, 
    spotlight_card_id VARCHAR, 
    posted_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (week_start)
);

CREATE TABLE jobrun (
    id SERIAL NOT NULL, 
    job VARCHAR NOT NULL, 
    scheduled_for TIMESTAMP WITH TIME ZONE NOT NULL, 
    status VARCHAR NOT NULL, 
    attempts INTEGER NOT NULL, 
    started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    finished_at TIMESTAMP WITH TIME ZONE, 
    error VARCHAR NOT NULL, 
    result JSON NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_jobrun_slot UNIQUE (job, scheduled_for)
);

CREATE TABLE person (
    id SERIAL NOT NULL, 
    email VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    team VARCHAR NOT NULL, 
    office VARCHAR NOT NULL, 
    title VARCHAR NOT NULL, 
    role VARCHAR NOT NULL, 
    slack_id VARCHAR, 
    teams_id VARCHAR, 
    active BOOLEAN NOT NULL, 
    digest_opt_in BOOLEAN NOT NULL, 
    leaderboard_opt_in BOOLEAN NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_person_email ON person (email);

CREATE INDEX ix_person_slack_id ON person (slack_id);

CREATE INDEX ix_person_team ON person (team);

CREATE INDEX ix_person_teams_id ON person (teams_id);

CREATE TABLE processedevent (
    id SERIAL NOT NULL, 
    platform VARCHAR NOT NULL, 
    event_id VARCHAR NOT NULL, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_processed_event UNIQUE (platform, event_id)
);

CREATE INDEX ix_processedevent_at ON processedevent (at);

CREATE TABLE servicecard (
    id VARCHAR NOT NULL, 
    title VARCHAR NOT NULL, 
    team VARCHAR NOT NULL, 
    owners JSON NOT NULL, 
    aliases JSON NOT NULL, 
    sections JSON NOT NULL, 
    updated DATE, 
    retired BOOLEAN NOT NULL, 
    loaded_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_servicecard_team ON servicecard (team);

CREATE TABLE team (
    id SERIAL NOT NULL, 
    name VARCHAR NOT NULL, 
    PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_team_name ON team (name);

CREATE TABLE campaign (
    id SERIAL NOT NULL, 
    name VARCHAR NOT NULL, 
    starts_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    ends_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    teams JSON NOT NULL, 
    offices JSON NOT NULL, 
    rules JSON NOT NULL, 
    status VARCHAR NOT NULL, 
    created_by_id INTEGER, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(created_by_id) REFERENCES person (id)
);

CREATE INDEX ix_campaign_ends_at ON campaign (ends_at);

CREATE INDEX ix_campaign_starts_at ON campaign (starts_at);

CREATE TABLE client (
    id SERIAL NOT NULL, 
    name VARCHAR NOT NULL, 
    aliases JSON NOT NULL, 
    sector VARCHAR NOT NULL, 
    owner_id INTEGER, 
    services JSON NOT NULL, 
    provisional BOOLEAN NOT NULL, 
    retired BOOLEAN NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(owner_id) REFERENCES person (id)
);

CREATE UNIQUE INDEX ix_client_name ON client (name);

CREATE TABLE conversationref (
    id SERIAL NOT NULL, 
    platform VARCHAR NOT NULL, 
    key VARCHAR NOT NULL, 
    person_id INTEGER, 
    reference JSON NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    CONSTRAINT uq_conversationref UNIQUE (platform, key)
);

CREATE TABLE dialogstate (
    id SERIAL NOT NULL, 
    person_id INTEGER NOT NULL, 
    conversation VARCHAR NOT NULL, 
    flow VARCHAR NOT NULL, 
    step VARCHAR NOT NULL, 
    data JSON NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    CONSTRAINT uq_dialogstate UNIQUE (person_id, conversation)
);

CREATE TABLE nudge (
    id SERIAL NOT NULL, 
    key VARCHAR NOT NULL, 
    person_id INTEGER NOT NULL, 
    kind VARCHAR NOT NULL, 
    subject VARCHAR NOT NULL, 
    due_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    sent_at TIMESTAMP WITH TIME ZONE, 
    PRIMARY KEY (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    UNIQUE (key)
);

CREATE INDEX ix_nudge_person_id ON nudge (person_id);

CREATE TABLE pointevent (
    id SERIAL NOT NULL, 
    key VARCHAR NOT NULL, 
    campaign_id INTEGER NOT NULL, 
    person_id INTEGER NOT NULL, 
    team VARCHAR NOT NULL, 
    office VARCHAR NOT NULL, 
    kind VARCHAR NOT NULL, 
    points INTEGER NOT NULL, 
    source VARCHAR NOT NULL, 
    reverses_id INTEGER, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(campaign_id) REFERENCES campaign (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    FOREIGN KEY(reverses_id) REFERENCES pointevent (id), 
    CONSTRAINT uq_pointevent_key UNIQUE (key)
);

CREATE INDEX ix_pointevent_at ON pointevent (at);

CREATE INDEX ix_pointevent_campaign_id ON pointevent (campaign_id);

CREATE INDEX ix_pointevent_person_id ON pointevent (person_id);

CREATE INDEX ix_pointevent_team ON pointevent (team);

CREATE TABLE referral (
    id SERIAL NOT NULL, 
    client_id INTEGER NOT NULL, 
    referrer_id INTEGER NOT NULL, 
    receiver_id INTEGER NOT NULL, 
    card_id VARCHAR, 
    referrer_team VARCHAR NOT NULL, 
    receiver_team VARCHAR NOT NULL, 
    value FLOAT, 
    currency VARCHAR, 
    won_value FLOAT, 
    note VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    reason VARCHAR NOT NULL, 
    consent VARCHAR NOT NULL, 
    consent_reminded_at TIMESTAMP WITH TIME ZONE, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(card_id) REFERENCES servicecard (id), 
    FOREIGN KEY(client_id) REFERENCES client (id), 
    FOREIGN KEY(receiver_id) REFERENCES person (id), 
    FOREIGN KEY(referrer_id) REFERENCES person (id)
);

CREATE INDEX ix_referral_client_id ON referral (client_id);

CREATE INDEX ix_referral_created_at ON referral (created_at);

CREATE INDEX ix_referral_receiver_id ON referral (receiver_id);

CREATE INDEX ix_referral_referrer_id ON referral (referrer_id);

CREATE INDEX ix_referral_status ON referral (status);

CREATE TABLE idea (
    id SERIAL NOT NULL, 
    campaign_id INTEGER, 
    author_id INTEGER NOT NULL, 
    text VARCHAR NOT NULL, 
    client_name VARCHAR NOT NULL, 
    card_id VARCHAR, 
    why_now VARCHAR NOT NULL, 
    referral_id INTEGER, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(author_id) REFERENCES person (id), 
    FOREIGN KEY(campaign_id) REFERENCES campaign (id), 
    FOREIGN KEY(referral_id) REFERENCES referral (id)
);

CREATE INDEX ix_idea_campaign_id ON idea (campaign_id);

CREATE TABLE referralevent (
    id SERIAL NOT NULL, 
    referral_id INTEGER NOT NULL, 
    actor_id INTEGER, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    from_status VARCHAR, 
    to_status VARCHAR NOT NULL, 
    note VARCHAR NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(actor_id) REFERENCES person (id), 
    FOREIGN KEY(referral_id) REFERENCES referral (id)
);

CREATE INDEX ix_referralevent_at ON referralevent (at);

CREATE INDEX ix_referralevent_referral_id ON referralevent (referral_id);

CREATE TABLE story (
    id SERIAL NOT NULL, 
    author_id INTEGER NOT NULL, 
    title VARCHAR NOT NULL, 
    body VARCHAR NOT NULL, 
    teams JSON NOT NULL, 
    referral_id INTEGER, 
    client_id INTEGER, 
    value FLOAT, 
    currency VARCHAR, 
    name_client BOOLEAN NOT NULL, 
    client_approval VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    reviewed_by_id INTEGER, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    published_at TIMESTAMP WITH TIME ZONE, 
    PRIMARY KEY (id), 
    FOREIGN KEY(author_id) REFERENCES person (id), 
    FOREIGN KEY(client_id) REFERENCES client (id), 
    FOREIGN KEY(referral_id) REFERENCES referral (id), 
    FOREIGN KEY(reviewed_by_id) REFERENCES person (id)
);

CREATE INDEX ix_story_author_id ON story (author_id);

CREATE INDEX ix_story_published_at ON story (published_at);

CREATE INDEX ix_story_status ON story (status);

CREATE TABLE ideavote (
    id SERIAL NOT NULL, 
    idea_id INTEGER NOT NULL, 
    person_id INTEGER NOT NULL, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(idea_id) REFERENCES idea (id), 
    FOREIGN KEY(person_id) REFERENCES person (id), 
    CONSTRAINT uq_ideavote UNIQUE (idea_id, person_id)
);

CREATE INDEX ix_ideavote_idea_id ON ideavote (idea_id);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

COMMIT;


-- downgrade

BEGIN;

-- Running downgrade 0001 -> 

DROP INDEX ix_ideavote_idea_id;

DROP TABLE ideavote;

DROP INDEX ix_story_status;

DROP INDEX ix_story_published_at;

DROP INDEX ix_story_author_id;

DROP TABLE story;

DROP INDEX ix_referralevent_referral_id;

DROP INDEX ix_referralevent_at;

DROP TABLE referralevent;

DROP INDEX ix_idea_campaign_id;

DROP TABLE idea;

DROP INDEX ix_referral_status;

DROP INDEX ix_referral_referrer_id;

DROP INDEX ix_referral_receiver_id;

DROP INDEX ix_referral_created_at;

DROP INDEX ix_referral_client_id;

DROP TABLE referral;

DROP INDEX ix_pointevent_team;

DROP INDEX ix_pointevent_person_id;

DROP INDEX ix_pointevent_campaign_id;

DROP INDEX ix_pointevent_at;

DROP TABLE pointevent;

DROP INDEX ix_nudge_person_id;

DROP TABLE nudge;

DROP TABLE dialogstate;

DROP TABLE conversationref;

DROP INDEX ix_client_name;

DROP TABLE client;

DROP INDEX ix_campaign_starts_at;

DROP INDEX ix_campaign_ends_at;

DROP TABLE campaign;

DROP INDEX ix_team_name;

DROP TABLE team;

DROP INDEX ix_servicecard_team;

DROP TABLE servicecard;

DROP INDEX ix_processedevent_at;

DROP TABLE processedevent;

DROP INDEX ix_person_teams_id;

DROP INDEX ix_person_team;

DROP INDEX ix_person_slack_id;

DROP INDEX ix_person_email;

DROP TABLE person;

DROP TABLE jobrun;

DROP TABLE digestissue;

DELETE FROM alembic_version WHERE alembic_version.version_num = '0001';

COMMIT;

