-- upgrade

-- Running upgrade 0006_inbox -> 0007_chart_cache

CREATE TABLE chartimage (
    "key" VARCHAR NOT NULL, 
    png BLOB NOT NULL, 
    created_at DATETIME NOT NULL, 
    PRIMARY KEY ("key")
);

CREATE INDEX ix_chartimage_created_at ON chartimage (created_at);

UPDATE alembic_version SET version_num='0007_chart_cache' WHERE alembic_version.version_num = '0006_inbox';


-- downgrade

-- Running downgrade 0007_chart_cache -> 0006_inbox

DROP INDEX ix_chartimage_created_at;

DROP TABLE chartimage;

UPDATE alembic_version SET version_num='0006_inbox' WHERE alembic_version.version_num = '0007_chart_cache';

