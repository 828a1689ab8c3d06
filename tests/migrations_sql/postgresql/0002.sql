-- upgrade

BEGIN;

-- Running upgrade 0001 -> 0002

CREATE INDEX ix_pointevent_board ON pointevent (campaign_id, person_id, team, office, at, points);

CREATE INDEX ix_pointevent_cap ON pointevent (person_id, kind, at);

CREATE INDEX ix_pointevent_source ON pointevent (campaign_id, source);

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

COMMIT;


-- downgrade

BEGIN;

-- Running downgrade 0002 -> 0001

DROP INDEX ix_pointevent_source;

DROP INDEX ix_pointevent_cap;

DROP INDEX ix_pointevent_board;

UPDATE alembic_version SET version_num='0001' WHERE alembic_version.version_num = '0002';

COMMIT;

