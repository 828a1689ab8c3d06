-- upgrade

-- Running upgrade 0004_dashboard -> 0005_referral_parse

CREATE TABLE firm (
    id INTEGER NOT NULL, 
    name VARCHAR NOT NULL, 
    currency VARCHAR NOT NULL, 
    timezone VARCHAR NOT NULL, 
    loaded_at DATETIME NOT NULL, 
    PRIMARY KEY (id)
);

UPDATE alembic_version SET version_num='0005_referral_parse' WHERE alembic_version.version_num = '0004_dashboard';


-- downgrade

-- Running downgrade 0005_referral_parse -> 0004_dashboard

DROP TABLE firm;

UPDATE alembic_version SET version_num='0004_dashboard' WHERE alembic_version.version_num = '0005_referral_parse';

