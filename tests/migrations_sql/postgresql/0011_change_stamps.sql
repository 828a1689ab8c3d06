-- upgrade

BEGIN;

-- Running upgrade 0010_outbox -> 0011_change_stamps

ALTER TABLE person ADD COLUMN changed_at TIMESTAMP WITH TIME ZONE;

CREATE INDEX ix_person_changed_at ON person (changed_at);

ALTER TABLE client ADD COLUMN changed_at TIMESTAMP WITH TIME ZONE;

CREATE INDEX ix_client_changed_at ON client (changed_at);

UPDATE alembic_version SET version_num='0011_change_stamps' WHERE alembic_version.version_num = '0010_outbox';

COMMIT;


-- downgrade

BEGIN;

-- Running downgrade 0011_change_stamps -> 0010_outbox

DROP INDEX ix_client_changed_at;

ALTER TABLE client DROP COLUMN changed_at;

DROP INDEX ix_person_changed_at;

ALTER TABLE person DROP COLUMN changed_at;

UPDATE alembic_version SET version_num='0010_outbox' WHERE alembic_version.version_num = '0011_change_stamps';

COMMIT;

