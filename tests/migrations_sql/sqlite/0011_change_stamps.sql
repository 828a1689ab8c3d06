-- upgrade

-- Running upgrade 0010_outbox -> 0011_change_stamps

ALTER TABLE person ADD COLUMN changed_at DATETIME;

CREATE INDEX ix_person_changed_at ON person (changed_at);

ALTER TABLE client ADD COLUMN changed_at DATETIME;

CREATE INDEX ix_client_changed_at ON client (changed_at);

UPDATE alembic_version SET version_num='0011_change_stamps' WHERE alembic_version.version_num = '0010_outbox';


-- downgrade

-- (a batch table rebuild: --sql cannot render it without a live database)
