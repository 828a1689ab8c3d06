-- upgrade

BEGIN;

-- Running upgrade 0007_chart_cache -> 0008_slack_oauth

CREATE TABLE slack_installations (
    id SERIAL NOT NULL, 
    client_id VARCHAR(32) NOT NULL, 
    app_id VARCHAR(32) NOT NULL, 
    enterprise_id VARCHAR(32), 
    enterprise_name VARCHAR(200), 
    enterprise_url VARCHAR(200), 
    team_id VARCHAR(32), 
    team_name VARCHAR(200), 
    bot_token VARCHAR(200), 
    bot_id VARCHAR(32), 
    bot_user_id VARCHAR(32), 
    bot_scopes VARCHAR(1000), 
    bot_refresh_token VARCHAR(200), 
    bot_token_expires_at TIMESTAMP WITHOUT TIME ZONE, 
    user_id VARCHAR(32) NOT NULL, 
    user_token VARCHAR(200), 
    user_scopes VARCHAR(1000), 
    user_refresh_token VARCHAR(200), 
    user_token_expires_at TIMESTAMP WITHOUT TIME ZONE, 
    incoming_webhook_url VARCHAR(200), 
    incoming_webhook_channel VARCHAR(200), 
    incoming_webhook_channel_id VARCHAR(200), 
    incoming_webhook_configuration_url VARCHAR(200), 
    is_enterprise_install BOOLEAN NOT NULL, 
    token_type VARCHAR(32), 
    installed_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX slack_installations_idx ON slack_installations (client_id, enterprise_id, team_id, user_id, installed_at);

CREATE TABLE slack_bots (
    id SERIAL NOT NULL, 
    client_id VARCHAR(32) NOT NULL, 
    app_id VARCHAR(32) NOT NULL, 
    enterprise_id VARCHAR(32), 
    enterprise_name VARCHAR(200), 
    team_id VARCHAR(32), 
    team_name VARCHAR(200), 
    bot_token VARCHAR(200), 
    bot_id VARCHAR(32), 
    bot_user_id VARCHAR(32), 
    bot_scopes VARCHAR(1000), 
    bot_refresh_token VARCHAR(200), 
    bot_token_expires_at TIMESTAMP WITHOUT TIME ZONE, 
    is_enterprise_install BOOLEAN NOT NULL, 
    installed_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX slack_bots_idx ON slack_bots (client_id, enterprise_id, team_id, installed_at);

CREATE TABLE slack_oauth_states (
    id SERIAL NOT NULL, 
    state VARCHAR(200) NOT NULL, 
    expire_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (id)
);

UPDATE alembic_version SET version_num='0008_slack_oauth' WHERE alembic_version.version_num = '0007_chart_cache';

COMMIT;


-- downgrade

BEGIN;

-- Running downgrade 0008_slack_oauth -> 0007_chart_cache

DROP TABLE slack_oauth_states;

DROP INDEX slack_bots_idx;

DROP TABLE slack_bots;

DROP INDEX slack_installations_idx;

DROP TABLE slack_installations;

UPDATE alembic_version SET version_num='0007_chart_cache' WHERE alembic_version.version_num = '0008_slack_oauth';

COMMIT;

